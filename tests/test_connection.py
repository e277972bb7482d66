"""crawler.distributed.connection: the start-up check names host and port, never the password."""

from __future__ import annotations

import socket

import pytest

from crawler.distributed.connection import RedisUnavailable, check_redis, redis_address


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("redis://:pw@127.0.0.1:6380/1", "127.0.0.1:6380"),
        ("redis://user:pw@[::1]:7000", "::1:7000"),
        ("rediss://cache.example", "cache.example:6379"),
        ("redis://h:notaport/0", "h:?"),
        ("unix:///run/redis.sock?db=0", "/run/redis.sock"),
    ],
)
def test_redis_address(url, address):
    assert redis_address(url) == address


def test_unreachable_names_host_and_port_only():
    port = free_port()
    with pytest.raises(RedisUnavailable) as caught:
        check_redis(f"redis://:hunter2@127.0.0.1:{port}/0")
    assert str(caught.value) == f"Redis at 127.0.0.1:{port} is unreachable: Connection refused"


def test_not_a_redis_url():
    with pytest.raises(RedisUnavailable, match=r"^REDIS_URL is not a Redis URL \("):
        check_redis("http://127.0.0.1:6379/0")
