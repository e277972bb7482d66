"""End-to-end reliability: hostile pages, offsite redirects, kills and signals, bad disks.

Each test is a real `scrapy crawl sina` through the stand-in for Sina (as an HTTP proxy).
Faults already covered by tests/e2e/test_crawl.py (404/500/reset/slow bodies, 456, the lock
after kill -9, bad arguments, JOBDIR + SIGINT) are not repeated here.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
import yaml

from tests.conftest import PROJECT_ROOT, run_crawl
from tests.e2e.samples import T0, TITLES, URLS, expected, titles_by_key
from tests.standin import Page, page_key

pytestmark = pytest.mark.e2e

ROLL = "http://finance.sina.com.cn/roll/2024-05-10"
TITLES_BY_KEY = TITLES
POST_KEYS = {"title", "headimg", "thumbnail", "author", "comments", "date", "categories", "updated"}


def article_html(
    title: str, body: str = "<p>正文第一段。</p><p>正文第二段。</p>", head: str = ""
) -> str:
    """A page in Sina's modern article template."""
    return (
        f"<!DOCTYPE html><html><head>{head}<title>x</title></head><body>"
        f'<h1 class="main-title">{title}</h1>'
        '<div class="date-source"><span class="date">2024年05月10日 10:30</span>'
        '<a class="source">新浪财经</a></div>'
        f'<div class="article" id="artibody">{body}</div></body></html>'
    )


def read_post(path) -> tuple[dict, str]:
    _, matter, body = path.read_text(encoding="utf-8").split("---\n", 2)
    return yaml.safe_load(matter), body


def files_outside(root, allowed_dirs) -> list:
    """Every file under root that is not in one of allowed_dirs (or a crawl log/feed)."""
    found = []
    for path in root.rglob("*"):
        if path.is_dir() or path.suffix in {".log", ".jsonl"} and path.parent == root:
            continue
        if not any(parent in allowed_dirs for parent in path.parents):
            found.append(path)
    return found


# --- The hostile set --------------------------------------------------------------------------

# A headline built to climb out of the posts folder and to inject front-matter keys.
ESCAPE_TITLE = '../../../../escaped/evil" \\\n---\nlayout: pwned\ntitle: {{ x }} %} \x07\x1b[31m'
ESCAPE_SAVED = '../../../../escaped/evil" \\ --- layout: pwned title: {{ x }} %} [31m'
LONG_TITLE = "长标题" * 200 + "📈🚀"
GBK_TITLE = "朱镕基：喆堃与赟的故事"  # 镕 喆 堃 赟 are in GBK/GB18030, not in GB2312
UTF8_TITLE = "无标签的UTF-8页面：人民币汇率€"

HOSTILE = {
    "escape": f"{ROLL}/hostile-title.shtml",  # no doc id: the file name comes from a hash
    "long": f"{ROLL}/doc-irelia0000000002.shtml",
    "gbk": f"{ROLL}/doc-irelia0000000003.shtml",
    "utf8": f"{ROLL}/doc-irelia0000000004.shtml",
    "cut_html": f"{ROLL}/doc-irelia0000000005.shtml",
    "truncated": f"{ROLL}/doc-irelia0000000006.shtml",
    "error500": f"{ROLL}/doc-irelia0000000007.shtml",
    "not_article": f"{ROLL}/doc-irelia0000000008.shtml",
    "pdf": f"{ROLL}/doc-irelia0000000009.shtml",
    "huge": f"{ROLL}/doc-irelia0000000010.shtml",
    "empty": f"{ROLL}/doc-irelia0000000011.shtml",
}


def serve_hostile_pages(standin) -> None:
    pages = standin.pages
    html = "text/html; charset=utf-8"

    def put(name: str, body: bytes, ctype: str = html) -> None:
        pages[page_key(HOSTILE[name])] = Page(body, ctype)

    put("escape", article_html(ESCAPE_TITLE).encode())
    put("long", article_html(LONG_TITLE).encode())
    gb_meta = '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
    put("gbk", article_html(GBK_TITLE, f"<p>{GBK_TITLE}。</p>", gb_meta).encode("gbk"), "text/html")
    put("utf8", article_html(UTF8_TITLE).encode(), "text/html")
    whole = article_html("正文被截断的文章", "<p>第一段完整。</p><p>第二段" + "很长" * 200 + "</p>")
    put("cut_html", whole[: whole.index("很长") + 40].encode())  # ends inside the body
    put("truncated", article_html("传输中断的文章").encode())
    standin.set_fault(HOSTILE["truncated"], truncate=0.5)
    put("error500", article_html("服务器错误").encode())
    standin.set_fault(HOSTILE["error500"], status=500)
    put(
        "not_article",
        "<html><head><title>新浪财经_新浪网</title></head><body><p>hi</p></body>".encode(),
    )
    put("pdf", b"%PDF-1.4\n" + bytes(range(256)) * 40, "application/pdf")
    huge = article_html("三十二兆的页面", "<p>" + "大" * (11 * 1024 * 1024) + "</p>")
    put("huge", huge.encode())  # 32 MB, above DOWNLOAD_MAXSIZE (16 MB)
    put("empty", b"")


