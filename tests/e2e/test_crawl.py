"""End-to-end: real `scrapy crawl sina` processes against the offline stand-in for Sina."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time

import pytest

from tests.conftest import PROJECT_ROOT, accounted, run_crawl
from tests.e2e.samples import T0, URLS, expected, titles_by_key
from tests.standin import FIXTURES, Page, page_key

pytestmark = pytest.mark.e2e


def test_explicit_urls_give_one_item_each(standin, tmp_path):
    urls = URLS[:3]
    result = run_crawl(standin, tmp_path, "-a", "urls=" + ",".join(urls))
    assert result.returncode == 0, result.log
    assert titles_by_key(result.items) == expected(urls)
    assert len(result.items) == 3
    assert len(list((tmp_path / "posts").rglob("*.md"))) == 3
    assert standin.article_hits() == {page_key(u): 1 for u in urls}
    assert standin.roll_hits() == []  # explicit mode discovers nothing


def test_discovery_rerun_and_new_entries(standin, tmp_path):
    first, later = URLS[:8], URLS[8:]
    standin.add_entries(first, start=T0)

    result = run_crawl(standin, tmp_path, "-a", "pages=10", name="first")
    assert result.returncode == 0, result.log
    assert titles_by_key(result.items) == expected(first)
    assert len(result.items) == 8
    assert {item["channel"] for item in result.items} == {"财经"}  # default lid 2519
    assert standin.article_hits() == {page_key(u): 1 for u in first}
    # 5 entries a page: pages 1 and 2 list articles, page 3 is empty and ends the channel.
    assert [u.rsplit("page=", 1)[1] for u in standin.roll_hits()] == ["1", "2", "3"]
    assert "Roll lid 2519 ends at page 3 (empty)" in result.log

    rerun = run_crawl(standin, tmp_path, "-a", "pages=10", name="rerun")
    assert rerun.returncode == 0, rerun.log
    assert rerun.items == []
    assert standin.article_hits() == {page_key(u): 1 for u in first}  # nothing fetched again
    assert rerun.stat("discovery/already_saved") == 8

    standin.add_entries(later, start=T0 + 3600)  # two newer articles on top of the roll
    third = run_crawl(standin, tmp_path, "-a", "pages=10", name="third")
    assert third.returncode == 0, third.log
    assert titles_by_key(third.items) == expected(later)
    assert standin.article_hits() == {page_key(u): 1 for u in URLS}


def test_explicit_then_discovered_is_the_same_article(standin, tmp_path):
    given = URLS[:2]
    assert run_crawl(standin, tmp_path, "-a", "urls=" + ",".join(given)).returncode == 0
    # The roll lists the same two as https (and the doc-id one as a mobile page) plus one new.
    standin.add_entries(
        [
            given[0].replace("http://", "https://"),
            "https://finance.sina.cn/2018-12-28/detail-ihqfskcn2160999.d.html",
            given[1].replace("http://", "https://") + "?from=roll",
            URLS[2],
        ],
        start=T0,
    )
    result = run_crawl(standin, tmp_path, "-a", "pages=2", name="discovery")
    assert result.returncode == 0, result.log
    assert titles_by_key(result.items) == expected([URLS[2]])
    assert standin.article_hits() == {page_key(u): 1 for u in URLS[:3]}


def test_refresh_fetches_saved_articles_again(standin, tmp_path):
    standin.add_entries(URLS[:2], start=T0)
    assert run_crawl(standin, tmp_path, name="first").returncode == 0
    result = run_crawl(standin, tmp_path, "-a", "refresh=1", name="refresh")
    assert result.returncode == 0, result.log
    assert titles_by_key(result.items) == expected(URLS[:2])
    assert standin.article_hits() == {page_key(u): 2 for u in URLS[:2]}
    # The posts on disk were already the same: fetched and exported again, counted unchanged.
    assert result.accounting() == {
        "listed": 2,
        "saved": 0,
        "unchanged": 2,
        "skipped": 0,
        "failed": 0,
    }


def test_since_until_and_channel(standin, tmp_path):
    standin.add_entries(URLS, start=T0)  # entry i at 10:40 - i minutes
    result = run_crawl(
        standin,
        tmp_path,
        "-a", "lids=港股",
        "-a", "since=2024-05-10 10:34",
        "-a", "until=2024-05-10 10:38",
        "-a", "pages=10",
    )  # fmt: skip
    assert result.returncode == 0, result.log
    # 10:38 .. 10:34 are entries 2..6; entry 7 (10:33) on page 2 stops the pagination.
    assert titles_by_key(result.items) == expected(URLS[2:7])
    assert {item["channel"] for item in result.items} == {"港股"}
    assert [u.rsplit("page=", 1)[1] for u in standin.roll_hits()] == ["1", "2"]
    assert all("lid=2674" in u and "pageid=384" in u for u in standin.roll_hits())


def test_overlapping_run_crawls_nothing(standin, tmp_path):
    slow = URLS[0]
    standin.add_entries([slow], start=T0)
    standin.set_fault(slow, delay=4)
    outcome = {}
    worker = threading.Thread(
        target=lambda: outcome.setdefault("slow", run_crawl(standin, tmp_path, name="slow"))
    )
    worker.start()
    deadline = time.monotonic() + 30
    # Until the slow run has read both roll pages (1 entry, then empty) and waits on its article.
    while (not standin.article_hits() or len(standin.roll_hits()) < 2) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.05)
    before = dict(standin.hits)
    second = run_crawl(standin, tmp_path, name="overlap")
    worker.join(60)
    assert second.returncode == 0, second.log
    assert second.stat("finish_reason") == "locked"
    assert "Another crawl holds" in second.log
    assert f"{tmp_path / 'state' / 'crawl.lock'}" in second.log
    assert second.items == []
    assert dict(standin.hits) == before  # not one request from the overlapping run
    assert second.stat("downloader/request_count") is None
    slow_run = outcome["slow"]
    assert slow_run.returncode == 0, slow_run.log
    assert titles_by_key(slow_run.items) == expected([slow])


def test_lock_is_released_by_a_killed_run(standin, tmp_path):
    slow = URLS[0]
    standin.add_entries([slow], start=T0)
    standin.set_fault(slow, delay=30)
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "scrapy", "crawl", "sina",
            "-s", f"CRAWL_STATE_DIR={tmp_path / 'state'}",
            "-s", f"SINA_ROLL_API_URL={standin.roll_api_url}",
            "-s", f"MARKDOWN_POSTS_DIR={tmp_path / 'posts'}",
            "-s", "FEEDS={}",
        ],
        cwd=PROJECT_ROOT,
        env={**os.environ, "http_proxy": standin.url, "no_proxy": ""},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not standin.article_hits() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert standin.article_hits(), "the first run never reached its article"
    finally:
        proc.kill()  # SIGKILL: no cleanup code runs, only the OS drops the flock
        proc.wait(10)
    standin.set_fault(slow)  # answer normally now
    result = run_crawl(standin, tmp_path, name="after-kill")
    assert result.returncode == 0, result.log
    assert titles_by_key(result.items) == expected([slow])


def test_404_500_reset_and_slow_articles(standin, tmp_path):
    good = URLS[:4]
    missing = "http://finance.sina.com.cn/roll/2024-01-01/doc-imissing0000001.shtml"
    broken, reset, slow = URLS[4], URLS[5], URLS[6]
    standin.set_fault(broken, status=500)
    standin.set_fault(reset, reset=True)
    standin.set_fault(slow, slow_body=1.0)
    standin.add_entries([*good, missing, broken, reset, slow], start=T0)
    result = run_crawl(standin, tmp_path, "-a", "pages=5")
    assert result.returncode == 0, result.log  # 3 of 8 failed: not "most"
    assert titles_by_key(result.items) == expected([*good, slow])
    assert f"Dropped {missing}: HTTP 404" in result.log
    assert f"Dropped {broken}: HTTP 500" in result.log
    assert f"Dropped {reset}: " in result.log
    assert f"failed: {missing} (HTTP 404)" in result.log  # the close-time summary
    assert result.accounting() == {
        "listed": 8,
        "saved": 5,
        "unchanged": 0,
        "skipped": 0,
        "failed": 3,
    }
    assert result.stat("downloader/response_status_count/404") == 1
    hits = standin.article_hits()
    assert hits[page_key(broken)] == 4  # the first try and RETRY_TIMES = 3 retries
    assert hits[page_key(missing)] == 1

    # Failed articles were not marked saved: the next run tries them (and only them) again.
    standin.set_fault(broken)
    again = run_crawl(standin, tmp_path, "-a", "pages=5", name="again")
    assert titles_by_key(again.items) == expected([broken])
    assert standin.article_hits()[page_key(good[0])] == 1


def test_blocked_answers_slow_down_and_retry(standin, tmp_path):
    blocked = URLS[0]
    standin.set_fault(blocked, status=456)
    result = run_crawl(standin, tmp_path, "-a", f"urls={blocked}", "-s", "SLOWDOWN_START_DELAY=0.2")
    assert result.returncode == 1, result.log  # the only article failed
    assert result.stat("slowdown/456") == 4
    assert "Sina answered 456 (slow down)" in result.log
    assert "delay now 0.4s" in result.log  # doubled from the start delay
    assert f"Dropped {blocked}: HTTP 456" in result.log
    assert standin.article_hits() == {page_key(blocked): 4}


def test_most_articles_failing_is_a_failed_crawl(standin, tmp_path):
    standin.add_entries(URLS[:3], start=T0)
    for url in URLS[:2]:
        standin.set_fault(url, status=404)
    result = run_crawl(standin, tmp_path)
    assert result.returncode == 1, result.log
    assert "Crawl failed: most article pages failed: 2 of 3" in result.log
    assert "coverage: title 1/1, author 1/1, date 1/1, body 1/1" in result.log


def test_broken_roll_pages(standin, tmp_path):
    standin.add_entries(URLS, start=T0)
    standin.set_roll_fault(2, roll="invalid_json")
    result = run_crawl(standin, tmp_path, "-a", "pages=10")
    assert result.returncode == 0, result.log
    page2 = "http://feed.mix.sina.com.cn/api/roll/get?pageid=384&lid=2519&num=50&page=2"
    assert f"Broken roll page: roll API answer is not JSON: {page2}" in result.log
    assert titles_by_key(result.items) == expected(URLS[:5])

    standin.set_roll_fault(2, roll="nonzero")
    result = run_crawl(standin, tmp_path, "-a", "pages=10", name="nonzero")
    assert f"Broken roll page: roll API status code 1 (lid error): {page2}" in result.log
    assert result.returncode == 0, result.log


def test_roll_api_unreachable_exits_nonzero(standin, tmp_path):
    standin.add_entries(URLS[:2], start=T0)
    standin.set_roll_fault(1, reset=True)
    result = run_crawl(standin, tmp_path)
    assert result.returncode == 1, result.log
    assert "Roll API unreachable: http://feed.mix.sina.com.cn/api/roll/get?" in result.log
    assert "Crawl failed: roll API unreachable" in result.log
    assert standin.article_hits() == {}


def test_opml_directory_and_rss_feed(standin, tmp_path):
    opml = "http://rss.sina.com.cn/opml/sina_all_opml.xml"
    feed = "http://rss.sina.com.cn/roll/finance/hot_roll.xml"  # listed in the OPML
    standin.pages[page_key(opml)] = Page(
        (FIXTURES / "feeds" / "rss-sina-all-opml.xml").read_bytes(), "text/xml"
    )
    items = "".join(
        f"<item><title>t</title><link>{u}</link>"
        f"<pubDate>Fri, 10 May 2024 0{i}:00:00 +0800</pubDate></item>"
        for i, u in enumerate(URLS[:2])
    )
    rss = f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>财经要闻</title>{items}</channel></rss>'
    standin.pages[page_key(feed)] = Page(rss.encode(), "application/rss+xml")
    result = run_crawl(standin, tmp_path, "-a", f"feeds={opml}")
    assert result.returncode == 0, result.log
    assert titles_by_key(result.items) == expected(URLS[:2])
    assert result.stat("feeds/read") == 2  # the OPML directory and the one feed that exists
    hits = standin.article_hits()
    assert hits[page_key(feed)] == 1
    # The OPML, its 167 feeds (166 of them 404 here, each logged), and the two articles.
    assert sum(hits.values()) == 1 + 167 + 2
    assert result.stat("feeds/failed") == 166
    assert standin.roll_hits() == []  # feeds alone: no roll channel unless lids= is given


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-a", "pages=abc"], "pages must be a positive integer, got 'abc'"),
        (
            ["-a", "since=yesterday"],
            "since must be a date (2024-05-10) or datetime (2024-05-10 08:30), got 'yesterday'",
        ),
        (
            ["-a", "lids=crypto"],
            "unknown channel 'crypto'; see the channels table in README (Usage)",
        ),
        (
            ["-a", "urls_file=/nonexistent/urls.txt"],
            "urls_file: cannot read '/nonexistent/urls.txt': No such file or directory",
        ),
    ],
)
def test_bad_arguments_fail_before_crawling(standin, tmp_path, args, message):
    result = run_crawl(standin, tmp_path, *args)
    assert result.returncode == 2
    assert result.log.strip() == f"scrapy crawl sina: error: {message}"
    assert not (tmp_path / "state").exists()
    assert dict(standin.hits) == {}


def test_urls_file(standin, tmp_path):
    listing = tmp_path / "urls.txt"
    listing.write_text(f"# two articles\n{URLS[3]}\n\n{URLS[4]}  # the 2005 one\n", "utf-8")
    result = run_crawl(standin, tmp_path, "-a", f"urls_file={listing}")
    assert result.returncode == 0, result.log
    assert titles_by_key(result.items) == expected(URLS[3:5])


def test_jobdir_run_completes_and_records_state(standin, tmp_path):
    standin.add_entries(URLS[:3], start=T0)
    jobdir = tmp_path / "job"
    result = run_crawl(standin, tmp_path, "-s", f"JOBDIR={jobdir}")
    assert result.returncode == 0, result.log
    assert len(result.items) == 3
    assert (jobdir / "requests.seen").exists()
    assert result.stat("finish_reason") == "finished"


def readme_crontab_line() -> str:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```crontab\n(.+?)\n```", readme, re.DOTALL)
    assert block, "README has no crontab block"
    return block.group(1).strip()


def run_cron_line(standin, tmp_path) -> subprocess.CompletedProcess:
    """Run the README's crontab command the way cron does: /bin/sh, bare environment."""
    line = readme_crontab_line()
    command = line.split(None, 5)[5]  # drop the five schedule fields
    overrides = " ".join(
        f"-s {shlex.quote(s)}"
        for s in (
            f"SINA_ROLL_API_URL={standin.roll_api_url}",
            f"CRAWL_STATE_DIR={tmp_path / 'state'}",
            f"MARKDOWN_POSTS_DIR={tmp_path / 'posts'}",
            "FEEDS=" + json.dumps({str(tmp_path / "items.jsonl"): {"format": "jsonlines"}}),
        )
    )
    command = command.replace("/srv/sina-finance-crawler", shlex.quote(str(PROJECT_ROOT)), 1)
    command = command.replace("crawl sina", f"crawl sina {overrides}", 1)
    command = command.replace("output/crawl.log", str(tmp_path / "crawl.log"), 1)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SHELL": "/bin/sh"}
    env["http_proxy"] = standin.url  # the stand-in plays Sina; a real crontab has no proxy
    return subprocess.run(
        ["/bin/sh", "-c", command],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_readme_crontab_line(standin, tmp_path):
    assert readme_crontab_line().startswith("*/10 * * * * cd /srv/sina-finance-crawler && ")
    standin.add_entries(URLS[:2], start=T0)
    good = run_cron_line(standin, tmp_path)
    assert (good.returncode, good.stdout, good.stderr) == (0, "", "")  # cron mails nothing
    log = (tmp_path / "crawl.log").read_text(encoding="utf-8")
    assert accounted(log)["saved"] == 2
    assert accounted(log)["failed"] == 0
    assert len(list((tmp_path / "posts").glob("*.md"))) == 2

    standin.set_roll_fault(1, reset=True)
    bad = run_cron_line(standin, tmp_path)
    assert bad.stdout == "sina crawl failed with exit status 1; see output/crawl.log\n"
    assert "Crawl failed: roll API unreachable" in (tmp_path / "crawl.log").read_text("utf-8")


def test_jobdir_backfill_pauses_and_resumes(standin, tmp_path):
    urls = URLS[:6]
    standin.add_entries(urls, start=T0)
    for url in urls[1:]:
        standin.set_fault(url, delay=1.5)
    jobdir = tmp_path / "job"
    args = [
        sys.executable, "-m", "scrapy", "crawl", "sina", "-a", "pages=5",
        "-s", f"JOBDIR={jobdir}",
        "-s", f"SINA_ROLL_API_URL={standin.roll_api_url}",
        "-s", f"CRAWL_STATE_DIR={tmp_path / 'state'}",
        "-s", f"MARKDOWN_POSTS_DIR={tmp_path / 'posts'}",
        "-s", "FEEDS={}", "-s", "CONCURRENT_REQUESTS=1", "-s", "AUTOTHROTTLE_ENABLED=False",
    ]  # fmt: skip
    env = {**os.environ, "http_proxy": standin.url, "no_proxy": ""}
    proc = subprocess.Popen(
        args, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 30
    while len(list((tmp_path / "posts").glob("*.md"))) < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)  # one Ctrl-C: finish in-flight requests, keep the queue
    assert proc.wait(60) == 1  # cut short: not a finished crawl
    paused = len(list((tmp_path / "posts").glob("*.md")))
    assert 1 <= paused < 6
    for url in urls:
        standin.set_fault(url)
    result = run_crawl(standin, tmp_path, "-a", "pages=5", "-s", f"JOBDIR={jobdir}", name="resume")
    assert result.returncode == 0, result.log
    assert len(result.items) == 6 - paused
    assert len(list((tmp_path / "posts").glob("*.md"))) == 6
    assert all(n == 1 for n in standin.article_hits().values())  # nothing fetched twice


def test_pages_that_are_no_articles_are_not_fetched_again(standin, tmp_path):
    video = "http://video.sina.com.cn/p/finance/2022-08-15/detail-imizmscv5123456.d.html"
    listing = "http://finance.sina.com.cn/roll/index.d.html?cid=56588&page=1"
    error = "http://finance.sina.com.cn/china/2022-08-01/doc-imizmscv0000000.shtml"
    standin.add_entries([*URLS[:3], video, listing, error], start=T0)
    first = run_crawl(standin, tmp_path, "-a", "pages=2", name="first")
    assert first.returncode == 0, first.log  # 3 of 6 failed: not more than half
    assert titles_by_key(first.items) == expected(URLS[:3])
    assert f"Skipped {video}: not an article (video page)" in first.log
    assert f"Skipped {listing}: not an article (list page)" in first.log
    assert f"Dropped {error}: error page" in first.log
    assert first.accounting() == {
        "listed": 6,
        "saved": 3,
        "unchanged": 0,
        "skipped": 2,
        "failed": 1,
    }
    assert first.stat("state/not_article") == 2

    again = run_crawl(standin, tmp_path, "-a", "pages=2", name="again")
    assert again.items == []
    assert again.stat("discovery/not_article") == 2
    assert again.accounting() == {
        "listed": 6,
        "saved": 0,
        "unchanged": 0,
        "skipped": 5,
        "failed": 1,
    }
    # A video or list stays one; an error page may be fixed, so it is tried again.
    hits = standin.article_hits()
    assert {k: hits[page_key(u)] for k, u in (("v", video), ("l", listing), ("e", error))} == {
        "v": 1,
        "l": 1,
        "e": 2,
    }
    assert all(hits[page_key(u)] == 1 for u in URLS[:3])
