"""Feed export files whose every line is on disk before the article is marked saved."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.extensions.feedexport import FileFeedStorage

if TYPE_CHECKING:
    from typing import IO, Self

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector


class SyncedFile(io.FileIO):
    """An unbuffered file that writes each export line whole and syncs it to disk.

    Scrapy's exporters write one item per `write` call (JSON lines: one line), so after each
    call the item is durable. A failed write is counted in `export/failed`, which the state
    pipeline checks before it marks the item saved.
    """

    def __init__(self, path: str, mode: str, stats: StatsCollector | None):
        super().__init__(path, mode)
        self.stats = stats

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        try:
            done = 0
            while done < len(view):  # FileIO.write may write part of it
                done += super().write(view[done:]) or 0
            os.fsync(self.fileno())
        except OSError:
            if self.stats is not None:
                self.stats.inc_value("export/failed")
            raise
        return done


class SyncedFileFeedStorage(FileFeedStorage):
    """Scrapy's local-file feed storage (FEEDS, -o, -O) writing through SyncedFile."""

    def __init__(
        self,
        uri: str,
        *,
        feed_options: dict[str, Any] | None = None,
        stats: StatsCollector | None = None,
    ):
        super().__init__(uri, feed_options=feed_options)
        self.stats = stats

    @classmethod
    def from_crawler(
        cls, crawler: Crawler, uri: str, *, feed_options: dict[str, Any] | None = None
    ) -> Self:
        return cls(uri, feed_options=feed_options, stats=crawler.stats)

    def open(self, spider: Spider) -> IO[bytes]:
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        return SyncedFile(self.path, self.write_mode, self.stats)
