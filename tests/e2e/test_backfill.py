"""End-to-end: a 5,000-article backfill never holds more than SINA_DISCOVERY_BACKLOG requests.

Discovery waits for the crawl (crawler.backpressure): the bound is read from the scheduler's
own stats (tests/e2e/backlog_probe.py), never from a memory figure. Every article is one small
sample page (the mobile one) under its own URL, so the crawl stays short on 2 cores.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from benchmarks.standin_many import article_urls
from tests.conftest import PROJECT_ROOT, run_crawl
from tests.standin import FIXTURES, StandIn, as_http, load_fixture_pages, page_key

pytestmark = pytest.mark.e2e

ARTICLES = 5000
BOUND = 100
SAMPLE = "mobile-finance-sina-cn-imizmscv4399613"
T0 = 1715308800  # 2024-05-10 10:40:00 Beijing time; entry i is listed i minutes earlier


@pytest.fixture
def backfill_site():
    fixtures = load_fixture_pages()
    source = (FIXTURES / SAMPLE / "source.json").read_text(encoding="utf-8")
    sample = as_http(json.loads(source)["url"])
    urls = article_urls(ARTICLES, [sample])
    server = StandIn(roll_cap=50, pages={page_key(u): fixtures[page_key(sample)] for u in urls})
    server.add_entries(urls, start=T0)
    server.start()
    yield server, urls
    server.stop()


def test_backfill_backlog_never_exceeds_the_bound(backfill_site, tmp_path):
    standin, urls = backfill_site
    pages = ARTICLES // 50 + 1  # the last one is empty: discovery ends there
    result = run_crawl(
        standin, tmp_path, "-a", f"pages={pages + 5}",
        "-s", "SCHEDULER=tests.e2e.backlog_probe.ProbedScheduler",
        "-s", f"SINA_DISCOVERY_BACKLOG={BOUND}",
        # Discovery and fetching are what is measured: no posts, no export (keeps it short).
        "-s", "ITEM_PIPELINES={}", "-s", "FEEDS={}",
        timeout=280,
    )  # fmt: skip
    assert result.returncode == 0, result.log[-3000:]
    assert result.stat("item_scraped_count") == ARTICLES
    assert result.stat("discovery/listed") == ARTICLES
    assert result.stat("discovery/roll_pages") == pages
    assert result.stat("scheduler/enqueued") == ARTICLES + pages
    # Without backpressure every listed article waits at once (about 5,000 here).
    backlog_max = result.stat("probe/backlog_max")
    assert 0 < backlog_max <= BOUND, backlog_max
    assert (
        f"Discovery: {pages} roll pages read, {ARTICLES} articles listed, {ARTICLES} new; "
        f"lid 2519 {pages} pages (empty page)"
    ) in result.log
    # Fetched in the roll's order, newest first, give or take the requests in flight.
    # (hits is a Counter: its keys are in the order of each URL's first hit).
    positions = {page_key(u): i for i, u in enumerate(urls)}
    fetched = [page_key(u) for u in standin.hits if page_key(u) in positions]
    assert len(fetched) == ARTICLES
    # A request retried under load goes to the back of the queue: allow a few of those.
    late = [(i, positions[k]) for i, k in enumerate(fetched) if abs(positions[k] - i) > 32]
    assert len(late) <= ARTICLES // 100, (len(late), late[:10])


def start_crawl(standin: StandIn, work, *args: str) -> subprocess.Popen:
    """Start `scrapy crawl sina` through the stand-in, in the background (as run_crawl does)."""
    env = {**os.environ, "http_proxy": standin.url, "HTTP_PROXY": standin.url, "no_proxy": ""}
    for variable in ("https_proxy", "HTTPS_PROXY", "REDIS_URL"):
        env.pop(variable, None)
    cmd = [
        sys.executable, "-m", "scrapy", "crawl", "sina",
        "-s", f"SINA_ROLL_API_URL={standin.roll_api_url}",
        "-s", f"CRAWL_STATE_DIR={work / 'state'}",
        "-s", f"MARKDOWN_POSTS_DIR={work / 'posts'}",
        "-s", "AUTOTHROTTLE_ENABLED=False",
        *args,
    ]  # fmt: skip
    with (work / "paused.log").open("w") as log:
        return subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=log)


def test_jobdir_pause_keeps_the_roll_pages_discovery_held_back(tmp_path):
    """A paused job resumes discovery from its parked roll page, and fetches nothing twice."""
    fixtures = load_fixture_pages()
    source = (FIXTURES / SAMPLE / "source.json").read_text(encoding="utf-8")
    sample = as_http(json.loads(source)["url"])
    urls = article_urls(30, [sample])
    standin = StandIn(roll_cap=5, pages={page_key(u): fixtures[page_key(sample)] for u in urls})
    standin.add_entries(urls, start=T0)
    for url in urls:
        standin.set_fault(url, delay=0.3)
    standin.start()
    try:
        jobdir = tmp_path / "job"
        # Room for one roll page (5 entries + itself) at a time: the next one is parked until
        # the last article of the page before has left the scheduler.
        args = ["-a", "pages=10", "-s", f"JOBDIR={jobdir}", "-s", "SINA_ROLL_PAGE_SIZE=5",
                "-s", "SINA_DISCOVERY_BACKLOG=6", "-s", "CONCURRENT_REQUESTS=1"]  # fmt: skip
        proc = start_crawl(standin, tmp_path, *args, "-s", "FEEDS={}")
        deadline = time.monotonic() + 60
        while len(list((tmp_path / "posts").glob("*.md"))) < 7 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)  # one Ctrl-C: finish what is in flight, keep the queue
        assert proc.wait(60) == 1
        paused = len(list((tmp_path / "posts").glob("*.md")))
        assert 7 <= paused < 30
        for url in urls:
            standin.set_fault(url)
        result = run_crawl(standin, tmp_path, *args, name="resume")
        assert result.returncode == 0, result.log[-3000:]
        assert len(result.items) == 30 - paused
        assert len(list((tmp_path / "posts").glob("*.md"))) == 30
        assert set(standin.article_hits().values()) == {1}  # every article once, none twice
        assert len(standin.article_hits()) == 30
        assert len(standin.roll_hits()) == 7  # pages 1-6, then the empty 7th: each once
    finally:
        standin.stop()