DROPPED = {
    "truncated": "answer cut short (fewer bytes than announced)",
    "error500": "HTTP 500",
    "not_article": "no body",
    "huge": "DownloadCancelledError: Expected to receive 34603289 bytes which is larger than "
    "download max size (16777216)",
    "empty": "no title",
}


def test_hostile_pages_are_saved_safely_or_dropped_by_name(standin, tmp_path):
    serve_hostile_pages(standin)
    good = URLS[:2]
    standin.add_entries([*good, *HOSTILE.values()], start=T0)
    result = run_crawl(standin, tmp_path, "-a", "pages=5", "-s", "MARKDOWN_TITLE_SLUG=True")

    assert "Traceback" not in result.log
    assert result.returncode == 0, result.log  # 6 of 13 failed: not most
    assert titles_by_key(result.items) == {
        **expected(good),
        page_key(HOSTILE["escape"]): ESCAPE_SAVED,
        page_key(HOSTILE["long"]): LONG_TITLE,
        page_key(HOSTILE["gbk"]): GBK_TITLE,
        page_key(HOSTILE["utf8"]): UTF8_TITLE,
        page_key(HOSTILE["cut_html"]): "正文被截断的文章",
    }
    for name, reason in DROPPED.items():
        assert f"Dropped {HOSTILE[name]}: {reason}" in result.log, name
    # A PDF is not an article, and never will be: skipped, not failed.
    assert f"Skipped {HOSTILE['pdf']}: not an article (not an HTML page (application/pdf))" in (
        result.log
    )
    assert result.accounting() == {
        "listed": 13,
        "saved": 7,
        "unchanged": 0,
        "skipped": 1,
        "failed": 5,
    }

    posts = tmp_path / "posts"
    assert files_outside(tmp_path, {posts, tmp_path / "state"}) == []
    assert not (tmp_path.parent / "escaped").exists()
    saved = sorted(posts.iterdir())
    assert len(saved) == 7
    assert all(p.suffix == ".md" and len(p.name.encode()) <= 200 for p in saved)
    by_title = {}
    for path in saved:
        matter, body = read_post(path)
        assert set(matter) == POST_KEYS, path.name  # nothing injected
        by_title[matter["title"]] = body
    assert set(by_title) == set(titles_by_key(result.items).values())
    assert "喆堃与赟" in by_title[GBK_TITLE]
    assert "第一段完整。" in by_title["正文被截断的文章"]
    assert standin.article_hits()[page_key(HOSTILE["truncated"])] == 4  # retried
    assert result.stat("backoff/waits") == 6  # 3 retries each of the 500 and the cut body


# --- Redirects and hosts ----------------------------------------------------------------------


def test_redirect_outside_sina_is_not_followed(standin, tmp_path):
    to_evil = f"{ROLL}/doc-irelia0000000020.shtml"
    to_sina = f"{ROLL}/doc-irelia0000000021.shtml"
    elsewhere = "http://blog.example.org/finance/article.html"  # listed in the roll, not Sina
    standin.set_fault(to_evil, redirect="http://evil.example/steal")
    standin.set_fault(to_sina, redirect=URLS[1])  # Sina to Sina: followed
    standin.pages[page_key(elsewhere)] = Page(article_html("别处的文章").encode(), "text/html")
    standin.add_entries([URLS[0], to_evil, to_sina, elsewhere], start=T0)

    result = run_crawl(standin, tmp_path, "-a", "pages=2")
    assert "Traceback" not in result.log
    hosts = {page_key(url).split("/")[0] for url in standin.hits}
    assert "evil.example" not in hosts
    assert "blog.example.org" not in hosts
    assert titles_by_key(result.items) == expected(URLS[:2])
    assert (
        f"Not following redirect from {to_evil} to http://evil.example/steal (host evil.example)"
        in result.log
    )
    assert f"Not fetching {elsewhere}: host blog.example.org is outside the allowed hosts" in (
        result.log
    )
    assert f"failed: {to_evil} (redirected to http://evil.example/steal" in result.log
    assert result.stat("offsite/redirect_refused") == 1


