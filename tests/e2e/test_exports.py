"""The default export holds what the run saved; `-o`/`-O` replace it for that run."""

from __future__ import annotations

import pytest

from tests.e2e.as_user import ARTICLES, crawl_here, read_lines

pytestmark = pytest.mark.e2e

FIELDS = [
    "url", "doc_id", "title", "author", "editor", "date",
    "body", "categories", "keywords", "headimg", "channel", "template",
]  # fmt: skip


def test_default_export_per_run_and_command_line_feeds(standin, tmp_path):
    home = tmp_path / "home"
    export = home / "output" / "articles.jsonl"
    standin.add_entries(ARTICLES[:2])  # discovery, as cron runs it

    first = crawl_here(standin, home, "-a", "pages=1")
    assert first.returncode == 0, first.stderr
    lines = read_lines(export)
    assert sorted(item["url"] for item in lines) == sorted(ARTICLES[:2])
    for item in lines:  # the fields, in the order written, as docs/output.md lists them
        assert list(item) == FIELDS
        assert isinstance(item["keywords"], list)
        assert isinstance(item["categories"], list)
    by_url = {item["url"]: item for item in lines}
    assert by_url[ARTICLES[0]]["keywords"] == ["有轨电车", "珠海市", "轨道交通", "瑞丽市"]
    assert by_url[ARTICLES[0]]["doc_id"] == "inausehc2630922"
    assert by_url[ARTICLES[0]]["date"] == "2024-05-10T00:26:45+08:00"

    # Nothing new listed: the export is this run's (empty), not a history.
    again = crawl_here(standin, home, "-a", "pages=1")
    assert again.returncode == 0, again.stderr
    assert export.read_text(encoding="utf-8") == ""

    # refresh=1 saves both again: the export holds each once, not once per run.
    refresh = crawl_here(standin, home, "-a", "pages=1", "-a", "refresh=1")
    assert refresh.returncode == 0, refresh.stderr
    assert sorted(item["url"] for item in read_lines(export)) == sorted(ARTICLES[:2])

    # -O / -o: the user's file instead of the default export, which this run leaves alone.
    export.write_text("kept\n", encoding="utf-8")
    mine = home / "mine.jsonl"
    overwrite = crawl_here(
        standin, home, "-a", f"urls={ARTICLES[2]}", "-a", "refresh=1", "-O", mine.name
    )
    assert overwrite.returncode == 0, overwrite.stderr
    assert [item["url"] for item in read_lines(mine)] == [ARTICLES[2]]
    assert export.read_text(encoding="utf-8") == "kept\n"
    append = crawl_here(
        standin, home, "-a", f"urls={ARTICLES[2]}", "-a", "refresh=1", "-o", mine.name
    )
    assert append.returncode == 0, append.stderr
    assert [item["url"] for item in read_lines(mine)] == [ARTICLES[2]] * 2  # -o appends
    assert export.read_text(encoding="utf-8") == "kept\n"
