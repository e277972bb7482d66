"""End-to-end distributed mode: `scrapy crawl sina` workers on one Redis against the stand-in."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT
from tests.e2e.samples import T0
from tests.standin import ROLL_PATH, StandIn, load_fixture_pages, page_key

pytestmark = [pytest.mark.e2e, pytest.mark.redis]

SAMPLE = "news.sina.com.cn/c/2024-05-10/doc-inausehc2630922.shtml"
SAMPLE_TITLE = "城市有轨电车之困：一边争相上马，一边接连叫停"
ARTICLES = 36
# The sample page under 36 URLs with their own doc ids: 36 distinct articles to Sina's eyes.
URLS = [f"http://news.sina.com.cn/c/2024-05-10/doc-inausehc{n:07d}.shtml" for n in range(ARTICLES)]


@pytest.fixture
def site() -> StandIn:
    pages = load_fixture_pages()
    standin = StandIn(roll_cap=5, pages={page_key(u): pages[SAMPLE] for u in URLS})
    standin.add_entries(URLS, start=T0)
    # Slow roll pages (9 of them, read one after another) stretch the crawl over several
    # seconds, so the worker whose start request was filtered gets a share of the articles.
    for page in range(1, 10):
        standin.set_roll_fault(page, delay=0.8)
    for url in URLS:
        standin.set_fault(url, delay=0.3)
    standin.start()
    yield standin
    standin.stop()


@dataclass
class Worker:
    name: str
    proc: subprocess.Popen
    feed: Path
    log_path: Path

    def wait(self, timeout: float) -> str:
        self.proc.wait(timeout=timeout)
        return self.log_path.read_text(encoding="utf-8")

    def items(self) -> list[dict]:
        return [json.loads(line) for line in self.feed.read_text(encoding="utf-8").splitlines()]


def start_worker(name: str, site: StandIn, redis_target, work: Path) -> Worker:
    """Start `scrapy crawl sina` in distributed mode; posts go to the shared `work/posts`."""
    feed = work / f"{name}.jsonl"
    log_path = work / f"{name}.log"
    env = {
        **os.environ,
        "REDIS_URL": redis_target.url,
        "http_proxy": site.url,
        "HTTP_PROXY": site.url,
        "no_proxy": "",
        "NO_PROXY": "",
    }
    env.pop("https_proxy", None)
    env.pop("HTTPS_PROXY", None)
    cmd = [
        sys.executable, "-m", "scrapy", "crawl", "sina", "-a", "pages=20",
        "-s", "LOG_LEVEL=INFO",
        "-s", f"SINA_ROLL_API_URL={site.roll_api_url}",
        "-s", f"SINA_REDIS_KEY_PREFIX={redis_target.prefix}",
        "-s", f"SINA_REDIS_WORKER_ID={name}",
        "-s", "SINA_REDIS_IDLE_TIMEOUT=2",
        "-s", "SINA_REDIS_WORKER_TTL=3",
        "-s", "CONCURRENT_REQUESTS=4",
        "-s", f"CRAWL_STATE_DIR={work / name / 'state'}",  # per machine: its own run lock
        "-s", f"MARKDOWN_POSTS_DIR={work / 'posts'}",  # the shared mount
        "-s", "AUTOTHROTTLE_ENABLED=False",
        "-s", "FEEDS=" + json.dumps({str(feed): {"format": "jsonlines", "overwrite": True}}),
    ]  # fmt: skip
    log = log_path.open("w", encoding="utf-8")
    proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    return Worker(name, proc, feed, log_path)


def posts(work: Path) -> list[Path]:
    return sorted((work / "posts").rglob("*.md"))


def test_two_workers_save_every_article_once_and_exit_by_themselves(site, redis_target, tmp_path):
    workers = [start_worker(name, site, redis_target, tmp_path) for name in ("w1", "w2")]
    logs = [w.wait(timeout=120) for w in workers]
    for worker, log in zip(workers, logs, strict=True):
        assert worker.proc.returncode == 0, log
        assert "'finish_reason': 'finished'" in log, log
        assert "'redis/idle_exit': 1" in log, log
        assert "Traceback" not in log, log

    # Every article fetched once, every roll page fetched once, by one worker or the other.
    assert site.article_hits() == {page_key(u): 1 for u in URLS}
    roll_pages = Counter(u.rsplit("page=", 1)[1].split("&")[0] for u in site.roll_hits())
    assert roll_pages == Counter({str(p): 1 for p in range(1, 10)})  # 5 a page: 9 is empty
    items = [item for w in workers for item in w.items()]
    assert sorted(item["url"] for item in items) == sorted(URLS)
    assert {item["title"] for item in items} == {SAMPLE_TITLE}
    assert all(w.items() for w in workers), [len(w.items()) for w in workers]
    assert len(posts(tmp_path)) == ARTICLES
    assert len({p.name for p in posts(tmp_path)}) == ARTICLES
    # The shared state knows all of them; queue, dupefilter, leases and in-flight sets are gone.
    assert redis_target.client.hlen(f"{redis_target.prefix}:saved") == ARTICLES
    assert redis_target.keys() == [f"{redis_target.prefix}:saved"]


def test_a_killed_worker_loses_nothing_the_survivor_finishes(site, redis_target, tmp_path):
    victim = start_worker("victim", site, redis_target, tmp_path)
    survivor = start_worker("survivor", site, redis_target, tmp_path)
    inflight = f"{redis_target.prefix}:inflight:victim"
    deadline = time.monotonic() + 60
    # Kill it mid-crawl, while it holds popped requests and some posts are written.
    while not (len(posts(tmp_path)) >= 3 and redis_target.client.zcard(inflight) > 0):
        assert time.monotonic() < deadline, "the crawl never got going"
        assert victim.proc.poll() is None, victim.log_path.read_text(encoding="utf-8")
        time.sleep(0.05)
    held = redis_target.client.zcard(inflight)
    victim.proc.send_signal(signal.SIGKILL)
    victim.proc.wait(timeout=10)
    saved_before = len(posts(tmp_path))

    log = survivor.wait(timeout=120)
    assert survivor.proc.returncode == 0, log
    assert "'finish_reason': 'finished'" in log, log
    assert "Worker victim stopped renewing its lease; requeued its" in log, log
    assert "'redis/requeued': " in log, log

    # All articles are saved, once each on disk and in the shared state.
    assert saved_before < ARTICLES
    assert len(posts(tmp_path)) == ARTICLES
    assert redis_target.client.hlen(f"{redis_target.prefix}:saved") == ARTICLES
    assert {page_key(u) for u in URLS} == set(site.article_hits())
    # At least once: only what the victim held when it died may have been fetched twice.
    refetched = sum(n - 1 for n in site.article_hits().values())
    assert refetched <= held
    assert all(ROLL_PATH in u for u in site.roll_hits())
    assert redis_target.keys() == [f"{redis_target.prefix}:saved"]
