"""crawler/commands/crawl.py: `-o`/`-O` replace the default export; `-s FEEDS` stays whole."""

from __future__ import annotations

import argparse
import json

import pytest
from scrapy.settings import Settings

from crawler import settings as project_settings
from crawler.commands.crawl import Command

DEFAULT = next(iter(project_settings.FEEDS))


def feeds_after(*argv: str) -> dict:
    command = Command()
    command.settings = Settings()
    command.settings.setmodule(project_settings, priority="project")
    parser = argparse.ArgumentParser()
    command.add_options(parser)
    opts, args = parser.parse_known_args([*argv, "sina"])
    command.process_options(args, opts)
    return command.settings.getdict("FEEDS")


def test_no_feed_options_keep_the_default_export():
    assert feeds_after() == {
        DEFAULT: {"format": "jsonlines", "encoding": "utf-8", "overwrite": True}
    }


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["-O", "mine.jsonl"], {"mine.jsonl": {"format": "jsonl", "overwrite": True}}),
        (["-o", "mine.csv"], {"mine.csv": {"format": "csv"}}),
        (["-o", "a.jsonl:jsonlines"], {"a.jsonl": {"format": "jsonlines"}}),
    ],
)
def test_command_line_feeds_replace_the_default_export(argv, expected):
    assert feeds_after(*argv) == expected


def test_the_default_export_named_by_o_stays_as_configured():
    feeds = feeds_after("-o", DEFAULT)
    assert feeds == {DEFAULT: {"format": "jsonlines", "encoding": "utf-8", "overwrite": True}}


def test_feeds_given_with_s_are_kept_beside_o():
    own = {"z.jsonl": {"format": "jsonlines"}}
    feeds = feeds_after("-s", "FEEDS=" + json.dumps(own), "-o", "y.csv")
    assert feeds == {"y.csv": {"format": "csv"}, "z.jsonl": {"format": "jsonlines"}}
