"""Sets that grow with the crawl, kept on disk: listed articles, and the duplicate filter.

A backfill lists hundreds of thousands of articles. In Python sets, their canonical keys (the
spider's "listed in this run") and request fingerprints (Scrapy's duplicate filter) cost about
250 bytes an article, the one part of memory that still grows once discovery waits for the
crawl (crawler.backpressure). In SQLite they cost a bounded page cache.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.dupefilters import RFPDupeFilter

if TYPE_CHECKING:
    from collections.abc import Iterable

    from scrapy import Request
    from scrapy.utils.request import RequestFingerprinterProtocol

# KiB of SQLite page cache per database (sets, ledger, crawl state); lookups beyond it are
# served from the OS file cache.
CACHE_KIB = 512


class SeenKeys:
    """A set of str or bytes keys in SQLite: a private temporary file, or `path` to keep it.

    >>> seen = SeenKeys()
    >>> seen.add("sina:a"), seen.add("sina:a"), "sina:a" in seen, "sina:b" in seen, len(seen)
    (True, False, True, False, 1)
    >>> seen.close()
    """

    def __init__(self, path: Path | None = None):
        self.path = path
        # "": a temporary database, deleted on close, held in the page cache until it spills.
        self._db = sqlite3.connect(str(path) if path else "", isolation_level=None)
        try:
            self._db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            if path is None:
                self._db.execute("PRAGMA journal_mode = OFF")
            else:
                # A paused job (JOBDIR) must find what it had seen; a power cut may lose the
                # last few, which are then fetched once more.
                self._db.execute("PRAGMA journal_mode = WAL")
                self._db.execute("PRAGMA synchronous = OFF")
            self._db.execute("CREATE TABLE IF NOT EXISTS seen (key PRIMARY KEY) WITHOUT ROWID")
        except sqlite3.DatabaseError as exc:
            self._db.close()
            raise RuntimeError(f"cannot use {path} as a set of seen keys: {exc}") from None

    def add(self, key: str | bytes) -> bool:
        """Add `key`; True if it was not in the set yet."""
        return self._db.execute("INSERT OR IGNORE INTO seen VALUES (?)", (key,)).rowcount == 1

    def update(self, keys: Iterable[str | bytes]) -> None:
        """Add every key."""
        self._db.executemany("INSERT OR IGNORE INTO seen VALUES (?)", ((k,) for k in keys))

    def __contains__(self, key: object) -> bool:
        return self._db.execute("SELECT 1 FROM seen WHERE key = ?", (key,)).fetchone() is not None

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM seen").fetchone()[0]

    def close(self) -> None:
        """Close the database (a temporary one is deleted)."""
        self._db.close()


class SeenKeysDupeFilter(RFPDupeFilter):
    """Scrapy's duplicate filter (same fingerprints, log and stats) with its set in SeenKeys.

    With JOBDIR the set is the SQLite file `<JOBDIR>/requests.seen`, so a resumed job
    starts without reading every fingerprint back into memory.
    """

    def __init__(
        self,
        path: str | None = None,
        debug: bool = False,
        *,
        fingerprinter: RequestFingerprinterProtocol | None = None,
    ):
        super().__init__(None, debug, fingerprinter=fingerprinter)
        self.seen = SeenKeys(Path(path, "requests.seen") if path else None)

    def request_seen(self, request: Request) -> bool:
        """Tell whether an equal request was scheduled before; remember this one."""
        return not self.seen.add(self.fingerprinter.fingerprint(request))

    def close(self, reason: str) -> None:
        self.seen.close()
        super().close(reason)
