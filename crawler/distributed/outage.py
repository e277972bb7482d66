"""Riding out a Redis outage mid-crawl: one warning, retries with backoff, a bounded wait."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import redis

from crawler.distributed.connection import describe

if TYPE_CHECKING:
    from collections.abc import Callable

logger = logging.getLogger(__name__)

# What a lost or restarting Redis raises (AuthenticationError and BusyLoadingError included).
REDIS_DOWN = (redis.ConnectionError, redis.TimeoutError)
FIRST_RETRY_DELAY = 0.5  # seconds before the first retry; doubles per failed retry
MAX_RETRY_DELAY = 8.0


class RedisOutage:
    """Track whether Redis answers; say so once when it stops and once when it is back.

    While Redis is down, `ready()` tells callers when to try again (0.5 s, 1 s, 2 s ... up to
    8 s apart), so a dead server costs one failed call per delay, not one per engine loop.

    >>> clock = iter([0.0, 0.2, 0.6, 0.6, 0.7, 1.7, 1.8, 1.9]).__next__
    >>> outage = RedisOutage("h:1", timeout=1.5, now=clock)
    >>> outage.failed(ConnectionError()), outage.down, outage.ready(), outage.ready()
    (None, True, False, True)
    >>> outage.failed(ConnectionError()), outage.ready(), outage.ready(), outage.expired()
    (None, False, True, True)
    >>> outage.succeeded(); outage.down
    False
    """

    def __init__(
        self, address: str, timeout: float, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.address = address
        self.timeout = timeout
        self._now = now
        self.since: float | None = None
        self._retry_at = 0.0
        self._delay = FIRST_RETRY_DELAY
        self.outages = 0

    @property
    def down(self) -> bool:
        """True from a failed call until the next successful one."""
        return self.since is not None

    def ready(self) -> bool:
        """Tell whether Redis may be called now (it is up, or the retry delay has passed)."""
        return self.since is None or self._now() >= self._retry_at

    def failed(self, exc: BaseException) -> None:
        """Record a failed call; the first of an outage logs the one warning."""
        now = self._now()
        if self.since is None:
            self.since = now
            self.outages += 1
            self._delay = FIRST_RETRY_DELAY
            logger.warning(
                "Redis at %s is unreachable (%s); holding this worker's work in memory and"
                " retrying with backoff for up to %ss (SINA_REDIS_OUTAGE_TIMEOUT)",
                self.address,
                describe(exc),
                self.timeout,
            )
        else:
            self._delay = min(self._delay * 2, MAX_RETRY_DELAY)
        self._retry_at = now + self._delay

    def succeeded(self) -> None:
        """Record a call that worked; ends an outage (and says so)."""
        if self.since is None:
            return
        logger.warning(
            "Redis at %s is back after %.1fs; the crawl goes on",
            self.address,
            self._now() - self.since,
        )
        self.since = None

    def expired(self) -> bool:
        """Tell whether the current outage has lasted SINA_REDIS_OUTAGE_TIMEOUT or longer."""
        return self.since is not None and self._now() - self.since >= self.timeout
