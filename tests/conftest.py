"""Shared fixtures and helpers: a private Redis namespace, the stand-in, sample items."""

from __future__ import annotations

import ast
import asyncio
import json
import os
import re
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler, get_reactor_settings

from crawler import settings as project_settings_module
from crawler.extensions.offload import OffloadExtension
from crawler.items import ArticleItem
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


E2E_TESTS = Path(__file__).resolve().parent / "e2e"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse unmarked slow tests, so `make test-fast` (-m "not e2e and not redis") stays fast
    and Redis-free: every test under tests/e2e/ needs the e2e marker, every test that uses
    `redis_target` the redis marker."""
    unmarked = [
        f"{item.nodeid} (needs pytest.mark.{marker})"
        for item in items
        for marker, needed in (
            ("e2e", E2E_TESTS in item.path.parents),
            ("redis", "redis_target" in getattr(item, "fixturenames", ())),
        )
        if needed and item.get_closest_marker(marker) is None
    ]
    if unmarked:
        raise pytest.UsageError("unmarked tests: " + ", ".join(unmarked))


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

    def accounting(self) -> dict[str, int]:
        """The close-time summary's counts, asserted to add up (listed = saved + ... + failed)."""
        return accounted(self.log)


SUMMARY = re.compile(
    r"Crawl summary: (?P<listed>\d+) listed = (?P<saved>\d+) saved \+ (?P<unchanged>\d+) unchanged"
    r" \+ (?P<skipped>\d+) skipped \+ (?P<failed>\d+) failed"
)


def accounted(log: str) -> dict[str, int]:
    """Parse the one summary line of a crawl log; assert its counts add up and return them."""
    found = SUMMARY.findall(log)
    assert len(found) == 1, f"expected one summary line, found {len(found)}"
    counts = {k: int(v) for k, v in SUMMARY.search(log).groupdict().items()}
    parts = counts["saved"] + counts["unchanged"] + counts["skipped"] + counts["failed"]
    assert counts["listed"] == parts, f"the summary does not add up: {counts}"
    return counts


def crawl_command(
    standin: StandIn, work: Path, *args: str, name: str = "crawl"
) -> tuple[list[str], dict[str, str]]:
    """The command line and environment of `run_crawl` (for tests that run it themselves)."""
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
    return cmd, env


def run_crawl(
    standin: StandIn, work: Path, *args: str, name: str = "crawl", timeout: float = 120
) -> CrawlResult:
    """Run `scrapy crawl sina` through the stand-in (as an HTTP proxy), state and posts in `work`."""
    feed = work / f"{name}.jsonl"
    cmd, env = crawl_command(standin, work, *args, name=name)
    proc = subprocess.run(
        cmd, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    (work / f"{name}.log").write_text(proc.stderr + proc.stdout, encoding="utf-8")
    lines = feed.read_text(encoding="utf-8").splitlines() if feed.exists() else []
    items = [json.loads(line) for line in lines if line.strip()]
    return CrawlResult(proc.returncode, proc.stderr + proc.stdout, items)


# --- A sample article item, and components built from settings for the pipeline tests ---------

SHANGHAI = ZoneInfo("Asia/Shanghai")


def make_item(**changes) -> ArticleItem:
    fields = {
        "url": "https://finance.sina.com.cn/roll/2022-08-01/doc-imizmscv4373413.shtml",
        "doc_id": "imizmscv4373413",
        "title": "标题：一",
        "author": "上海证券报",
        "date": datetime(2022, 8, 1, 11, 23, 57, tzinfo=SHANGHAI),
        "body": "<div><p>　　正文第一段。</p></div>",
        "channel": "国内",
    }
    fields.update(changes)
    return ArticleItem(**fields)


def project_settings(**overrides: object) -> dict[str, object]:
    """crawler/settings.py as a dict, plus overrides; extraction in a thread, not a process."""
    project = {
        name: getattr(project_settings_module, name)
        for name in dir(project_settings_module)
        if name.isupper()
    }
    return {**project, **get_reactor_settings(), "SINA_WORKER_PROCESSES": 0, **overrides}


def build(cls, **settings):
    """Build a component the way the crawl does: the project's settings plus overrides."""
    crawler = get_crawler(settings_dict=project_settings(**settings))
    return build_from_crawler(cls, crawler), crawler.stats


def process(pipe, item):
    """Run a pipeline's async process_item to completion, as the engine awaits it."""
    return asyncio.run(pipe.process_item(item))


@pytest.fixture
def project_crawler() -> Iterator[Callable[..., Crawler]]:
    """Build crawlers from crawler/settings.py plus overrides, extraction in a worker thread.

    `project_crawler(spidercls=None, **settings)`: a crawler with its extensions (the
    OffloadExtension among them) but no engine; each one's executors stop after the test.
    """
    built: list[Crawler] = []

    def build_crawler(spidercls: type | None = None, **settings: object) -> Crawler:
        crawler = get_crawler(spidercls, project_settings(**settings))
        built.append(crawler)
        return crawler

    yield build_crawler
    for crawler in built:
        extension = crawler.get_extension(OffloadExtension)
        if extension is not None:
            extension.engine_stopped()


def process_alive(pid: int) -> bool:
    """Tell whether the process runs (a zombie, exited but not yet reaped, does not count)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
