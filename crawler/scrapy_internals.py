"""Every use of Scrapy's private API, in one place, checked when a crawl starts.

Scrapy offers no public way to do what these few functions do. Private names change between
releases without notice, so pyproject.toml pins scrapy below the next minor version, and
`ScrapyInternalsCheck` (an extension) verifies each name below when the spider opens: a Scrapy
that lacks one stops the crawl with one line naming it, instead of failing silently later.
tests/test_scrapy_internals.py runs the same check against a real engine and download handler.

What is used, and why:
- `ExecutionEngine._slot.inprogress`: the requests the engine has not finished (downloaded,
  parsed, items through the pipelines); the distributed scheduler keeps a request leased in
  Redis until then.
- `ExecutionEngine._slot.nextcall` / `.closing`: wake an idle engine now rather than at its
  5 s heartbeat (new work in Redis, discovery resumed).
- `Scheduler.__len__` (memory and disk queues): how many requests wait in this process's
  scheduler, the backlog discovery waits on.
- `HTTP11DownloadHandler._pool`: the connection pool, to keep more idle connections.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy import signals
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.core.scheduler import Scheduler
from scrapy.exceptions import CloseSpider

if TYPE_CHECKING:
    from collections.abc import Collection
    from typing import Self

    from scrapy import Request
    from scrapy.core.engine import ExecutionEngine
    from scrapy.crawler import Crawler
    from twisted.web.client import HTTPConnectionPool

logger = logging.getLogger(__name__)

# Where the names below were last checked; the check names the version it found instead.
BUILT_FOR = "Scrapy 2.19"
FINISH_REASON = "scrapy_incompatible"


class ScrapyInternalsError(RuntimeError):
    """This Scrapy lacks a private attribute the crawler relies on."""


def _running_engine(crawler: Crawler) -> ExecutionEngine | None:
    """Return the crawler's engine, or None before the crawl starts (Scrapy 2.19 raises then)."""
    try:
        return crawler.engine
    except RuntimeError:
        return None


def _engine_slot(crawler: Crawler) -> Any:
    engine = _running_engine(crawler)
    return getattr(engine, "_slot", None) if engine is not None else None


def requests_in_progress(crawler: Crawler) -> Collection[Request]:
    """Return the requests the engine holds until download, callback and pipelines are done."""
    slot = _engine_slot(crawler)
    return slot.inprogress if slot is not None else ()


def wake_engine(crawler: Crawler) -> None:
    """Make an open engine ask the scheduler for requests now (a no-op when already due)."""
    slot = _engine_slot(crawler)
    if slot is not None and slot.closing is None:
        slot.nextcall.schedule()


def scheduler_backlog(crawler: Crawler) -> int | None:
    """Count the requests waiting in this process's scheduler (memory and JOBDIR disk queues).

    None when the scheduler keeps its queue outside this process (distributed mode: Redis),
    or before the engine has opened it.
    """
    engine = _running_engine(crawler)
    scheduler = engine.scheduler if engine is not None else None
    # Not isinstance: Scrapy's scheduler metaclass calls any object with its methods a
    # Scheduler, scrapy-redis's (whose len() asks Redis) included.
    in_process = scheduler is not None and Scheduler in type(scheduler).__mro__
    return len(scheduler) if in_process else None


def connection_pool(handler: HTTP11DownloadHandler) -> HTTPConnectionPool:
    """Return the Twisted connection pool behind Scrapy's HTTP/1.1 download handler."""
    pool = getattr(handler, "_pool", None)
    if pool is None or not hasattr(pool, "maxPersistentPerHost"):
        raise ScrapyInternalsError(_message(["HTTP11DownloadHandler._pool.maxPersistentPerHost"]))
    return pool


def missing_internals(crawler: Crawler) -> list[str]:
    """Name every private attribute used above that this Scrapy lacks (engine must be open)."""
    missing = []
    slot = _engine_slot(crawler)
    if slot is None:
        missing.append("ExecutionEngine._slot")
    else:
        if not hasattr(getattr(slot, "inprogress", None), "__contains__"):
            missing.append("ExecutionEngine._slot.inprogress")
        if not hasattr(getattr(slot, "nextcall", None), "schedule"):
            missing.append("ExecutionEngine._slot.nextcall.schedule")
        if not hasattr(slot, "closing"):
            missing.append("ExecutionEngine._slot.closing")
    if not hasattr(Scheduler, "__len__"):
        missing.append("Scheduler.__len__")
    try:
        connection_pool(HTTP11DownloadHandler(crawler))
    except ScrapyInternalsError:
        missing.append("HTTP11DownloadHandler._pool.maxPersistentPerHost")
    return missing


def _message(missing: list[str]) -> str:
    return (
        f"Scrapy {scrapy.__version__} lacks {', '.join(missing)}, which crawler/scrapy_internals.py"
        f" needs (built for {BUILT_FOR}); install the version pyproject.toml pins"
    )


class ScrapyInternalsCheck:
    """Stop the crawl before its first request when this Scrapy lacks a name used here."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        return ext

    def spider_opened(self) -> None:
        missing = missing_internals(self.crawler)
        if missing:
            logger.critical(_message(missing))
            # Raised from spider_opened, CloseSpider stops the engine before any start request.
            raise CloseSpider(FINISH_REASON)
