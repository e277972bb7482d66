"""Group commit: many concurrent writers share one commit, each still awaits its own result.

A durable write pays for a sync and, here, for a hop to the side thread and back. When pages
finish faster than one write at a time can keep up with, writes queue behind each other and
the items (with their pages) wait in Scrapy's scraper. GroupCommit lets the writes that arrive
while one commit runs go together in the next one, so the fixed cost is paid once per batch;
a write that arrives alone is committed at once, alone.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

_In = TypeVar("_In")
_Out = TypeVar("_Out")


class GroupCommit(Generic[_In, _Out]):
    """Commit submitted values in batches, one batch at a time; each caller gets its own result.

    ``commit(batch)`` returns one result per value, in order: the value's result, or the
    exception for that value alone (raised to its caller). If ``commit`` itself raises, every
    caller in the batch gets that exception.

    >>> async def double(batch):
    ...     return [v * 2 if v >= 0 else ValueError(v) for v in batch]
    >>> async def main():
    ...     group = GroupCommit(double)
    ...     results = await asyncio.gather(*(group.submit(v) for v in (1, -1, 3)), return_exceptions=True)
    ...     return [repr(r) for r in results]
    >>> asyncio.run(main())
    ['2', 'ValueError(-1)', '6']
    """

    def __init__(
        self,
        commit: Callable[[list[_In]], Awaitable[list[_Out | BaseException]]],
        max_batch: int = 32,
    ):
        self._commit = commit
        self._max_batch = max_batch
        self._waiting: list[tuple[_In, asyncio.Future[_Out]]] = []
        self._running: asyncio.Task[None] | None = None

    async def submit(self, value: _In) -> _Out:
        """Add ``value`` to the next batch and return its result once that batch is committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[_Out] = loop.create_future()
        self._waiting.append((value, future))
        running = self._running
        # A task of a loop that closed without running it to its end never will: start anew.
        if running is None or running.done() or running.get_loop() is not loop:
            self._waiting = [(v, f) for v, f in self._waiting if f.get_loop() is loop]
            self._running = loop.create_task(self._run())
        return await future

    async def _run(self) -> None:
        while self._waiting:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: self._max_batch]
            try:
                results = await self._commit([value for value, _ in batch])
                if len(results) != len(batch):
                    raise RuntimeError(
                        f"commit returned {len(results)} results for {len(batch)} values"
                    )
            except Exception as exc:  # noqa: BLE001 - every caller in the batch hears of it
                results = [exc] * len(batch)
            except BaseException as exc:  # cancelled, or the process is stopping: nobody waits on
                for _, future in batch + self._waiting:
                    if future.done():
                        continue
                    if isinstance(exc, asyncio.CancelledError):
                        future.cancel()
                    else:
                        future.set_exception(exc)
                self._waiting.clear()
                raise
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():  # its caller is gone (cancelled)
                    continue
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)
