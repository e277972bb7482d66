"""Crawl health: count article and roll outcomes and decide whether the run failed."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)
MAX_LISTED = 20

# Sent by the spider (via crawler.signals.send_catch_log) when an article cannot be saved,
# and when a roll API page answered or failed; the health extension listens.
article_failed = object()
roll_fetched = object()
roll_failed = object()
# Sent by the spider for an article saved through the generic fallback, or whose template
# lacked a field it always has: Sina may have changed its markup.
extraction_drift = object()

TRACKED_FIELDS = ("title", "author", "date", "body", "categories", "channel")


@dataclass
class CrawlHealth:
    """Outcomes of one run and the verdict rules (pure, so it is unit-tested without a crawl)."""

    failure_ratio: float = 0.5
    saved: int = 0
    failures: dict[str, str] = field(default_factory=dict)
    coverage: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TRACKED_FIELDS, 0))
    roll_ok: int = 0
    roll_errors: dict[str, str] = field(default_factory=dict)

    def add_item(self, item: object) -> None:
        """Count one saved item and which tracked fields it filled."""
        self.saved += 1
        for name in TRACKED_FIELDS:
            if getattr(item, name, None):
                self.coverage[name] += 1

    def verdict(self) -> str:
        """Return '' when the run is healthy, else why it failed.

        >>> h = CrawlHealth(); h.roll_errors["u"] = "HTTP 503"; h.verdict()
        'roll API unreachable: no roll page could be read'
        >>> h = CrawlHealth(saved=1, failures={"a": "x", "b": "y"}); h.verdict()
        'most article pages failed: 2 of 3'
        >>> CrawlHealth(saved=2, failures={"a": "x"}).verdict()
        ''
        """
        if self.roll_errors and not self.roll_ok:
            return "roll API unreachable: no roll page could be read"
        attempted = self.saved + len(self.failures)
        if attempted and len(self.failures) / attempted > self.failure_ratio:
            return f"most article pages failed: {len(self.failures)} of {attempted}"
        return ""

    def coverage_line(self) -> str:
        """Summarise field coverage, e.g. 'title 3/3, author 2/3'.

        >>> h = CrawlHealth(); h.add_item(type("I", (), {"title": "t", "author": ""})())
        >>> h.coverage_line()
        'title 1/1, author 0/1, date 0/1, body 0/1, categories 0/1, channel 0/1'
        """
        return ", ".join(f"{k} {v}/{self.saved}" for k, v in self.coverage.items())


class CrawlHealthExtension:
    """Collect outcomes through signals; the `crawl` command turns `health/failed` into exit 1."""

    def __init__(self, crawler: Crawler, failure_ratio: float):
        self.crawler = crawler
        self.health = CrawlHealth(failure_ratio=failure_ratio)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("CRAWL_HEALTH_ENABLED"):
            raise NotConfigured("CRAWL_HEALTH_ENABLED is off")
        ext = cls(crawler, crawler.settings.getfloat("CRAWL_FAILURE_RATIO"))
        sig = crawler.signals
        sig.connect(ext.item_scraped, signal=signals.item_scraped)
        sig.connect(ext.item_dropped, signal=signals.item_dropped)
        sig.connect(ext.article_failed, signal=article_failed)
        sig.connect(ext.roll_fetched, signal=roll_fetched)
        sig.connect(ext.roll_failed, signal=roll_failed)
        sig.connect(ext.spider_closed, signal=signals.spider_closed)
        ext.drift: dict[str, str] = {}  # url -> why
        sig.connect(ext.extraction_drift, signal=extraction_drift)
        sig.connect(ext.report_drift, signal=signals.spider_closed)
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

    # --- extraction drift: its own hook, apart from the summary above -------------------------
    def extraction_drift(self, url: str, reason: str) -> None:
        self.drift[url] = reason

    def report_drift(self, reason: str) -> None:
        """Name the pages that showed drift; `extraction/drift` in the stats sets exit status 3."""
        if not self.drift:
            return
        logger.error(
            "Extraction drift: %d saved pages needed the generic fallback or lacked a field "
            "their template always has (Sina may have changed its markup):",
            len(self.drift),
        )
        for url, why in list(self.drift.items())[:MAX_LISTED]:
            logger.error("  drift: %s (%s)", url, why)
        if len(self.drift) > MAX_LISTED:
            logger.error("  ... and %d more", len(self.drift) - MAX_LISTED)
