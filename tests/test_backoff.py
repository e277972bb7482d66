"""Backoff before retries: the wait doubles up to a ceiling; off when retries or the start are.

Its setting is SINA_RETRY_BACKOFF_START; RETRY_BACKOFF_START, the old name, still works.
"""

from __future__ import annotations

import pytest
from scrapy.exceptions import NotConfigured, ScrapyDeprecationWarning
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from crawler.downloader.backoff import RetryBackoffMiddleware, backoff_start, retry_wait
from spiders.sina import SinaSpider


def test_retry_waits_double_up_to_the_ceiling():
    crawler = get_crawler(
        SinaSpider, {"SINA_RETRY_BACKOFF_START": 0.5, "AUTOTHROTTLE_MAX_DELAY": 3}
    )
    mw = RetryBackoffMiddleware.from_crawler(crawler)
    assert [retry_wait(n, start=mw.start, ceiling=mw.ceiling) for n in range(6)] == [
        0.0, 0.5, 1.0, 2.0, 3.0, 3.0,
    ]  # fmt: skip


def test_backoff_off_when_start_is_zero_or_retries_are_off():
    for settings_ in ({"SINA_RETRY_BACKOFF_START": 0}, {"RETRY_ENABLED": False}):
        with pytest.raises(NotConfigured):
            RetryBackoffMiddleware.from_crawler(get_crawler(SinaSpider, settings_))


DEPRECATED = r"RETRY_BACKOFF_START is deprecated; use SINA_RETRY_BACKOFF_START"


def test_the_new_name_sets_the_first_wait_without_a_warning(project_crawler):
    # filterwarnings=error: any warning here fails the test.
    crawler = project_crawler(SINA_RETRY_BACKOFF_START=1.5)
    assert RetryBackoffMiddleware.from_crawler(crawler).start == 1.5


def test_the_project_default_needs_no_old_name(project_crawler):
    assert RetryBackoffMiddleware.from_crawler(project_crawler()).start == 0.5


def test_the_old_name_still_works_with_a_deprecation_warning(project_crawler):
    crawler = project_crawler(RETRY_BACKOFF_START=2)
    with pytest.warns(ScrapyDeprecationWarning, match=DEPRECATED):
        middleware = RetryBackoffMiddleware.from_crawler(crawler)
    assert middleware.start == 2.0


def test_the_old_name_on_the_command_line_beats_the_project_default():
    settings = Settings({"SINA_RETRY_BACKOFF_START": 0.5})
    settings.set("RETRY_BACKOFF_START", "3", priority="cmdline")
    with pytest.warns(ScrapyDeprecationWarning, match=DEPRECATED):
        assert backoff_start(settings) == 3.0


def test_the_new_name_wins_when_both_are_given_on_the_command_line():
    settings = Settings({"SINA_RETRY_BACKOFF_START": 0.5})
    settings.set("RETRY_BACKOFF_START", "3", priority="cmdline")
    settings.set("SINA_RETRY_BACKOFF_START", "1", priority="cmdline")
    with pytest.warns(ScrapyDeprecationWarning, match=DEPRECATED):
        assert backoff_start(settings) == 1.0


def test_the_old_name_at_zero_still_turns_the_backoff_off(project_crawler):
    crawler = project_crawler(RETRY_BACKOFF_START=0)
    with (
        pytest.warns(ScrapyDeprecationWarning, match=DEPRECATED),
        pytest.raises(NotConfigured, match="SINA_RETRY_BACKOFF_START is 0"),
    ):
        RetryBackoffMiddleware.from_crawler(crawler)
