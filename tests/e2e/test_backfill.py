"""End-to-end: a 5,000-article backfill never holds more than SINA_DISCOVERY_BACKLOG requests.

Discovery waits for the crawl (crawler.backpressure): the bound is read from the scheduler's
own stats (tests/e2e/backlog_probe.py), never from a memory figure. Every article is one small
sample page (the mobile one) under its own URL, so the crawl stays short on 2 cores.
"""

from __future__ import annotations

import json

import pytest

from benchmarks.standin_many import article_urls
from tests.conftest import run_crawl
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
        "-s", "FEEDS={}",
        timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.log[-3000:]
    assert result.stat("item_scraped_count") == ARTICLES
    assert result.stat("discovery/listed") == ARTICLES
    assert result.stat("discovery/roll_pages") == pages
    assert result.stat("scheduler/enqueued") == ARTICLES + pages
    # Without backpressure every listed article waits at once (about 5,000 here).
    backlog_max = result.stat("probe/backlog_max")
    assert BOUND // 2 <= backlog_max <= BOUND, backlog_max
    assert (
        f"Discovery: {pages} roll pages read, {ARTICLES} articles listed, {ARTICLES} new; "
        f"lid 2519 {pages} pages (empty page)"
    ) in result.log
    # Fetched in the roll's order, newest first, give or take the requests in flight.
    # (hits is a Counter: its keys are in the order of each URL's first hit).
    positions = {page_key(u): i for i, u in enumerate(urls)}
    fetched = [page_key(u) for u in standin.hits if page_key(u) in positions]
    assert len(fetched) == ARTICLES
    assert all(abs(positions[k] - i) <= 32 for i, k in enumerate(fetched))
