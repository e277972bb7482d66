"""crawler.distributed.redis_state: marks survive a Redis outage; lookups never raise."""

from __future__ import annotations

import json
import logging
import socket

import pytest
import redis

from crawler.distributed.redis_state import RedisArticleState

pytestmark = pytest.mark.redis


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
