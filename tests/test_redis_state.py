"""The Redis article state shared by distributed workers, against real Redis."""

from __future__ import annotations

import json

import pytest
from scrapy.settings import Settings

pytestmark = pytest.mark.redis


def test_redis_state_is_shared_between_workers(redis_target):
    from crawler.distributed.redis_state import RedisArticleState

    settings = Settings(
        {"REDIS_URL": redis_target.url, "SINA_REDIS_KEY_PREFIX": redis_target.prefix}
    )
    first, second = (
        RedisArticleState.from_settings(settings),
        RedisArticleState.from_settings(settings),
    )
    assert first.is_saved("sina:ihqfskcn2160999") is False
    first.mark_saved("sina:ihqfskcn2160999", "https://finance.sina.com.cn/a.shtml", "标题")
    assert second.is_saved("sina:ihqfskcn2160999") is True
    assert second.is_saved("sina:inausehc2630922") is False
    second.mark_saved("sina:ihqfskcn2160999", "https://finance.sina.com.cn/a.shtml", "标题")
    assert (first.count(), second.count()) == (1, 1)
    record = json.loads(
        redis_target.client.hget(f"{redis_target.prefix}:saved", "sina:ihqfskcn2160999")
    )
    assert (record["url"], record["title"]) == ("https://finance.sina.com.cn/a.shtml", "标题")
    assert redis_target.keys() == [f"{redis_target.prefix}:saved"]
    first.close()
    second.close()


def test_redis_state_needs_redis_url():
    from crawler.distributed.redis_state import RedisArticleState

    with pytest.raises(ValueError, match="REDIS_URL"):
        RedisArticleState.from_settings(Settings({"REDIS_URL": ""}))
