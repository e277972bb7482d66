"""One worker thread for the crawl's CPU work (extraction, cleaning, rendering, post writes).

lxml parses and runs XPath without the GIL, and fsync waits without it, so that work overlaps
the reactor thread's downloading. One thread, not a pool: every extra thread contending for the
GIL made each page's extraction cost about twice the CPU (benchmarks/RESULTS.md).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, ParamSpec, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

_P = ParamSpec("_P")
_T = TypeVar("_T")

_WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sina-work")


async def in_worker(func: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
    """Run ``func(*args, **kwargs)`` in the worker thread; its exception is raised here.

    Needs the asyncio reactor (the project's TWISTED_REACTOR).

    >>> asyncio.run(in_worker(sum, [1, 2, 3]))
    6
    """
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_WORKER, lambda: func(*args, **kwargs))
