"""HTTP download handler whose connection pool keeps every connection the crawl may need."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler

from crawler.scrapy_internals import connection_pool

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class PooledHTTP11DownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler, keeping up to CONCURRENT_REQUESTS idle connections a host.

    Scrapy keeps CONCURRENT_REQUESTS_PER_DOMAIN, and through a proxy every host shares one pool
    key. While extraction keeps the reactor busy, a finished connection goes back to the pool
    a moment after the next request has already opened a new one; the pool then holds one too
    many and closes it. Measured through the stand-in: 95-107 connections opened for 307
    requests (a bare fetch: 10), each a new accept that a busy server may answer only after a
    1 s SYN retry. Concurrency itself is unchanged: only idle connections are kept.
    """

    def __init__(self, crawler: Crawler):
        super().__init__(crawler)
        settings = crawler.settings
        connection_pool(self).maxPersistentPerHost = max(
            settings.getint("CONCURRENT_REQUESTS"),
            settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN"),
        )
