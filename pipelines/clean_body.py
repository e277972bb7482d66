"""BodyCleaningPipeline: replace the raw article HTML with what a reader sees (crawler.site.cleaning)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem, NotConfigured

from crawler.extensions.offload import offload_of
from crawler.site.cleaning import clean_body

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

    from crawler.extensions.offload import Offload


class UnreadablePage(DropItem):
    """The page holds nothing readable: the page's fault (counted page-side), not ours."""

    page_side = True


class BodyCleaningPipeline:
    """Clean ``body`` in place; drop the item, naming its URL, if nothing readable is left.

    Cleaning runs in the crawl's side thread (crawler.extensions.offload), so the reactor
    thread keeps downloading meanwhile (lxml parses without the GIL); stats and the item are
    only touched back on the reactor thread.
    """

    def __init__(self, stats: StatsCollector, offload: Offload):
        self.stats = stats
        self.offload = offload

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("CLEANING_ENABLED"):
            raise NotConfigured("CLEANING_ENABLED is off")
        return cls(crawler.stats, offload_of(crawler))

    async def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        url = adapter.get("url") or ""
        body = await self.offload.in_thread(clean_body, adapter.get("body") or "", url)
        if not body:
            self.stats.inc_value("cleaning/dropped_empty")
            raise UnreadablePage(f"no readable body left after cleaning: {url}")
        adapter["body"] = body
        self.stats.inc_value("cleaning/cleaned")
        return item


# The name ITEM_PIPELINES used when a synchronous variant existed beside it; the same class.
ThreadedBodyCleaningPipeline = BodyCleaningPipeline
