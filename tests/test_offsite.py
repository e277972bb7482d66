"""crawler.downloader.offsite: file:// and other local schemes only for what the user typed."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.test import get_crawler

from crawler import settings as project
from crawler.downloader.offsite import SinaOffsiteMiddleware
from crawler.extensions import health
from spiders.sina import SinaSpider


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
        mw.process_request(Request("file:///etc/passwd"), crawler.spider)
    assert "Not fetching file:///etc/passwd: not an http(s) URL" in caplog.text
    assert crawler.stats.get_value("offsite/scheme_refused") == 1
    assert failed == [
        ("file:///etc/passwd", "not an http(s) URL, and not one given on the command line")
    ]
