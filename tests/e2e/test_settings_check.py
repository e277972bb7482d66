"""Bad `-s` values through a real `scrapy crawl sina`: one line on stderr, exit 2, nothing made.

Each run starts in an empty folder (the project found through SCRAPY_SETTINGS_MODULE), with the
posts, state and feed pointed into a second empty folder, so anything the run created, in the
current folder or where the output would go, shows up.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
FILE = "{file}"  # stands for a regular file the test makes
PROMPT = "scrapy crawl sina: error: "

# The cases of issue 11; the rest of the table is tested without a process (test_settings_check).
CASES = [
    (
        "MARKDOWN_DATE_FORMAT",
        "foo",
        "MARKDOWN_DATE_FORMAT must be one of gmt, iso, local, got 'foo'",
    ),
    (
        "MARKDOWN_BODY_FORMAT",
        "pdf",
        "MARKDOWN_BODY_FORMAT must be one of html, markdown, got 'pdf'",
    ),
    (
        "MARKDOWN_TIMEZONE",
        "Mars/Olympus",
        "MARKDOWN_TIMEZONE must be an IANA time zone name such as Europe/London, got 'Mars/Olympus'",
    ),
    ("CONCURRENT_REQUESTS", "abc", "CONCURRENT_REQUESTS must be an integer >= 1, got 'abc'"),
    ("SINA_WORKER_PROCESSES", "abc", "SINA_WORKER_PROCESSES must be an integer >= 0, got 'abc'"),
    (
        "CRAWL_STATE_CLASS",
        "no.such.Class",
        (
            "CRAWL_STATE_CLASS must be the import path of a class, got 'no.such.Class' "
            "(ModuleNotFoundError: No module named 'no')"
        ),
    ),
    ("CRAWL_STATE_DIR", FILE, f"CRAWL_STATE_DIR must be a folder, got '{FILE}', which is a file"),
    ("CRAWL_STATE_DIR", "", "CRAWL_STATE_DIR must be a folder path, got an empty value"),
    (
        "MARKDOWN_POSTS_DIR",
        FILE,
        f"MARKDOWN_POSTS_DIR must be a folder, got '{FILE}', which is a file",
    ),
    (
        "SINA_ROLL_API_URL",
        "notaurl",
        "SINA_ROLL_API_URL must be an http:// or https:// URL, got 'notaurl'",
    ),
    (
        "REDIS_URL",
        "http://:secret@127.0.0.1:6379/0",
        "REDIS_URL must be empty or a redis://, rediss:// or unix:// URL, got one starting 'http://'",
    ),
]


IDS = [f"{name}={value}" for name, value, _ in CASES]


def run_case(root: Path, name: str, value: str) -> tuple[subprocess.CompletedProcess, Path]:
    """Run one bad-setting crawl from an empty folder; return it and the regular file used."""
    cwd, out = root / "cwd", root / "out"
    cwd.mkdir()
    out.mkdir()
    blocker = out / "a-file"
    blocker.write_text("not a folder")
    env = {
        **os.environ,
        "SCRAPY_SETTINGS_MODULE": "crawler.settings",
        "PYTHONPATH": str(PROJECT_ROOT),
    }
    env.pop("REDIS_URL", None)
    feed = json.dumps({str(out / "articles.jsonl"): {"format": "jsonlines"}})
    cmd = [
        sys.executable, "-m", "scrapy", "crawl", "sina",
        "-s", f"CRAWL_STATE_DIR={out / 'state'}",
        "-s", f"MARKDOWN_POSTS_DIR={out / 'posts'}",
        "-s", f"FEEDS={feed}",
        "-s", f"{name}={value.replace(FILE, str(blocker))}",  # last, so it wins
    ]  # fmt: skip
    done = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    return done, blocker


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple[subprocess.CompletedProcess, Path]]:
    """Every case's run, two at a time (the machine's two cores), started once for the module."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            case_id: pool.submit(run_case, tmp_path_factory.mktemp("settings"), name, value)
            for case_id, (name, value, _) in zip(IDS, CASES, strict=True)
        }
        return {case_id: future.result() for case_id, future in futures.items()}


LINES = [(case_id, line) for case_id, (_, _, line) in zip(IDS, CASES, strict=True)]


@pytest.mark.parametrize(("case_id", "line"), LINES, ids=IDS)
def test_bad_setting_gives_one_line_exit_2_and_creates_nothing(runs, case_id, line):
    done, blocker = runs[case_id]
    assert done.returncode == 2
    assert done.stderr.splitlines() == [PROMPT + line.replace(FILE, str(blocker))]
    assert done.stdout == ""
    assert list((blocker.parent.parent / "cwd").iterdir()) == []
    assert list(blocker.parent.iterdir()) == [blocker]
