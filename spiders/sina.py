"""The `sina` spider: decides what to fetch; extraction lives in crawler.extraction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import scrapy

from crawler.extraction import NotAnArticle, parse_article

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from scrapy.http import Response

    from crawler.items import ArticleItem


def split_urls(text: str) -> list[str]:
    """Split a comma- or whitespace-separated URL list, keeping order and dropping repeats.

    >>> split_urls("https://a.cn/1.shtml, https://a.cn/2.shtml,https://a.cn/1.shtml")
    ['https://a.cn/1.shtml', 'https://a.cn/2.shtml']
    """
    seen: dict[str, None] = {}
    for part in text.replace(",", " ").split():
        seen.setdefault(part.strip(), None)
    return list(seen)


class SinaSpider(scrapy.Spider):
    """Crawl Sina articles given by URL (`-a urls=`, `-a urls_file=`)."""

    name = "sina"

    def __init__(self, urls: str = "", urls_file: str = "", **kwargs: Any):
        super().__init__(**kwargs)
        self.article_urls = split_urls(urls)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.article_urls:
            yield scrapy.Request(url, callback=self.parse_article)

    def parse_article(self, response: Response) -> Iterator[ArticleItem]:
        try:
            yield parse_article(response)
        except NotAnArticle as exc:
            self.logger.warning("Dropped %s: %s", exc.url, exc.reason)
            self.crawler.stats.inc_value("articles/dropped")
