"""Reliability without a crawl: offsite policy, lying charsets, hostile titles and bodies.

The end-to-end half (real crawls through the stand-in) is tests/test_reliability_e2e.py.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from types import SimpleNamespace

import lxml.html
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from scrapy import Request
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import HtmlResponse
from scrapy.utils.project import get_project_settings
from scrapy.utils.test import get_crawler

from crawler import settings as project
from crawler.downloader.backoff import RetryBackoffMiddleware, retry_wait
from crawler.downloader.offsite import SinaOffsiteMiddleware
from crawler.extensions import health
from crawler.site.cleaning import clean_body
from crawler.site.extraction import NotAnArticle, parse_article
from crawler.site.loaders import normalise_space
from crawler.site.posts import PostOptions, post_filename, render_post
from spiders.sina import SinaSpider

# --- Offsite policy ---------------------------------------------------------------------------

ROLL_API = "http://127.0.0.1:8123/api/roll/get"


def offsite(**spider_args: str) -> tuple[SinaOffsiteMiddleware, object]:
    crawler = get_crawler(
        SinaSpider,
        {"SINA_ROLL_API_URL": ROLL_API, "SINA_ALLOWED_DOMAINS": project.SINA_ALLOWED_DOMAINS},
    )
    crawler.spider = crawler._create_spider(**spider_args)
    mw = SinaOffsiteMiddleware.from_crawler(crawler)
    mw.spider_opened(crawler.spider)
    return mw, crawler


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://finance.sina.com.cn/roll/2024-05-10/doc-iabc.shtml", True),
        ("https://finance.sina.cn/2024-05-10/detail-iabc.d.html", True),
        ("https://n.sinaimg.cn/finance/a.jpg", True),
        ("https://sina.com.cn/", True),
        (ROLL_API + "?page=2", True),  # the roll API's host, whatever it is
        ("http://127.0.0.1:9999/other-port.html", True),  # same host, any port
        ("http://evil.example/steal", False),
        ("http://evilsina.com.cn/", False),
        ("http://sina.com.cn.evil.example/", False),
        ("http://weibo.com/u/1", False),
        ("http://127.0.0.2/", False),
        ("file:///tmp/feed.xml", True),  # a local feed leaves no machine
    ],
)
def test_offsite_policy_in_discovery(url, allowed):
    mw, crawler = offsite()
    assert mw.should_follow(Request(url), crawler.spider) is allowed


def test_explicit_urls_and_feeds_add_exactly_their_hosts():
    mw, crawler = offsite(
        urls="http://blog.example.org/a.html", feeds="https://rss.example.net/f.xml"
    )
    spider = crawler.spider
    assert mw.should_follow(Request("http://blog.example.org/b.html"), spider)
    assert mw.should_follow(Request("https://rss.example.net/g.xml"), spider)
    assert not mw.should_follow(Request("http://sub.blog.example.org/"), spider)
    assert not mw.should_follow(Request("http://example.org/"), spider)


def test_refused_redirect_is_logged_with_both_urls_and_counted(caplog):
    mw, crawler = offsite()
    failed = []

    def record(url, reason):
        failed.append((url, reason))

    crawler.signals.connect(record, health.article_failed)  # weakly held: keep `record` alive
    origin = "https://finance.sina.com.cn/roll/2024-05-10/doc-iabc.shtml"
    request = Request("http://evil.example/x", meta={"redirect_urls": [origin]})
    with caplog.at_level(logging.WARNING), pytest.raises(IgnoreRequest):
        mw.process_request(request)
    assert caplog.messages == [
        f"Not following redirect from {origin} to http://evil.example/x (host evil.example)"
    ]
    assert failed == [
        (origin, "redirected to http://evil.example/x, outside the allowed hosts (evil.example)")
    ]
    assert crawler.stats.get_value("offsite/redirect_refused") == 1
    assert crawler.stats.get_value("offsite/filtered") == 1
    # An allowed request passes untouched, and dont_filter still opts out, as in Scrapy.
    assert mw.process_request(Request(origin)) is None
    assert mw.process_request(Request("http://evil.example/", dont_filter=True)) is None


def test_offsite_not_configured_without_domains():
    crawler = get_crawler(SinaSpider, {"SINA_ALLOWED_DOMAINS": []})
    with pytest.raises(NotConfigured):
        SinaOffsiteMiddleware.from_crawler(crawler)


def test_project_settings_replace_scrapys_offsite_middleware():
    mws = project.DOWNLOADER_MIDDLEWARES
    assert mws["scrapy.downloadermiddlewares.offsite.OffsiteMiddleware"] is None
    assert mws["crawler.downloader.offsite.SinaOffsiteMiddleware"] == 50
    assert project.SINA_ALLOWED_DOMAINS == ["sina.com.cn", "sina.cn", "sinaimg.cn"]


# --- Charset labels that lie ------------------------------------------------------------------

URL = "https://finance.sina.com.cn/roll/2024-05-10/doc-irelia0000000001.shtml"
GBK_ONLY = "朱镕基：喆堃与赟的故事"  # 镕 喆 堃 赟 are GBK/GB18030 characters outside GB2312


def page(title: str, head: str = "", body: str = "<p>正文。</p>") -> str:
    return (
        f"<html><head>{head}</head><body><h1 class='main-title'>{title}</h1>"
        "<div class='date-source'><span class='date'>2024年05月10日 10:30</span></div>"
        f"<div id='artibody'>{body}</div></body></html>"
    )


def test_gbk_only_characters_exist_outside_gb2312():
    with pytest.raises(UnicodeEncodeError):
        GBK_ONLY.encode("gb2312")


@pytest.mark.parametrize(
    ("headers", "meta"),
    [
        ({"Content-Type": "text/html; charset=gb2312"}, ""),
        ({"Content-Type": "text/html"}, '<meta charset="gb2312">'),
        ({}, '<meta http-equiv="Content-Type" content="text/html; charset=GB2312">'),
    ],
    ids=["header", "meta-charset", "meta-http-equiv"],
)
def test_gb2312_label_over_gbk_only_characters(headers, meta):
    raw = page(GBK_ONLY, meta, f"<p>{GBK_ONLY}。</p>").encode("gbk")
    item = parse_article(HtmlResponse(URL, body=raw, headers=headers))
    assert item.title == GBK_ONLY
    assert "喆堃与赟" in item.body


def test_gb18030_four_byte_character_under_a_gb2312_label():
    title = "𠮷野家财报"  # U+20BB7: four bytes in GB18030, absent from GBK
    raw = page(title, '<meta charset="gb2312">').encode("gb18030")
    assert parse_article(HtmlResponse(URL, body=raw)).title == title


@pytest.mark.parametrize("headers", [{}, {"Content-Type": "text/html"}], ids=["none", "bare"])
def test_utf8_page_without_any_label(headers):
    title = "无标签的UTF-8页面：人民币汇率€"
    raw = page(title).encode("utf-8")
    assert b"charset" not in raw
    assert parse_article(HtmlResponse(URL, body=raw, headers=headers)).title == title


# --- Bad pages are NotAnArticle with the URL, never another exception ------------------------


@pytest.mark.parametrize(
    ("body", "headers", "reason"),
    [
        (b"", {"Content-Type": "text/html"}, "no title"),
        (b"   \n", {}, "no title"),
        (b"%PDF-1.4 \x00\xff", {"Content-Type": "application/pdf"}, "not an HTML page"),
        (b'{"result": 1}', {"Content-Type": "application/json"}, "not an HTML page"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", {"Content-Type": "image/png"}, "not an HTML page"),
        (page("只有标题", body="").encode(), {}, "no body"),
        (page("标题").encode()[:120], {}, "no body"),  # cut before the body
    ],
    ids=["empty", "blank", "pdf", "json", "png", "no-body", "truncated"],
)
def test_bad_pages_raise_not_an_article_naming_the_url(body, headers, reason):
    with pytest.raises(NotAnArticle) as info:
        parse_article(HtmlResponse(URL, body=body, headers=headers))
    assert info.value.url == URL
    assert info.value.reason.startswith(reason)
    assert URL in str(info.value)


# --- Property-based: any title, any body -------------------------------------------------------

titles = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=600)


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=titles)
def test_any_headline_is_saved_safely_or_refused_by_name(tmp_path_factory, title):
    """From page bytes to post file: no exception but NotAnArticle, no control characters,
    the title round-trips through the front matter, the file stays in the posts folder."""
    raw = page(escape(title)).encode("utf-8")
    response = HtmlResponse(URL.replace("doc-irelia0000000001", "hostile"), body=raw)
    if not normalise_space(title):  # nothing visible: refused by name, nothing written
        with pytest.raises(NotAnArticle, match="no title"):
            parse_article(response)
        return
    item = parse_article(response)
    assert item.title
    assert all(ch.isprintable() or ch == " " for ch in item.title if ord(ch) < 0xA0)
    options = PostOptions.from_settings(get_project_settings())
    _, matter, _ = render_post(item, options).split("---\n", 2)
    front = yaml.safe_load(matter)
    assert front["title"] == item.title
    assert set(front) == {
        "title",
        "headimg",
        "thumbnail",
        "author",
        "comments",
        "date",
        "categories",
    }
    root = tmp_path_factory.getbasetemp() / "posts"
    for slug in (False, True):
        name = post_filename(item, replace(options, title_slug=slug))
        assert (root / name).resolve().parent == root.resolve()
        assert len(name.encode()) <= 200


# A small HTML vocabulary weighted towards what cleaning must remove.
TAGS = ("p", "div", "span", "a", "img", "script", "style", "iframe", "table", "td", "b", "svg")
ATTRS = (
    "onclick", "onerror", "onload", "OnMouseOver", "style", "class", "id", "href", "src",
    "data-src", "width",
)  # fmt: skip
ATTR_VALUES = st.sampled_from(
    ["javascript:alert(1)", "x", "/rel/a.jpg", "//n.sinaimg.cn/a.png", "alert('<p>')", ""]
)
TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=12)


@st.composite
def html_nodes(draw, depth: int = 0) -> str:
    kind = draw(st.sampled_from(["text", "element", "element", "comment", "cdata", "raw"]))
    if kind == "text" or depth > 3:
        return escape(draw(TEXT))
    if kind == "comment":
        return f"<!--{draw(TEXT).replace('--', '')}-->"
    if kind == "cdata":
        return f"<![CDATA[{draw(TEXT)}]]>"
    if kind == "raw":  # unescaped text: stray '<', '&', '-->' and half tags
        return draw(st.sampled_from(["<", "&", "-->", "<p", "</div>", "<script>", "<!--"]))
    tag = draw(st.sampled_from(TAGS))
    attrs = "".join(
        f' {name}="{escape(value)}"'
        for name, value in draw(
            st.lists(st.tuples(st.sampled_from(ATTRS), ATTR_VALUES), max_size=3)
        )
    )
    children = "".join(draw(st.lists(html_nodes(depth + 1), max_size=4)))
    return f"<{tag}{attrs}>{children}</{tag}>"


bodies = st.lists(html_nodes(), min_size=1, max_size=6).map("".join)


def junk_left(cleaned: str) -> list[str]:
    """What cleaning must never leave: script/style elements, comments, on* attributes."""
    if not cleaned:
        return []
    root = lxml.html.fragment_fromstring(cleaned, create_parent="div")
    found = []
    for el in root.iter():
        if isinstance(el, etree._Comment):
            found.append("comment")
        elif not isinstance(el.tag, str):
            found.append(repr(el))
        elif el.tag in {"script", "style"}:
            found.append(el.tag)
        else:
            found += [f"{el.tag}@{a}" for a in el.attrib if a.lower().startswith("on")]
            found += [
                f"{el.tag}@{a}=javascript"
                for a, v in el.attrib.items()
                if v.strip().lower().startswith("javascript:")
            ]
    return found


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inner=bodies, wrap=st.booleans())
def test_cleaning_never_raises_and_never_leaves_scripts_styles_comments_or_handlers(inner, wrap):
    html = f'<div id="artibody">{inner}</div>' if wrap else inner
    cleaned = clean_body(html, "https://finance.sina.com.cn/roll/a.shtml")
    assert junk_left(cleaned) == []
    assert "<script" not in cleaned.lower()
    assert "<!--" not in cleaned


@settings(max_examples=200, deadline=None)
@given(text=st.text(st.characters(exclude_categories=("Cs",)), max_size=300))
def test_cleaning_any_text_never_raises(text):
    cleaned = clean_body(text, "https://finance.sina.com.cn/")
    assert junk_left(cleaned) == []


def test_junk_left_sees_what_it_should():
    # The checker itself must be able to fail.
    assert junk_left(
        "<div><script>x</script><!-- c --><a onclick='x' href='javascript:y'>a</a>"
    ) == [
        "script",
        "comment",
        "a@onclick",
        "a@href=javascript",
    ]


def test_spider_args_reach_the_offsite_policy():
    spider = SimpleNamespace(args=SimpleNamespace(urls=["https://blog.example.org/x"], feeds=[]))
    mw, _ = offsite()
    assert "blog.example.org" in mw.run_hosts(spider)


# --- Backoff before retries ---------------------------------------------------------------------


def test_retry_waits_double_up_to_the_ceiling():
    crawler = get_crawler(
        SinaSpider, {"SINA_RETRY_BACKOFF_START": 0.5, "AUTOTHROTTLE_MAX_DELAY": 3}
    )
    mw = RetryBackoffMiddleware.from_crawler(crawler)
    assert [retry_wait(n, start=mw.start, ceiling=mw.ceiling) for n in range(6)] == [
        0.0, 0.5, 1.0, 2.0, 3.0, 3.0,
    ]  # fmt: skip


def test_backoff_off_when_start_is_zero_or_retries_are_off():
    for settings_ in ({"SINA_RETRY_BACKOFF_START": 0}, {"RETRY_ENABLED": False}):
        with pytest.raises(NotConfigured):
            RetryBackoffMiddleware.from_crawler(get_crawler(SinaSpider, settings_))
