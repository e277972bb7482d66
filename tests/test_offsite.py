"""The offsite policy: which hosts a crawl may fetch, and refused redirects named and counted.

The middleware only decides: URLs here are only text; nothing is fetched.
"""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.test import get_crawler

from crawler import settings as project
from crawler.downloader.offsite import SinaOffsiteMiddleware
from crawler.extensions import health
from spiders.sina import SinaSpider

ROLL_API = "http://127.0.0.1:8123/api/roll/get"


def offsite(**spider_args: str) -> tuple[SinaOffsiteMiddleware, object]:
    crawler = get_crawler(
        SinaSpider,
        {"SINA_ROLL_API_URL": ROLL_API, "SINA_ALLOWED_DOMAINS": project.SINA_ALLOWED_DOMAINS},
    )
    crawler.spider = crawler._create_spider(**spider_args)
    mw = SinaOffsiteMiddleware.from_crawler(crawler)
    mw.spider_opened(crawler.spider)
    return mw, crawler


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://finance.sina.com.cn/roll/2024-05-10/doc-iabc.shtml", True),
        ("https://finance.sina.cn/2024-05-10/detail-iabc.d.html", True),
        ("https://n.sinaimg.cn/finance/a.jpg", True),
        ("https://sina.com.cn/", True),
        (ROLL_API + "?page=2", True),  # the roll API's host, whatever it is
        ("http://127.0.0.1:9999/other-port.html", True),  # same host, any port
        ("http://evil.example/steal", False),
        ("http://evilsina.com.cn/", False),
        ("http://sina.com.cn.evil.example/", False),
        ("http://weibo.com/u/1", False),
        ("http://127.0.0.2/", False),
        ("file:///tmp/feed.xml", False),  # found, not typed: only a typed local feed is read
    ],
)
def test_offsite_policy_in_discovery(url, allowed):
    mw, crawler = offsite()
    assert mw.should_follow(Request(url), crawler.spider) is allowed


def test_explicit_urls_and_feeds_add_exactly_their_hosts():
    # Explicit URLs and feeds are not allowed together (feeds apply to discovery only).
    mw, crawler = offsite(urls="http://blog.example.org/a.html")
    spider = crawler.spider
    assert mw.should_follow(Request("http://blog.example.org/b.html"), spider)
    feeds_mw, feeds_crawler = offsite(feeds="https://rss.example.net/f.xml")
    assert feeds_mw.should_follow(Request("https://rss.example.net/g.xml"), feeds_crawler.spider)
    assert not mw.should_follow(Request("http://sub.blog.example.org/"), spider)
    assert not mw.should_follow(Request("http://example.org/"), spider)


def test_refused_redirect_is_logged_with_both_urls_and_counted(caplog):
    mw, crawler = offsite()
    failed = []

    def record(url, reason):
        failed.append((url, reason))

    crawler.signals.connect(record, health.article_failed)  # weakly held: keep `record` alive
    origin = "https://finance.sina.com.cn/roll/2024-05-10/doc-iabc.shtml"
    request = Request(
        "http://evil.example/x", meta={"redirect_urls": [origin], "article_key": "sina:iabc"}
    )
    with caplog.at_level(logging.WARNING), pytest.raises(IgnoreRequest):
        mw.process_request(request)
    assert caplog.messages == [
        f"Not following redirect from {origin} to http://evil.example/x (host evil.example)"
    ]
    assert failed == [
        (origin, "redirected to http://evil.example/x, outside the allowed hosts (evil.example)")
    ]
    assert crawler.stats.get_value("offsite/redirect_refused") == 1
    assert crawler.stats.get_value("offsite/filtered") == 1
    # An allowed request passes untouched, and dont_filter still opts out, as in Scrapy.
    assert mw.process_request(Request(origin)) is None
    assert mw.process_request(Request("http://evil.example/", dont_filter=True)) is None


