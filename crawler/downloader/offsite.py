"""Keep every request on hosts the user asked for: Sina's, the roll API's, feeds' and explicit URLs'."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.httpobj import urlparse_cached

from crawler.extensions import health

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)
WEB_SCHEMES = frozenset({"http", "https"})


def host_of(url: str) -> str:
    """Return a URL's lower-case host name ('' when it has none).

    >>> host_of("HTTP://Feed.Mix.Sina.com.cn:8080/api/roll/get?page=1")
    'feed.mix.sina.com.cn'
    >>> host_of("file:///tmp/feed.xml")
    ''
    """
    return (urlsplit(url.strip()).hostname or "").lower()


def is_allowed_host(host: str, domains: Iterable[str], hosts: Iterable[str]) -> bool:
    """Tell whether `host` is one of `hosts`, or is or ends in `.`+ one of `domains`.

    >>> is_allowed_host("finance.sina.com.cn", ["sina.com.cn"], [])
    True
    >>> is_allowed_host("evilsina.com.cn", ["sina.com.cn"], [])
    False
    >>> is_allowed_host("sina.com.cn.evil.example", ["sina.com.cn"], [])
    False
    >>> is_allowed_host("127.0.0.1", ["sina.com.cn"], ["127.0.0.1"])
    True
    """
    host = host.lower().rstrip(".")
    if not host:
        return False
    return host in set(hosts) or any(host == d or host.endswith("." + d) for d in domains)


def asked_urls(spider: Spider) -> list[str]:
    """Return the URLs the user typed for this run: explicit URLs (urls, urls_file) and feeds."""
    args = getattr(spider, "args", None)
    return [*getattr(args, "urls", []), *getattr(args, "feeds", [])]


def typed_local_urls(spider: Spider) -> frozenset[str]:
    """Return the non-http(s) URLs the user typed, as Scrapy spells them in a Request."""
    return frozenset(
        Request(url).url for url in asked_urls(spider) if urlsplit(url).scheme not in WEB_SCHEMES
    )


class SinaOffsiteMiddleware(OffsiteMiddleware):
    """Scrapy's downloader OffsiteMiddleware with the allowed hosts taken from the run itself.

    Allowed: the domains in SINA_ALLOWED_DOMAINS (and their subdomains), plus the exact hosts
    of SINA_ROLL_API_URL, of `-a feeds` and of explicit `-a urls`. Redirects are new requests
    that pass the downloader middlewares again, so a Sina page that redirects elsewhere is
    stopped here too. Each refused request is logged with its URL (and the page that redirected
    to it) and counted as a failed article, so nothing disappears silently.
    """

    def __init__(self, stats: StatsCollector, domains: list[str], roll_api_url: str):
        super().__init__(stats)
        self.domains = [d.lower().strip(".") for d in domains if d]
        self.fixed_hosts = {h for h in [host_of(roll_api_url)] if h}
        self.hosts: set[str] | None = None
        self.typed_local: frozenset[str] = frozenset()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        # As typed on a command line: "sina.com.cn, sina.cn," (spaces, a stray comma).
        domains = [d.strip() for d in crawler.settings.getlist("SINA_ALLOWED_DOMAINS") if d.strip()]
        if not domains:
            raise NotConfigured("SINA_ALLOWED_DOMAINS is empty: every host is allowed")
        o = cls(crawler.stats, domains, crawler.settings.get("SINA_ROLL_API_URL"))
        crawler.signals.connect(o.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(o.request_scheduled, signal=signals.request_scheduled)
        o.crawler = crawler
        return o

    def spider_opened(self, spider: Spider) -> None:
        self.hosts = self.run_hosts(spider)

    def run_hosts(self, spider: Spider) -> set[str]:
        """Return the exact hosts this run was told about: roll API, feeds, explicit URLs."""
        self.typed_local = typed_local_urls(spider)
        return self.fixed_hosts | {h for h in map(host_of, asked_urls(spider)) if h}

    def should_follow(self, request: Request, spider: Spider) -> bool:
        if self.hosts is None:
            self.hosts = self.run_hosts(spider)
        parts = urlparse_cached(request)
        if parts.scheme not in WEB_SCHEMES:
            # A local feed the user typed (file:///...) is read; a file:// or data: URL found
            # in anything fetched (OPML, feed, roll, redirect) could read any local file.
            return request.url in self.typed_local
        return is_allowed_host(parts.hostname or "", self.domains, self.hosts)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        try:
            super().process_request(request)
        except IgnoreRequest:
            self.report(request)
            raise

    def report(self, request: Request) -> None:
        """Log a refused request with its URL and, for a redirect, the URL that was asked for."""
        redirected_from = request.meta.get("redirect_urls") or []
        host = urlparse_cached(request).hostname or "?"
        if redirected_from:
            origin = redirected_from[0]
            reason = f"redirected to {request.url}, outside the allowed hosts ({host})"
            logger.warning(
                "Not following redirect from %s to %s (host %s)", origin, request.url, host
            )
            self.stats.inc_value("offsite/redirect_refused")
        elif urlparse_cached(request).scheme not in WEB_SCHEMES:
            origin = request.url
            reason = "not an http(s) URL, and not one given on the command line"
            logger.warning("Not fetching %s: %s", origin, reason)
            self.stats.inc_value("offsite/scheme_refused")
        else:
            origin = request.url
            reason = f"host {host} is outside the allowed hosts"
            logger.warning("Not fetching %s: host %s is outside the allowed hosts", origin, host)
        # The redirect is refused when it is scheduled, before any errback exists for it; tell
        # the health summary directly so the article is listed as failed. Only article requests
        # count: a refused image (MARKDOWN_LOCAL_IMAGES) keeps its URL in the post, and a
        # refused feed is the feed's line.
        key = request.meta.get("article_key")
        if key is None:
            self.stats.inc_value("offsite/refused_not_article")
            return
        self.crawler.signals.send_catch_log(
            health.article_failed, url=origin, reason=reason, key=key, side=health.PAGE
        )
