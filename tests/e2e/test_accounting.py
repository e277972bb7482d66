"""End-to-end: every listed article ends saved, unchanged, skipped or failed, and the exit says so."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time

import pytest

from crawler.storage.crawl_state import canonical_key
from tests.conftest import PROJECT_ROOT, crawl_command, run_crawl
from tests.standin import FIXTURES, Page, page_key

pytestmark = pytest.mark.e2e

# 2024-05-10 10:40:00 Beijing time; roll entry i is listed i minutes earlier.
T0 = 1715308800
GOOD = [
    "http://finance.sina.com.cn/roll/2018-12-28/doc-ihqfskcn2160999.shtml",
    "http://news.sina.com.cn/c/2024-05-10/doc-inausehc2630922.shtml",
    "http://news.sina.com.cn/o/2024-05-16/doc-inavmmfi1968342.shtml",
    "http://news.sina.com.cn/c/2019-10-23/doc-iicezuev4202091.shtml",
    "http://news.sina.com.cn/c/2019-09-07/doc-iicezzrq4076655.shtml",
    "http://news.sina.com.cn/c/2019-11-25/doc-iihnzahi3275702.shtml",
]
VIDEO = "http://video.sina.com.cn/p/finance/2022-08-15/detail-imizmscv5123456.d.html"  # a fixture


def roll_entry(url: str, ctime: object) -> dict:
    return {"url": url, "wapurl": "", "title": "", "media_name": "", "ctime": ctime}


def saved_keys(work) -> set[str]:
    db = sqlite3.connect(f"file:{work / 'state' / 'articles.sqlite3'}?mode=ro", uri=True)
    try:
        return {row[0] for row in db.execute("SELECT key FROM saved")}
    finally:
        db.close()


def test_bad_roll_entries_are_skipped_one_line_each_and_paging_goes_on(standin, tmp_path):
    bad_url = "http://[::1/x"
    standin.add_entries(GOOD[:2], start=T0)
    standin.roll += [
        roll_entry(GOOD[2], "99999999999999"),  # a time no calendar holds
        roll_entry(GOOD[3], "inf"),
        roll_entry(bad_url, str(T0 - 30)),
    ]
    standin.add_entries(GOOD[4:6], start=T0 - 3600)  # on roll page 2 (5 entries a page)
    result = run_crawl(standin, tmp_path, "-a", "pages=5")
    assert result.returncode == 0, result.log
    assert sorted(page_key(i["url"]) for i in result.items) == sorted(map(page_key, GOOD))
    assert f"Skipped a listed entry with a bad URL '{bad_url}': Invalid IPv6 URL" in result.log
    counts = result.accounting()
    assert counts == {"listed": 7, "saved": 6, "unchanged": 0, "skipped": 1, "failed": 0}
    assert "  skipped: 1 bad entry" in result.log


def test_deeply_nested_roll_page_is_one_line_and_the_next_page_is_read(standin, tmp_path):
    standin.add_entries(GOOD[:6], start=T0)  # pages 1 and 2 (5 a page)
    standin.set_roll_fault(1, roll="deep")
    result = run_crawl(standin, tmp_path, "-a", "pages=3")
    assert "roll API answer nests too deeply to be a roll page" in result.log
    assert "RecursionError" not in result.log
    assert [page_key(i["url"]) for i in result.items] == [page_key(GOOD[5])]
    assert result.accounting() == {
        "listed": 1,
        "saved": 1,
        "unchanged": 0,
        "skipped": 0,
        "failed": 0,
    }
    assert result.returncode == 0, result.log


def test_a_roll_page_yields_at_most_the_num_it_asked_for(standin, tmp_path):
    standin.add_entries(GOOD, start=T0)
    standin.set_roll_fault(1, roll="all")  # the answer ignores num=3
    result = run_crawl(
        standin, tmp_path, "-a", "pages=1", "-s", "SINA_ROLL_PAGE_SIZE=3", "-s", "ITEM_PIPELINES={}"
    )
    assert result.returncode == 0, result.log
    assert "Roll page answered 6 entries for num=3; took the first 3" in result.log
    assert len(standin.article_hits()) == 3
    assert result.accounting()["listed"] == 3


def test_pipeline_exception_fails_the_article_exits_3_and_the_crawl_goes_on(standin, tmp_path):
    standin.add_entries(GOOD[:3], start=T0)
    pipelines = {
        "tests.e2e.faults.RaisingPipeline": 450,
        "pipelines.markdown_posts.ThreadedMarkdownPostPipeline": 500,
        "pipelines.mark_saved.MarkSavedPipeline": 800,
    }
    args = ["-s", "ITEM_PIPELINES=" + json.dumps(pipelines), "-s", "TEST_RAISE_FOR=inavmmfi"]
    result = run_crawl(standin, tmp_path, *args)
    assert result.returncode == 3, result.log
    failed = [line for line in result.log.splitlines() if "] ERROR: Failed " in line]
    assert len(failed) == 1, failed
    assert failed[0].endswith(
        "doc-inavmmfi1968342.shtml: pipeline error: RuntimeError: injected pipeline failure"
    )
    assert result.accounting() == {
        "listed": 3,
        "saved": 2,
        "unchanged": 0,
        "skipped": 0,
        "failed": 1,
    }
    assert "  failed (tried again next run): 1 ours" in result.log
    assert "Crawl failed: 1 article failed on our side" in result.log
    # Not marked saved: the next run (the bug fixed) saves it.
    again = run_crawl(standin, tmp_path, name="again")
    assert again.returncode == 0, again.log
    assert [page_key(i["url"]) for i in again.items] == [page_key(GOOD[2])]
    assert again.accounting() == {
        "listed": 3,
        "saved": 1,
        "unchanged": 0,
        "skipped": 2,
        "failed": 0,
    }


def hostile_page(url: str) -> Page:
    """A real Sina page with a malformed link, a malformed image and an image on another host."""
    html = (FIXTURES / "modern-news-iicezzrq4076655" / "page.html").read_bytes()
    marker = b'<div class="article" id="article">'
    injected = (
        b'<p>Links: <a href="http://[::1/">bad link</a> <img src="http://[::1/x.jpg">'
        b' <img src="http://img.example.org/photo.jpg"></p>'
    )
    assert marker in html
    body = html.replace(marker, marker + injected, 1).replace(
        b"https://news.sina.com.cn/c/2019-09-07/doc-iicezzrq4076655.shtml", url.encode()
    )
    return Page(body, "text/html; charset=utf-8", "hostile")


def test_malformed_urls_in_a_page_save_it_and_offsite_images_are_not_failures(standin, tmp_path):
    url = "http://finance.sina.com.cn/roll/2024-05-10/doc-inhostile0000001.shtml"
    standin.pages[page_key(url)] = hostile_page(url)
    standin.add_entries([url], start=T0)
    result = run_crawl(
        standin,
        tmp_path,
        "-s",
        "MARKDOWN_LOCAL_IMAGES=True",
        "-s",
        f"MARKDOWN_IMAGES_STORE={tmp_path / 'images'}",
    )
    assert result.returncode == 0, result.log
    assert len(result.items) == 1
    assert "bad link" in result.items[0]["body"]
    assert "Not fetching http://img.example.org/photo.jpg" in result.log
    assert result.accounting() == {
        "listed": 1,
        "saved": 1,
        "unchanged": 0,
        "skipped": 0,
        "failed": 0,
    }


def test_redirect_loop_is_named_and_counted_failed(standin, tmp_path):
    a = "http://finance.sina.com.cn/roll/2024-05-10/doc-inloopaa0000001.shtml"
    b = "http://finance.sina.com.cn/roll/2024-05-10/doc-inloopbb0000001.shtml"
    standin.set_fault(a, redirect=b)
    standin.set_fault(b, redirect=a)
    standin.add_entries([GOOD[0], a], start=T0)
    result = run_crawl(standin, tmp_path)
    assert f"Failed {a}: redirect loop: {a} -> {b} -> {a}" in result.log
    assert result.accounting() == {
        "listed": 2,
        "saved": 1,
        "unchanged": 0,
        "skipped": 0,
        "failed": 1,
    }
    assert f"  failed: {a} (redirect loop: {a} -> {b} -> {a})" in result.log
    assert result.returncode == 0, result.log  # 1 of 2 page-side: not "most"


def test_dead_link_is_retried_on_a_bounded_number_of_runs_then_parked(standin, tmp_path):
    dead = "http://finance.sina.com.cn/roll/2024-05-10/doc-indeaddd0000001.shtml"
    standin.add_entries([dead], start=T0)
    args = ["-s", "SINA_PAGE_FAILURE_RUNS=2"]
    first = run_crawl(standin, tmp_path, *args, name="first")
    assert first.returncode == 1, first.log  # the only article failed: the ratio rule
    assert first.accounting()["failed"] == 1
    second = run_crawl(standin, tmp_path, *args, name="second")
    assert second.returncode == 0, second.log
    assert f"  parked: {dead} (HTTP 404 on 2 runs)" in second.log
    assert second.accounting() == {
        "listed": 1,
        "saved": 0,
        "unchanged": 0,
        "skipped": 1,
        "failed": 0,
    }
    third = run_crawl(standin, tmp_path, *args, name="third")
    assert third.returncode == 0, third.log
    assert "parked: " not in third.log  # reported once
    assert "  skipped: 1 parked" in third.log
    assert standin.article_hits() == {page_key(dead): 2}


def test_summary_progress_and_one_line_per_give_up(standin, tmp_path):
    broken, reset = GOOD[2], GOOD[3]
    standin.set_fault(broken, status=500)
    standin.set_fault(reset, reset=True)
    standin.set_fault(GOOD[1], delay=1.5)
    standin.add_entries([GOOD[0], GOOD[1], broken, reset, VIDEO], start=T0)
    result = run_crawl(
        standin, tmp_path, "-s", "LOGSTATS_INTERVAL=0.5", "-s", "SINA_RETRY_BACKOFF_START=0"
    )
    assert result.returncode == 0, result.log  # 2 of 4 page-side failures: not "most"
    assert result.accounting() == {
        "listed": 5,
        "saved": 2,
        "unchanged": 0,
        "skipped": 1,
        "failed": 2,
    }
    assert "Progress: 5 listed, " in result.log
    assert "  skipped: 1 not an article" in result.log
    assert "  failed (tried again next run): 2 page or network" in result.log
    coverage = next(line for line in result.log.splitlines() if "  coverage: " in line)
    for name in ("title", "author", "date", "body", "editor", "keywords", "headimg"):
        assert f"{name} " in coverage
    assert "Gave up retrying" not in result.log
    assert result.log.count(f"Dropped {broken}: ") == 1
    assert f"Dropped {broken}: HTTP 500 (after 3 retries)" in result.log
    reset_line = next(line for line in result.log.splitlines() if f"Dropped {reset}: " in line)
    assert "connection" in reset_line
    assert "twisted" not in reset_line.lower()


def small_article(title: str) -> Page:
    """A short page in Sina's modern template: its export line is far below any write buffer."""
    html = (
        f'<!DOCTYPE html><html><head><title>x</title></head><body><h1 class="main-title">{title}'
        '</h1><div class="date-source"><span class="date">2024年05月10日 10:30</span>'
        '<a class="source">新浪财经</a></div><div class="article" id="artibody">'
        "<p>正文第一段。</p><p>正文第二段。</p></div></body></html>"
    )
    return Page(html.encode(), "text/html; charset=utf-8")


