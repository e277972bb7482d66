"""The accounting ledger and the health extension, driven without a crawl."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scrapy import Request
from scrapy.http import HtmlResponse, TextResponse
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from crawler.commands.crawl import EXIT_OUR_FAILURE, exit_status
from crawler.extensions import health
from crawler.extensions.health import (
    FAILED,
    OURS,
    PAGE,
    SAVED,
    SKIPPED,
    CrawlHealthExtension,
    Ledger,
    Outcome,
)
from crawler.storage.crawl_state import canonical_key
from spiders.sina import SinaSpider

ROLL_URL = "http://feed.mix.sina.com.cn/api/roll/get?pageid=384&lid=2519&num=5&page=1"
ARTICLE = "https://finance.sina.com.cn/roll/2018-12-28/doc-ihqfskcn2160999.shtml"
SETTINGS = {
    "CRAWL_HEALTH_ENABLED": True,
    "CRAWL_FAILURE_RATIO": 0.5,
    "SINA_PAGE_FAILURE_RUNS": 3,
    "SINA_ROLL_PAGE_SIZE": 5,
    "SINA_ROLL_API_URL": "http://feed.mix.sina.com.cn/api/roll/get",
}


def extension(**settings_):
    crawler = get_crawler(SinaSpider, {**SETTINGS, **settings_})
    crawler.spider = crawler._create_spider()
    crawler.stats.open_spider()
    return crawler, CrawlHealthExtension.from_crawler(crawler)


def test_ledger_keeps_the_weightier_outcome():
    ledger = Ledger()
    ledger.listed("k", "u")
    ledger.settle("k", "u", Outcome(SAVED))
    ledger.settle("k", "u", Outcome(SKIPPED, health.ALREADY_SAVED))  # lighter: ignored
    assert ledger.outcomes["k"] == Outcome(SAVED)
    ledger.settle("k", "u", Outcome(FAILED, "HTTP 404", PAGE))
    ledger.settle("k", "u", Outcome(FAILED, "crawl state: disk I/O error", OURS))
    ledger.settle("k", "u", Outcome(FAILED, "HTTP 500", PAGE))  # ours stays
    assert ledger.outcomes["k"] == Outcome(FAILED, "crawl state: disk I/O error", OURS)
    assert ledger.counts() == {"saved": 0, "unchanged": 0, "skipped": 0, "failed": 1}


def test_an_outcome_for_an_article_never_listed_lists_it_once():
    ledger = Ledger()
    assert ledger.settle("k", "u", Outcome(FAILED, "HTTP 404", PAGE)) is None
    assert ledger.urls["k"] == "u"
    assert ledger.listed("k", "u") is False
    assert ledger.listed("k2", "u2") is True
    assert ledger.settle("k2", "u2", Outcome(SAVED)) is None  # listed, no outcome yet
    assert ledger.counts() == {"saved": 1, "unchanged": 0, "skipped": 0, "failed": 1}


def test_the_extension_counts_an_article_listed_once():
    crawler, ext = extension()
    crawler.signals.send_catch_log(health.article_listed, url=ARTICLE, key="k")
    ext.settle("k", ARTICLE, Outcome(SAVED))
    ext.settle(
        "other", "https://finance.sina.com.cn/other.shtml", Outcome(FAILED, "HTTP 404", PAGE)
    )
    assert crawler.stats.get_value("accounting/listed") == 2
    assert crawler.stats.get_value("accounting/saved") == 1
    assert crawler.stats.get_value("accounting/failed") == 1


def test_extraction_exception_fails_the_article_on_our_side():
    crawler, ext = extension()
    request = Request(ARTICLE, meta={"article_key": canonical_key(ARTICLE)})
    response = HtmlResponse(ARTICLE, body=b"<html></html>", request=request)
    crawler.signals.send_catch_log(health.article_listed, url=ARTICLE, key=canonical_key(ARTICLE))
    try:
        raise ValueError("Invalid IPv6 URL\nsecond line")
    except ValueError:
        failure = Failure()
    ext.spider_error(failure, response)
    outcome = ext.health.ledger.outcomes[canonical_key(ARTICLE)]
    assert outcome == Outcome(FAILED, "extraction error: ValueError: Invalid IPv6 URL", OURS)
    ext.spider_closed(crawler.spider, "finished")
    assert crawler.stats.get_value("health/failed_ours") == 1
    assert exit_status("finished", crawler.stats.get_value("health/failed"), 1) == EXIT_OUR_FAILURE


def test_redirect_loop_dropped_by_the_dupefilter_is_a_failure():
    _, ext = extension()
    a, b = ARTICLE, ARTICLE.replace("ihqfskcn2160999", "ihqfskcn2160998")
    request = Request(a, meta={"article_key": canonical_key(a), "redirect_urls": [a, b]})
    ext.request_dropped(request)
    assert ext.health.ledger.outcomes[canonical_key(a)] == Outcome(
        FAILED, f"redirect loop: {a} -> {b} -> {a}", PAGE
    )


def test_listed_article_with_no_outcome_is_lost_not_nowhere():
    crawler, ext = extension()
    ext.article_listed(ARTICLE, canonical_key(ARTICLE))
    ext.spider_closed(crawler.spider, "finished")
    assert ext.health.ledger.outcomes[canonical_key(ARTICLE)].side == OURS
    assert crawler.stats.get_value("health/failed_ours") == 1


# --- arbitrary roll entries ------------------------------------------------------------------

URLS = st.one_of(
    st.sampled_from(
        [
            ARTICLE,
            "https://finance.sina.com.cn/stock/2024-05-10/doc-inausehc2630922.shtml",
            "https://finance.sina.cn/2024-05-10/detail-inausehc2630922.d.html",
            "http://news.sina.com.cn/c/2019-09-07/doc-iicezzrq4076655.shtml",
            "http://[::1/x",
            "https://finance.sina.com.cn:99999/a.shtml",
            "http:///no-host",
            "javascript:void(0)",
            "",
        ]
    ),
    st.text(max_size=30),
    st.from_regex(r"\Ahttps?://[a-z\[\]:.0-9]{0,12}/[a-z]{0,5}\Z"),
    st.integers(),
    st.none(),
)
TIMES = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.none(),
    st.lists(st.integers(), max_size=2),
)
ROWS = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {"url": URLS, "ctime": TIMES},
            optional={"wapurl": URLS, "intime": TIMES, "title": st.one_of(st.text(), st.none())},
        ),
        st.integers(),
        st.text(max_size=5),
        st.none(),
    ),
    max_size=25,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=ROWS, until=st.sampled_from(["", "2024-05-10"]))
def test_arbitrary_roll_entries_keep_the_invariant(rows, until):
    crawler = get_crawler(SinaSpider, SETTINGS)
    spider = crawler._create_spider(**({"until": until} if until else {}))
    crawler.spider = spider
    crawler.stats.open_spider()
    ext = CrawlHealthExtension.from_crawler(crawler)
    body = json.dumps({"result": {"status": {"code": 0}, "data": rows}}).encode()
    response = TextResponse(ROLL_URL, body=body, request=Request(ROLL_URL))

    out = list(spider.parse_roll(response, pageid=384, lid=2519, page=1))  # never raises

    articles = [r for r in out if "article_key" in r.meta]
    assert len(articles) <= 5  # at most the num the page asked for
    ledger = ext.health.ledger
    # Every article listed is queued (pending) or already has its outcome, nothing else.
    assert set(ledger.pending()) == {r.meta["article_key"] for r in articles}
    assert len(ledger.urls) <= 5
    assert crawler.stats.get_value("accounting/listed", 0) == len(ledger.urls)
    for request in articles:  # the queued ones end as they may: saved or failed
        ext.article_failed(request.url, "HTTP 404", key=request.meta["article_key"])
    ext.spider_closed(spider, "finished")
    counts = ledger.counts()
    assert len(ledger.urls) == sum(counts.values())
    assert counts["failed"] == len(articles)
    assert all(o.kind == SKIPPED for k, o in ledger.outcomes.items() if o.kind != FAILED)


def test_bad_feed_entry_is_skipped_and_the_rest_is_queued(caplog):
    crawler, ext = extension()
    feed = "http://rss.sina.com.cn/roll/finance/hot_roll.xml"
    rss = (
        "<rss><channel><title>F</title>"
        "<item><link>http://[::1/x</link></item>"
        f"<item><link>{ARTICLE}</link></item>"
        "</channel></rss>"
    ).encode()
    response = TextResponse(feed, body=rss, request=Request(feed))
    out = list(crawler.spider.parse_feed(response))
    assert [r.url for r in out] == [ARTICLE]
    assert "Skipped a listed entry with a bad URL 'http://[::1/x': Invalid IPv6 URL" in caplog.text
    ledger = ext.health.ledger
    assert ledger.outcomes == {"http://[::1/x": Outcome(SKIPPED, health.BAD_ENTRY)}
    assert ledger.pending() == [canonical_key(ARTICLE)]
