"""At close, log a summary (failing URLs, field coverage) and flag failed runs for the exit code."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler import health

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)
MAX_LISTED = 20


class CrawlHealthExtension:
    """Collect outcomes through signals; the `crawl` command turns `health/failed` into exit 1."""

    def __init__(self, crawler: Crawler, failure_ratio: float):
        self.crawler = crawler
        self.health = health.CrawlHealth(failure_ratio=failure_ratio)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("CRAWL_HEALTH_ENABLED"):
            raise NotConfigured("CRAWL_HEALTH_ENABLED is off")
        ext = cls(crawler, crawler.settings.getfloat("CRAWL_FAILURE_RATIO"))
        sig = crawler.signals
        sig.connect(ext.item_scraped, signal=signals.item_scraped)
        sig.connect(ext.item_dropped, signal=signals.item_dropped)
        sig.connect(ext.article_failed, signal=health.article_failed)
        sig.connect(ext.roll_fetched, signal=health.roll_fetched)
        sig.connect(ext.roll_failed, signal=health.roll_failed)
        sig.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def item_scraped(self, item: Any) -> None:
        self.health.add_item(item)

    def item_dropped(self, item: Any, exception: BaseException) -> None:
        self.health.failures[getattr(item, "url", None) or "?"] = f"dropped: {exception}"

    def article_failed(self, url: str, reason: str) -> None:
        self.health.failures[url] = reason

    def roll_fetched(self, url: str) -> None:
        self.health.roll_ok += 1

    def roll_failed(self, url: str, reason: str) -> None:
        self.health.roll_errors[url] = reason

    def spider_closed(self, reason: str) -> None:
        h = self.health
        stats = self.crawler.stats
        if reason == "locked":
            return
        logger.info(
            "Crawl summary: %d saved, %d failed, roll pages %d ok / %d failed; coverage: %s",
            h.saved,
            len(h.failures),
            h.roll_ok,
            len(h.roll_errors),
            h.coverage_line() if h.saved else "no items",
        )
        for url, why in list({**h.roll_errors, **h.failures}.items())[:MAX_LISTED]:
            logger.info("  failed: %s (%s)", url, why)
        verdict = h.verdict()
        if verdict:
            logger.error("Crawl failed: %s", verdict)
            stats.set_value("health/failed", verdict)
