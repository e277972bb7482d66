"""BodyCleaningPipeline: replace the raw article HTML with what a reader sees (crawler.site.cleaning)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem, NotConfigured

from crawler.extensions.offload import in_thread
from crawler.site.cleaning import clean_body

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector


class UnreadablePage(DropItem):
    """The page holds nothing readable: the page's fault (counted page-side), not ours."""

    page_side = True


class BodyCleaningPipeline:
    """Clean ``body`` in place; drop the item, naming its URL, if nothing readable is left."""

    def __init__(self, stats: StatsCollector):
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("CLEANING_ENABLED", True):
            raise NotConfigured("CLEANING_ENABLED is off")
        return cls(crawler.stats)

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        url = adapter.get("url") or ""
        return self._store(item, clean_body(adapter.get("body") or "", url))

    def _store(self, item: Any, body: str) -> Any:
        adapter = ItemAdapter(item)
        url = adapter.get("url") or ""
        if not body:
            self.stats.inc_value("cleaning/dropped_empty")
            raise UnreadablePage(f"no readable body left after cleaning: {url}")
        adapter["body"] = body
        self.stats.inc_value("cleaning/cleaned")
        return item


class ThreadedBodyCleaningPipeline(BodyCleaningPipeline):
    """BodyCleaningPipeline cleaning in crawler.extensions.offload's side thread: the crawl's default.

    The reactor thread keeps downloading meanwhile (lxml parses without the GIL); stats and the
    item are only touched back on the reactor thread.
    """

    async def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        url = adapter.get("url") or ""
        body = await in_thread(clean_body, adapter.get("body") or "", url)
        return self._store(item, body)
