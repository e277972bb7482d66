"""Atomic file replacement: a reader or a crash never sees a half-written file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` unless it already holds exactly those bytes.

    The bytes go to a temporary file in the same directory (so ``os.replace`` stays on one
    filesystem and is atomic), are fsynced, then replace the target; the directory is fsynced
    so the rename survives a power cut. Returns True if the file was written, False if it was
    already up to date (left untouched, mtime included).

    >>> import tempfile; d = Path(tempfile.mkdtemp())
    >>> write_atomically(d / "a.md", b"x"), write_atomically(d / "a.md", b"x")
    (True, False)
    """
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:50]}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        # mkstemp creates 0600; posts are meant to be read by a web server or static site build.
        Path(tmp_name).chmod(0o644)
        Path(tmp_name).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp_name).unlink()
        raise
    _fsync_dir(path.parent)
    return True


def _fsync_dir(directory: Path) -> None:
    # Not every platform lets a directory be opened for fsync (Windows); the data is safe anyway.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
