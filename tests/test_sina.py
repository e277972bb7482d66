"""The spider's callbacks: checked once as Scrapy would on every response; a dead worker."""

import asyncio
import inspect

import pytest
from scrapy.http import HtmlResponse, Request
from scrapy.utils.misc import is_generator_with_return_value

from crawler.extensions import health
from crawler.extensions.offload import offload_of
from crawler.extensions.worker_processes import WorkerProcessDied
from spiders.sina import SinaSpider

CALLBACKS = [
    name
    for name, member in inspect.getmembers(SinaSpider, inspect.isfunction)
    if inspect.isgeneratorfunction(member) or inspect.isasyncgenfunction(member)
]


def test_the_spider_has_generator_callbacks_to_check():
    assert {"parse_article", "parse_roll"} <= set(CALLBACKS)


@pytest.mark.parametrize("name", CALLBACKS)
def test_no_generator_callback_returns_a_value(name):
    # WARN_ON_GENERATOR_RETURN_VALUE is off (crawler/settings.py): a `return value` in a
    # generator callback would be lost silently, so it is refused here.
    assert not is_generator_with_return_value(getattr(SinaSpider, name))


ARTICLE_URL = "https://finance.sina.com.cn/roll/2024-05-10/doc-inavmmfi0000001.shtml"


def test_a_page_whose_worker_died_is_failed_on_our_side_in_one_line(
    project_crawler, monkeypatch, caplog
):
    crawler = project_crawler(SinaSpider)
    spider = SinaSpider.from_crawler(crawler, urls=ARTICLE_URL)
    reason = "extraction worker process 7 exited (exit status -9) before answering"

    async def worker_died(func, response):
        raise WorkerProcessDied(reason)

    monkeypatch.setattr(offload_of(crawler), "on_response_in_worker", worker_died)
    failed = []
    crawler.signals.connect(
        lambda **kwargs: failed.append(kwargs), signal=health.article_failed, weak=False
    )
    request = Request(ARTICLE_URL, meta={"article_key": "k1"})
    response = HtmlResponse(ARTICLE_URL, body=b"<html></html>", request=request)

    async def items():
        return [item async for item in spider.parse_article(response)]

    assert asyncio.run(items()) == []
    assert [(f["url"], f["reason"], f["key"], f["side"]) for f in failed] == [
        (ARTICLE_URL, reason, "k1", health.OURS)
    ]
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert [r.getMessage() for r in errors] == [f"Failed {ARTICLE_URL}: {reason}"]
