"""Keep the crawl process's C heap from holding on to freed page buffers.

Each downloaded page passes through the crawl process as a few buffers of 100-400 KB (the body,
its decoded text, the pickled copy sent to the extraction worker). glibc serves blocks that size
from mmap at first, but after the first one is freed it raises its mmap threshold to the block's
size and serves the rest from the heap, where they fragment it: over a 30,000-article backfill the
crawl process grew 99 -> 111 MiB (PSS) though Python's own allocations stayed flat (tracemalloc:
24 MiB throughout). A fixed threshold keeps every such buffer in its own mapping, returned to the
system when freed: 93 -> 101 MiB over the same crawl, and no slower (benchmarks/README.md).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

# mallopt(3) parameter number (malloc.h); setting it also stops the dynamic adjustment.
M_MMAP_THRESHOLD = -3
# Below the smallest Sina page (about 7 KB is a mobile page; articles are 30-400 KB) it would map
# small blocks too; 64 KiB keeps small allocations on the heap and every page buffer off it.
MMAP_THRESHOLD_BYTES = 64 * 1024


def keep_page_buffers_off_the_heap() -> bool:
    """Fix glibc's mmap threshold for this process (and processes it forks later).

    Returns whether it was set: False off glibc (macOS, musl), where nothing is changed.

    >>> keep_page_buffers_off_the_heap() in (True, False)
    True
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
