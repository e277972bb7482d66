"""End-to-end: a redesigned Sina (every class and id stripped) keeps posting, and says so."""

from __future__ import annotations

import json
from datetime import datetime
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

import pytest
import yaml

from benchmarks.pages import html_text
from benchmarks.quality import char_f1
from crawler.commands.crawl import EXIT_DRIFT
from tests.conftest import run_crawl
from tests.redesign import strip_class_and_id
from tests.standin import FIXTURES, Page, StandIn, as_http, load_fixture_pages, page_key

pytestmark = pytest.mark.e2e

QUALITY = FIXTURES.parent.parent.parent / "benchmarks" / "quality"
# One page keeps its markup, served at a second URL: its template still holds.
UNCHANGED_URL = "http://finance.sina.com.cn/roll/2018-12-28/doc-ihqfskcn2160998.shtml"


def article_cases() -> dict[str, dict]:
    """Every fixture article: case -> expected.json, with the page's URL."""
    cases = {}
    for expected_file in sorted(FIXTURES.glob("*/expected.json")):
        want = json.loads(expected_file.read_text(encoding="utf-8"))
        if "not_article" not in want:
            cases[expected_file.parent.name] = want
    return cases


def post_of(posts_dir, doc_id: str) -> tuple[dict, str]:
    (path,) = posts_dir.glob(f"*-{doc_id}.md")
    _, matter, body = path.read_text(encoding="utf-8").split("---\n", 2)
    return yaml.safe_load(matter), body


def test_redesigned_pages_are_posted_as_generic_and_the_run_exits_with_drift(tmp_path):
    cases = article_cases()
    pages = load_fixture_pages()
    redesigned = {
        key: Page(strip_class_and_id(page.body), page.content_type, page.title)
        for key, page in pages.items()
    }
    unchanged = pages[
        page_key("https://finance.sina.com.cn/roll/2018-12-28/doc-ihqfskcn2160999.shtml")
    ]
    redesigned[page_key(UNCHANGED_URL)] = unchanged
    server = StandIn(pages=redesigned)
    server.start()
    try:
        urls = [as_http(want["url"]) for want in cases.values()]
        result = run_crawl(server, tmp_path, "-a", "urls=" + ",".join([*urls, UNCHANGED_URL]))
    finally:
        server.stop()

    assert result.returncode == EXIT_DRIFT, result.log
    assert result.stat("extraction/drift") == len(cases)
    assert result.stat("extraction/template/generic") == len(cases)
    assert result.stat("extraction/template/modern") == 1
    assert f"Extraction drift: {len(cases)} saved pages needed the generic fallback" in result.log
    by_key = {page_key(item["url"]): item for item in result.items}
    assert by_key[page_key(UNCHANGED_URL)]["template"] == "modern"
    for case, want in cases.items():
        item = by_key[page_key(want["url"])]
        assert item["template"] == "generic", case
        assert f"drift: {item['url']} (no known template: generic fallback)" in result.log
        matter, body = post_of(tmp_path / "posts", item["doc_id"])
        assert matter["title"] == want["title"], case
        day = parsedate_to_datetime(matter["date"]).astimezone(ZoneInfo("Asia/Shanghai")).date()
        assert day == datetime.fromisoformat(want["date"]).date(), case
        text = (QUALITY / f"{case}.txt").read_text(encoding="utf-8")
        assert char_f1(html_text(body), text) >= 0.8, case
