"""Incremental crawl state in Redis, shared by all workers (the ArticleState of crawler.storage.crawl_state)."""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING

import redis

from crawler.distributed.addon import redis_keys
from crawler.distributed.connection import redis_address
from crawler.distributed.outage import REDIS_DOWN

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)


class RedisArticleState:
    """ArticleState in one Redis hash, `<prefix>:saved`: canonical key -> {url, title, saved_at}."""

    def __init__(self, client: redis.Redis, key: str, address: str = "redis"):
        self.client = client
        self.key = key
        self.address = address
        # Marks Redis did not take (it was away): written with the next mark that gets through.
        self._pending: dict[str, str] = {}

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> RedisArticleState:
        """Connect to REDIS_URL and use the crawl's key prefix (SINA_REDIS_KEY_PREFIX)."""
        url = settings.get("REDIS_URL")
        if not url:
            raise ValueError("RedisArticleState needs REDIS_URL")
        client = redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=30)
        key = redis_keys(settings["SINA_REDIS_KEY_PREFIX"])["saved"]
        return cls(client, key, redis_address(url))

    def is_saved(self, key: str) -> bool:
        """Tell whether any worker has saved the article with this canonical key.

        While Redis is away the answer is no: the article is fetched (its post rewritten
        unchanged at worst) rather than lost. The scheduler reports the outage.
        """
        if key in self._pending:
            return True
        try:
            return bool(self.client.hexists(self.key, key))
        except REDIS_DOWN:
            return False

    def mark_saved(self, key: str, url: str, title: str | None = None) -> None:
        """Record (or refresh) that the article's post is on disk; kept in memory if Redis is away."""
        record = {"url": url, "title": title, "saved_at": time.time()}
        self._pending[key] = json.dumps(record, ensure_ascii=False)
        try:
            self.client.hset(self.key, mapping=self._pending)
        except REDIS_DOWN:
            return
        self._pending.clear()

    def count(self) -> int:
        """Return how many articles are recorded."""
        return int(self.client.hlen(self.key))

    def close(self) -> None:
        """Write any marks held back by an outage, then close the connection pool."""
        if self._pending:
            try:
                self.client.hset(self.key, mapping=self._pending)
                self._pending.clear()
            except REDIS_DOWN:
                # Their posts are on disk; the next crawl fetches them again and rewrites
                # the posts unchanged.
                logger.warning(
                    "Redis at %s is unreachable at close: %d saved articles are not marked",
                    self.address,
                    len(self._pending),
                )
        self.client.close()
