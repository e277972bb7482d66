"""Incremental crawl state in Redis, shared by all workers (the ArticleState of crawler.storage.crawl_state)."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

import redis

from crawler.distributed.addon import redis_keys

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings


class RedisArticleState:
    """ArticleState in one Redis hash, `<prefix>:saved`: canonical key -> {url, title, saved_at}."""

    def __init__(self, client: redis.Redis, key: str):
        self.client = client
        self.key = key

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> RedisArticleState:
        """Connect to REDIS_URL and use the crawl's key prefix (SINA_REDIS_KEY_PREFIX)."""
        url = settings.get("REDIS_URL")
        if not url:
            raise ValueError("RedisArticleState needs REDIS_URL")
        client = redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=30)
        return cls(client, redis_keys(settings["SINA_REDIS_KEY_PREFIX"])["saved"])

    def is_saved(self, key: str) -> bool:
        """Tell whether any worker has saved the article with this canonical key."""
        return bool(self.client.hexists(self.key, key))

    def mark_saved(self, key: str, url: str, title: str | None = None) -> None:
        """Record (or refresh) that the article's post is on disk."""
        record = {"url": url, "title": title, "saved_at": time.time()}
        self.client.hset(self.key, key, json.dumps(record, ensure_ascii=False))

    def count(self) -> int:
        """Return how many articles are recorded."""
        return int(self.client.hlen(self.key))

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()