def test_explicit_url_on_another_host_is_fetched(standin, tmp_path):
    other = "http://blog.example.org/finance/article.html"
    to_evil = f"{ROLL}/doc-irelia0000000020.shtml"
    standin.pages[page_key(other)] = Page(article_html("别处的文章").encode(), "text/html")
    standin.set_fault(to_evil, redirect="http://evil.example/steal")
    result = run_crawl(standin, tmp_path, "-a", f"urls={other},{to_evil}")
    assert titles_by_key(result.items) == {page_key(other): "别处的文章"}
    assert standin.article_hits() == {page_key(other): 1, page_key(to_evil): 1}
    assert f"Not following redirect from {to_evil} to http://evil.example/steal" in result.log


# --- Timeouts ---------------------------------------------------------------------------------


def test_timeout_is_retried_then_logged_once_with_url(standin, tmp_path):
    slow = URLS[1]
    standin.set_fault(slow, delay=2)
    standin.add_entries([URLS[0], slow], start=T0)
    result = run_crawl(
        standin, tmp_path, "-s", "DOWNLOAD_TIMEOUT=0.5", "-s", "RETRY_TIMES=1", name="timeout"
    )
    assert "Traceback" not in result.log
    assert titles_by_key(result.items) == expected(URLS[:1])
    assert standin.article_hits()[page_key(slow)] == 2  # first try + 1 retry
    assert result.stat("backoff/waits") == 1  # the retry waited SINA_RETRY_BACKOFF_START first
    assert result.stat("retry/count") == 1
    dropped = [line for line in result.log.splitlines() if f"Dropped {slow}" in line]
    assert len(dropped) == 1
    assert "timed out (" in dropped[0]
    assert result.accounting() == {
        "listed": 2,
        "saved": 1,
        "unchanged": 0,
        "skipped": 0,
        "failed": 1,
    }
    assert "took longer than 0.5 seconds" in dropped[0]


# --- Kills and signals ------------------------------------------------------------------------


