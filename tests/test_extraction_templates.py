"""Template dispatch, the generic fallback on a redesigned page, and the drift verdict."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from benchmarks.pages import html_text
from benchmarks.quality import char_f1
from crawler.site.cleaning import clean_body
from crawler.site.extraction import GENERIC, NotAnArticle, extract_article, recognise
from tests.redesign import strip_class_and_id

FIXTURES = Path(__file__).parent / "fixtures" / "sina"
QUALITY = Path(__file__).parent.parent / "benchmarks" / "quality"

# The template each fixture page is, by its headline element.
TEMPLATES = {
    "mobile-finance-sina-cn-imizmscv4399613": "mobile",
    "modern-finance-roll-ihqfskcn2160999": "modern",
    "modern-finance-usstock-iicezzrq4681677": "modern",
    "modern-news-2024-inausehc2630922": "modern",
    "modern-news-2024-inavmmfi1968342": "modern",
    "modern-news-iicezuev4202091": "modern",
    "modern-news-iicezzrq4076655": "modern",
    "modern-news-iihnzahi3275702": "modern",
    "old-2005-chanye-finance-244339": "table2005",
    "old-artibodyTitle-tech-iicezzrq4972166": "artibody",
    "old-gb2312-ent-13562762964": "artibody",
    "v2014-finance-forex-ifxsktkp9337164": "artibody",
}


def response(case: str, *, stripped: bool = False) -> HtmlResponse:
    url = json.loads((FIXTURES / case / "source.json").read_text(encoding="utf-8"))["url"]
    body = (FIXTURES / case / "page.html").read_bytes()
    return HtmlResponse(url=url, body=strip_class_and_id(body) if stripped else body)


def expected(case: str) -> dict:
    return json.loads((FIXTURES / case / "expected.json").read_text(encoding="utf-8"))


def test_every_article_fixture_has_a_template_here():
    articles = {p.parent.name for p in FIXTURES.glob("*/expected.json")}
    assert set(TEMPLATES) == {c for c in articles if "not_article" not in expected(c)}


@pytest.mark.parametrize(("case", "template"), sorted(TEMPLATES.items()))
def test_fixture_is_read_by_its_template_with_no_drift(case, template):
    extraction = extract_article(response(case))
    assert extraction.item.template == template
    assert extraction.missing == ()
    assert extraction.drift is None


@pytest.mark.parametrize("case", sorted(TEMPLATES))
def test_redesigned_page_is_read_by_the_generic_fallback(case):
    """Every class and id stripped: no template matches, the fallback still gets the article."""
    want = expected(case)
    extraction = extract_article(response(case, stripped=True))
    item = extraction.item
    assert item.template == GENERIC
    assert extraction.drift == "no known template: generic fallback"
    assert item.title == want["title"]
    assert item.date.isoformat()[:10] == want["date"][:10]
    assert str(item.date.tzinfo) == "Asia/Shanghai"
    assert item.author == want["author"]
    assert item.url == want["url"]
    text = html_text(clean_body(item.body, item.url))
    assert char_f1(text, (QUALITY / f"{case}.txt").read_text(encoding="utf-8")) >= 0.9
    # The headline is the post's title, not the first line of its body.
    assert not text.strip().startswith(want["title"])


def test_a_known_template_without_its_author_line_is_drift():
    html = """<html><body><h1 class="main-title">标题</h1>
    <div class="date-source"><span class="date">2022年08月01日 11:23</span></div>
    <div class="path-search"><div class="channel-path"><a>国内</a></div></div>
    <div class="article" id="artibody"><p>正文</p></div></body></html>"""
    url = "https://finance.sina.com.cn/china/2022-08-01/doc-imizmscv4399613.shtml"
    extraction = extract_article(HtmlResponse(url, body=html.encode(), encoding="utf-8"))
    assert extraction.item.template == "modern"
    assert extraction.item.author == "新浪财经"  # the site, as before: the post still goes out
    assert extraction.missing == ("author",)
    assert extraction.drift == "modern template without author"


def test_recognise_reads_the_headline_element_only():
    from parsel import Selector

    page = Selector(text="<div class='main-title'>x</div><h1 class='big main-title'>t</h1>")
    template, title = recognise(page)
    assert (template.name, title.xpath("string()").get()) == ("modern", "t")
    assert recognise(Selector(text="<h1>t</h1><div id='artibody'>x</div>")) == (None, None)


def test_generic_date_from_the_url_when_the_page_shows_none():
    html = "<html><head><title>标题_新浪财经_新浪网</title></head><body><h1>标题</h1>" + (
        "<div><p>" + "这是正文的一段文字，足够长。" * 20 + "</p></div></body></html>"
    )
    url = "https://finance.sina.com.cn/china/2022-08-01/doc-imizmscv4399613.shtml"
    item = extract_article(HtmlResponse(url, body=html.encode(), encoding="utf-8")).item
    assert (item.template, item.title) == (GENERIC, "标题")
    assert item.date.isoformat() == "2022-08-01T00:00:00+08:00"


def test_generic_page_without_any_date_is_not_an_article():
    html = "<html><head><title>标题</title></head><body><p>" + "正文。" * 50 + "</p></body></html>"
    with pytest.raises(NotAnArticle, match="^no date: "):
        extract_article(HtmlResponse("http://127.0.0.1/a", body=html.encode(), encoding="utf-8"))
