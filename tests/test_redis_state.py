"""The Redis article state shared by distributed workers, against real Redis.

Article URLs here are only text (stored as records); nothing is fetched.
"""

from __future__ import annotations

import json
import logging
import socket

import pytest
import redis
from scrapy.settings import Settings

from crawler.distributed.redis_state import RedisArticleState

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


def dead_client() -> redis.Redis:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Built as from_settings builds it (from a URL): a refused connection fails at once.
    return redis.Redis.from_url(f"redis://127.0.0.1:{port}/0", socket_connect_timeout=1)


def test_marks_made_while_redis_is_away_are_written_when_it_is_back(redis_target):
    key = f"{redis_target.prefix}:saved"
    state = RedisArticleState(dead_client(), key, "127.0.0.1:1")
    assert state.is_saved("sina:a") is False  # unknown while away: fetched, not lost
    state.mark_saved("sina:a", "http://f.cn/a", "A")
    assert state.is_saved("sina:a") is True  # held in memory, so not fetched twice here
    state.client = redis_target.client  # Redis is back
    state.mark_saved("sina:b", "http://f.cn/b", "B")
    saved = redis_target.client.hgetall(key)
    assert {k.decode(): json.loads(v)["url"] for k, v in saved.items()} == {
        "sina:a": "http://f.cn/a",
        "sina:b": "http://f.cn/b",
    }


def test_marks_still_held_at_close_are_reported_in_one_line(caplog):
    state = RedisArticleState(dead_client(), "k", "127.0.0.1:1")
    state.mark_saved("sina:a", "http://f.cn/a")
    state.mark_saved("sina:b", "http://f.cn/b")
    with caplog.at_level(logging.WARNING):
        state.close()
    assert [r.getMessage() for r in caplog.records] == [
        "Redis at 127.0.0.1:1 is unreachable at close: 2 saved articles are not marked"
    ]
