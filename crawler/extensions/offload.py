"""Each crawl's executors: a worker for extraction, a side thread for the rest, off the reactor.

By default extraction runs in one worker *process* (`SINA_WORKER_PROCESSES`): the work is pure
Python and lxml on picklable values, and a process has its own interpreter lock, so it runs on
the second core while the reactor thread downloads. A thread could not do that: measured on 2
cores, extraction in a thread left the whole crawl bound by one lock (benchmarks/RESULTS.md).
With `SINA_WORKER_PROCESSES=0` the work runs in one worker thread. Cleaning, rendering and post
writes (short, or waiting on fsync) go to a side thread, not behind pages in the worker's queue.

OffloadExtension creates one `Offload` per crawler and shuts it down when the engine stops; the
spider and the pipelines take theirs with `offload_of(crawler)`.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import multiprocessing
import os
import pickle
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, ParamSpec, Self, TypeVar

from scrapy import signals

from crawler.extensions.worker_processes import WorkerProcesses, start_context
from crawler.memory import keep_page_buffers_off_the_heap

if TYPE_CHECKING:
    from collections.abc import Callable

    from scrapy.crawler import Crawler
    from scrapy.http import Response


_P = ParamSpec("_P")
_T = TypeVar("_T")


class Offload:
    """The executors of one crawl: the extraction worker (processes or a thread), the side thread.

    >>> offload = Offload(processes=0)
    >>> asyncio.run(offload.in_worker(sum, [1, 2, 3])), asyncio.run(offload.in_thread(len, "abc"))
    (6, 3)
    >>> offload.shutdown()
    """

    def __init__(self, processes: int):
        self.processes = processes
        self._side = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sina-side")
        self._worker_processes: WorkerProcesses | None = None
        self._worker_thread: ThreadPoolExecutor | None = None
        keep_page_buffers_off_the_heap()  # before the worker forks, so it inherits the setting
        if processes > 0:
            # Fork while the crawl process runs one thread (as at start-up), else spawn.
            context = start_context(
                multiprocessing.get_context("fork" if hasattr(os, "fork") else "spawn")
            )
            if context.get_start_method() == "fork":
                # The start-up objects (modules, settings) stay where they are: the collector
                # would write to every one of them in both processes, copying the pages they
                # share after the fork (worker PSS, see benchmarks/README.md).
                gc.freeze()
            # Started now, while the first requests download, not on the first page.
            self._worker_processes = WorkerProcesses(processes, context, _worker_started)
        else:
            self._worker_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sina-work")

    async def in_worker(self, func: Callable[_P, _T], *args: _P.args) -> _T:
        """Run ``func(*args)`` in the worker (process or thread); its exception is raised here.

        In a process, `func` and its arguments travel by pickle: module-level functions and
        plain values only. Needs the asyncio reactor (the project's TWISTED_REACTOR).
        """
        if self._worker_processes is not None:
            return await self._worker_processes.run(func, *args)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._worker_thread, func, *args)

    def worker_pids(self) -> list[int]:
        """Return the worker processes' ids (none when the worker is a thread)."""
        return self._worker_processes.pids() if self._worker_processes is not None else []

    async def in_thread(self, func: Callable[..., _T], *args: Any) -> _T:
        """Run ``func(*args)`` in the side thread: short work (cleaning, rendering), file writes.

        Kept out of the worker process's queue, where it would wait behind pages to extract.
        """
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._side, functools.partial(func, *args))

    async def on_response_in_worker(self, func: Callable[[Response], _T], response: Response) -> _T:
        """Run ``func(response)`` in the worker, sending the response as its picklable parts."""
        body: bytes | pickle.PickleBuffer = response.body
        if self._worker_processes is not None:
            body = pickle.PickleBuffer(body)  # written to the worker's socket as it is, not copied
        parts = (type(response), response.url, response.status, dict(response.headers), body)
        return await self.in_worker(_call_on_response, func, parts)

    def shutdown(self) -> None:
        """Stop the worker (its processes exit) and the side thread; queued work is cancelled."""
        if self._worker_processes is not None:
            self._worker_processes.shutdown()
        if self._worker_thread is not None:
            self._worker_thread.shutdown(wait=True, cancel_futures=True)
        self._side.shutdown(wait=True, cancel_futures=True)


def _worker_started() -> None:
    import crawler.site.extraction  # noqa: F401  (imported once here, not on the first page)


def _call_on_response(func: Callable[[Response], _T], parts: tuple) -> _T:
    """Rebuild the response from its parts (its encoding is found again the same way)."""
    response_class, url, status, headers, body = parts
    return func(response_class(url=url, status=status, headers=headers, body=body))


class OffloadExtension:
    """Own the crawl's Offload: `SINA_WORKER_PROCESSES` processes (0: a thread), side thread."""

    def __init__(self, processes: int):
        # Started here, not when the spider opens: a new process takes ~0.4 s to import its
        # modules, which then overlaps the rest of Scrapy's start-up.
        self.offload = Offload(processes)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        extension = cls(crawler.settings.getint("SINA_WORKER_PROCESSES"))
        crawler.signals.connect(extension.engine_stopped, signal=signals.engine_stopped)
        return extension

    def engine_stopped(self) -> None:
        self.offload.shutdown()


def offload_of(crawler: Crawler) -> Offload:
    """Return the crawl's executors; RuntimeError if OffloadExtension is not in EXTENSIONS.

    Call it once extensions exist: from a pipeline's from_crawler, or from a spider callback.
    """
    extension = crawler.get_extension(OffloadExtension)
    if extension is None:
        raise RuntimeError(
            "crawler.extensions.offload.OffloadExtension must be enabled in EXTENSIONS"
        )
    return extension.offload
