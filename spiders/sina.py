"""The `sina` spider: decides what to fetch; extraction lives in crawler.site.extraction."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy.http import TextResponse
from scrapy.spidermiddlewares.httperror import HttpError

from crawler.arguments import KNOWN, SpiderArguments, parse_arguments
from crawler.backpressure import DiscoveryBackpressure
from crawler.downloader.offsite import host_of, is_allowed_host
from crawler.extensions import health
from crawler.extensions.offload import offload_of
from crawler.extensions.worker_processes import WorkerProcessDied
from crawler.site.channels import CHANNELS
from crawler.site.extraction import NO_READABLE_BODY, NotAnArticle, extract_article
from crawler.site.feeds import FeedError, parse_feed
from crawler.site.roll import ROLL_REFERER, RollError, parse_roll_page, roll_page_url
from crawler.storage.crawl_state import canonical_key, open_state
from crawler.storage.seen_keys import SeenKeys
from crawler.url_faults import url_problem

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator
    from datetime import datetime
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure

    from crawler.items import ArticleItem
    from crawler.storage.crawl_state import ArticleState

SINA_SITE_DOMAINS = ("sina.com.cn", "sina.cn")
# A roll page goes ahead of the articles waiting, so its listing arrives while they download
# (crawler.backpressure decides when it may go out at all).
ROLL_PRIORITY = 10
ROLL_HEADERS = {"Referer": ROLL_REFERER, "Accept": "application/json, text/plain, */*"}
_CHANNEL_NAMES = {c.lid: c.name for c in CHANNELS}
# NotAnArticle reasons that may change on a later fetch (a broken or changed page, a layout our
# selectors miss); any other reason names a page type (video, list, gallery) that stays so.
RETRYABLE_REASONS = frozenset({"error page", "no title", "no body", "no date", NO_READABLE_BODY})


class SinaSpider(scrapy.Spider):
    """Crawl Sina articles: given by URL (`-a urls=`), or discovered from the roll API and feeds.

    Arguments (all optional): urls, urls_file, lids, pages, since, until, feeds, refresh.
    README (Usage) explains each; `check_arguments` validates them before the crawl starts.
    """

    name = "sina"

    def __init__(self, *args: Any, **kwargs: Any):
        spider_args = {key: kwargs.pop(key) for key in KNOWN if key in kwargs}
        super().__init__(*args, **kwargs)
        self.args: SpiderArguments = parse_arguments(spider_args)
        self.article_state: ArticleState | None = None
        self.roll_api_url = ""
        self.roll_page_size = 0  # SINA_ROLL_PAGE_SIZE, set in from_crawler
        # Extraction with or without body cleaning (CLEANING_ENABLED), set in from_crawler.
        self.extract = extract_article
        # Canonical keys listed in this run (on disk: a backfill lists hundreds of thousands).
        self._seen = SeenKeys()
        self.discovery: DiscoveryBackpressure | None = None
        # How far each roll channel got: lid -> (last page read, why it stopped or "").
        self.roll_progress: dict[int, tuple[int, str]] = {}

    @classmethod
    def check_arguments(cls, spider_args: dict[str, str]) -> SpiderArguments:
        """Validate `-a` arguments; raise crawler.arguments.ArgumentError with a one-line message."""
        return parse_arguments(spider_args)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.roll_api_url = crawler.settings.get("SINA_ROLL_API_URL")
        spider.roll_page_size = crawler.settings.getint("SINA_ROLL_PAGE_SIZE")
        spider.extract = partial(
            extract_article, clean=crawler.settings.getbool("CLEANING_ENABLED")
        )
        spider.discovery = DiscoveryBackpressure.from_crawler(crawler)
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        if self.args.explicit:
            # Explicit URLs are always fetched (the state pipeline still records them).
            for url in self.args.urls:
                key = health.entry_key(url)
                if key in self._seen:
                    # Another form of an article already asked for (http/https, mobile, a
                    # query): fetching it again would export it twice and let the later
                    # form's outcome overwrite the first's in the ledger.
                    self.logger.info("Skipped %s: the same article as an earlier URL", url)
                    self.crawler.stats.inc_value("discovery/duplicate")
                    continue
                self._seen.add(key)
                self.crawler.signals.send_catch_log(health.article_listed, url=url, key=key)
                yield self.article_request(url, channel=None)
            return
        self.article_state = open_state(self.settings)
        assert self.discovery is not None
        resumed = self.discovery.resume(self)
        if resumed is not None:  # a paused JOBDIR job: the rest of discovery is queued or parked
            for request in resumed:
                for sent in self.discovery.submit(request):
                    yield sent
            return
        for channel in self.args.channels:
            self.roll_progress[channel.lid] = (0, "")
            for sent in self.discovery.submit(self.roll_request(channel.pageid, channel.lid, 1)):
                yield sent
        for feed in self.args.feeds:
            for sent in self.discovery.submit(self.feed_request(feed)):
                yield sent

    def closed(self, reason: str) -> None:
        self._seen.close()
        if self.article_state is not None:
            self.article_state.close()
        if self.roll_progress:
            self.logger.info("Discovery: %s", self.discovery_summary())

    def discovery_summary(self) -> str:
        """Say how far discovery got: pages read per channel, and why each stopped."""
        stats = self.crawler.stats
        channels = "; ".join(
            f"lid {lid} {page} page{'s' if page != 1 else ''} ({why or 'not finished'})"
            for lid, (page, why) in self.roll_progress.items()
        )
        return (
            f"{stats.get_value('discovery/roll_pages', 0)} roll pages read, "
            f"{stats.get_value('discovery/listed', 0)} articles listed, "
            f"{stats.get_value('discovery/new', 0)} new; {channels}"
        )

    # --- requests -----------------------------------------------------------------------------
    def roll_request(self, pageid: int, lid: int, page: int) -> scrapy.Request:
        """Build the request for one roll API page."""
        url = roll_page_url(
            self.roll_api_url, pageid=pageid, lid=lid, page=page, num=self.roll_page_size
        )
        return scrapy.Request(
            url,
            headers=ROLL_HEADERS,
            priority=ROLL_PRIORITY,
            callback=self.parse_roll,
            errback=self.roll_error,
            cb_kwargs={"pageid": pageid, "lid": lid, "page": page},
            meta={"download_slot": download_slot(url)},
        )

    def feed_request(self, url: str) -> scrapy.Request:
        """Build the request for one feed (RSS, Atom or an OPML directory of feeds)."""
        return scrapy.Request(url, callback=self.parse_feed, errback=self.feed_error)

    def article_request(
        self, url: str, channel: str | None, *, channel_wins: bool = True
    ) -> scrapy.Request:
        """Build the request for one article page; `channel` is where it was listed."""
        return scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.article_error,
            cb_kwargs={"channel": channel, "channel_wins": channel_wins},
            # article_key: the health ledger's key for whatever becomes of this request.
            meta={"download_slot": download_slot(url), "article_key": health.entry_key(url)},
        )

    def discovered(
        self, url: str, published: datetime | None, channel: str | None, *, channel_wins: bool
    ) -> Iterator[scrapy.Request]:
        """Yield a request for a listed article unless it is out of range, seen or saved.

        Every listed article is told to the health ledger, with its outcome when it is not
        fetched; an exception on one entry fails that entry alone (the page goes on).
        """
        stats = self.crawler.stats
        stats.inc_value("discovery/listed")
        key = health.entry_key(url)
        if not self._seen.add(key):
            stats.inc_value("discovery/duplicate")
            return
        self.crawler.signals.send_catch_log(health.article_listed, url=url, key=key)
        try:
            problem = url_problem(url)
            if problem:
                self.logger.warning("Skipped a listed entry with a bad URL %r: %s", url, problem)
                self.article_skipped(url, key, health.BAD_ENTRY)
                return
            if self.args.until and published and published > self.args.until:
                stats.inc_value("discovery/too_new")
                self.article_skipped(url, key, health.OUT_OF_RANGE)
                return
            skipped = self.known_outcome(key)
            if skipped:
                self.article_skipped(url, key, skipped)
                return
            request = self.article_request(url, channel, channel_wins=channel_wins)
        except Exception as exc:  # noqa: BLE001 - one entry must not cost the rest of the page
            reason = health.exception_line(exc)
            self.logger.error("Failed listed entry %s: %s", url, reason)
            self.crawler.signals.send_catch_log(
                health.article_failed, url=url, reason=reason, key=key, side=health.OURS
            )
            return
        stats.inc_value("discovery/new")
        yield request

    def known_outcome(self, key: str) -> str:
        """Why the state says not to fetch this article ('' when it should be fetched)."""
        if self.args.refresh or self.article_state is None:
            return ""
        stats = self.crawler.stats
        if self.article_state.is_saved(key):
            stats.inc_value("discovery/already_saved")
            return health.ALREADY_SAVED
        skip_reason = getattr(self.article_state, "skip_reason", None)
        if skip_reason is not None:
            reason = skip_reason(key)
        else:
            is_skipped = getattr(self.article_state, "is_skipped", None)
            reason = "" if is_skipped is None or not is_skipped(key) else health.NOT_AN_ARTICLE
        if not reason:
            return ""
        if reason.startswith(health.PARKED):
            stats.inc_value("discovery/parked")
            return health.PARKED
        stats.inc_value("discovery/not_article")
        return health.NOT_AN_ARTICLE

    def article_skipped(self, url: str, key: str, reason: str) -> None:
        self.crawler.signals.send_catch_log(health.article_skipped, url=url, key=key, reason=reason)

    def out_of_range(self, url: str) -> None:
        """Account for a listed article older than `since` (the roll goes on to the next)."""
        self.crawler.stats.inc_value("discovery/too_old")
        key = health.entry_key(url)
        if not self._seen.add(key):
            return
        self.crawler.signals.send_catch_log(health.article_listed, url=url, key=key)
        self.article_skipped(url, key, health.OUT_OF_RANGE)

    # --- callbacks ----------------------------------------------------------------------------
    def parse_roll(
        self, response: Response, pageid: int, lid: int, page: int
    ) -> Iterator[scrapy.Request]:
        """Queue the listed articles, then the next page unless this one was empty or too old."""
        assert self.discovery is not None
        try:
            roll = parse_roll_page(response.body, response.url, limit=self.roll_page_size)
        except RollError as exc:
            self.logger.error("Broken roll page: %s", exc)
            self.crawler.stats.inc_value("roll/broken")
            self.crawler.signals.send_catch_log(health.roll_failed, url=exc.url, reason=exc.reason)
            # Its room goes to the next page; the entries behind a broken page still count.
            self.discovery.listed(response.request)
            if page < self.args.pages:
                self.roll_progress[lid] = (page, f"broken page {page}, went on")
                yield from self.discovery.submit(self.roll_request(pageid, lid, page + 1))
            else:
                self.roll_progress[lid] = (page, f"broken page {page}")
            return
        self.crawler.stats.inc_value("roll/pages")
        self.crawler.stats.inc_value("discovery/roll_pages")
        self.crawler.signals.send_catch_log(health.roll_fetched, url=response.url)
        channel = _CHANNEL_NAMES.get(lid)
        if roll.beyond_limit:
            self.logger.warning(
                "Roll page answered %d entries for num=%d; took the first %d: %s",
                len(roll.entries) + len(roll.bad_entries) + roll.without_url + roll.beyond_limit,
                self.roll_page_size,
                self.roll_page_size,
                response.url,
            )
            self.crawler.stats.inc_value("roll/entries_beyond_num", roll.beyond_limit)
        if roll.without_url:
            # Nothing to fetch or name (javascript:, empty, missing): one line for the page.
            self.logger.warning(
                "Skipped %d entries with no http(s) URL on roll page %s",
                roll.without_url,
                response.url,
            )
            self.crawler.stats.inc_value("roll/entries_without_url", roll.without_url)
        for url, _problem in roll.bad_entries:
            yield from self.discovered(url, None, channel, channel_wins=True)
        entries = roll.entries
        reached_older = False
        for entry in entries:
            if self.args.since and entry.published and entry.published < self.args.since:
                # The roll is newest first: everything after this is older still.
                reached_older = True
                self.out_of_range(entry.url)
                continue
            yield from self.discovered(entry.url, entry.published, channel, channel_wins=True)
        # Its articles are in the scheduler now: the room this page held goes to the next one.
        self.discovery.listed(response.request)
        if not entries:
            self.logger.info("Roll lid %d ends at page %d (empty): %s", lid, page, response.url)
            self.roll_progress[lid] = (page, "empty page")
        elif reached_older:
            self.logger.info("Roll lid %d reached `since` at page %d", lid, page)
            self.roll_progress[lid] = (page, "reached since")
        elif page < self.args.pages:
            self.roll_progress[lid] = (page, "")
            yield from self.discovery.submit(self.roll_request(pageid, lid, page + 1))
        else:
            self.roll_progress[lid] = (page, "pages limit")

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        """Queue a feed's articles (RSS/Atom) or the feeds an OPML directory lists."""
        assert self.discovery is not None
        try:
            doc = parse_feed(response.body, response.url)
        except FeedError as exc:
            self.logger.error("Broken feed: %s", exc)
            self.crawler.stats.inc_value("feeds/broken")
            self.discovery.listed(response.request)
            return
        self.crawler.stats.inc_value("feeds/read")
        for link in doc.refused:
            # Only what the user typed may be local; a fetched document naming file:// is not
            # followed (it could read any file on this machine).
            self.logger.warning(
                "Not following %s found in %s: not an http(s) URL", link, response.url
            )
            self.crawler.stats.inc_value("feeds/refused_links")
        for feed in doc.feeds:
            yield from self.discovery.submit(self.feed_request(feed))
        for entry in doc.entries:
            if self.args.since and entry.published and entry.published < self.args.since:
                self.out_of_range(entry.url)
                continue
            # A feed's title is a weaker channel than the page's own, so it only fills a gap.
            yield from self.discovered(
                entry.url, entry.published, doc.title or None, channel_wins=False
            )
        self.discovery.listed(response.request)

    async def parse_article(
        self, response: Response, channel: str | None = None, channel_wins: bool = True
    ) -> AsyncIterator[ArticleItem]:
        """Extract the article; a page that is not one is logged with its URL and counted."""
        key = response.meta.get("article_key")
        if not isinstance(response, TextResponse):
            self.article_failed(response.url, "not a text page", key=key)
            return
        try:
            # In the crawl's worker (crawler.extensions.offload): the reactor keeps downloading.
            offload = offload_of(self.crawler)
            extraction = await offload.on_response_in_worker(self.extract, response)
        except NotAnArticle as exc:
            if exc.reason in RETRYABLE_REASONS:
                self.article_failed(exc.url, exc.reason, key=key)
            else:
                # A page type that stays so: skipped, not failed (nothing to try again).
                self.logger.info("Skipped %s: not an article (%s)", exc.url, exc.reason)
                self.crawler.stats.inc_value("articles/not_article")
                self.article_skipped(
                    exc.url, key or health.entry_key(exc.url), health.NOT_AN_ARTICLE
                )
            self.remember_not_article(response.request.url if response.request else exc.url, exc)
            return
        except WorkerProcessDied as exc:
            # The worker died under this page (the OOM killer, a crash in C code): our side,
            # fetched again next run; the next page gets a new worker. One line, no traceback.
            self.logger.error("Failed %s: %s", response.url, exc)
            self.crawler.signals.send_catch_log(
                health.article_failed, url=response.url, reason=str(exc), key=key, side=health.OURS
            )
            return
        item = extraction.item
        self.crawler.stats.inc_value(f"extraction/template/{item.template}")
        if extraction.drift:
            self.extraction_drifted(item.url or response.url, extraction.drift)
        if channel and (channel_wins or not item.channel):
            item.channel = channel
        yield item

    # --- errors -------------------------------------------------------------------------------
    def article_failed(self, url: str, reason: str, key: str | None = None) -> None:
        """Log and count an article that could not be saved (the page's or the network's fault)."""
        self.logger.warning("Dropped %s: %s", url, reason)
        self.crawler.stats.inc_value("articles/dropped")
        self.crawler.signals.send_catch_log(
            health.article_failed, url=url, reason=reason, key=key, side=health.PAGE
        )

    def extraction_drifted(self, url: str, reason: str) -> None:
        """Report a page that needed the generic fallback or lacked what its template always has.

        The article is still saved; the run ends with exit status 4 (crawler.commands.crawl).
        """
        self.logger.warning("Extraction drift on %s: %s", url, reason)
        self.crawler.stats.inc_value("extraction/drift")
        self.crawler.signals.send_catch_log(health.extraction_drift, url=url, reason=reason)

    def remember_not_article(self, url: str, exc: NotAnArticle) -> None:
        """Record a page that will never be an article, so discovery does not fetch it again."""
        mark = getattr(self.article_state, "mark_skipped", None)
        if mark is None or exc.reason in RETRYABLE_REASONS:
            return
        mark(canonical_key(url), url, exc.reason)
        self.crawler.stats.inc_value("state/not_article")

    def article_error(self, failure: Failure) -> None:
        request = failure.request
        reason = describe_failure(failure)
        retries = request.meta.get("retry_times")
        # Scrapy's own "Gave up retrying" line is off (RETRY_GIVE_UP_LOG_LEVEL): this is the one.
        self.logger.warning(
            "Dropped %s: %s%s",
            request.url,
            reason,
            f" (after {retries} retries)" if retries else "",
        )
        self.crawler.stats.inc_value("articles/dropped")
        self.crawler.signals.send_catch_log(
            health.article_failed,
            url=request.url,
            reason=reason,
            key=request.meta.get("article_key"),
            side=health.PAGE,
        )

    def roll_error(self, failure: Failure) -> None:
        url, reason = failure.request.url, describe_failure(failure)
        self.logger.error("Roll API unreachable: %s (%s)", url, reason)
        self.crawler.stats.inc_value("roll/failed")
        lid, page = failure.request.cb_kwargs.get("lid"), failure.request.cb_kwargs.get("page", 1)
        if lid is not None:
            self.roll_progress[lid] = (page - 1, f"page {page} failed")
        if self.discovery is not None:
            self.discovery.listed(failure.request)
        self.crawler.signals.send_catch_log(health.roll_failed, url=url, reason=reason)

    def feed_error(self, failure: Failure) -> None:
        self.logger.error(
            "Feed unreachable: %s (%s)", failure.request.url, describe_failure(failure)
        )
        self.crawler.stats.inc_value("feeds/failed")
        if self.discovery is not None:
            self.discovery.listed(failure.request)


