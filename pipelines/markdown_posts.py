"""MarkdownPostPipeline: write one Hexo front-matter post per article under MARKDOWN_POSTS_DIR."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Self

from scrapy import signals as scrapy_signals
from scrapy.exceptions import DropItem, NotConfigured

from crawler.extensions import health
from crawler.extensions.offload import offload_of
from crawler.site.posts import PostOptions, post_filename, post_stem, render_post
from crawler.storage.atomic import remove_stale_temporaries, write_files_atomically
from crawler.storage.group_commit import GroupCommit
from crawler.storage.seen_keys import CACHE_KIB

if TYPE_CHECKING:
    from collections.abc import Iterable

    from scrapy.crawler import Crawler
    from scrapy.signalmanager import SignalManager
    from scrapy.statscollectors import StatsCollector

    from crawler.extensions.offload import Offload
    from crawler.items import ArticleItem

logger = logging.getLogger(__name__)


class MarkdownPostPipeline:
    """Render each article with render_post and write it atomically; unchanged posts stay as is.

    Rendering and the synced write run in the crawl's side thread (crawler.extensions.offload),
    so the reactor thread keeps downloading meanwhile; stats and DropItem are handled back on
    the reactor thread. Posts that arrive while others are being written are written together
    (crawler.storage.group_commit): one trip to the side thread and one directory sync for the
    batch, each post still on disk before its item goes on to be marked saved.
    """

    def __init__(
        self,
        posts_dir: Path,
        options: PostOptions,
        *,
        stats: StatsCollector,
        offload: Offload,
        signals: SignalManager | None = None,
    ):
        self.posts_dir = posts_dir
        self.options = options
        self.stats = stats
        self.offload = offload
        self.signals = signals  # tells the health ledger which posts were already on disk
        # Post names per directory, by stem, listed once: globbing the directory for every item
        # made each write cost O(posts already there), a 10,000-article crawl O(n^2).
        self._names = PostNames()
        self._lock = threading.Lock()  # the index is shared by the writer threads
        self._posts: GroupCommit[tuple[ArticleItem, Path], tuple[bool, bool]] = GroupCommit(
            self._commit
        )

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        posts_dir = settings.get("MARKDOWN_POSTS_DIR")
        if not posts_dir:
            raise NotConfigured("MARKDOWN_POSTS_DIR must be set to enable MarkdownPostPipeline")
        pipeline = cls(
            Path(posts_dir).absolute(),
            PostOptions.from_settings(settings),
            stats=crawler.stats,
            offload=offload_of(crawler),
            signals=crawler.signals,
        )
        crawler.signals.connect(pipeline.sweep, signal=scrapy_signals.spider_opened)
        return pipeline

    async def sweep(self) -> None:
        """Delete what a killed crawl left half-written in the posts folder (side thread).

        At the start of every crawl, whether it has posts to write or not; a folder a
        `post_path` override adds is swept when it is first written to.
        """
        await self.offload.in_thread(self._sweep, self.posts_dir)

    @staticmethod
    def _sweep(directory: Path) -> None:
        try:
            stale = remove_stale_temporaries(directory)
        except OSError:
            return  # no posts yet, or a folder that cannot be read: the writes will say so
        if stale:
            logger.info("Removed %d temporary files a killed crawl left in %s", stale, directory)

    def post_path(self, item: ArticleItem) -> Path:
        """Where the item's post goes (override to lay posts out differently)."""
        return self.posts_dir / post_filename(item, self.options)

    async def process_item(self, item: ArticleItem) -> ArticleItem:
        path = self.post_path(item)
        try:
            written, renamed = await self._posts.submit((item, path))
        except OSError as exc:
            raise self._dropped(item, path, exc) from exc
        return self._counted(item, written=written, renamed=renamed)

    async def _commit(
        self, posts: list[tuple[ArticleItem, Path]]
    ) -> list[tuple[bool, bool] | Exception]:
        return await self.offload.in_thread(self._write, posts)

    def _write(self, posts: list[tuple[ArticleItem, Path]]) -> list[tuple[bool, bool] | Exception]:
        """Render and write posts; for each, (written, renamed) or its exception. Thread-safe."""
        results: list[tuple[bool, bool] | Exception] = []
        files: list[tuple[Path, bytes]] = []
        for item, path in posts:
            try:
                data = render_post(item, self.options).encode("utf-8")
                with self._lock:
                    self._names_in(path.parent)
            except Exception as exc:  # noqa: BLE001 - this post's failure, not the batch's
                results.append(exc)
            else:
                files.append((path, data))
                results.append((False, False))  # replaced once the file is written
        ready = [i for i, result in enumerate(results) if not isinstance(result, Exception)]
        for i, written in zip(ready, write_files_atomically(files), strict=True):
            if isinstance(written, Exception):
                results[i] = written
                continue
            item, path = posts[i]
            try:
                with self._lock:
                    renamed = self._remove_other_names(item, keep=path)
            except OSError as exc:
                results[i] = exc
            else:
                results[i] = (written, renamed)
        return results

    def _dropped(self, item: ArticleItem, path: Path, exc: OSError) -> DropItem:
        """Count a failed write; the DropItem to raise, naming the post and the article."""
        self.stats.inc_value("markdown/failed")
        # Dropping (not returning) keeps later pipelines from recording the article as saved.
        return DropItem(
            f"cannot write post {path} for {item.url}: {exc.strerror or exc}", log_level="ERROR"
        )

    def _counted(self, item: ArticleItem, *, written: bool, renamed: bool) -> ArticleItem:
        if renamed:
            self.stats.inc_value("markdown/renamed")
        self.stats.inc_value("markdown/written" if written else "markdown/unchanged")
        if not written and self.signals is not None:
            self.signals.send_catch_log(health.post_unchanged, item=item)
        return item

    def _names_in(self, directory: Path) -> None:
        """Create and list ``directory`` into the name index, once; sweep a killed crawl's temps.

        Posts another process adds to the directory during this crawl are not seen; the only
        effect is that such a post's old name survives until the next crawl renames it again.
        """
        if self._names.has_directory(directory):
            return
        directory.mkdir(parents=True, exist_ok=True)
        if directory != self.posts_dir:
            self._sweep(directory)
        with os.scandir(directory) as entries:
            names = [e.name for e in entries if e.name.endswith(".md")]
        self._names.add_directory(directory, ((name_stem(n), n) for n in names))

    def _remove_other_names(self, item: ArticleItem, keep: Path) -> bool:
        """Delete this article's post under an older name (its title slug changed)."""
        stem = post_stem(item, self.options)
        removed = False
        for old in self._names.replace(keep.parent, stem, keep.name):
            with contextlib.suppress(FileNotFoundError):
                (keep.parent / old).unlink()
            removed = True
        return removed


