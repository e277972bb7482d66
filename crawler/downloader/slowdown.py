"""Downloader middleware: treat Sina's block answers (403, 456) as "slow down", not as errors."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import NotConfigured

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)


def next_delay(current: float, *, start: float, factor: float, ceiling: float) -> float:
    """Grow a download delay after a block answer, within [start, ceiling].

    >>> next_delay(0.0, start=1.0, factor=2.0, ceiling=30.0)
    1.0
    >>> next_delay(4.0, start=1.0, factor=2.0, ceiling=30.0)
    8.0
    >>> next_delay(20.0, start=1.0, factor=2.0, ceiling=30.0)
    30.0
    """
    return min(max(current * factor, start), ceiling)


class SlowDownMiddleware:
    """On SLOWDOWN_HTTP_CODES, double the site's download delay and retry the request later.

    The delay lives on the downloader slot, which AutoThrottle also adjusts; AutoThrottle never
    lowers it on a non-200 answer, so the raised delay holds until the site answers normally.
    """

    def __init__(self, crawler: Crawler, codes: set[int], times: int, start: float, ceiling: float):
        self.crawler = crawler
        self.codes = codes
        self.times = times
        self.start = start
        self.ceiling = ceiling

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        s = crawler.settings
        codes = {int(c) for c in s.getlist("SLOWDOWN_HTTP_CODES")}
        if not codes:
            raise NotConfigured("SLOWDOWN_HTTP_CODES is empty")
        return cls(
            crawler,
            codes,
            s.getint("SLOWDOWN_RETRY_TIMES"),
            s.getfloat("SLOWDOWN_START_DELAY"),
            s.getfloat("AUTOTHROTTLE_MAX_DELAY"),
        )

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if response.status not in self.codes or request.meta.get("dont_retry"):
            return response
        downloader = self.crawler.engine.downloader
        slot = downloader.slots.get(downloader.get_slot_key(request))
        if slot is not None:
            slot.delay = next_delay(slot.delay, start=self.start, factor=2.0, ceiling=self.ceiling)
        delay = slot.delay if slot is not None else self.start
        self.crawler.stats.inc_value(f"slowdown/{response.status}")
        logger.warning(
            "Sina answered %d (slow down) for %s; delay now %.1fs",
            response.status,
            request.url,
            delay,
        )
        retry = get_retry_request(
            request,
            spider=self.crawler.spider,
            reason=f"slowdown_{response.status}",
            max_retry_times=self.times,
            stats_base_key="slowdown/retry",
        )
        return retry if retry is not None else response