def start_crawl(standin, tmp_path, *args: str) -> subprocess.Popen:
    cmd = [
        sys.executable, "-m", "scrapy", "crawl", "sina", "-a", "pages=5",
        "-s", f"SINA_ROLL_API_URL={standin.roll_api_url}",
        "-s", f"CRAWL_STATE_DIR={tmp_path / 'state'}",
        "-s", f"MARKDOWN_POSTS_DIR={tmp_path / 'posts'}",
        "-s", "FEEDS={}", "-s", "AUTOTHROTTLE_ENABLED=False",
        "-s", f"LOG_FILE={tmp_path / 'killed.log'}",
        *args,
    ]  # fmt: skip
    env = {**os.environ, "http_proxy": standin.url, "no_proxy": ""}
    env.pop("REDIS_URL", None)
    return subprocess.Popen(
        cmd, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def saved_keys(state_dir) -> set[str]:
    with sqlite3.connect(state_dir / "articles.sqlite3") as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        assert tables, "no state tables"
        rows = db.execute("SELECT url FROM saved").fetchall()
    return {page_key(url) for (url,) in rows}


def wait_for_saved(state_dir, count: int, timeout: float = 10) -> None:
    """Poll the state until it holds `count` articles: the state pipeline records each article
    right after its post is written, so a post on disk may not be in the state yet."""
    deadline = time.monotonic() + timeout
    while len(saved_keys(state_dir)) < count:
        if time.monotonic() > deadline:
            recorded = len(saved_keys(state_dir))
            pytest.fail(f"the state recorded {recorded} of {count} saved articles in {timeout} s")
        time.sleep(0.05)


def wait_for_posts(posts, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while len(list(posts.glob("*.md"))) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(list(posts.glob("*.md"))) >= count, "the crawl never saved its first articles"


def check_after_stop(standin, tmp_path, urls, done: set[str]) -> None:
    """No partial post, no temp file, state == posts on disk; the next run saves exactly the rest."""
    posts = tmp_path / "posts"
    assert [p.name for p in posts.iterdir() if p.suffix != ".md"] == []
    titles = {read_post(path)[0]["title"] for path in posts.glob("*.md")}
    assert titles == {TITLES_BY_KEY[key] for key in done}

    for url in urls:
        standin.set_fault(url)
    result = run_crawl(standin, tmp_path, "-a", "pages=5", name="after")
    assert result.returncode == 0, result.log
    rest = [u for u in urls if page_key(u) not in done]
    assert titles_by_key(result.items) == expected(rest)  # exactly the articles not yet saved
    assert len(list(posts.glob("*.md"))) == len(urls)
    assert all(standin.article_hits()[key] == 1 for key in done)  # saved ones not fetched again


def test_sigkill_mid_run_loses_nothing_and_the_next_run_finishes_the_rest(standin, tmp_path):
    urls = URLS[:6]
    standin.add_entries(urls, start=T0)
    for url in urls[3:]:
        standin.set_fault(url, delay=30)  # still in flight when the kill comes
    proc = start_crawl(standin, tmp_path)
    try:
        wait_for_posts(tmp_path / "posts", 3)
        wait_for_saved(tmp_path / "state", 3)
    finally:
        proc.kill()  # SIGKILL: no cleanup code runs
        assert proc.wait(10) == -signal.SIGKILL
    done = saved_keys(tmp_path / "state")
    assert done == {page_key(u) for u in urls[:3]}
    check_after_stop(standin, tmp_path, urls, done)


def test_temporaries_a_kill_left_are_swept_by_the_next_run_even_with_nothing_new(standin, tmp_path):
    standin.add_entries(URLS[:1], start=T0)
    first = run_crawl(standin, tmp_path, "-a", "pages=1", name="first")
    assert first.returncode == 0, first.log
    posts = tmp_path / "posts"
    (post,) = posts.glob("*.md")
    # What kill -9 leaves in the middle of a batch: the post's temporary twin, hours old.
    left = posts / f".{post.name}.k9x8c7v6.tmp"
    left.write_text("---\ntitle: half", encoding="utf-8")
    os.utime(left, (T0, T0))

    cron = run_crawl(standin, tmp_path, "-a", "pages=1", name="cron")  # the article is saved
    assert cron.returncode == 0, cron.log
    assert cron.items == []
    assert sorted(p.name for p in posts.iterdir()) == [post.name]
    assert f"Removed 1 temporary files a killed crawl left in {posts}" in cron.log


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["term", "int"])
def test_sigterm_sigint_stop_cleanly_and_keep_the_state(standin, tmp_path, sig):
    urls = URLS[:6]
    standin.add_entries(urls, start=T0)
    for url in urls:
        standin.set_fault(url, delay=0.7)
    proc = start_crawl(standin, tmp_path, "-s", "CONCURRENT_REQUESTS=1")
    try:
        wait_for_posts(tmp_path / "posts", 1)
        proc.send_signal(sig)
        status = proc.wait(30)  # the one request in flight finishes, the queue is left
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert status == 1  # cut short: not a finished crawl
    log = (tmp_path / "killed.log").read_text(encoding="utf-8")
    assert "Traceback" not in log
    assert f"Received {sig.name}, shutting down gracefully" in log
    assert "Spider closed (shutdown)" in log
    done = saved_keys(tmp_path / "state")
    assert 1 <= len(done) < len(urls)
    check_after_stop(standin, tmp_path, urls, done)


# --- Posts folder that cannot be written --------------------------------------------------------


def test_unwritable_posts_folder_fails_clearly_and_keeps_state(standin, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a regular file, so no folder can be made under it")
    standin.add_entries(URLS[:2], start=T0)
    bad = blocker / "posts"
    result = run_crawl(standin, tmp_path, "-s", f"MARKDOWN_POSTS_DIR={bad}", name="unwritable")
    # Found before crawling: one line, nothing fetched (it used to fail article by article).
    assert result.returncode == 2
    assert result.log.strip() == (
        "scrapy crawl sina: error: MARKDOWN_POSTS_DIR must be a folder, "
        f"got '{bad}', which is under {blocker}, a file"
    )
    assert standin.article_hits() == {}
    assert not (tmp_path / "state").exists()  # the state did not advance

    result = run_crawl(standin, tmp_path, name="fixed")
    assert result.returncode == 0, result.log
    assert titles_by_key(result.items) == expected(URLS[:2])  # nothing was lost
    assert len(list((tmp_path / "posts").glob("*.md"))) == 2


def test_post_writes_failing_mid_crawl_fail_each_article_on_our_side(standin, tmp_path):
    # A posts folder under a regular file is refused before the crawl (tests/e2e/
    # test_settings_check.py); here each post's own path is taken by a folder, so every write
    # fails while the crawl runs.
    bad = tmp_path / "bad-posts"
    for name in ("2018-12-28-ihqfskcn2160999.md", "2024-05-10-inausehc2630922.md"):
        (bad / name).mkdir(parents=True)
    standin.add_entries(URLS[:2], start=T0)
    result = run_crawl(standin, tmp_path, "-s", f"MARKDOWN_POSTS_DIR={bad}", name="unwritable")
    assert "Traceback" not in result.log
    assert result.returncode == 3  # every article failed, on our side (the disk)
    for url in URLS[:2]:
        assert f"for {url}: Is a directory" in result.log
    assert "Crawl failed: 2 articles failed on our side" in result.log
    assert result.accounting()["failed"] == 2
    assert saved_keys(tmp_path / "state") == set()  # the state did not advance

    result = run_crawl(standin, tmp_path, name="fixed")
    assert result.returncode == 0, result.log
    assert titles_by_key(result.items) == expected(URLS[:2])  # nothing was lost
    assert len(list((tmp_path / "posts").glob("*.md"))) == 2
