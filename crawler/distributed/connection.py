"""Reaching Redis: a start-up check that names the server (never the password) in one line."""

from __future__ import annotations

from urllib.parse import urlsplit

import redis

# Seconds the start-up check waits for Redis to answer.
CHECK_TIMEOUT = 5.0


class RedisUnavailable(Exception):
    """Redis cannot be used for this crawl; the message is one line without credentials."""


def redis_address(url: str) -> str:
    """Name the Redis server of a URL as host:port (or the socket path): no user, no password.

    >>> redis_address("redis://:s3cret@10.0.0.5:6380/2")
    '10.0.0.5:6380'
    >>> redis_address("redis://localhost/0"), redis_address("unix:///run/redis.sock")
    ('localhost:6379', '/run/redis.sock')
    """
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return parts.path
    try:
        port = parts.port or 6379
    except ValueError:
        port = "?"
    return f"{parts.hostname or 'localhost'}:{port}"


def check_redis(url: str) -> None:
    """Connect and PING; raise RedisUnavailable saying why, naming only host and port."""
    where = redis_address(url)
    try:
        client = redis.Redis.from_url(
            url, socket_timeout=CHECK_TIMEOUT, socket_connect_timeout=CHECK_TIMEOUT
        )
    except ValueError as exc:
        raise RedisUnavailable(f"REDIS_URL is not a Redis URL ({exc})") from None
    try:
        client.ping()
    except redis.AuthenticationError:
        raise RedisUnavailable(
            f"Redis at {where} refused the connection: wrong or missing password in REDIS_URL"
        ) from None
    except redis.ResponseError as exc:
        # NOAUTH / WRONGPASS and ACL answers arrive as plain error replies on some servers.
        raise RedisUnavailable(f"Redis at {where} refused the connection: {exc}") from None
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        raise RedisUnavailable(f"Redis at {where} is unreachable: {describe(exc)}") from None
    finally:
        client.close()


def describe(exc: BaseException) -> str:
    """Say what went wrong without any part of the URL redis-py may put in its message.

    >>> describe(ConnectionRefusedError(111, "Connection refused"))
    'Connection refused'
    """
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror
    return type(exc).__name__
