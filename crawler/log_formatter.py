"""Scrapy's LogFormatter, naming an article by its URL where Scrapy prints the whole item.

An article item carries its body (tens of kB of HTML): Scrapy's "Dropped: ..." line followed
by the item made one dropped article a page of log. Here it is one line: URL and reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.logformatter import LogFormatter

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.http import Response
    from scrapy.logformatter import LogFormatterResult
    from twisted.python.failure import Failure


def item_url(item: Any) -> str:
    """Name an item by its URL (any item type), else by its type.

    >>> from crawler.items import ArticleItem
    >>> item_url(ArticleItem(url="https://f.cn/a.shtml")), item_url({"url": "u"}), item_url(3)
    ('https://f.cn/a.shtml', 'u', 'an item of type int')
    """
    url = item.get("url") if isinstance(item, dict) else getattr(item, "url", None)
    return str(url) if url else f"an item of type {type(item).__name__}"


def collapse_whitespace(text: object) -> str:
    r"""Collapse a message onto one line.

    >>> collapse_whitespace("cannot write\npost  x")
    'cannot write post x'
    """
    return " ".join(str(text).split())


class OneLineLogFormatter(LogFormatter):
    """Dropped and failed items are logged as their URL and the reason, on one line."""

    def dropped(
        self,
        item: Any,
        exception: BaseException,
        response: Response | Failure | None,
        spider: Spider,
    ) -> LogFormatterResult:
        result = super().dropped(item, exception, response, spider)
        result["msg"] = "Dropped %(url)s: %(reason)s"
        result["args"] = {"url": item_url(item), "reason": collapse_whitespace(exception)}
        return result

    def item_error(
        self,
        item: Any,
        exception: BaseException,
        response: Response | Failure | None,
        spider: Spider,
    ) -> LogFormatterResult:
        result = super().item_error(item, exception, response, spider)
        result["msg"] = "Error processing %(url)s"
        result["args"] = {"url": item_url(item)}
        return result
