"""parse_article on saved Sina pages (expected.json is hand-checked ground truth) and on tiny pages."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from functools import cache
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from parsel import Selector
from scrapy.http import HtmlResponse
from scrapy.utils.project import get_project_settings
from w3lib.encoding import resolve_encoding

from crawler.items import ArticleItem
from crawler.site.extraction import (
    NO_READABLE_BODY,
    NotAnArticle,
    extract_article,
    extract_from,
    parse_article,
    parse_page,
)
from crawler.site.loaders import ArticleLoader, normalise_space
from crawler.site.parsing import SLICE_BYTES
from crawler.site.posts import PostOptions, post_filename, render_post

FIXTURES = Path(__file__).parent / "fixtures" / "sina"
FIELDS = (
    "url",
    "title",
    "date",
    "author",
    "editor",
    "doc_id",
    "channel",
    "categories",
    "keywords",
    "headimg",
)


def load_response(case: str) -> HtmlResponse:
    """The saved bytes as Scrapy would receive them: no Content-Type header, so encoding detection
    runs on the page itself."""
    source = json.loads((FIXTURES / case / "source.json").read_text(encoding="utf-8"))
    body = (FIXTURES / case / "page.html").read_bytes()
    return HtmlResponse(url=source["url"], body=body, status=source.get("status", 200))


def expected(case: str) -> dict:
    return json.loads((FIXTURES / case / "expected.json").read_text(encoding="utf-8"))


def cases() -> list[str]:
    return sorted(p.parent.name for p in FIXTURES.glob("*/expected.json"))


ARTICLES = [c for c in cases() if "not_article" not in expected(c)]
NON_ARTICLES = [c for c in cases() if "not_article" in expected(c)]


@cache
def parsed(case: str) -> ArticleItem:
    return parse_article(load_response(case))


def paragraphs(html: str) -> list[str]:
    """Whitespace-normalised texts of the <p> elements of a body, scripts and styles left out."""
    texts = (
        " ".join(
            "".join(p.xpath(".//text()[not(ancestor::script or ancestor::style)]").getall()).split()
        )
        for p in Selector(text=html).css("p")
    )
    return [text for text in texts if text]


def test_every_fixture_has_expected_json():
    pages = sorted(p.parent.name for p in FIXTURES.glob("*/page.html"))
    assert pages == cases()
    assert len(ARTICLES) == 12
    assert len(NON_ARTICLES) == 3


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("case", ARTICLES)
def test_field_matches_expected(case, field):
    value = getattr(parsed(case), field)
    if isinstance(value, datetime):
        assert value.tzinfo is not None
        assert str(value.tzinfo) == "Asia/Shanghai"
        value = value.isoformat()
    assert value == expected(case)[field]


@pytest.mark.parametrize("case", ARTICLES)
def test_body_is_the_article_container(case):
    item = parsed(case)
    want = expected(case)
    paras = paragraphs(item.body)
    assert want["first_paragraph"] in paras
    assert want["last_paragraph"] in paras
    first, last = paras.index(want["first_paragraph"]), paras.index(want["last_paragraph"])
    assert first < last
    # The container, not the page: the article's own paragraphs dominate it, and the headline
    # element (outside every Sina article container) is not in it.
    article_chars = sum(len(p) for p in paras[first : last + 1])
    assert article_chars / sum(len(p) for p in paras) > 0.85
    assert not Selector(text=item.body).css("h1.main-title, #artibodyTitle, .art_tit_h1, th.f24")
    assert item.body.lstrip().startswith(("<div", "<td", "<section"))


@pytest.mark.parametrize("case", NON_ARTICLES)
def test_non_article_fixture_raises_with_reason_and_url(case):
    response = load_response(case)
    with pytest.raises(NotAnArticle) as raised:
        parse_article(response)
    assert raised.value.reason == expected(case)["not_article"]
    assert raised.value.url == response.url
    assert str(raised.value) == f"{expected(case)['not_article']}: {response.url}"


def test_soft_404_served_with_status_200_is_an_error_page():
    body = (FIXTURES / "not-article-error" / "page.html").read_bytes()
    response = HtmlResponse(url="https://finance.sina.com.cn/china/doc-ix1.shtml", body=body)
    with pytest.raises(NotAnArticle, match="^error page: https://finance"):
        parse_article(response)


def tiny(url: str, html: str, status: int = 200) -> HtmlResponse:
    return HtmlResponse(url=url, body=html.encode("utf-8"), encoding="utf-8", status=status)


ARTICLE_URL = "https://finance.sina.com.cn/china/2022-08-01/doc-imizmscv4399613.shtml"


@pytest.mark.parametrize(
    ("url", "html", "reason"),
    [
        (
            ARTICLE_URL,
            (
                "<html><head><meta property='og:type' content='video'></head>"
                "<body><h1 class='main-title'>视频</h1></body></html>"
            ),
            "video page",
        ),
        (
            "https://slide.finance.sina.com.cn/slide_1_2_3.html",
            "<h1>图集</h1>",
            "slide show",
        ),
        (
            "https://finance.sina.com.cn/china/",
            "<h1 class='main-title'>国内</h1><div id='artibody'><p>x</p></div>",
            "list page",
        ),
        (
            "https://finance.sina.com.cn/roll/gjxw.shtml",
            "<title>国际新闻_新浪财经</title><ul class='list_009'><li><a href='/a'>A</a></li></ul>",
            "list page",
        ),
        (ARTICLE_URL, "<html><body><div id='artibody'><p>正文</p></div></body></html>", "no title"),
        (ARTICLE_URL, "<h1 class='main-title'>标题</h1><p>页面其他部分</p>", "no body"),
        (
            ARTICLE_URL,
            "<h1 class='main-title'>标题</h1><div id='artibody'><script>var a=1;</script> </div>",
            "no body",
        ),
        (
            ARTICLE_URL,
            "<h1 class='main-title'>标题</h1><div id='artibody'><p>正文</p></div>",
            "no date",
        ),
    ],
    ids=[
        "og-video",
        "slide",
        "channel-index",
        "roll-list",
        "no-title",
        "no-body",
        "script-only",
        "no-date",
    ],
)
def test_not_an_article(url, html, reason):
    with pytest.raises(NotAnArticle) as raised:
        parse_article(tiny(url, html))
    assert (raised.value.reason, raised.value.url) == (reason, url)


@pytest.mark.parametrize(
    "title", ["页面没有找到", "404 Not Found", "404", "页面不存在 - 新浪网", "Error"]
)
def test_error_titles(title):
    html = f"<title>{title}</title><h1 class='main-title'>x</h1><div id='artibody'><p>y</p></div>"
    with pytest.raises(NotAnArticle, match="^error page: "):
        parse_article(tiny(ARTICLE_URL, html))


def test_news_about_404_is_not_an_error_page():
    html = MINIMAL.format(meta="<title>404名员工被裁_新浪财经_新浪网</title>", body="<p>正文</p>")
    assert parse_article(tiny(ARTICLE_URL, html)).title == "标题"


def test_channel_of_last_resort_is_the_site():
    html = MINIMAL.format(meta="", body="<p>正文</p>")
    item = parse_article(tiny("https://k.sina.com.cn/article_1_2022-08-01.html", html))
    assert (item.channel, item.categories, item.author) == ("新浪网", ["新浪网"], "新浪网")
    item = parse_article(
        tiny("https://finance.sina.com.cn/stock/2022-08-01/doc-iab1234567.shtml", html)
    )
    assert (item.channel, item.categories, item.author) == ("股票", ["股票"], "新浪财经")


def test_http_error_status_is_an_error_page():
    with pytest.raises(NotAnArticle, match="^error page: "):
        parse_article(tiny(ARTICLE_URL, "<h1 class='main-title'>x</h1>", status=500))


MINIMAL = """<html><head>
<meta property="og:image" content="//n.sinaimg.cn/finance/og.jpg">
{meta}</head><body>
<h1 class="main-title">标题</h1>
<div class="date-source"><span class="date">2022年08月01日 11:23</span></div>
<div class="article" id="artibody">{body}</div>
</body></html>"""


def minimal(body: str = "<p>正文</p>", meta: str = "", url: str = ARTICLE_URL) -> ArticleItem:
    return parse_article(tiny(url, MINIMAL.format(body=body, meta=meta)))


def test_headimg_prefers_lazy_data_src_and_makes_it_absolute():
    body = '<p>正文</p><img src="data:image/gif;base64,R0l" data-src="//n.sinaimg.cn/a/lazy.jpg">'
    assert minimal(body).headimg == "https://n.sinaimg.cn/a/lazy.jpg"


def test_headimg_skips_quote_charts_and_video_posters():
    body = (
        '<div class="video-2017"><img src="//n.sinaimg.cn/poster.jpg"></div>'
        '<img src="http://image.sinajs.cn/newchart/min/n/sh000001.gif"><p>正文</p>'
        '<img src="/photo/real.jpg">'
    )
    assert minimal(body).headimg == "https://finance.sina.com.cn/photo/real.jpg"


def test_headimg_skips_the_follow_us_qr_block():
    body = (
        '<p>正文</p><div class="appendQr_wrap"><img src="https://n.sinaimg.cn/finance/qr.png">'
        '</div><img src="//n.sinaimg.cn/finance/photo.jpg">'
    )
    assert minimal(body).headimg == "https://n.sinaimg.cn/finance/photo.jpg"


def test_headimg_falls_back_to_og_image_made_absolute():
    assert minimal().headimg == "https://n.sinaimg.cn/finance/og.jpg"


def test_body_is_cleaned_in_the_parsed_page_not_parsed_again(monkeypatch):
    def second_parse(*args, **kwargs):
        raise AssertionError("the article container was parsed a second time")

    monkeypatch.setattr("lxml.html.fragment_fromstring", second_parse)
    body = '<p>　　正文<script>var a;</script></p><div class="appendQr_wrap">扫码</div>'
    assert minimal(body).body == "<div><p>　　正文</p></div>"


def test_clean_false_keeps_the_raw_article_container():
    body = '<p>　　正文<script>var a;</script></p><div class="appendQr_wrap">扫码</div>'
    item = parse_article(tiny(ARTICLE_URL, MINIMAL.format(body=body, meta="")), clean=False)
    assert item.body == f'<div class="article" id="artibody">{body}</div>'


def test_container_left_empty_by_cleaning_is_a_retryable_page_failure():
    with pytest.raises(NotAnArticle) as raised:
        minimal('<div class="appendQr_wrap">扫码关注</div><script>x</script>')
    assert raised.value.reason == NO_READABLE_BODY
    assert str(raised.value) == f"no readable body left after cleaning: {ARTICLE_URL}"


def test_author_falls_back_to_the_site_name():
    assert minimal().author == "新浪财经"


def test_doc_id_from_meta_when_the_url_carries_none():
    url = "http://127.0.0.1:8080/article?id=1"
    meta = '<meta name="publishid" content="mizmscv4399613">'
    assert minimal(meta=meta, url=url).doc_id == "imizmscv4399613"
    comment = '<meta name="comment" content="cj:comos-mizmscv4399613">'
    assert minimal(meta=comment, url=url).doc_id == "imizmscv4399613"


def test_date_keeps_the_visible_minute_over_a_later_published_time():
    meta = '<meta property="article:published_time" content="2022-08-01T15:00:01+08:00">'
    assert minimal(meta=meta).date.isoformat() == "2022-08-01T11:23:00+08:00"


def test_date_takes_seconds_from_a_meta_of_the_same_minute():
    meta = '<meta property="article:published_time" content="2022-08-01T03:23:57Z">'
    assert minimal(meta=meta).date.isoformat() == "2022-08-01T11:23:57+08:00"


def test_the_response_is_parsed_once(monkeypatch):
    """The loader must reuse response.selector, never build its own Selector (a second parse)."""

    def second_parse(*args, **kwargs):
        raise AssertionError("ArticleLoader built a second Selector")

    monkeypatch.setattr(ArticleLoader, "default_selector_class", second_parse)
    assert parsed.__wrapped__("v2014-finance-forex-ifxsktkp9337164").title


@pytest.mark.parametrize("case", ARTICLES)
def test_parsing_up_to_the_article_gives_the_whole_page_item(case):
    response = load_response(case)
    whole = extract_from(response, parse_page(response, whole=True).selector, clean=True)
    assert parsed(case) == whole.item


@pytest.mark.parametrize(
    "case",
    [
        "modern-finance-roll-ihqfskcn2160999",
        "modern-news-2024-inavmmfi1968342",
        "old-artibodyTitle-tech-iicezzrq4972166",
        "old-2005-chanye-finance-244339",
        "v2014-finance-forex-ifxsktkp9337164",
    ],
)
def test_the_parse_stops_after_the_article_block(case):
    response = load_response(case)
    partial, whole = parse_page(response), parse_page(response, whole=True)
    assert not partial.complete
    assert whole.complete
    assert len(partial.selector.xpath("//*")) < len(whole.selector.xpath("//*"))


# More than one parser slice of related links after the article block, then the source line a
# redesigned page moved below the article.
LATE_SOURCE = """<html><head></head><body>
<h1 class="main-title">标题</h1>
<div class="date-source"><span class="date">2022年08月01日 11:23</span></div>
<div class="left"><div id="artibody"><p>正文</p></div></div>
<ul>{links}</ul>
<div class="date-source"><a class="source">后来的来源</a></div>
</body></html>"""


def test_a_field_missing_up_to_the_article_is_looked_for_in_the_whole_page():
    links = "<li><a href='/x'>相关新闻</a></li>" * 1000
    extraction = extract_article(tiny(ARTICLE_URL, LATE_SOURCE.format(links=links)))
    assert extraction.item.author == "后来的来源"
    assert extraction.missing == ()
    assert extraction.drift is None


HOSTILE_HEAD = (
    '<html><head><meta property="article:published_time" content="2018-12-28T19:55:00+08:00">'
    '<meta property="article:author" content="新京报"></head><body>'
)
HEADLINE = '<h1 class="main-title">中铁总辟谣称消息不实</h1>'
ARTICLE_BLOCK = (
    '<div class="left"><div id="artibody">' + ("<p>" + "正文内容，" * 20 + "</p>") * 60 + "</div>"
    '<p class="show_author">责任编辑：张三</p></div>'
)
RELATED = "<ul>" + "<li><a href='/x'>相关新闻</a></li>" * 1000 + "</ul>"


def padded(prefix: str, size: int) -> str:
    """The prefix, made exactly ``size`` bytes long by a comment."""
    return prefix + "<!--" + "x" * (size - len(prefix.encode()) - 7) + "-->"


def partial_and_whole(html: str) -> tuple[ArticleItem, ArticleItem]:
    response = tiny(ARTICLE_URL, html)
    whole = extract_from(response, parse_page(response, whole=True).selector, clean=True)
    return extract_article(response).item, whole.item


def test_a_container_the_template_prefers_placed_after_a_closed_one_is_read_to_its_end():
    # A sidebar `#article` closes in the slice where the real `#artibody` (preferred) starts.
    sidebar = padded(HOSTILE_HEAD + HEADLINE + "<div><div id='article'><p>侧栏</p></div>", 8292)
    partial, whole = partial_and_whole(sidebar + "</div>" + ARTICLE_BLOCK + RELATED)
    assert partial.body.count("正文内容") == 20 * 60
    assert partial == whole


def test_a_headline_placed_after_the_body_is_read_to_its_end():
    # A slice ends inside the headline's text.
    head = HOSTILE_HEAD + ARTICLE_BLOCK
    slice_end = (len(head.encode()) // SLICE_BYTES + 1) * SLICE_BYTES
    before = padded(head, slice_end - len('<h1 class="main-title">中铁总'.encode()))
    partial, whole = partial_and_whole(before + HEADLINE + RELATED)
    assert partial.title == "中铁总辟谣称消息不实"
    assert partial == whole


def test_a_date_only_below_the_article_is_found_in_the_whole_page():
    head = "<html><head></head><body>"
    date_line = '<div class="date-source"><span class="date">2018年12月28日 19:55</span></div>'
    partial, whole = partial_and_whole(head + HEADLINE + ARTICLE_BLOCK + RELATED + date_line)
    assert partial.date.isoformat() == "2018-12-28T19:55:00+08:00"
    assert partial == whole


def test_a_date_line_after_the_editor_line_in_the_body_block_is_read():
    # A parse that stopped at the editor line (more than a slice of small nodes before the
    # date line) took the head's meta date instead (hostile review of 9c38ffa).
    block = (
        ARTICLE_BLOCK.removesuffix("</div>")
        + "<!-- gap -->" * 900
        + '<div class="date-source"><span class="date">2018年12月28日 20:30</span></div></div>'
    )
    partial, whole = partial_and_whole(HOSTILE_HEAD + HEADLINE + block + RELATED)
    assert partial.date.isoformat() == "2018-12-28T20:30:00+08:00"
    assert partial == whole


# GB2312 pages: w3lib maps the gb2312 label to GB18030, a superset, so every character decodes.
def test_w3lib_maps_gb2312_to_gb18030():
    assert resolve_encoding("gb2312") == "gb18030"
    assert resolve_encoding("GB2312") == "gb18030"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Content-Type": "text/html"}, {"Content-Type": "text/html; charset=gb2312"}],
    ids=["no-header", "header-without-charset", "header-gb2312"],
)
def test_gb2312_page_from_raw_bytes(headers):
    raw = (FIXTURES / "old-gb2312-ent-13562762964" / "page.html").read_bytes()
    assert b"charset=gb2312" in raw[:2000]
    response = HtmlResponse(
        url="http://ent.sina.com.cn/y/2009-11-09/13562762964.shtml", body=raw, headers=headers
    )
    assert response.encoding == "gb18030"
    item = parse_article(response)
    assert item.title == "阿里郎全新力作《兰花指》单曲成红歌(图)"
    assert item.author == "新浪娱乐"
    assert item.date.isoformat() == "2009-11-09T13:56:00+08:00"
    assert paragraphs(item.body)[0] == (
        "新浪娱乐讯 国内知名组合阿里郎的全新力作《兰花指》单曲一举成名，成为大家传唱的流行曲目。"
    )
    assert item.categories == ["音乐频道", "内地音乐"]


def test_2005_page_wrapped_in_a_corpus_record_decodes_as_gb18030():
    response = load_response("old-2005-chanye-finance-244339")
    assert response.text.startswith('<text id="http://chanye.finance.sina.com.cn/')
    assert response.encoding == "gb18030"
    assert parsed("old-2005-chanye-finance-244339").author == "理财周刊"


def test_mobile_year_less_time_takes_the_year_from_the_url():
    html = """<html><head>
    <meta property="article:published_time" content="2022-08-01T18:02:11+08:00"></head><body>
    <article class="art_box"><h1 class="art_tit_h1">标题</h1>
    <figure class="weibo_info"><figcaption class="weibo_detail"><h2 class="weibo_user">证券时报</h2>
    <time class="weibo_time"><span class="weibo_time_day">08月01日</span>11:23</time></figcaption>
    </figure><section class="art_pic_card art_content"><p class="art_p">正文</p></section>
    </article></body></html>"""
    url = "https://finance.sina.cn/2022-08-01/detail-imizmscv4399613.d.html"
    item = parse_article(tiny(url, html))
    assert item.date.isoformat() == "2022-08-01T11:23:00+08:00"
    assert (item.author, item.title, item.channel) == ("证券时报", "标题", "财经")
    # Without a date in the URL the year-less time is not guessed; the meta decides.
    item = parse_article(tiny("https://finance.sina.cn/article?id=1", html))
    assert item.date.isoformat() == "2022-08-01T18:02:11+08:00"


def test_gb_bytes_without_any_declaration_still_decode():
    raw = (FIXTURES / "old-gb2312-ent-13562762964" / "page.html").read_bytes()
    response = HtmlResponse(
        url="http://ent.sina.com.cn/y/2009-11-09/13562762964.shtml",
        body=raw.replace(b"charset=gb2312", b""),
    )
    assert parse_article(response).title == "阿里郎全新力作《兰花指》单曲成红歌(图)"


def test_parse_article_is_safe_from_worker_threads():
    """The spider will call parse_article from a thread pool: same results as one at a time."""
    from concurrent.futures import ThreadPoolExecutor

    work = ARTICLES * 3
    with ThreadPoolExecutor(max_workers=4) as pool:
        items = list(pool.map(lambda case: parse_article(load_response(case)), work))
    assert [(i.url, i.title, i.date, i.author) for i in items] == [
        (p.url, p.title, p.date, p.author) for p in map(parsed, work)
    ]


def test_mobile_author_box_time_stamp_dates_a_page_without_a_visible_time():
    # Real sina.cn markup: the author box carries Unix seconds and no <time> element.
    html = (
        "<article class='art_box'><h1 class='art_tit_h1'>标题</h1><section>"
        "<figure class='weibo_info look_info' data-time='1511361881' data-uid='1116846745'>"
        "<figcaption class='weibo_detail'><h2 class='weibo_user'>泗县发布</h2></figcaption>"
        "</figure></section><section class='art_pic_card art_content'><p>正文</p></section></article>"
    )
    item = parse_article(tiny("https://k.sina.cn/article_1116846745_4291ba990400043xm.html", html))
    assert item.date.isoformat() == "2017-11-22T22:44:41+08:00"
    assert item.author == "泗县发布"


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


# --- Property-based: any headline, from page bytes to post file --------------------------------

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
        "updated",
    }
    root = tmp_path_factory.getbasetemp() / "posts"
    for slug in (False, True):
        name = post_filename(item, replace(options, title_slug=slug))
        assert (root / name).resolve().parent == root.resolve()
        assert len(name.encode()) <= 200