class PostNames:
    """Post file names by directory and stem, in a temporary SQLite database.

    A backfill writes hundreds of thousands of posts, and a Python dict of sets costs about
    400 bytes a post; here memory is a bounded page cache. Callers serialise access.
    """

    def __init__(self) -> None:
        self._db = sqlite3.connect("", isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode = OFF")
        self._db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        self._db.execute(
            "CREATE TABLE names (dir TEXT, stem TEXT, name TEXT, PRIMARY KEY (dir, stem, name))"
            " WITHOUT ROWID"
        )
        self._directories: set[Path] = set()

    def has_directory(self, directory: Path) -> bool:
        """Tell whether ``directory`` was listed into the index."""
        return directory in self._directories

    def add_directory(self, directory: Path, names: Iterable[tuple[str, str]]) -> None:
        """Record the (stem, name) pairs found in ``directory``."""
        self._db.executemany(
            "INSERT OR IGNORE INTO names VALUES (?, ?, ?)",
            ((str(directory), stem, name) for stem, name in names),
        )
        self._directories.add(directory)

    def replace(self, directory: Path, stem: str, name: str) -> list[str]:
        """Make ``name`` the only name of ``stem``; return the other names it had."""
        key = str(directory)
        rows = self._db.execute(
            "SELECT name FROM names WHERE dir = ? AND stem = ? AND name != ?", (key, stem, name)
        ).fetchall()
        if rows:
            self._db.execute(
                "DELETE FROM names WHERE dir = ? AND stem = ? AND name != ?", (key, stem, name)
            )
        self._db.execute("INSERT OR IGNORE INTO names VALUES (?, ?, ?)", (key, stem, name))
        return [row[0] for row in rows]


def name_stem(name: str) -> str:
    """Return the stem of a post file name: what ``post_stem`` gave, before `~slug` and `.md`.

    >>> name_stem("2022-08-01-imizmscv4373413~新标题.md"), name_stem("2022-08-01-x.md")
    ('2022-08-01-imizmscv4373413', '2022-08-01-x')
    """
    return name.removesuffix(".md").split("~", 1)[0]


# The name ITEM_PIPELINES used when a synchronous variant existed beside it; the same class.
ThreadedMarkdownPostPipeline = MarkdownPostPipeline
