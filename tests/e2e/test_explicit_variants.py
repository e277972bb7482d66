"""An explicit URL list naming one article several ways fetches, saves and counts it once."""

from __future__ import annotations

import pytest

from tests.e2e.as_user import ARTICLES, crawl_here, read_lines
from tests.standin import page_key

pytestmark = pytest.mark.e2e


def test_variants_of_one_article_are_one_article(standin, tmp_path):
    home = tmp_path / "home"
    article = ARTICLES[0]  # http://news.sina.com.cn/c/2024-05-10/doc-inausehc2630922.shtml
    variants = [
        article,
        f"{article}?from=wap#top",
        article.replace("http://", "https://"),  # the stand-in speaks no TLS: it would fail
        "http://finance.sina.cn/2024-05-10/detail-inausehc2630922.d.html",  # 404 here
    ]
    run = crawl_here(standin, home, "-a", f"urls={','.join(variants)}", "-O", "mine.jsonl")
    assert run.returncode == 0, run.stderr
    assert "Crawl summary: 1 listed = 1 saved + 0 unchanged + 0 skipped + 0 failed" in run.stderr
    assert [item["url"] for item in read_lines(home / "mine.jsonl")] == [article]
    assert standin.article_hits() == {page_key(article): 1}
