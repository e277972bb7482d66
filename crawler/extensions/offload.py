"""OffloadExtension: start the worker process(es) of crawler.offload with the crawl, stop them after."""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from scrapy import signals

from crawler import offload

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class OffloadExtension:
    """Run extraction in `SINA_WORKER_PROCESSES` processes (0: a thread in the crawl process)."""

    def __init__(self, processes: int):
        self.processes = processes

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        extension = cls(max(0, crawler.settings.getint("SINA_WORKER_PROCESSES", 1)))
        # Started here, not when the spider opens: a new process takes ~0.4 s to import its
        # modules, which then overlaps the rest of Scrapy's start-up.
        offload.use_processes(extension.processes)
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    def engine_stopped(self) -> None:
        offload.shutdown()
