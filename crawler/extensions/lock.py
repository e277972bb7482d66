"""An exclusive, non-blocking run lock on a file (fcntl.flock: the OS drops it when we die)."""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import CloseSpider, NotConfigured

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler


class RunLock:
    """Hold `path` exclusively for this process; `acquire()` returns False if another holds it.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "crawl.lock"
    >>> first, second = RunLock(path), RunLock(path)
    >>> first.acquire(), second.acquire()
    (True, False)
    >>> first.release(); second.acquire()
    True
    >>> second.release()
    """

    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        """Try to take the lock without waiting."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        # The pid is for people reading the file; the flock, not the file, is the lock.
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def holder(self) -> str:
        """Return the pid written by the current holder, if readable (for the log line)."""
        try:
            return self.path.read_text(encoding="ascii").strip()
        except OSError:
            return ""

    def release(self) -> None:
        """Let go of the lock (closing the descriptor drops the flock)."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


logger = logging.getLogger(__name__)


class CrawlLockExtension:
    """Take `<CRAWL_STATE_DIR>/crawl.lock` when the spider opens; release it when it closes."""

    def __init__(self, lock: RunLock, crawler: Crawler):
        self.lock = lock
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("CRAWL_LOCK_ENABLED"):
            raise NotConfigured("CRAWL_LOCK_ENABLED is off")
        path = settings.get("CRAWL_LOCK_FILE") or Path(settings["CRAWL_STATE_DIR"]) / "crawl.lock"
        ext = cls(RunLock(Path(path)), crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self) -> None:
        if self.lock.acquire():
            return
        holder = self.lock.holder()
        logger.warning(
            "Another crawl holds %s%s; exiting without crawling",
            self.lock.path,
            f" (pid {holder})" if holder else "",
        )
        self.crawler.stats.set_value("lock/locked", 1)
        # Raised from spider_opened, CloseSpider stops the engine before any start request.
        raise CloseSpider("locked")

    def spider_closed(self) -> None:
        self.lock.release()
