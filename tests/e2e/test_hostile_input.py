"""End-to-end: hostile documents and careless input get one line, never a read file or a hang."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT, run_crawl
from tests.standin import FIXTURES, Page, load_fixture_pages, page_key

pytestmark = pytest.mark.e2e

SAMPLE = "news.sina.com.cn/c/2024-05-10/doc-inausehc2630922.shtml"
SAMPLE_PAGE = FIXTURES / "modern-news-2024-inausehc2630922" / "page.html"
SAMPLE_TITLE = "城市有轨电车之困：一边争相上马，一边接连叫停"
# The sample page under distinct doc ids: distinct articles to Sina's eyes.
URLS = [f"http://news.sina.com.cn/c/2024-05-10/doc-inausehc{n:07d}.shtml" for n in range(4)]
T0 = 1715308800  # 2024-05-10 10:40 Beijing time


@pytest.fixture
def site(standin):
    sample = load_fixture_pages()[SAMPLE]
    for url in URLS:
        standin.pages[page_key(url)] = sample
    return standin


def rss(*links: str) -> str:
    items = "".join(
        f"<item><title>t{i}</title><link>{link}</link>"
        f"<pubDate>Fri, 10 May 2024 0{i}:00:00 +0800</pubDate></item>"
        for i, link in enumerate(links)
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>要闻</title>{items}</channel></rss>'


def opml(*feeds: str) -> str:
    outlines = "".join(f'<outline text="f" xmlUrl="{feed}"/>' for feed in feeds)
    return f'<?xml version="1.0"?><opml><head><title>D</title></head><body>{outlines}</body></opml>'


def error_line(result) -> str:
    """The whole output of a run refused before crawling: exactly one line."""
    lines = result.log.strip().splitlines()
    assert len(lines) == 1, result.log
    return lines[0]


# --- 1. Only what the user typed may be local ------------------------------------------------


def test_local_opml_naming_a_file_url_does_not_read_it(site, tmp_path):
    # A "secret" local file that is a valid feed: reading it would fetch its article.
    secret = tmp_path / "secret.xml"
    secret.write_text(rss(URLS[0]), encoding="utf-8")
    directory = tmp_path / "dir.opml"
    directory.write_text(opml(secret.as_uri(), "file:///etc/passwd"), encoding="utf-8")
    result = run_crawl(site, tmp_path, "-a", f"feeds={directory.as_uri()}")
    assert result.returncode == 0, result.log
    assert f"Not following {secret.as_uri()} found in {directory.as_uri()}: not an http(s) URL" in (
        result.log
    )
    assert "Not following file:///etc/passwd found in" in result.log
    assert result.stat("feeds/read") == 1
    assert result.stat("feeds/refused_links") == 2
    assert site.article_hits() == {}
    assert result.items == []


def test_fetched_opml_naming_a_file_url_does_not_read_it(site, tmp_path):
    secret = tmp_path / "secret.xml"
    secret.write_text(rss(URLS[0]), encoding="utf-8")
    listed = "http://rss.sina.com.cn/roll/finance/hot_roll.xml"
    site.pages[page_key(listed)] = Page(rss(URLS[1]).encode(), "application/rss+xml")
    directory = "http://rss.sina.com.cn/opml/dir.xml"
    site.pages[page_key(directory)] = Page(opml(secret.as_uri(), listed).encode(), "text/xml")
    result = run_crawl(site, tmp_path, "-a", f"feeds={directory}")
    assert result.returncode == 0, result.log
    assert f"Not following {secret.as_uri()} found in {directory}" in result.log
    assert result.stat("feeds/read") == 2  # the directory and the http feed, not the file
    assert [item["url"] for item in result.items] == [URLS[1]]


def test_file_links_inside_a_local_feed_are_not_fetched(site, tmp_path):
    article = tmp_path / "article.shtml"
    article.write_bytes(SAMPLE_PAGE.read_bytes())
    feed = tmp_path / "feed.xml"
    feed.write_text(rss(article.as_uri(), URLS[2]), encoding="utf-8")
    result = run_crawl(site, tmp_path, "-a", f"feeds={feed.as_uri()}")
    assert result.returncode == 0, result.log
    assert f"Not following {article.as_uri()} found in {feed.as_uri()}" in result.log
    assert [item["url"] for item in result.items] == [URLS[2]]


@pytest.mark.parametrize("how", ["redirect", "meta refresh"])
def test_redirects_to_file_urls_are_not_followed(site, tmp_path, how):
    article = tmp_path / "article.shtml"
    article.write_bytes(SAMPLE_PAGE.read_bytes())
    if how == "redirect":
        site.set_fault(URLS[0], redirect=article.as_uri())
    else:
        refresh = f'<html><head><meta http-equiv="refresh" content="0;url={article.as_uri()}">'
        site.pages[page_key(URLS[0])] = Page(f"{refresh}</head></html>".encode(), "text/html")
    result = run_crawl(site, tmp_path, "-a", f"urls={URLS[0]}")
    assert result.items == []  # the local page (a real article) was not read
    assert f"Dropped {URLS[0]}:" in result.log


def test_dev_zero_and_a_named_pipe_as_feeds_are_refused_before_crawling(site, tmp_path):
    pipe = tmp_path / "feed.fifo"
    os.mkfifo(pipe)
    for url, kind in [("file:///dev/zero", "character device"), (pipe.as_uri(), "named pipe")]:
        result = run_crawl(site, tmp_path, "-a", f"feeds={url}", timeout=60)
        assert result.returncode == 2
        assert error_line(result) == (
            f"scrapy crawl sina: error: feeds: {url} is not a regular file ({kind})"
        )
    assert not (tmp_path / "state").exists()


def test_a_local_feed_larger_than_download_maxsize_is_not_read(site, tmp_path):
    feed = tmp_path / "big.xml"
    feed.write_text(rss(URLS[0]) + " " * 4096, encoding="utf-8")
    result = run_crawl(
        site, tmp_path, "-a", f"feeds={feed.as_uri()}", "-s", "DOWNLOAD_MAXSIZE=1024"
    )
    assert f"Feed unreachable: {feed.as_uri()} (LocalFileRefused: {feed}: " in result.log
    assert "is larger than DOWNLOAD_MAXSIZE (1024)" in result.log
    assert site.article_hits() == {}


def test_a_feed_that_becomes_a_named_pipe_does_not_hang_the_crawl(site, tmp_path):
    """Checked again when read: a pipe swapped in after the argument check fails at once."""
    feed = tmp_path / "feed.xml"
    feed.write_text(rss(URLS[0]), encoding="utf-8")
    directory = tmp_path / "dir.opml"
    directory.write_text(opml(), encoding="utf-8")
    # The argument check sees a regular file; the crawl then finds a pipe with no writer.
    proc = subprocess.Popen(
        [sys.executable, "-c", SWAP_THEN_CRAWL, str(feed), *crawl_args(site, tmp_path, feed)],
        cwd=PROJECT_ROOT,
        env=crawl_env(site),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    log, _ = proc.communicate(timeout=90)
    assert proc.returncode == 0, log
    assert f"Feed unreachable: {feed.as_uri()} (LocalFileRefused: {feed}: not a regular file" in log


# Runs `scrapy crawl` in-process, swapping the checked feed file for a FIFO once the spider has
# checked its arguments: the moment between the check and the download, made certain.
SWAP_THEN_CRAWL = """
import os, sys
from scrapy.cmdline import execute
from spiders.sina import SinaSpider
feed = sys.argv[1]
init = SinaSpider.__init__
def swapped(self, *args, **kwargs):
    init(self, *args, **kwargs)
    os.unlink(feed)
    os.mkfifo(feed)
