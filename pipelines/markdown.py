"""MarkdownPostPipeline: write one Hexo front-matter post per article under MARKDOWN_POSTS_DIR."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Self

from scrapy.exceptions import DropItem, NotConfigured

from crawler.atomic import write_atomically
from crawler.posts import PostOptions, post_filename, post_stem, render_post

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import Settings
    from scrapy.statscollectors import StatsCollector

    from crawler.items import ArticleItem


def post_options(settings: Settings) -> PostOptions:
    """Build PostOptions from the MARKDOWN_* settings; ValueError names a bad one."""
    defaults = PostOptions()
    return PostOptions(
        category_root=settings.get("MARKDOWN_CATEGORY_ROOT", defaults.category_root) or None,
        site_name=settings.get("MARKDOWN_SITE_NAME", defaults.site_name),
        channel_separator=settings.get("MARKDOWN_CHANNEL_SEPARATOR", defaults.channel_separator),
        default_image=settings.get("MARKDOWN_DEFAULT_IMAGE", defaults.default_image),
        comments=settings.getbool("MARKDOWN_COMMENTS", defaults.comments),
        date_format=settings.get("MARKDOWN_DATE_FORMAT", defaults.date_format),
        timezone=settings.get("MARKDOWN_TIMEZONE", defaults.timezone),
        body_format=settings.get("MARKDOWN_BODY_FORMAT", defaults.body_format),
        extra_keys=tuple(settings.getlist("MARKDOWN_EXTRA_KEYS")),
        title_slug=settings.getbool("MARKDOWN_TITLE_SLUG", defaults.title_slug),
    )


class MarkdownPostPipeline:
    """Render each article with render_post and write it atomically; unchanged posts stay as is."""

    def __init__(self, posts_dir: Path, options: PostOptions, *, stats: StatsCollector):
        self.posts_dir = posts_dir
        self.options = options
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        posts_dir = settings.get("MARKDOWN_POSTS_DIR")
        if not posts_dir:
            raise NotConfigured("MARKDOWN_POSTS_DIR must be set to enable MarkdownPostPipeline")
        return cls(Path(posts_dir).absolute(), post_options(settings), stats=crawler.stats)

    def post_path(self, item: ArticleItem) -> Path:
        """Where the item's post goes (override to lay posts out differently)."""
        return self.posts_dir / post_filename(item, self.options)

    def process_item(self, item: ArticleItem) -> ArticleItem:
        path = self.post_path(item)
        data = render_post(item, self.options).encode("utf-8")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            written = write_atomically(path, data)
            renamed = self._remove_other_names(item, keep=path)
        except OSError as exc:
            self.stats.inc_value("markdown/failed")
            # Dropping (not returning) keeps later pipelines from recording the article as saved.
            raise DropItem(
                f"cannot write post {path} for {item.url}: {exc.strerror or exc}", log_level="ERROR"
            ) from exc
        if renamed:
            self.stats.inc_value("markdown/renamed")
        self.stats.inc_value("markdown/written" if written else "markdown/unchanged")
        return item

    def _remove_other_names(self, item: ArticleItem, keep: Path) -> bool:
        """Delete this article's post under an older name (its title slug changed)."""
        stem = post_stem(item, self.options)
        removed = False
        for pattern in (f"{stem}.md", f"{stem}~*.md"):
            for old in keep.parent.glob(pattern):
                if old != keep:
                    with contextlib.suppress(FileNotFoundError):
                        old.unlink()
                    removed = True
        return removed
