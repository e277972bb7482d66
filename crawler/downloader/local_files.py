"""file:// download handler that reads only regular files, and no more than DOWNLOAD_MAXSIZE.

Scrapy's own handler reads the whole path in one call: `file:///dev/zero` grows the crawl
until memory runs out, and a named pipe blocks its thread forever (the crawl then ignores
SIGTERM while it holds the run lock). Here the path is opened without blocking, refused unless
it is a regular file, and read up to the request's size limit.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.core.downloader.handlers.base import BaseDownloadHandler
from scrapy.exceptions import IgnoreRequest
from scrapy.responsetypes import responsetypes
from scrapy.utils.asyncio import run_in_thread
from w3lib.url import file_uri_to_path

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response


class LocalFileRefused(IgnoreRequest):
    """A local path that is not a regular file, or larger than the size limit."""


def local_file_problem(path: str) -> str:
    """Say why `path` cannot be read as a feed ('' when it can, or when it does not exist).

    Uses stat only: opening a named pipe would block.

    >>> local_file_problem("/dev/zero")
    'not a regular file (character device)'
    >>> local_file_problem("/")
    'not a regular file (directory)'
    >>> local_file_problem("/no/such/file")
    ''
    """
    try:
        mode = Path(path).stat().st_mode
    except OSError:
        return ""
    if stat.S_ISREG(mode):
        return ""
    return f"not a regular file ({file_kind(mode)})"


def file_kind(mode: int) -> str:
    """Name the kind of a non-regular file for a message.

    >>> file_kind(stat.S_IFIFO), file_kind(stat.S_IFSOCK)
    ('named pipe', 'socket')
    """
    kinds = {
        stat.S_IFDIR: "directory",
        stat.S_IFCHR: "character device",
        stat.S_IFBLK: "block device",
        stat.S_IFIFO: "named pipe",
        stat.S_IFSOCK: "socket",
    }
    return kinds.get(stat.S_IFMT(mode), "special file")


def read_regular_file(path: str, maxsize: int) -> bytes:
    """Read a regular file of at most `maxsize` bytes (0: no limit); LocalFileRefused otherwise."""
    # O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting forever.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise LocalFileRefused(f"{path}: not a regular file ({file_kind(info.st_mode)})")
        if maxsize and info.st_size > maxsize:
            raise LocalFileRefused(
                f"{path}: {info.st_size} bytes is larger than DOWNLOAD_MAXSIZE ({maxsize})"
            )
        with os.fdopen(fd, "rb", closefd=False) as stream:
            # The file may grow between fstat and read: never take more than the limit.
            body = stream.read(maxsize + 1) if maxsize else stream.read()
        if maxsize and len(body) > maxsize:
            raise LocalFileRefused(f"{path}: larger than DOWNLOAD_MAXSIZE ({maxsize})")
        return body
    finally:
        os.close(fd)


class LocalFileDownloadHandler(BaseDownloadHandler):
    """Serve file:// requests from regular files only, within DOWNLOAD_MAXSIZE."""

    async def download_request(self, request: Request) -> Response:
        path = file_uri_to_path(request.url)
        maxsize = request.meta.get(
            "download_maxsize", self.crawler.settings.getint("DOWNLOAD_MAXSIZE")
        )
        body = await run_in_thread(read_regular_file, path, maxsize)
        respcls = responsetypes.from_args(filename=path, body=body)
        return respcls(url=request.url, body=body)