def test_exports_survive_kill_9(standin, tmp_path):
    urls = [
        f"http://finance.sina.com.cn/roll/2024-05-10/doc-inkillaa00000{i:02d}.shtml"
        for i in range(12)
    ]
    for i, url in enumerate(urls):
        standin.pages[page_key(url)] = small_article(f"第{i}篇")
        standin.set_fault(url, delay=0.3)
    standin.add_entries(urls, start=T0)
    export = tmp_path / "export.jsonl"
    feeds = ["-s", "FEEDS=" + json.dumps({str(export): {"format": "jsonlines"}})]
    slow = ["-s", "CONCURRENT_REQUESTS=1", "-a", "pages=3", *feeds]
    cmd, env = crawl_command(standin, tmp_path, *slow, name="killed")
    proc = subprocess.Popen(
        cmd, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if len(saved_keys(tmp_path)) >= 3:
                    break
            except sqlite3.Error:
                pass  # not created yet
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    saved = saved_keys(tmp_path)
    assert 3 <= len(saved) < len(urls), "the kill did not land mid-crawl"

    def exported() -> set[str]:
        lines = export.read_text(encoding="utf-8").splitlines() if export.exists() else []
        return {canonical_key(json.loads(line)["url"]) for line in lines if line.strip()}

    assert saved <= exported()  # every article marked saved has its line
    result = run_crawl(standin, tmp_path, "-a", "pages=3", *feeds, name="rerun")
    assert result.returncode == 0, result.log
    assert result.accounting()["failed"] == 0
    assert {canonical_key(u) for u in urls} == saved_keys(tmp_path) == exported()


def widget_only_article(title: str) -> Page:
    """A modern-template page whose article container holds only the QR-code widget."""
    html = (
        small_article(title)
        .body.decode()
        .replace(
            "<p>正文第一段。</p><p>正文第二段。</p>",
            '<div class="appendQr_wrap">扫码关注新浪财经</div>',
        )
    )
    return Page(html.encode(), "text/html; charset=utf-8")


def test_body_left_empty_by_cleaning_fails_page_side_and_cleaning_off_keeps_it(standin, tmp_path):
    empty = "http://finance.sina.com.cn/roll/2024-05-10/doc-inemptyaa0000001.shtml"
    standin.pages[page_key(empty)] = widget_only_article("只有二维码")
    standin.add_entries([empty, *GOOD[:2]], start=T0)
    result = run_crawl(standin, tmp_path, "-a", "pages=1")
    assert result.returncode == 0, result.log  # one page-side failure of three: under the ratio
    assert f"Dropped {empty}: no readable body left after cleaning" in result.log
    assert result.accounting() == {
        "listed": 3, "saved": 2, "unchanged": 0, "skipped": 0, "failed": 1,
    }  # fmt: skip
    assert "  failed (tried again next run): 1 page or network" in result.log
    assert all("<script" not in item["body"] for item in result.items)

    raw = run_crawl(
        standin, tmp_path, "-a", f"urls={empty}", "-s", "CLEANING_ENABLED=False", name="raw"
    )
    assert raw.returncode == 0, raw.log
    [item] = raw.items
    assert item["body"] == (
        '<div class="article" id="artibody"><div class="appendQr_wrap">扫码关注新浪财经</div></div>'
    )
