"""crawler.backpressure: discovery requests wait, in order, until the backlog has room."""

from __future__ import annotations

import pytest
import scrapy
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.test import get_crawler

from crawler import backpressure
from crawler.backpressure import DiscoveryBackpressure


class Engine:
    """Records what the pacer sends; `spider` set means open."""

    def __init__(self):
        self.sent: list[str] = []
        self.spider = object()

    def crawl(self, request):
        self.sent.append(request.url)


@pytest.fixture
def pacer(monkeypatch):
    crawler = get_crawler(settings_dict={"SINA_DISCOVERY_BACKLOG": 100, "SINA_ROLL_PAGE_SIZE": 50})
    crawler.stats.open_spider()
    crawler.engine = Engine()
    backlog = {"n": 0}
    monkeypatch.setattr(backpressure, "scheduler_backlog", lambda _: backlog["n"])
    pacer = DiscoveryBackpressure.from_crawler(crawler)
    pacer.backlog = backlog  # the test sets the scheduler's backlog through this
    return pacer


def page(n: int) -> scrapy.Request:
    return scrapy.Request(f"http://127.0.0.1/roll?page={n}")


def test_a_request_goes_out_only_while_its_listing_fits(pacer):
    (first,) = pacer.submit(page(1))
    assert first.url == "http://127.0.0.1/roll?page=1"
    # Page 1 holds 51 of 100 (its 50 entries and itself): page 2 does not fit beside it.
    assert list(pacer.submit(page(2))) == []
    assert list(pacer.submit(page(3))) == []
    assert pacer.crawler.stats.get_value("discovery/held") == 2
    # Page 1's 50 articles are queued and its room freed: 50 + 51 > 100, still no room.
    pacer.backlog["n"] = 50
    pacer.listed(first)
    assert pacer.crawler.engine.sent == []
    # The downloader took one: 49 + 51 fits; page 2 goes, page 3 waits behind it.
    pacer.backlog["n"] = 49
    pacer.release_parked()
    assert pacer.crawler.engine.sent == ["http://127.0.0.1/roll?page=2"]
    assert pacer.crawler.stats.get_value("discovery/backlog") == 49
    # Order is kept: a new request waits behind the parked one even when it would fit.
    pacer.backlog["n"] = 0
    pacer.listed(page(2).replace(meta={backpressure.RESERVATION: page(2).url}))
    assert pacer.crawler.engine.sent[-1] == "http://127.0.0.1/roll?page=3"
    assert list(pacer.submit(page(4))) == []


def test_nothing_waiting_means_discovery_moves_on_even_past_a_small_bound(pacer):
    pacer.bound = 10  # smaller than one listing
    (first,) = pacer.submit(page(1))
    assert list(pacer.submit(page(2))) == []
    pacer.listed(first)  # as its callback does, with the response's request
    assert pacer.crawler.engine.sent == ["http://127.0.0.1/roll?page=2"]


def test_no_limit_and_no_local_queue_hold_nothing_back(pacer, monkeypatch):
    pacer.bound = 0
    pacer.backlog["n"] = 10_000
    assert len(list(pacer.submit(page(1)))) == 1
    pacer.bound = 100
    monkeypatch.setattr(backpressure, "scheduler_backlog", lambda _: None)  # Redis holds it
    assert len([r for n in range(2, 6) for r in pacer.submit(page(n))]) == 4


def test_a_dropped_or_failed_request_frees_its_room(pacer):
    assert len(list(pacer.submit(page(1)))) == 1
    assert list(pacer.submit(page(2))) == []
    pacer.request_dropped(page(1).replace(meta={backpressure.RESERVATION: page(1).url}))
    assert pacer.crawler.engine.sent == ["http://127.0.0.1/roll?page=2"]


def test_an_idle_engine_never_closes_with_requests_parked(pacer):
    assert len(list(pacer.submit(page(1)))) == 1
    assert list(pacer.submit(page(2))) == []
    with pytest.raises(DontCloseSpider):
        pacer.spider_idle()  # page 1 vanished without a callback: its room is given back
    assert pacer.crawler.engine.sent == ["http://127.0.0.1/roll?page=2"]
    pacer.spider_idle()  # nothing parked: may close


class Spider(scrapy.Spider):
    name = "s"

    def parse_roll(self, response):
        pass


def test_parked_requests_survive_a_jobdir_pause(pacer):
    spider = Spider()
    spider.state = {}
    assert pacer.resume(spider) is None  # a new job
    request = scrapy.Request("http://127.0.0.1/roll?page=7", callback=spider.parse_roll)
    assert len(list(pacer.submit(page(1)))) == 1
    assert list(pacer.submit(request)) == []
    pacer.spider_closed(spider)
    resumed = DiscoveryBackpressure.from_crawler(pacer.crawler).resume(spider)
    assert [(r.url, r.callback) for r in resumed] == [(request.url, spider.parse_roll)]
