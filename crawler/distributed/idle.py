"""Idle exit for distributed workers: close once the shared crawl has stayed drained a while."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import DontCloseSpider, NotConfigured

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Self

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class IdleClock:
    """Measure how long a condition has held without interruption.

    >>> now = iter([0.0, 4.0, 10.0, 11.0]).__next__
    >>> clock = IdleClock(5.0, now=now)
    >>> clock.expired(True), clock.expired(True), clock.expired(False), clock.expired(True)
    (False, False, False, False)
    >>> clock = IdleClock(5.0, now=iter([0.0, 5.0]).__next__)
    >>> clock.expired(True), clock.expired(True)
    (False, True)
    """

    def __init__(self, timeout: float, now: Callable[[], float] = time.monotonic):
        self.timeout = timeout
        self._now = now
        self._since: float | None = None

    def expired(self, idle: bool) -> bool:
        """Record one observation; True once `idle` has held for `timeout` seconds."""
        if not idle:
            self._since = None
            return False
        now = self._now()
        if self._since is None:
            self._since = now
        return now - self._since >= self.timeout


class RedisIdleCloser:
    """Keep an idle worker open while the shared crawl may still produce work; then let it close.

    The engine calls `spider_idle` about every 5 s while this worker has nothing to do. The
    worker stays up while any worker has requests queued or in flight (they may yield new
    ones) and closes, as `finished`, after SINA_REDIS_IDLE_TIMEOUT seconds without either.
    """

    def __init__(self, crawler: Crawler, timeout: float):
        self.crawler = crawler
        self.clock = IdleClock(timeout)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.get("REDIS_URL"):
            raise NotConfigured("REDIS_URL is not set")
        ext = cls(crawler, crawler.settings.getfloat("SINA_REDIS_IDLE_TIMEOUT"))
        crawler.signals.connect(ext.spider_idle, signal=signals.spider_idle)
        return ext

    def spider_idle(self) -> None:
        """Raise DontCloseSpider until the crawl has been drained for the whole timeout."""
        assert self.crawler.engine is not None
        scheduler = self.crawler.engine.scheduler
        if not self.clock.expired(scheduler.crawl_is_drained()):  # type: ignore[union-attr]
            raise DontCloseSpider
        logger.info(
            "Shared queue empty and nothing in flight for %ss; closing this worker",
            self.clock.timeout,
        )
        self.crawler.stats.set_value("redis/idle_exit", 1)
        scheduler.finish_crawl()  # type: ignore[union-attr]
