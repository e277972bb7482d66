"""`scrapy crawl` with a usage check before crawling and an exit status cron can act on."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.spiderloader import get_spider_loader
from scrapy.utils.conf import arglist_to_dict

from crawler.arguments import ArgumentError
from crawler.settings_check import SettingError, check_settings
from crawler.storage.crawl_state import StateUnusable, check_state

if TYPE_CHECKING:
    import argparse

    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

EXIT_FAILED = 1  # the crawl failed page-side (roll unreachable, most pages failed) or was stopped
EXIT_USAGE = 2  # bad arguments: nothing was crawled
EXIT_OUR_FAILURE = 3  # articles failed through our side: an exception, the state, the export
# The crawl ran and saved its posts, but some pages needed the generic fallback or lacked a
# field their template always has: Sina changed its markup and the selectors need a look.
EXIT_DRIFT = 4


def exit_status(
    finish_reason: str | None,
    health_failure: str | None,
    failed_ours: int | None = 0,
    drift: int | None = 0,
) -> int:
    """Map how a crawl ended to the process exit status; any failure outranks drift.

    >>> exit_status("finished", None), exit_status("locked", None)
    (0, 0)
    >>> exit_status("finished", "roll API unreachable"), exit_status("shutdown", None)
    (1, 1)
    >>> exit_status("finished", "1 article failed on our side", 1)
    3
    >>> exit_status("finished", None, drift=2), exit_status("shutdown", None, drift=2)
    (4, 1)
    """
    if failed_ours:
        return EXIT_OUR_FAILURE
    if health_failure:
        return EXIT_FAILED
    # A closespider_* limit the user set is a normal end, except the error-count one.
    if finish_reason in {"finished", "locked"} or (finish_reason or "").startswith("closespider_"):
        if finish_reason == "closespider_errorcount":
            return EXIT_FAILED
        return EXIT_DRIFT if drift else 0
    return EXIT_FAILED


def storage_problem(settings: BaseSettings) -> str:
    """Say why the crawl's store (Redis, or the SQLite state file) cannot be used; '' if it can.

    A damaged state file or an unreachable Redis would otherwise fail deep in the engine, with
    a traceback about something else, or crawl and save nothing.
    """
    redis_url = settings.get("REDIS_URL")
    if redis_url:
        # Imported only in distributed mode: a single-machine crawl never loads redis.
        from crawler.distributed.connection import RedisUnavailable, check_redis

        try:
            check_redis(redis_url)
        except RedisUnavailable as exc:
            return str(exc)
        return ""
    try:
        check_state(settings)
    except StateUnusable as exc:
        return str(exc)
    return ""


class Command(ScrapyCrawlCommand):
    """Like Scrapy's `crawl`: bad `-s`/`-a` values exit 2 with one line; failures 1 or 3; drift 4."""

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        assert self.settings is not None
        default_feeds = set(self.settings.getdict("FEEDS"))
        super().process_options(args, opts)
        if opts.output or opts.overwrite_output:
            self.drop_default_feeds(default_feeds, opts)
        if len(args) != 1:
            return  # run() raises Scrapy's own usage error
        assert self.settings is not None
        # Checked here, before the crawler process exists: no log banner, no traceback, and no
        # component (lock, state, feed files) is touched by a run that cannot start.
        try:
            check_settings(self.settings)
        except SettingError as exc:
            print(f"scrapy crawl {args[0]}: error: {exc}", file=sys.stderr)
            sys.exit(EXIT_USAGE)
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
        problem = storage_problem(self.settings)
        if problem:
            print(f"scrapy crawl {args[0]}: error: {problem}", file=sys.stderr)
            sys.exit(EXIT_FAILED)

    def drop_default_feeds(self, default_feeds: set[str], opts: argparse.Namespace) -> None:
        """`-o`/`-O` replace the default export (FEEDS in settings.py) for this run.

        Scrapy merges the command line's feeds into FEEDS, so the default export would be
        written beside the file the user asked for. A FEEDS given with `-s` is the user's own
        and stays whole.
        """
        assert self.settings is not None
        if "FEEDS" in arglist_to_dict(opts.set):
            return
        asked = [*(opts.output or []), *(opts.overwrite_output or [])]
        feeds = self.settings["FEEDS"]
        for uri in default_feeds:
            if not any(arg == uri or arg.startswith(f"{uri}:") for arg in asked):
                feeds.delete(uri, priority="cmdline")

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
            stats.get_value("health/failed_ours"),
            stats.get_value("extraction/drift", 0),
        )
