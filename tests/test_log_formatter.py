"""crawler.log_formatter: a dropped or failed item is named by its URL, never printed whole.

URLs here are only text; nothing is fetched.
"""

from __future__ import annotations

import logging

from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from crawler.items import ArticleItem
from crawler.log_formatter import OneLineLogFormatter
from spiders.sina import SinaSpider


def render(result) -> str:
    return result["msg"] % result["args"]


def test_dropped_is_one_line_with_url_and_reason():
    crawler = get_crawler(SinaSpider)
    spider = crawler._create_spider()
    item = ArticleItem(
        url="https://finance.sina.com.cn/a.shtml", title="标题", body="<p>正文</p>" * 500
    )
    result = OneLineLogFormatter().dropped(
        item, DropItem("cannot write post /p/a.md:\nNo space left"), None, spider
    )
    assert render(result) == (
        "Dropped https://finance.sina.com.cn/a.shtml: cannot write post /p/a.md: No space left"
    )
    assert result["level"] == logging.WARNING


def test_item_error_names_the_url_only():
    crawler = get_crawler(SinaSpider)
    spider = crawler._create_spider()
    item = ArticleItem(url="https://finance.sina.com.cn/a.shtml", body="<p>正文</p>")
    result = OneLineLogFormatter().item_error(item, ValueError("x"), None, spider)
    assert render(result) == "Error processing https://finance.sina.com.cn/a.shtml"