def download_slot(url: str) -> str:
    """Name the download slot of a URL: one for all of Sina's hosts, else the host.

    Sina is one site behind many host names (roll API, finance, news, mobile): one slot keeps
    CONCURRENT_REQUESTS_PER_DOMAIN and AutoThrottle's delay for Sina as a whole.

    >>> download_slot("https://finance.sina.com.cn/roll/2024-05-10/doc-x.shtml")
    'sina'
    >>> download_slot("http://feed.mix.sina.com.cn/api/roll/get?page=2"), download_slot("https://finance.sina.cn/")
    ('sina', 'sina')
    >>> download_slot("https://example.org/a.html")
    'example.org'
    """
    host = host_of(url)
    return "sina" if is_allowed_host(host, SINA_SITE_DOMAINS, ()) else host


# Network errors in words (Twisted's own names and reprs mean little to a reader of the log).
CONNECTION_WORDS = {
    "ConnectionRefusedError": "connection refused",
    "DownloadConnectionRefusedError": "connection refused",
    "CannotResolveHostError": "host name not found",
    "ResponseDataLossError": "answer cut short (fewer bytes than announced)",
    "DNSLookupError": "host name not found",
    "TimeoutError": "timed out",
    "TCPTimedOutError": "timed out",
    "DownloadTimeoutError": "timed out",
    "ConnectionLost": "connection lost before the answer was complete",
    "ConnectionDone": "connection closed before the answer was complete",
    "ConnectionResetError": "connection reset by the server",
    "ConnectionAborted": "connection aborted",
    "_DataLoss": "answer cut short (fewer bytes than announced)",
    "NoRouteError": "no route to the host",
    "SSLError": "TLS handshake failed",
}


