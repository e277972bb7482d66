"""Components that fail on purpose, loaded into a real crawl with -s (never in the product)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class RaisingPipeline:
    """Raise RuntimeError for the items whose URL contains TEST_RAISE_FOR (a pipeline bug)."""

    def __init__(self, marker: str):
        self.marker = marker

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler.settings.get("TEST_RAISE_FOR", ""))

    def process_item(self, item: Any) -> Any:
        if self.marker and self.marker in (item.url or ""):
            raise RuntimeError(f"injected pipeline failure\nsecond line for {item.url}")
        return item
