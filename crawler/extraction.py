"""Pure extraction: a Sina article page in, an ArticleItem out (no engine, no network)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crawler.items import ArticleItem

if TYPE_CHECKING:
    from scrapy.http import TextResponse


class NotAnArticle(Exception):
    """The page is not an article we can save (video, gallery, list, error page, no body...)."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"{reason}: {url}")
        self.url = url
        self.reason = reason


def parse_article(response: TextResponse) -> ArticleItem:
    """Extract one article from a Sina page; raise NotAnArticle with the URL otherwise."""
    raise NotAnArticle(response.url, "extraction not implemented yet")