def test_offsite_not_configured_without_domains():
    crawler = get_crawler(SinaSpider, {"SINA_ALLOWED_DOMAINS": []})
    with pytest.raises(NotConfigured):
        SinaOffsiteMiddleware.from_crawler(crawler)


def test_project_settings_replace_scrapys_offsite_middleware():
    mws = project.DOWNLOADER_MIDDLEWARES
    assert mws["scrapy.downloadermiddlewares.offsite.OffsiteMiddleware"] is None
    assert mws["crawler.downloader.offsite.SinaOffsiteMiddleware"] == 50
    assert project.SINA_ALLOWED_DOMAINS == ["sina.com.cn", "sina.cn", "sinaimg.cn"]


def test_spider_args_reach_the_offsite_policy():
    spider = SimpleNamespace(args=SimpleNamespace(urls=["https://blog.example.org/x"], feeds=[]))
    mw, _ = offsite()
    assert "blog.example.org" in mw.run_hosts(spider)


def middleware(**spider_args: str):
    crawler = get_crawler(
        SinaSpider,
        {
            "SINA_ROLL_API_URL": "http://127.0.0.1:8123/api/roll/get",
            "SINA_ALLOWED_DOMAINS": project.SINA_ALLOWED_DOMAINS,
        },
    )
    crawler.spider = crawler._create_spider(**spider_args)
    mw = SinaOffsiteMiddleware.from_crawler(crawler)
    mw.spider_opened(crawler.spider)
    return mw, crawler


def test_a_typed_local_feed_is_read_and_nothing_else_local(tmp_path):
    typed = tmp_path / "my feed.xml"  # a space: Scrapy escapes it in the Request URL
    mw, crawler = middleware(feeds=typed.as_uri())
    spider = crawler.spider
    assert mw.should_follow(Request(typed.as_uri()), spider)
    for found in [
        "file:///etc/passwd",
        (tmp_path / "other.xml").as_uri(),
        "data:text/html,<p>x</p>",
        "ftp://ftp.sina.com.cn/a.xml",
    ]:
        assert not mw.should_follow(Request(found), spider), found


def test_a_refused_local_url_is_logged_counted_and_reported(caplog):
    mw, crawler = middleware()
    failed = []

    def article_failed(url: str, reason: str) -> None:
        failed.append((url, reason))

    crawler.signals.connect(article_failed, signal=health.article_failed)
    with pytest.raises(IgnoreRequest):
        # An article request (the ledger counts only those; a refused image keeps its URL).
        mw.process_request(
            Request("file:///etc/passwd", meta={"article_key": "file:///etc/passwd"}),
            crawler.spider,
        )
    assert "Not fetching file:///etc/passwd: not an http(s) URL" in caplog.text
    assert crawler.stats.get_value("offsite/scheme_refused") == 1
    assert failed == [
        ("file:///etc/passwd", "not an http(s) URL, and not one given on the command line")
    ]


def test_allowed_domains_typed_with_spaces_or_stray_commas_still_match():
    # -s "SINA_ALLOWED_DOMAINS=sina.com.cn, sina.cn," as a person types a list.
    crawler = get_crawler(
        SinaSpider,
        {"SINA_ROLL_API_URL": ROLL_API, "SINA_ALLOWED_DOMAINS": "sina.com.cn, sina.cn,"},
    )
    crawler.spider = crawler._create_spider()
    mw = SinaOffsiteMiddleware.from_crawler(crawler)
    mw.spider_opened(crawler.spider)
    assert mw.should_follow(Request("https://finance.sina.cn/a.d.html"), crawler.spider)
    assert not mw.should_follow(Request("http://evil.example/"), crawler.spider)
    commas_only = get_crawler(SinaSpider, {"SINA_ALLOWED_DOMAINS": ","})
    with pytest.raises(NotConfigured):  # nothing named: every host, as documented for empty
        SinaOffsiteMiddleware.from_crawler(commas_only)
