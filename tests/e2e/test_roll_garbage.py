"""Roll entries that name no http(s) article are skipped with a line, the rest are saved."""

from __future__ import annotations

import pytest

from tests.e2e.as_user import ARTICLES, crawl_here

pytestmark = pytest.mark.e2e


def test_entries_without_an_http_url_are_reported_in_one_line(standin, tmp_path):
    standin.configure(
        {
            "roll_cap": 50,
            "roll": [
                ARTICLES[0],
                {"url": "javascript:alert(1)", "ctime": "1"},
                {"url": "", "ctime": "1"},
                {"ctime": "1"},
                {"url": ["a"], "ctime": "1"},
                ARTICLES[1],
            ],
        }
    )
    run = crawl_here(standin, tmp_path, "-a", "pages=1")
    assert run.returncode == 0, run.stderr
    assert "Crawl summary: 2 listed = 2 saved + 0 unchanged + 0 skipped + 0 failed" in run.stderr
    lines = [line for line in run.stderr.splitlines() if "no http(s) URL" in line]
    assert len(lines) == 1, run.stderr
    assert lines[0].endswith(
        f"Skipped 4 entries with no http(s) URL on roll page {standin.roll_api_url}"
        "?pageid=384&lid=2519&num=50&page=1"
    )
