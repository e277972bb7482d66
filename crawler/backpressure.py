"""Backpressure on discovery: ask for the next roll page or feed only when the crawl keeps up.

A roll page lists 50 articles and takes a moment to fetch; fetching and extracting those 50
takes far longer. Unchecked, discovery reads every roll page first and every listed article
waits in the scheduler's memory (about 2 KB each: a gigabyte for half a million). Here each
discovery request reserves room for what it will list (SINA_ROLL_PAGE_SIZE requests, plus
itself) and goes out only while the requests waiting in the scheduler plus all reservations
stay within SINA_DISCOVERY_BACKLOG; otherwise it is parked, in order, and sent as soon as the
backlog drains (checked each time the downloader takes a request). So the scheduler never
holds more than the bound, while the downloader always has work.

The backlog is what waits in this process's scheduler (crawler.scrapy_internals): in
distributed mode the queue lives in Redis and a worker pulls only what it downloads, so
discovery is not held back there.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.request import request_from_dict

from crawler.scrapy_internals import scheduler_backlog

if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Self

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

# Request.meta key of a discovery request: the key of its reservation.
RESERVATION = "sina_discovery"
# spider.state key (JOBDIR only) of the parked requests, so a paused job resumes discovery.
PARKED_STATE = "discovery_parked"


class DiscoveryBackpressure:
    """Hold discovery requests until the scheduler's backlog has room for what they list."""

    def __init__(self, crawler: Crawler, bound: int, listing_size: int):
        self.crawler = crawler
        self.bound = bound  # 0: no limit
        self.cost = listing_size + 1  # what one discovery request may add, itself included
        self.reserved: dict[str, int] = {}
        self.parked: deque[Request] = deque()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        pacer = cls(
            crawler,
            max(0, settings.getint("SINA_DISCOVERY_BACKLOG")),
            settings.getint("SINA_ROLL_PAGE_SIZE"),
        )
        sig = crawler.signals
        sig.connect(pacer.release_parked, signal=signals.request_reached_downloader)
        sig.connect(pacer.request_dropped, signal=signals.request_dropped)
        sig.connect(pacer.spider_idle, signal=signals.spider_idle)
        sig.connect(pacer.spider_closed, signal=signals.spider_closed)
        return pacer

    def has_room(self) -> bool:
        """Tell whether one more discovery request may go out now."""
        backlog = scheduler_backlog(self.crawler)
        if backlog is None:  # the queue is not in this process (Redis): nothing to bound here
            return True
        self.crawler.stats.set_value("discovery/backlog", backlog)
        if not self.bound:
            return True
        used = backlog + sum(self.reserved.values())
        # With nothing waiting and nothing reserved it goes out even if the bound is too small
        # for one listing: discovery always moves on.
        return used + self.cost <= self.bound or used == 0

    def submit(self, request: Request) -> Iterator[Request]:
        """Yield `request` if there is room now; else park it (in order) and yield nothing."""
        request.meta[RESERVATION] = request.url
        if not self.parked and self.has_room():
            self.reserved[request.url] = self.cost
            yield request
        else:
            self.parked.append(request)
            self.crawler.stats.set_value("discovery/held", len(self.parked))

    def listed(self, request: Request) -> None:
        """Free a discovery request's room once its listing is in the scheduler (or it failed)."""
        key = request.meta.get(RESERVATION)
        if key is not None and self.reserved.pop(key, None) is not None:
            self.release_parked()

    def release_parked(self) -> None:
        """Send parked discovery requests while there is room (the backlog just shrank)."""
        if not self.parked:  # the common case, on every request that reaches the downloader
            return
        engine = self.crawler.engine
        while self.has_room() and self.parked and engine is not None and engine.spider is not None:
            request = self.parked.popleft()
            self.reserved[request.url] = self.cost
            self.crawler.stats.set_value("discovery/held", len(self.parked))
            engine.crawl(request)

    def request_dropped(self, request: Request) -> None:
        # A discovery request the scheduler refused (already seen, as when a JOBDIR job
        # resumes) lists nothing.
        self.listed(request)

    def spider_idle(self) -> None:
        if self.parked:
            self.reserved.clear()  # nothing is in flight when the engine is idle
            self.release_parked()
            raise DontCloseSpider

    def spider_closed(self, spider: Spider) -> None:
        state = getattr(spider, "state", None)
        if state is not None:  # JOBDIR: the parked requests go out when the job resumes
            state[PARKED_STATE] = [request.to_dict(spider=spider) for request in self.parked]
        if self.parked:
            logger.info("Discovery paused with %d requests parked", len(self.parked))

    def resume(self, spider: Spider) -> list[Request] | None:
        """Return the requests a paused JOBDIR job had parked (None: not a resumed job)."""
        state = getattr(spider, "state", None)
        if state is None or PARKED_STATE not in state:
            return None
        return [request_from_dict(d, spider=spider) for d in state.pop(PARKED_STATE)]
