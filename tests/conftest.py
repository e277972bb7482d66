"""Shared fixtures: Redis namespaces, crawlers with the project's settings, the Sina stand-in."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from scrapy.utils.test import get_crawler, get_reactor_settings

from crawler import settings as project_settings_module
from crawler.extensions.offload import OffloadExtension
from tests.standin import StandIn

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import redis
    from scrapy.crawler import Crawler

DEFAULT_TEST_REDIS_URL = "redis://127.0.0.1:6379/15"


@dataclass
class RedisTarget:
    url: str
    prefix: str
    client: redis.Redis

    def keys(self) -> list[str]:
        return sorted(k.decode() for k in self.client.scan_iter(match=f"{self.prefix}:*"))


@pytest.fixture
def redis_target() -> Iterator[RedisTarget]:
    """Redis at TEST_REDIS_URL with a unique key prefix; skip if absent, fail if REQUIRE_REDIS=1."""
    import redis

    url = os.environ.get("TEST_REDIS_URL", DEFAULT_TEST_REDIS_URL)
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        message = f"Redis at {url} does not answer: {exc}"
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail(f"{message} (REQUIRE_REDIS=1, so this is an error, not a skip)")
        pytest.skip(message)
    target = RedisTarget(url, f"test-{uuid.uuid4().hex[:12]}", client)
    yield target
    stale = list(client.scan_iter(match=f"{target.prefix}:*"))
    if stale:
        client.delete(*stale)
    client.close()


# --- Crawlers configured like the real crawl ------------------------------------------------


@pytest.fixture
def project_crawler() -> Iterator[Callable[..., Crawler]]:
    """Build crawlers from crawler/settings.py plus overrides, extraction in a worker thread.

    `project_crawler(spidercls=None, **settings)`: a crawler with its extensions (the
    OffloadExtension among them) but no engine; each one's executors stop after the test.
    """
    project = {
        name: getattr(project_settings_module, name)
        for name in dir(project_settings_module)
        if name.isupper()
    }
    built: list[Crawler] = []

    def build(spidercls: type | None = None, **settings: object) -> Crawler:
        overrides = {**get_reactor_settings(), "SINA_WORKER_PROCESSES": 0, **settings}
        crawler = get_crawler(spidercls, {**project, **overrides})
        built.append(crawler)
        return crawler

    yield build
    for crawler in built:
        extension = crawler.get_extension(OffloadExtension)
        if extension is not None:
            extension.engine_stopped()


# --- The offline stand-in for Sina, and real `scrapy crawl` runs through it -------------------

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def standin() -> Iterator[StandIn]:
    """A fresh stand-in for Sina on 127.0.0.1:<free port>, 5 roll entries a page, nothing listed."""
    server = StandIn(roll_cap=5)
    server.start()
    yield server
    server.stop()


@dataclass
class CrawlResult:
    returncode: int
    log: str
    items: list[dict]

    def stat(self, name: str) -> object:
        """A value from the closing stats dump ('downloader/response_status_count/404': 1)."""
        match = re.search(rf"'{re.escape(name)}': ([^,\n}}]+)", self.log)
        return ast.literal_eval(match.group(1)) if match else None


def run_crawl(
    standin: StandIn, work: Path, *args: str, name: str = "crawl", timeout: float = 120
) -> CrawlResult:
    """Run `scrapy crawl sina` through the stand-in (as an HTTP proxy), state and posts in `work`."""
    feed = work / f"{name}.jsonl"
    env = {
        **os.environ,
        "http_proxy": standin.url,
        "HTTP_PROXY": standin.url,
        "no_proxy": "",
        "NO_PROXY": "",
    }
    # Single-machine crawls: a REDIS_URL exported in the developer's shell must not turn them
    # into distributed ones, nor an https proxy route around the stand-in.
    for variable in ("https_proxy", "HTTPS_PROXY", "REDIS_URL"):
        env.pop(variable, None)
    cmd = [
        sys.executable, "-m", "scrapy", "crawl", "sina",
        "-s", "LOG_LEVEL=INFO",
        "-s", f"SINA_ROLL_API_URL={standin.roll_api_url}",
        "-s", f"CRAWL_STATE_DIR={work / 'state'}",
        "-s", f"MARKDOWN_POSTS_DIR={work / 'posts'}",
        "-s", "AUTOTHROTTLE_ENABLED=False",
        "-s", "FEEDS=" + json.dumps({str(feed): {"format": "jsonlines", "overwrite": True}}),
        *args,  # last, so a test's own -s wins
    ]  # fmt: skip
    proc = subprocess.run(
        cmd, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    (work / f"{name}.log").write_text(proc.stderr + proc.stdout, encoding="utf-8")
    lines = feed.read_text(encoding="utf-8").splitlines() if feed.exists() else []
    items = [json.loads(line) for line in lines if line.strip()]
    return CrawlResult(proc.returncode, proc.stderr + proc.stdout, items)
