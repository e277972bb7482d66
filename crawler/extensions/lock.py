"""Cron safety: a crawl that finds another one running logs one line and closes as `locked`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import CloseSpider, NotConfigured

from crawler.lock import RunLock

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class CrawlLockExtension:
    """Take `<CRAWL_STATE_DIR>/crawl.lock` when the spider opens; release it when it closes."""

    def __init__(self, lock: RunLock, crawler: Crawler):
        self.lock = lock
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("CRAWL_LOCK_ENABLED"):
            raise NotConfigured("CRAWL_LOCK_ENABLED is off")
        path = settings.get("CRAWL_LOCK_FILE") or Path(settings["CRAWL_STATE_DIR"]) / "crawl.lock"
        ext = cls(RunLock(Path(path)), crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self) -> None:
        if self.lock.acquire():
            return
        holder = self.lock.holder()
        logger.warning(
            "Another crawl holds %s%s; exiting without crawling",
            self.lock.path,
            f" (pid {holder})" if holder else "",
        )
        self.crawler.stats.set_value("lock/locked", 1)
        # Raised from spider_opened, CloseSpider stops the engine before any start request.
        raise CloseSpider("locked")

    def spider_closed(self) -> None:
        self.lock.release()
