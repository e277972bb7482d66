"""crawler.scrapy_internals against a real engine, scheduler and download handler.

A Scrapy upgrade that renames a private attribute fails here (and stops real crawls at start-up
with one line). Each case runs `python -m tests.test_scrapy_internals` in a subprocess: a real
CrawlerProcess with the asyncio reactor, which a pytest process can start only once.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import ClassVar

import scrapy
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.crawler import CrawlerProcess

from crawler import settings as project
from crawler.downloader.handler import PooledHTTP11DownloadHandler
from crawler.scrapy_internals import (
    connection_pool,
    missing_internals,
    requests_in_progress,
    scheduler_backlog,
    wake_engine,
)
from tests.conftest import PROJECT_ROOT

# Nothing listens on port 9 of the loopback (discard): requests fail at once, offline.
DEAD_URL = "http://127.0.0.1:9/"


class ProbeSpider(scrapy.Spider):
    """Reads every private attribute through crawler.scrapy_internals while the engine runs."""

    name = "probe"
    report: ClassVar[dict] = {}

    async def start(self):
        crawler = self.crawler
        report = ProbeSpider.report
        report["missing"] = missing_internals(crawler)
        report["backlog_before"] = scheduler_backlog(crawler)
        for i in range(3):
            crawler.engine.crawl(scrapy.Request(f"{DEAD_URL}{i}", errback=self.ignore))
        report["backlog_after"] = scheduler_backlog(crawler)
        report["in_progress_type"] = type(requests_in_progress(crawler)).__name__
        wake_engine(crawler)
        report["pool_size"] = connection_pool(
            PooledHTTP11DownloadHandler(crawler)
        ).maxPersistentPerHost
        return
        yield

    def ignore(self, failure):
        ProbeSpider.report.setdefault("failed", 0)
        ProbeSpider.report["failed"] += 1


def probe(break_pool: bool) -> None:
    """Run the probe spider; print its report and the finish reason as one JSON line."""
    if break_pool:
        # What a Scrapy that renamed the pool would look like.
        original = HTTP11DownloadHandler.__init__

        def renamed(self, crawler):
            original(self, crawler)
            self._connections = self.__dict__.pop("_pool")

        HTTP11DownloadHandler.__init__ = renamed
    settings = {
        "TWISTED_REACTOR": project.TWISTED_REACTOR,
        "EXTENSIONS": {"crawler.scrapy_internals.ScrapyInternalsCheck": 50},
        "CONCURRENT_REQUESTS": 16,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
        "RETRY_ENABLED": False,
        "LOG_LEVEL": "INFO",
        "TELNETCONSOLE_ENABLED": False,
    }
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(ProbeSpider)
    process.crawl(crawler)
    process.start()
    report = {**ProbeSpider.report, "finish_reason": crawler.stats.get_value("finish_reason")}
    print(json.dumps(report), flush=True)


def run_probe(*args: str) -> tuple[dict, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.test_scrapy_internals", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stderr


def test_every_private_name_exists_on_a_real_engine_and_handler():
    report, log = run_probe()
    assert report == {
        "missing": [],
        "backlog_before": 0,
        "backlog_after": 3,
        "in_progress_type": "set",
        "pool_size": 16,  # max(CONCURRENT_REQUESTS, CONCURRENT_REQUESTS_PER_DOMAIN)
        "failed": 3,
        "finish_reason": "finished",
    }, log
    assert "] CRITICAL: " not in log


def test_a_renamed_private_name_stops_the_crawl_with_one_line():
    report, log = run_probe("break")
    assert report == {"finish_reason": "scrapy_incompatible"}, log
    critical = [line for line in log.splitlines() if "] CRITICAL: " in line]
    assert len(critical) == 1, log
    assert critical[0].endswith(
        f"Scrapy {scrapy.__version__} lacks HTTP11DownloadHandler._pool.maxPersistentPerHost,"
        " which crawler/scrapy_internals.py needs (built for Scrapy 2.19); install the version"
        " pyproject.toml pins"
    )
    assert "Traceback" not in log


if __name__ == "__main__":
    probe(break_pool="break" in sys.argv[1:])
