"""Downloader middleware: wait before each retry of a failed request (exponential backoff)."""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING

from scrapy.exceptions import NotConfigured, ScrapyDeprecationWarning
from scrapy.settings import SETTINGS_PRIORITIES
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import task

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)


# The setting's first name, inside Scrapy's own RETRY_ namespace; still read, with a warning.
DEPRECATED_START = "RETRY_BACKOFF_START"
START = "SINA_RETRY_BACKOFF_START"


def backoff_start(settings: BaseSettings) -> float:
    """Return the first retry's wait: SINA_RETRY_BACKOFF_START, or its deprecated old name.

    The old name, wherever it is set, wins over the default in crawler/settings.py (and warns);
    the new name set above the project's settings (`-s` on the command line) wins over both.
    """
    if settings.getpriority(DEPRECATED_START) is None:
        return settings.getfloat(START)
    warnings.warn(
        f"{DEPRECATED_START} is deprecated; use {START}", ScrapyDeprecationWarning, stacklevel=2
    )
    if (settings.getpriority(START) or 0) > SETTINGS_PRIORITIES["project"]:
        return settings.getfloat(START)
    return settings.getfloat(DEPRECATED_START)


def retry_wait(retry_times: int, *, start: float, ceiling: float) -> float:
    """Seconds to wait before retry number `retry_times` (0: the first try, no wait).

    >>> [retry_wait(n, start=0.5, ceiling=3.0) for n in range(5)]
    [0.0, 0.5, 1.0, 2.0, 3.0]
    """
    if retry_times <= 0:
        return 0.0
    return min(start * 2 ** (retry_times - 1), ceiling)


class RetryBackoffMiddleware:
    """Hold back a retried request: SINA_RETRY_BACKOFF_START seconds, doubling per retry.

    Scrapy's RetryMiddleware re-sends a request that got a 5xx, a timeout or a reset at once,
    and counts its retries in meta `retry_times` (the slow-down retries do too). A site that is
    failing gets a pause instead: 0.5 s, 1 s, 2 s, ... up to AUTOTHROTTLE_MAX_DELAY. Only the
    retried request waits; the site's other requests go on. SINA_RETRY_BACKOFF_START=0 turns it
    off.
    """

    def __init__(self, crawler: Crawler, start: float, ceiling: float):
        self.crawler = crawler
        self.start = start
        self.ceiling = ceiling

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        s = crawler.settings
        start = backoff_start(s)
        if not s.getbool("RETRY_ENABLED") or start <= 0:
            raise NotConfigured(f"{START} is 0 or retries are off")
        return cls(crawler, start, s.getfloat("AUTOTHROTTLE_MAX_DELAY"))

    async def process_request(self, request: Request) -> None:
        wait = retry_wait(
            request.meta.get("retry_times", 0), start=self.start, ceiling=self.ceiling
        )
        if not wait:
            return
        self.crawler.stats.inc_value("backoff/waits")
        logger.debug("Waiting %.1fs before retrying %s", wait, request.url)
        from twisted.internet import reactor

        await maybe_deferred_to_future(task.deferLater(reactor, wait, lambda: None))
