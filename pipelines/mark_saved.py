"""Mark an article saved in the crawl state once its post and its export line are on disk."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.extensions import health
from crawler.storage.crawl_state import canonical_key, open_state

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.statscollectors import StatsCollector

    from crawler.items import ArticleItem
    from crawler.storage.crawl_state import ArticleState

logger = logging.getLogger(__name__)


class MarkSavedPipeline:
    """Record each article that got through every pipeline and into the export.

    The mark is made on item_scraped, which fires after every pipeline accepted the item (the
    post is on disk) and after the feed exports wrote its line (Scrapy's FeedExporter, an
    extension, receives the signal first; crawler.storage.export syncs each line). So a run
    killed at any point leaves no article marked saved that is missing from the post folder or
    the export: the next run fetches and exports it again (at worst twice in the export).
    """

    def __init__(self, state: ArticleState, stats: StatsCollector, signals_: object = None):
        self.state = state
        self.stats = stats
        self.signals = signals_
        self._export_failures = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.get("CRAWL_STATE_DIR"):
            raise NotConfigured("CRAWL_STATE_DIR is empty: no incremental state")
        pipeline = cls(open_state(crawler.settings), crawler.stats, crawler.signals)
        crawler.signals.connect(pipeline.close, signal=signals.spider_closed)
        crawler.signals.connect(pipeline.mark, signal=signals.item_scraped)
        return pipeline

    def process_item(self, item: ArticleItem) -> ArticleItem:
        return item  # marked on item_scraped, once exported (see the class docstring)

    def mark(self, item: ArticleItem, response: Response | None = None) -> None:
        """Record the article, and the URLs it was asked for (before redirects), as saved."""
        if not item.url:
            return
        failures = self.stats.get_value("export/failed", 0)
        if failures != self._export_failures:
            self._export_failures = failures
            self.failed(item, response, "export: the item's line could not be written")
            return
        asked = [item.url]
        if response is not None:
            asked += [*response.meta.get("redirect_urls", []), response.url]
            if response.request is not None:
                asked.append(response.request.url)
        try:
            for key in dict.fromkeys(canonical_key(url) for url in asked):
                self.state.mark_saved(key, item.url, item.title)
        except Exception as exc:  # noqa: BLE001 - whatever the store raised, not saved
            self.failed(item, response, f"crawl state: {health.exception_line(exc)}")
            return
        self.stats.inc_value("state/marked")

    def failed(self, item: ArticleItem, response: Response | None, reason: str) -> None:
        logger.error("Failed %s: %s", item.url, reason)
        if self.signals is not None:
            self.signals.send_catch_log(
                health.article_failed,
                url=item.url,
                reason=reason,
                key=health.article_key_of(response, item.url),
                side=health.OURS,
            )

    def close(self) -> None:
        self.state.close()
