"""Crawl health: count article and roll outcomes and decide whether the run failed."""

from __future__ import annotations

from dataclasses import dataclass, field

# Sent by the spider (via crawler.signals.send_catch_log) when an article cannot be saved,
# and when a roll API page answered or failed; the health extension listens.
article_failed = object()
roll_fetched = object()
roll_failed = object()

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