def describe_failure(failure: Failure) -> str:
    """Say in a few words why a request failed (HTTP status, or the network error in words).

    >>> from twisted.python.failure import Failure
    >>> from twisted.internet.error import ConnectionLost, ConnectionRefusedError
    >>> from twisted.web._newclient import ResponseNeverReceived
    >>> describe_failure(Failure(ResponseNeverReceived([Failure(ConnectionLost("x"))])))
    'connection lost before the answer was complete'
    >>> describe_failure(Failure(ConnectionRefusedError()))
    'connection refused'
    >>> from scrapy.exceptions import DownloadFailedError
    >>> try:
    ...     raise DownloadFailedError("[<Failure ...>]") from ResponseNeverReceived(
    ...         [Failure(ConnectionLost("x"))])
    ... except DownloadFailedError as exc:
    ...     describe_failure(Failure(exc))
    'connection lost before the answer was complete'
    >>> describe_failure(Failure(ValueError("Port out of range 0-65535")))
    'ValueError: Port out of range 0-65535'
    """
    if failure.check(HttpError):
        return f"HTTP {failure.value.response.status}"
    outer = exc = failure.value
    for _ in range(5):
        words = CONNECTION_WORDS.get(type(exc).__name__)
        if words == "timed out":
            message = str(exc).strip().splitlines()
            return f"timed out ({message[0]})" if message else words
        if words:
            return words
        # Scrapy wraps Twisted's errors (DownloadFailedError from ResponseFailed), and
        # twisted.web's ResponseFailed / ResponseNeverReceived carry the cause in `reasons`.
        reasons = getattr(exc, "reasons", None)
        if reasons and isinstance(getattr(reasons[0], "value", None), BaseException):
            exc = reasons[0].value
        elif exc.__cause__ is not None:
            exc = exc.__cause__
        else:
            break
    message = str(outer).strip().splitlines()
    return f"{type(outer).__name__}: {message[0]}" if message else type(outer).__name__
