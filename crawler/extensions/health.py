"""Crawl health: account for every article the run learns of, show progress, judge the run.

Every article listed by the roll or a feed, or given explicitly, ends in exactly one outcome:
saved, unchanged, skipped (with a reason) or failed (with a reason). The ledger is keyed by
canonical article key and fed by signals: the spider's (listed, skipped, failed), Scrapy's
(item_scraped, item_dropped, item_error, spider_error, request_dropped) and the pipelines'.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.extensions.logstats import LogStats

from crawler.storage.crawl_state import canonical_key, open_state
from crawler.storage.seen_keys import CACHE_KIB

if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Self

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.statscollectors import StatsCollector
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)
MAX_LISTED = 20

# Sent through crawler.signals.send_catch_log; the health extension listens.
article_listed = object()  # url, key: the run learned of an article (roll, feed, explicit)
article_skipped = object()  # url, key, reason (one of SKIP_REASONS), detail
article_failed = object()  # url, reason, key=None, side=PAGE: the article could not be saved
post_unchanged = object()  # item: its post was already on disk, byte for byte
roll_fetched = object()
roll_failed = object()
# Sent by the spider for an article saved through the generic fallback, or whose template
# lacked a field it always has: Sina may have changed its markup.
extraction_drift = object()

SAVED, UNCHANGED, SKIPPED, FAILED = "saved", "unchanged", "skipped", "failed"
OUTCOMES = (SAVED, UNCHANGED, SKIPPED, FAILED)
# Why an article is skipped: none of these is retried by the next run as things stand.
ALREADY_SAVED = "already saved"
NOT_AN_ARTICLE = "not an article"
OUT_OF_RANGE = "out of range"
PARKED = "parked"
BAD_ENTRY = "bad entry"
OTHER_WORKER = "queued for another worker"
SKIP_REASONS = (ALREADY_SAVED, NOT_AN_ARTICLE, OUT_OF_RANGE, PARKED, BAD_ENTRY, OTHER_WORKER)
# Where a failure comes from: the page or the network (the ratio rule, then parking), our own
# code or storage (always a failed run), or a crawl stopped before the article's turn.
PAGE, OURS, STOPPED = "page", "ours", "stopped"

TRACKED_FIELDS = (
    "title",
    "author",
    "date",
    "body",
    "categories",
    "channel",
    "editor",
    "keywords",
    "headimg",
    "doc_id",
)


@dataclass(frozen=True)
class Outcome:
    """How one article ended: kind (saved, unchanged, skipped, failed), why, and which side."""

    kind: str
    reason: str = ""
    side: str = ""

    def rank(self) -> tuple[int, int]:
        # A later, weightier outcome wins: failed over saved over unchanged over skipped, and a
        # failure on our side over a page-side one (an article saved then not recorded failed).
        return _RANK[self.kind], self.side == OURS


_RANK = {SKIPPED: 0, UNCHANGED: 1, SAVED: 2, FAILED: 3}


class Ledger:
    """Articles learned of (key -> URL) and their outcomes; pure, unit-tested without a crawl.

    Kept in SQLite (a private temporary file, deleted when the ledger goes): a backfill lists
    hundreds of thousands of articles, and as Python dicts of URLs and outcomes they cost about
    370 bytes each (36 MiB at 100,000), the part of a crawl's memory that grew with its size.
    ``urls`` and ``outcomes`` read it as mappings, in the order articles were learned of.

    >>> ledger = Ledger()
    >>> ledger.listed("k1", "u1"), ledger.listed("k2", "u2"), ledger.listed("k1", "u1")
    (True, True, False)
    >>> ledger.settle("k1", "u1", Outcome(SAVED))
    >>> ledger.settle("k2", "u2", Outcome(FAILED, "HTTP 404", PAGE))
    >>> ledger.counts(), ledger.pending()
    ({'saved': 1, 'unchanged': 0, 'skipped': 0, 'failed': 1}, [])
    >>> len(ledger.urls), ledger.urls["k2"], dict(ledger.outcomes)["k2"].reason
    (2, 'u2', 'HTTP 404')
    """

    def __init__(self) -> None:
        # One connection, used from the reactor thread and, at the end, the crawl command's.
        self._db = sqlite3.connect("", isolation_level=None, check_same_thread=False)
        self._db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        self._db.execute("PRAGMA journal_mode = OFF")
        self._db.execute(
            "CREATE TABLE ledger (seq INTEGER PRIMARY KEY, key TEXT UNIQUE NOT NULL,"
            " url TEXT NOT NULL, kind TEXT, reason TEXT, side TEXT)"
        )
        self.urls: Mapping[str, str] = _LedgerColumn(self._db, "url", "1")
        self.outcomes: Mapping[str, Outcome] = _LedgerColumn(
            self._db, "kind, reason, side", "kind IS NOT NULL", Outcome
        )

    def listed(self, key: str, url: str) -> bool:
        """Record that the run learned of the article; True the first time (it counts once)."""
        insert = "INSERT OR IGNORE INTO ledger (key, url) VALUES (?, ?)"
        return self._db.execute(insert, (key, url)).rowcount == 1

    def settle(
        self, key: str, url: str, outcome: Outcome, *, force: bool = False
    ) -> Outcome | None:
        """Record an outcome unless a weightier one is there (or `force`); return the one replaced.

        An outcome for an article never listed (a redirect target, an item with no request)
        lists it, so the counts always add up.
        """
        query = "SELECT kind, reason, side FROM ledger WHERE key = ?"
        row = self._db.execute(query, (key,)).fetchone()
        if row is None:
            self._db.execute(
                "INSERT INTO ledger (key, url, kind, reason, side) VALUES (?, ?, ?, ?, ?)",
                (key, url, outcome.kind, outcome.reason, outcome.side),
            )
            return None
        old = Outcome(*row) if row[0] is not None else None
        if old is not None and not force and outcome.rank() <= old.rank():
            return outcome  # nothing changes: the new one is the one dropped
        self._db.execute(
            "UPDATE ledger SET kind = ?, reason = ?, side = ? WHERE key = ?",
            (outcome.kind, outcome.reason, outcome.side, key),
        )
        return old

    def pending(self) -> list[str]:
        """Keys listed with no outcome yet (queued or in flight)."""
        query = "SELECT key FROM ledger WHERE kind IS NULL ORDER BY seq"
        return [key for (key,) in self._db.execute(query)]

    def counts(self) -> dict[str, int]:
        """Articles per outcome kind."""
        counts = dict.fromkeys(OUTCOMES, 0)
        query = "SELECT kind, COUNT(*) FROM ledger WHERE kind IS NOT NULL GROUP BY kind"
        counts.update(self._db.execute(query))
        return counts

    def of(self, kind: str, side: str | None = None) -> dict[str, Outcome]:
        """Return the outcomes of one kind (and side), by key."""
        query = "SELECT key, kind, reason, side FROM ledger WHERE kind = ?"
        args: tuple[str, ...] = (kind,)
        if side is not None:
            query, args = query + " AND side = ?", (kind, side)
        rows = self._db.execute(query + " ORDER BY seq", args)
        return {key: Outcome(*outcome) for key, *outcome in rows}


class _LedgerColumn(Mapping):
    """A read-only mapping of key to one column (or an Outcome) of the ledger table."""

    def __init__(self, db: sqlite3.Connection, columns: str, where: str, make: Any = None):
        self._db, self._columns, self._where, self._make = db, columns, where, make

    def _value(self, row: tuple) -> Any:
        return self._make(*row) if self._make else row[0]

    def __getitem__(self, key: str) -> Any:
        query = f"SELECT {self._columns} FROM ledger WHERE key = ? AND {self._where}"
        row = self._db.execute(query, (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        return self._value(row)

    def __iter__(self) -> Iterator[str]:
        query = f"SELECT key FROM ledger WHERE {self._where} ORDER BY seq"
        return (key for (key,) in self._db.execute(query).fetchall())

    def __len__(self) -> int:
        return self._db.execute(f"SELECT COUNT(*) FROM ledger WHERE {self._where}").fetchone()[0]


@dataclass
class CrawlHealth:
    """The ledger, roll pages and field coverage of one run, and the verdict rules."""

    failure_ratio: float  # CRAWL_FAILURE_RATIO
    ledger: Ledger = field(default_factory=Ledger)
    coverage: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TRACKED_FIELDS, 0))
    items: int = 0
    roll_ok: int = 0
    roll_errors: dict[str, str] = field(default_factory=dict)
    # Failures on our side that belong to no article (a roll page's callback crashed).
    errors: dict[str, str] = field(default_factory=dict)

    def add_item(self, item: object) -> None:
        """Count which tracked fields an item that went through every pipeline filled."""
        self.items += 1
        for name in TRACKED_FIELDS:
            if getattr(item, name, None):
                self.coverage[name] += 1

    def failures_ours(self) -> int:
        """Failures through our side: exceptions, state, export (never the page's fault)."""
        return len(self.ledger.of(FAILED, OURS)) + len(self.errors)

    def verdict(self) -> str:
        """Return '' when the run is healthy, else why it failed.

        >>> h = CrawlHealth(0.5); h.roll_errors["u"] = "HTTP 503"; h.verdict()
        'roll API unreachable: no roll page could be read'
        >>> h = CrawlHealth(0.5)
        >>> for key, kind in [("a", FAILED), ("b", FAILED), ("c", SAVED)]:
        ...     h.ledger.settle(key, key, Outcome(kind, "HTTP 404", PAGE if kind == FAILED else ""))
        >>> h.verdict()
        'most article pages failed: 2 of 3'
        >>> h.ledger.settle("d", "d", Outcome(FAILED, "ValueError: x", OURS)); h.verdict()
        '1 article failed on our side (an exception, the state or the export)'
        """
        ours = self.failures_ours()
        if ours:
            noun = "article" if ours == 1 else "articles"
            return f"{ours} {noun} failed on our side (an exception, the state or the export)"
        if self.roll_errors and not self.roll_ok:
            return "roll API unreachable: no roll page could be read"
        counts = self.ledger.counts()
        failed = len(self.ledger.of(FAILED, PAGE))
        attempted = counts[SAVED] + counts[UNCHANGED] + failed
        if attempted and failed / attempted > self.failure_ratio:
            return f"most article pages failed: {failed} of {attempted}"
        return ""

    def summary_line(self) -> str:
        """Give the counts, which add up: listed = saved + unchanged + skipped + failed.

        >>> h = CrawlHealth(0.5); _ = h.ledger.listed("k", "u"); h.ledger.settle("k", "u", Outcome(SAVED))
        >>> h.summary_line()
        '1 listed = 1 saved + 0 unchanged + 0 skipped + 0 failed'
        """
        c = self.ledger.counts()
        return (
            f"{len(self.ledger.urls)} listed = {c[SAVED]} saved + {c[UNCHANGED]} unchanged"
            f" + {c[SKIPPED]} skipped + {c[FAILED]} failed"
        )

    def skipped_line(self) -> str:
        """Skipped articles by reason, e.g. '2 already saved, 1 not an article'."""
        reasons = Counter(o.reason for o in self.ledger.of(SKIPPED).values())
        return ", ".join(f"{reasons[r]} {r}" for r in SKIP_REASONS if reasons[r]) or "none"

    def failed_line(self) -> str:
        """Failed articles by side, e.g. '2 page-side, 1 ours'."""
        sides = Counter(o.side for o in self.ledger.of(FAILED).values())
        names = {PAGE: "page or network", OURS: "ours", STOPPED: "not reached"}
        return ", ".join(f"{sides[s]} {names[s]}" for s in names if sides[s]) or "none"

    def coverage_line(self) -> str:
        """Summarise field coverage of the items that went through every pipeline.

        >>> h = CrawlHealth(0.5); h.add_item(type("I", (), {"title": "t", "author": ""})())
        >>> h.coverage_line()  # doctest: +ELLIPSIS
        'title 1/1, author 0/1, date 0/1, body 0/1, categories 0/1, channel 0/1, editor 0/1, ...'
        """
        return ", ".join(f"{k} {v}/{self.items}" for k, v in self.coverage.items())


def exception_line(exc: BaseException) -> str:
    r"""Name an exception in one line: its type and the first line of its message.

    >>> exception_line(ValueError("Invalid IPv6 URL\nmore"))
    'ValueError: Invalid IPv6 URL'
    """
    message = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {message[0]}" if message else type(exc).__name__


def article_key_of(response: Response | Failure | None, url: str | None) -> str:
    """Return the ledger key of a response's article: the listed one's, else the URL's."""
    meta = getattr(response, "meta", None) if response is not None else None
    try:
        key = meta.get("article_key") if meta is not None else None
    except AttributeError:  # Response.meta without a request raises
        key = None
    return key or entry_key(url or "?")


def entry_key(url: str) -> str:
    """canonical_key, or the URL itself when it does not parse (a bad entry is still counted).

    >>> entry_key("http://[::1/x")
    'http://[::1/x'
    """
    try:
        return canonical_key(url)
    except ValueError:
        return url


class CrawlHealthExtension:
    """Keep the ledger through signals; the `crawl` command turns the verdict into the exit status."""

    def __init__(self, crawler: Crawler, failure_ratio: float):
        self.crawler = crawler
        self.health = CrawlHealth(failure_ratio=failure_ratio)
        self.page_failure_runs = crawler.settings.getint("SINA_PAGE_FAILURE_RUNS")
        self.distributed = bool(crawler.settings.get("REDIS_URL"))
        self._unchanged: set[int] = set()  # id() of items whose post was already on disk

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("CRAWL_HEALTH_ENABLED"):
            raise NotConfigured("CRAWL_HEALTH_ENABLED is off")
        ext = cls(crawler, crawler.settings.getfloat("CRAWL_FAILURE_RATIO"))
        sig = crawler.signals
        sig.connect(ext.item_scraped, signal=signals.item_scraped)
        sig.connect(ext.item_dropped, signal=signals.item_dropped)
        sig.connect(ext.item_error, signal=signals.item_error)
        sig.connect(ext.spider_error, signal=signals.spider_error)
        sig.connect(ext.request_dropped, signal=signals.request_dropped)
        sig.connect(ext.article_listed, signal=article_listed)
        sig.connect(ext.article_skipped, signal=article_skipped)
        sig.connect(ext.article_failed, signal=article_failed)
        sig.connect(ext.post_unchanged, signal=post_unchanged)
        sig.connect(ext.roll_fetched, signal=roll_fetched)
        sig.connect(ext.roll_failed, signal=roll_failed)
        sig.connect(ext.spider_closed, signal=signals.spider_closed)
        ext.drift: dict[str, str] = {}  # url -> why
        sig.connect(ext.extraction_drift, signal=extraction_drift)
        sig.connect(ext.report_drift, signal=signals.spider_closed)
        return ext

    # --- the ledger ---------------------------------------------------------------------------
    def settle(self, key: str, url: str, outcome: Outcome, *, force: bool = False) -> None:
        """Record an outcome and keep the `accounting/*` stats (read by the progress line)."""
        ledger = self.health.ledger
        stats = self.crawler.stats
        if ledger.listed(key, url):
            stats.inc_value("accounting/listed")
        replaced = ledger.settle(key, url, outcome, force=force)
        if replaced is outcome:
            return
        stats.inc_value(f"accounting/{outcome.kind}")
        if replaced is not None:
            stats.inc_value(f"accounting/{replaced.kind}", -1)

    def article_listed(self, url: str, key: str) -> None:
        if self.health.ledger.listed(key, url):
            self.crawler.stats.inc_value("accounting/listed")

    def article_skipped(self, url: str, key: str, reason: str) -> None:
        self.settle(key, url, Outcome(SKIPPED, reason))

    def article_failed(
        self, url: str, reason: str, key: str | None = None, side: str = PAGE
    ) -> None:
        self.settle(key or entry_key(url), url, Outcome(FAILED, reason, side))

    def post_unchanged(self, item: Any) -> None:
        self._unchanged.add(id(item))

    def item_scraped(self, item: Any, response: Response | None = None) -> None:
        url = getattr(item, "url", None) or "?"
        unchanged = id(item) in self._unchanged
        self._unchanged.discard(id(item))
        self.health.add_item(item)
        self.settle(article_key_of(response, url), url, Outcome(UNCHANGED if unchanged else SAVED))

    def item_dropped(
        self, item: Any, exception: BaseException, response: Response | None = None
    ) -> None:
        self._unchanged.discard(id(item))
        url = getattr(item, "url", None) or "?"
        # A pipeline drops an item for the page's sake (nothing readable in it) or for ours
        # (a post that cannot be written); only the first kind is the page's fault.
        side = PAGE if getattr(exception, "page_side", False) else OURS
        self.settle(article_key_of(response, url), url, Outcome(FAILED, str(exception), side))

    def item_error(self, item: Any, failure: Failure, response: Response | None = None) -> None:
        self._unchanged.discard(id(item))
        url = getattr(item, "url", None) or "?"
        reason = f"pipeline error: {exception_line(failure.value)}"
        logger.error("Failed %s: %s", url, reason)
        self.settle(article_key_of(response, url), url, Outcome(FAILED, reason, OURS))

    def spider_error(self, failure: Failure, response: Response | Failure) -> None:
        request = getattr(response, "request", None)
        meta = request.meta if request is not None else {}
        url = getattr(response, "url", None) or "?"
        if "article_key" not in meta:
            # A roll or feed page's callback crashed: not one article, but still our failure.
            self.health.errors[url] = f"callback error: {exception_line(failure.value)}"
            return
        reason = f"extraction error: {exception_line(failure.value)}"
        logger.error("Failed %s: %s", url, reason)
        self.settle(meta["article_key"], url, Outcome(FAILED, reason, OURS))

    def request_dropped(self, request: Request) -> None:
        key = request.meta.get("article_key")
        if key is None:
            return
        redirects = request.meta.get("redirect_urls") or []
        if not redirects:
            # The duplicate filter already saw this request: another worker (or an earlier run
            # sharing the Redis queue) has it.
            self.settle(key, request.url, Outcome(SKIPPED, OTHER_WORKER))
            return
        origin = redirects[0]
        if request.url in redirects:
            reason = "redirect loop: " + " -> ".join([*redirects, request.url])
        else:
            reason = f"redirected to {request.url}, already fetched in this run"
        logger.warning("Failed %s: %s", origin, reason)
        self.settle(key, origin, Outcome(FAILED, reason, PAGE))

    def roll_fetched(self, url: str) -> None:
        self.health.roll_ok += 1

    def roll_failed(self, url: str, reason: str) -> None:
        self.health.roll_errors[url] = reason

    # --- the end ------------------------------------------------------------------------------
    def settle_pending(self, reason: str) -> None:
        """Give every article still without an outcome one, so nothing ends nowhere."""
        for key in self.health.ledger.pending():
            url = self.health.ledger.urls[key]
            if reason not in {"finished", "idle"}:
                outcome = Outcome(FAILED, f"not reached: the crawl ended ({reason})", STOPPED)
            elif self.distributed:
                # Queued in Redis: another worker took it (each worker accounts for its own).
                outcome = Outcome(SKIPPED, OTHER_WORKER)
            else:
                outcome = Outcome(FAILED, "no outcome recorded (lost on the way)", OURS)
            self.settle(key, url, outcome)

    def park_dead_links(self, spider: Spider) -> list[tuple[str, str]]:
        """Count this run against each page-side failure; park those failing SINA_PAGE_FAILURE_RUNS runs.

        Only in discovery (explicit URLs are always fetched) and with a state that keeps the
        count (SQLiteState). Returns (URL, reason) of the articles parked now.
        """
        failed = self.health.ledger.of(FAILED, PAGE)
        args = getattr(spider, "args", None)
        if not failed or self.page_failure_runs <= 0 or args is None or args.explicit:
            return []
        settings = self.crawler.settings
        if not settings.get("CRAWL_STATE_DIR"):
            return []
        state = open_state(settings)
        parked = []
        try:
            record = getattr(state, "record_page_failure", None)
            if record is None:
                return []
            for key, outcome in failed.items():
                url = self.health.ledger.urls[key]
                runs = record(key, url, outcome.reason)
                if runs >= self.page_failure_runs:
                    why = f"{outcome.reason} on {runs} runs"
                    state.mark_skipped(key, url, f"{PARKED}: {why}")
                    self.settle(key, url, Outcome(SKIPPED, PARKED), force=True)
                    parked.append((url, why))
        finally:
            state.close()
        return parked

    def spider_closed(self, spider: Spider, reason: str) -> None:
        h = self.health
        stats = self.crawler.stats
        if reason == "locked":
            return
        self.settle_pending(reason)
        try:
            parked = self.park_dead_links(spider)
        except Exception as exc:  # noqa: BLE001 - a broken state: say so, count it, summarise
            logger.error("Cannot record page failures in the crawl state: %s", exception_line(exc))
            h.errors["crawl state"] = exception_line(exc)
            parked = []
        logger.info(
            "Crawl summary: %s; roll pages %d ok / %d failed",
            h.summary_line(),
            h.roll_ok,
            len(h.roll_errors),
        )
        logger.info("  skipped: %s", h.skipped_line())
        logger.info("  failed (tried again next run): %s", h.failed_line())
        logger.info("  coverage: %s", h.coverage_line() if h.items else "no items")
        for url, why in parked:
            logger.warning(
                "  parked: %s (%s); not fetched again until removed from the crawl state",
                url,
                why,
            )
        failures = {
            **h.roll_errors,
            **h.errors,
            **{h.ledger.urls[k]: o.reason for k, o in h.ledger.of(FAILED).items()},
        }
        for url, why in list(failures.items())[:MAX_LISTED]:
            logger.info("  failed: %s (%s)", url, why)
        if len(failures) > MAX_LISTED:
            logger.info("  ... and %d more failed", len(failures) - MAX_LISTED)
        stats.set_value("health/failed_ours", h.failures_ours())
        verdict = h.verdict()
        if verdict:
            logger.error("Crawl failed: %s", verdict)
            stats.set_value("health/failed", verdict)

    # --- extraction drift: its own hook, apart from the summary above -------------------------
    def extraction_drift(self, url: str, reason: str) -> None:
        self.drift[url] = reason

    def report_drift(self, reason: str) -> None:
        """Name the pages that showed drift; `extraction/drift` in the stats sets exit status 4."""
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


class ProgressLogStats(LogStats):
    """Scrapy's LogStats, plus a line of article accounting at every LOGSTATS_INTERVAL.

    Reads only stats: `accounting/*` (kept by CrawlHealthExtension) and, when discovery sets
    them, `discovery/roll_pages` and `discovery/backlog`.
    """

    def log(self, spider: Spider) -> None:
        super().log(spider)
        logger.info(progress_line(self.stats), extra={"spider": spider})


def progress_line(stats: StatsCollector) -> str:
    """Say how far the run is: listed, saved, skipped, failed so far, and discovery's progress.

    >>> from scrapy.statscollectors import MemoryStatsCollector
    >>> from scrapy.utils.test import get_crawler
    >>> stats = MemoryStatsCollector(get_crawler())
    >>> stats.set_value("accounting/listed", 5); stats.set_value("accounting/saved", 2)
    >>> progress_line(stats)
    'Progress: 5 listed, 2 saved, 0 unchanged, 0 skipped, 0 failed, 3 to go'
    >>> stats.set_value("discovery/roll_pages", 4); stats.set_value("discovery/backlog", 7)
    >>> progress_line(stats)
    'Progress: 5 listed, 2 saved, 0 unchanged, 0 skipped, 0 failed, 3 to go; roll pages 4, backlog 7'
    """
    counts = {kind: stats.get_value(f"accounting/{kind}", 0) for kind in OUTCOMES}
    listed = stats.get_value("accounting/listed", 0)
    line = (
        f"Progress: {listed} listed, {counts[SAVED]} saved, {counts[UNCHANGED]} unchanged,"
        f" {counts[SKIPPED]} skipped, {counts[FAILED]} failed,"
        f" {listed - sum(counts.values())} to go"
    )
    pages = stats.get_value("discovery/roll_pages")
    backlog = stats.get_value("discovery/backlog")
    extra = [f"roll pages {pages}" if pages is not None else ""]
    extra.append(f"backlog {backlog}" if backlog is not None else "")
    extra = [part for part in extra if part]
    return line + ("; " + ", ".join(extra) if extra else "")
