"""BodyCleaningPipeline, retired: bodies are cleaned at extraction, in the page's parsed tree.

Kept so that an ``ITEM_PIPELINES`` written for an earlier release still starts: the pipeline
disables itself (NotConfigured) with a deprecation warning naming what to remove.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any, NoReturn

from scrapy.exceptions import NotConfigured, ScrapyDeprecationWarning

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class BodyCleaningPipeline:
    """Does nothing: crawler.site.extraction cleans the body (CLEANING_ENABLED) as it extracts.

    Cleaning there parses each page once; as a pipeline it serialised the article container
    in the extraction worker and parsed it again here, a fifth of a page's extraction cost.
    """

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NoReturn:
        path = f"{cls.__module__}.{cls.__qualname__}"
        warnings.warn(
            f"{path} is retired: bodies are cleaned at extraction (CLEANING_ENABLED); "
            "remove it from ITEM_PIPELINES",
            ScrapyDeprecationWarning,
            stacklevel=2,
        )
        raise NotConfigured("bodies are cleaned at extraction")

    def process_item(self, item: Any) -> Any:  # pragma: no cover - never enabled
        return item


# The name ITEM_PIPELINES used when a synchronous variant existed beside it; the same class.
ThreadedBodyCleaningPipeline = BodyCleaningPipeline
