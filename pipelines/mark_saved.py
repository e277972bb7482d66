"""Mark an article saved in the crawl state once its post is on disk (runs after the posts)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured

from crawler.storage.crawl_state import canonical_key, open_state

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.statscollectors import StatsCollector

    from crawler.items import ArticleItem
    from crawler.storage.crawl_state import ArticleState


class MarkSavedPipeline:
    """Record each item that got through every earlier pipeline (priority 800, after Markdown).

    Items dropped earlier never reach this, so a failed or killed write is retried next run.
    """

    def __init__(self, state: ArticleState, stats: StatsCollector):
        self.state = state
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.get("CRAWL_STATE_DIR"):
            raise NotConfigured("CRAWL_STATE_DIR is empty: no incremental state")
        pipeline = cls(open_state(crawler.settings), crawler.stats)
        crawler.signals.connect(pipeline.close, signal=signals.spider_closed)
        crawler.signals.connect(pipeline.mark_aliases, signal=signals.item_scraped)
        return pipeline

    def process_item(self, item: ArticleItem) -> ArticleItem:
        if item.url:
            self.state.mark_saved(canonical_key(item.url), item.url, item.title)
            self.stats.inc_value("state/marked")
        return item

    def mark_aliases(self, item: ArticleItem, response: Response | None = None) -> None:
        """Also record the URLs the article was asked for (before redirects), once it is saved.

        item_scraped fires only after every pipeline accepted the item, so the post exists.
        """
        if response is None or not item.url:
            return
        asked = [*response.meta.get("redirect_urls", []), response.url]
        if response.request is not None:
            asked.append(response.request.url)
        main = canonical_key(item.url)
        for key in dict.fromkeys(canonical_key(url) for url in asked):
            if key != main:
                self.state.mark_saved(key, item.url, item.title)

    def close(self) -> None:
        self.state.close()
