"""`scrapy crawl` with a usage check before crawling and an exit status cron can act on."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.spiderloader import get_spider_loader

from crawler.arguments import ArgumentError

if TYPE_CHECKING:
    import argparse

    from scrapy.crawler import Crawler

EXIT_FAILED = 1
EXIT_USAGE = 2
# The crawl ran and saved its posts, but some pages needed the generic fallback or lacked a
# field their template always has: Sina changed its markup and the selectors need a look.
EXIT_DRIFT = 3


def exit_status(finish_reason: str | None, health_failure: str | None, drift: int = 0) -> int:
    """Map how a crawl ended to the process exit status; a failure outranks drift.

    >>> exit_status("finished", None), exit_status("locked", None)
    (0, 0)
    >>> exit_status("finished", "roll API unreachable"), exit_status("shutdown", None)
    (1, 1)
    >>> exit_status("finished", None, drift=2), exit_status("shutdown", None, drift=2)
    (3, 1)
    """
    if health_failure:
        return EXIT_FAILED
    # A closespider_* limit the user set is a normal end, except the error-count one.
    if finish_reason in {"finished", "locked"} or (finish_reason or "").startswith("closespider_"):
        if finish_reason == "closespider_errorcount":
            return EXIT_FAILED
        return EXIT_DRIFT if drift else 0
    return EXIT_FAILED


class Command(ScrapyCrawlCommand):
    """Like Scrapy's `crawl`: bad `-a` arguments exit 2, failures 1, extraction drift 3."""

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        if len(args) != 1:
            return  # run() raises Scrapy's own usage error
        assert self.settings is not None
        # Checked here, before the crawler process exists: no log banner, no traceback, and no
        # component (lock, state, feed files) is touched by a run that cannot start.
        try:
            spidercls = get_spider_loader(self.settings).load(args[0])
        except KeyError:
            print(f"scrapy crawl: error: no spider named {args[0]!r}", file=sys.stderr)
            sys.exit(EXIT_USAGE)
        check = getattr(spidercls, "check_arguments", None)
        if check is None:
            return
        try:
            check(opts.spargs)
        except ArgumentError as exc:
            print(f"scrapy crawl {args[0]}: error: {exc}", file=sys.stderr)
            sys.exit(EXIT_USAGE)

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            super().run(args, opts)
            return
        assert self.crawler_process
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = EXIT_FAILED
            return
        self.exitcode = self.crawl_status(crawler)

    @staticmethod
    def crawl_status(crawler: Crawler) -> int:
        """Read the finished crawler's stats and return its exit status."""
        stats = crawler.stats
        if stats is None:
            return EXIT_FAILED
        return exit_status(
            stats.get_value("finish_reason"),
            stats.get_value("health/failed"),
            stats.get_value("extraction/drift", 0),
        )
