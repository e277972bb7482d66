"""The fixture article pages the extraction-cost and quality benches run over."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import lxml.html
from scrapy.http import HtmlResponse
from scrapy.settings import Settings

from crawler.items import ArticleItem
from crawler.site.extraction import parse_article
from crawler.site.posts import PostOptions, render_post

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "sina"
QUALITY = Path(__file__).resolve().parent / "quality"


@dataclass
class Page:
    case: str
    url: str
    body: bytes
    expected: dict

    @property
    def text(self) -> str:
        """The page decoded as Scrapy decodes it (header, <meta>, then detection)."""
        return HtmlResponse(self.url, body=self.body).text

    @property
    def expected_text(self) -> str:
        return (QUALITY / f"{self.case}.txt").read_text(encoding="utf-8")


def article_pages() -> list[Page]:
    """Every fixture page whose expected.json names a title (the not-article pages are left out)."""
    pages = []
    for case in sorted(FIXTURES.iterdir()):
        expected_file = case / "expected.json"
        if not expected_file.exists():
            continue
        expected = json.loads(expected_file.read_text(encoding="utf-8"))
        if not expected.get("title"):
            continue
        url = json.loads((case / "source.json").read_text(encoding="utf-8"))["url"]
        pages.append(Page(case.name, url, (case / "page.html").read_bytes(), expected))
    return pages


def _project_options() -> PostOptions:
    settings = Settings()
    settings.setmodule("crawler.settings")
    return PostOptions.from_settings(settings)


OPTIONS = _project_options()


def ours(url: str, body: bytes) -> tuple[ArticleItem, str]:
    """Our whole per-page work: extraction (which cleans the body), post rendering."""
    item = parse_article(HtmlResponse(url, body=body))
    return item, render_post(item, OPTIONS)


def html_text(html: str) -> str:
    """Visible text of an HTML fragment (what a reader reads)."""
    if not html or not html.strip():
        return ""
    return lxml.html.fragment_fromstring(html, create_parent="div").text_content()
