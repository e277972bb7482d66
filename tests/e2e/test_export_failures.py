"""An export line the exporter cannot write is a failed article (exit 3), never a saved one."""

from __future__ import annotations

import pytest

from tests.e2e.as_user import ARTICLES, crawl_here

pytestmark = pytest.mark.e2e


def test_an_export_encoding_that_cannot_write_the_article_fails_it(standin, tmp_path):
    home = tmp_path / "home"
    standin.add_entries(ARTICLES[:2])
    # ascii cannot write the Chinese text: the exporter raises before anything reaches the file.
    run = crawl_here(
        standin, home, "-a", "pages=1", "-s", "FEED_EXPORT_ENCODING=ascii", "-O", "mine.jsonl"
    )
    assert run.returncode == 3, run.stderr
    assert "Crawl summary: 2 listed = 0 saved + 0 unchanged + 0 skipped + 2 failed" in run.stderr
    assert (home / "mine.jsonl").read_text(encoding="utf-8") == ""

    # Nothing was marked saved: with a usable export the next run exports both (their posts,
    # already written, come out unchanged).
    again = crawl_here(standin, home, "-a", "pages=1", "-O", "mine.jsonl")
    assert again.returncode == 0, again.stderr
    assert "Crawl summary: 2 listed = 0 saved + 2 unchanged + 0 skipped + 0 failed" in again.stderr
    assert len((home / "mine.jsonl").read_text(encoding="utf-8").splitlines()) == 2