SinaSpider.__init__ = swapped
sys.argv = ["scrapy", *sys.argv[2:]]
execute()
"""


def crawl_env(site) -> dict[str, str]:
    env = {**os.environ, "http_proxy": site.url, "no_proxy": ""}
    for variable in ("https_proxy", "HTTPS_PROXY", "REDIS_URL", "HTTP_PROXY", "NO_PROXY"):
        env.pop(variable, None)
    return env


def crawl_args(site, work: Path, feed: Path) -> list[str]:
    return [
        "crawl", "sina", "-a", f"feeds={feed.as_uri()}",
        "-s", f"SINA_ROLL_API_URL={site.roll_api_url}",
        "-s", f"CRAWL_STATE_DIR={work / 'state'}",
        "-s", f"MARKDOWN_POSTS_DIR={work / 'posts'}",
        "-s", "FEEDS={}",
    ]  # fmt: skip


def test_remote_control_listens_only_when_asked(site, tmp_path):
    site.add_entries(URLS[:1], start=T0)
    quiet = run_crawl(site, tmp_path, name="quiet")
    assert quiet.returncode == 0, quiet.log
    assert "Remote control" not in quiet.log
    assert "scrapy.extensions.remote_control.RemoteControl" not in quiet.log
    asked = run_crawl(site, tmp_path, "-s", "REMOTE_CONTROL_ENABLED=True", name="asked")
    assert "Remote control HTTP server listening on port" in asked.log


# --- 3. A damaged state is found before crawling ----------------------------------------------


def damaged_state(work: Path) -> Path:
    """A real state database with one of its pages overwritten."""
    path = work / "state" / "articles.sqlite3"
    path.parent.mkdir(parents=True)
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE saved (key TEXT PRIMARY KEY, url TEXT NOT NULL, title TEXT, saved_at REAL NOT NULL)"
    )
    db.executemany(
        "INSERT INTO saved VALUES (?, ?, ?, 0)",
        ((f"k{i}", f"http://news.sina.com.cn/{i}" * 3, "t" * 50) for i in range(2000)),
    )
    db.commit()
    db.close()
    with path.open("r+b") as data:
        data.seek(3 * 4096)
        data.write(b"\xff" * 200)
    return path


def garbage_state(work: Path) -> Path:
    path = work / "state" / "articles.sqlite3"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a database at all " * 100)
    return path


def unopenable_state(work: Path) -> Path:
    # A folder where the file belongs: unopenable even for root, who ignores permissions.
    path = work / "state" / "articles.sqlite3"
    path.mkdir(parents=True)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            damaged_state,
            "is damaged (database disk image is malformed); move it aside (mv {p} {p}.damaged)",
        ),
        (garbage_state, "is damaged (file is not a database); move it aside (mv {p} {p}.damaged)"),
        (unopenable_state, "cannot be opened (unable to open database file)"),
    ],
)
def test_a_damaged_state_stops_the_run_before_crawling(site, tmp_path, make, message):
    site.add_entries(URLS, start=T0)
    path = make(tmp_path)
    result = run_crawl(site, tmp_path)
    assert result.returncode == 1
    line = error_line(result)
    assert line.startswith(f"scrapy crawl sina: error: crawl state {path} "), line
    assert message.format(p=path) in line
    assert site.roll_hits() == []
    assert site.article_hits() == {}
    assert not (tmp_path / "posts").exists()


def test_moving_the_damaged_state_aside_lets_the_next_run_crawl(site, tmp_path):
    site.add_entries(URLS, start=T0)
    path = damaged_state(tmp_path)
    path.rename(path.with_name(path.name + ".damaged"))
    result = run_crawl(site, tmp_path)
    assert result.returncode == 0, result.log
    assert sorted(item["url"] for item in result.items) == sorted(URLS)


# --- 4. Careless input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["-a", "urls=http://example.com:99999/a"],
            "urls: bad port in 'http://example.com:99999/a' (1-65535)",
        ),
        (["-a", "urls=http://[::1/x"], "urls: bad host in 'http://[::1/x'"),
        (["-a", "urls="], "urls is empty; leave it out to discover from the roll"),
        (["-a", "urls= , "], "urls is empty; leave it out to discover from the roll"),
        (["-a", "urls_file="], "urls_file is empty; leave it out to discover from the roll"),
        (
            ["-a", f"urls={URLS[0]}", "-a", "lids=2516", "-a", "since=2024-05-01"],
            "explicit URLs are fetched as given; lids, since apply only to discovery: leave them out",
        ),
        (
            ["-a", f"urls={URLS[0]}", "-a", "feeds=http://rss.sina.com.cn/a.xml"],
            "explicit URLs are fetched as given; feeds applies only to discovery: leave it out",
        ),
    ],
)
def test_bad_explicit_input_is_one_line_exit_2(site, tmp_path, args, message):
    site.add_entries(URLS, start=T0)
    result = run_crawl(site, tmp_path, *args)
    assert result.returncode == 2
    assert error_line(result) == f"scrapy crawl sina: error: {message}"
    assert site.roll_hits() == []
    assert site.article_hits() == {}
    assert not (tmp_path / "state").exists()


def test_urls_file_not_utf8_names_file_and_offset(site, tmp_path):
    listing = tmp_path / "urls.txt"
    listing.write_bytes(
        f"{URLS[0]}\n".encode() + "http://news.sina.com.cn/财经.shtml\n".encode("gb18030")
    )
    result = run_crawl(site, tmp_path, "-a", f"urls_file={listing}")
    assert result.returncode == 2
    offset = len(URLS[0]) + 1 + len("http://news.sina.com.cn/")
    assert error_line(result) == (
        f"scrapy crawl sina: error: urls_file: '{listing}' is not UTF-8 text:"
        f" byte 0xb2 at offset {offset}"
    )


def test_urls_file_with_a_bom_and_empty_urls_file(site, tmp_path):
    listing = tmp_path / "urls.txt"
    listing.write_bytes(b"\xef\xbb\xbf" + f"{URLS[0]}\r\n".encode())
    result = run_crawl(site, tmp_path, "-a", f"urls_file={listing}")
    assert result.returncode == 0, result.log
    assert [(item["url"], item["title"]) for item in result.items] == [(URLS[0], SAMPLE_TITLE)]
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing yet\n\n", encoding="utf-8")
    result = run_crawl(site, tmp_path, "-a", f"urls_file={empty}", name="empty")
    assert result.returncode == 2
    assert error_line(result) == f"scrapy crawl sina: error: urls_file: no URLs in '{empty}'"
    assert site.roll_hits() == []


# --- 6. Smaller -------------------------------------------------------------------------------


def test_a_posts_folder_that_is_a_file_is_one_line(site, tmp_path):
    site.add_entries(URLS, start=T0)
    (tmp_path / "posts").write_text("not a folder", encoding="utf-8")
    result = run_crawl(site, tmp_path)
    assert result.returncode == 2
    assert error_line(result) == (
        f"scrapy crawl sina: error: MARKDOWN_POSTS_DIR must be a folder, "
        f"got '{tmp_path / 'posts'}', which is a file"
    )
    assert site.roll_hits() == []


def test_a_dropped_item_is_one_line_with_its_url(site, tmp_path):
    first = run_crawl(site, tmp_path, "-a", f"urls={URLS[0]}", name="first")
    assert first.returncode == 0, first.log
    [post] = (tmp_path / "posts").rglob("*.md")
    post.unlink()
    post.mkdir()  # the post's name is taken by a folder: the write fails, the item is dropped
    second = run_crawl(site, tmp_path, "-a", f"urls={URLS[0]}", name="second")
    dropped = [line for line in second.log.splitlines() if "Dropped" in line]
    assert len(dropped) == 1, second.log
    assert f"Dropped {URLS[0]}: cannot write post {post} for {URLS[0]}:" in dropped[0]
    assert SAMPLE_TITLE not in second.log  # not the item, nor its body
    assert "'body'" not in second.log
