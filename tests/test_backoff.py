"""Backoff before retries: the wait doubles up to a ceiling; off when retries or the start are."""

from __future__ import annotations

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from crawler.downloader.backoff import RetryBackoffMiddleware, retry_wait
from spiders.sina import SinaSpider


def test_retry_waits_double_up_to_the_ceiling():
    crawler = get_crawler(SinaSpider, {"RETRY_BACKOFF_START": 0.5, "AUTOTHROTTLE_MAX_DELAY": 3})
    mw = RetryBackoffMiddleware.from_crawler(crawler)
    assert [retry_wait(n, start=mw.start, ceiling=mw.ceiling) for n in range(6)] == [
        0.0, 0.5, 1.0, 2.0, 3.0, 3.0,
    ]  # fmt: skip


def test_backoff_off_when_start_is_zero_or_retries_are_off():
    for settings_ in ({"RETRY_BACKOFF_START": 0}, {"RETRY_ENABLED": False}):
        with pytest.raises(NotConfigured):
            RetryBackoffMiddleware.from_crawler(get_crawler(SinaSpider, settings_))
