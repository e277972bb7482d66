from __future__ import annotations

from types import SimpleNamespace

import pytest
from scrapy import Request, Spider
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.downloader.slowdown import SlowDownMiddleware


class FakeDownloader:
    def __init__(self):
        self.slots = {"finance.sina.com.cn": SimpleNamespace(delay=0.5)}

    def get_slot_key(self, request):
        return "finance.sina.com.cn"


def middleware(times=2):
    crawler = get_crawler(Spider)
    crawler.stats.open_spider()
    spider = Spider.from_crawler(crawler, name="sina")  # get_retry_request reads spider.crawler
    stub = SimpleNamespace(
        engine=SimpleNamespace(downloader=FakeDownloader()), spider=spider, stats=crawler.stats
    )
    return SlowDownMiddleware(stub, {403, 456}, times, 2.0, 30.0), stub


URL = "http://finance.sina.com.cn/roll/doc-ihqfskcn2160999.shtml"


def test_block_answer_doubles_delay_and_retries_until_exhausted():
    mw, stub = middleware(times=2)
    request = Request(URL)
    slot = stub.engine.downloader.slots["finance.sina.com.cn"]
    delays = []
    for _ in range(3):
        out = mw.process_response(request, HtmlResponse(URL, status=456, request=request))
        delays.append(slot.delay)
        if isinstance(out, Request):
            request = out
    assert delays == [2.0, 4.0, 8.0]
    assert isinstance(out, HtmlResponse)  # retries exhausted: the 456 goes on to the errback
    assert out.status == 456
    assert stub.stats.get_value("slowdown/456") == 3
    assert request.meta["retry_times"] == 2
    assert request.dont_filter


def test_other_answers_pass_untouched():
    mw, stub = middleware()
    request = Request(URL)
    response = HtmlResponse(URL, status=200, request=request)
    assert mw.process_response(request, response) is response
    assert stub.engine.downloader.slots["finance.sina.com.cn"].delay == 0.5


def test_delay_never_exceeds_the_autothrottle_ceiling():
    mw, stub = middleware(times=10)
    request = Request(URL)
    for _ in range(8):
        out = mw.process_response(request, HtmlResponse(URL, status=403, request=request))
        request = out if isinstance(out, Request) else request
    assert stub.engine.downloader.slots["finance.sina.com.cn"].delay == 30.0


def test_not_configured_without_codes():
    with pytest.raises(NotConfigured):
        SlowDownMiddleware.from_crawler(get_crawler(settings_dict={"SLOWDOWN_HTTP_CODES": []}))
