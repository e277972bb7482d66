"""An exclusive, non-blocking run lock on a file (fcntl.flock: the OS drops it when we die)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


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
