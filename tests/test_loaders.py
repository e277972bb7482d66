"""ArticleLoader processors: one quirk of Sina markup per row."""

from __future__ import annotations

import pytest
from scrapy.http import HtmlResponse

from crawler.site.dates import parse_sina_date
from crawler.site.loaders import (
    ArticleLoader,
    TakeFirstDate,
    absolute_image_url,
    breadcrumb_label,
    clean_editor,
    clean_source,
    html_to_text,
    normalise_doc_id,
    split_keywords,
    strip_title_suffix,
)


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<h1 class='main-title'>60万&quot;12306账号&quot;外泄?</h1>", '60万"12306账号"外泄?'),
        ("<th class=f24><font color=#05006C>四年前中500万</font></th>", "四年前中500万"),
        ("<span>\u3000\u3000第一段\xa0 </span>", "第一段"),
        ("<div><!-- <a>新浪新闻</a> --><a>国内新闻</a></div>", "国内新闻"),
        ("<span> \r\n </span>", None),
    ],
)
def test_html_to_text(html, text):
    assert html_to_text(html) == text


@pytest.mark.parametrize(
    ("title", "headline"),
    [
        ("60万账号外泄? 中铁总辟谣|辟谣_新浪财经_新浪网", "60万账号外泄? 中铁总辟谣"),
        ("城市有轨电车之困|有轨电车|珠海市_新浪新闻", "城市有轨电车之困"),
        (
            "阿里郎全新力作《兰花指》单曲成红歌(图)_影音娱乐_新浪网",
            "阿里郎全新力作《兰花指》单曲成红歌(图)",
        ),
        ("四年前中500万__商贸_产业资讯_新浪网", "四年前中500万"),
        ("上海银保监局局长王俊寿_手机新浪网", "上海银保监局局长王俊寿"),
        ("A股|B股 不带站点后缀", "A股|B股 不带站点后缀"),
    ],
)
def test_strip_title_suffix(title, headline):
    assert strip_title_suffix(title) == headline


@pytest.mark.parametrize(
    ("text", "source"),
    [
        ("新京报", "新京报"),
        (" 2016年05月25日10:10 新浪财经 ", "新浪财经"),
        (" 《理财周刊》", "理财周刊"),
        ("来源：中国证券报", "中国证券报"),
        ("《财经》杂志", "《财经》杂志"),
        ("2009年11月09日13:48", None),
        ("", None),
    ],
)
def test_clean_source(text, source):
    assert clean_source(text) == source


@pytest.mark.parametrize(
    ("text", "editor"),
    [
        ("责任编辑：霍琦 ", "霍琦"),
        ("责任编辑：支全明 SF099", "支全明"),
        ("责任编辑：余蓉_WH07", "余蓉"),
        ("责任编辑:张迪", "张迪"),
        ("责任编辑：zyk", "zyk"),
        ("（总台央视记者 奚丹霓 张赛）", None),
    ],
)
def test_clean_editor(text, editor):
    assert clean_editor(text) == editor


@pytest.mark.parametrize(
    ("value", "doc_id"),
    [
        (
            "https://finance.sina.com.cn/roll/2018-12-28/doc-ihqfskcn2160999.shtml",
            "ihqfskcn2160999",
        ),
        (
            "https://news.sina.com.cn/c/2024-05-10/doc-inausehc2630922.shtml?cre=tianyi",
            "inausehc2630922",
        ),
        ("http://finance.sina.cn/2018-12-28/detail-ihqfskcn2160999.d.html", "ihqfskcn2160999"),
        ("http://ent.sina.com.cn/y/2009-11-09/13562762964.shtml", "13562762964"),
        ("http://chanye.finance.sina.com.cn/sm/2005-03-21/244339.shtml", "244339"),
        ("http://finance.sina.com.cn/g/20091109/09006963001.shtml", "09006963001"),
        ("hqfskcn2160999", "ihqfskcn2160999"),  # meta publishid
        ("cj:comos-hqfskcn2160999", "ihqfskcn2160999"),  # meta comment
        ("comos:hqfskcn2160999", "ihqfskcn2160999"),
        ("[111,3,244339]", "244339"),  # 'published at' comment ids
        ("28,3,2762964", "2762964"),  # 2009 publishid: the document number
        ("https://finance.sina.com.cn/china/", None),
        ("https://finance.sina.com.cn/roll/index.d.html?cid=56588", None),
        ("", None),
    ],
)
def test_normalise_doc_id(value, doc_id):
    assert normalise_doc_id(value) == doc_id


def test_split_keywords():
    assert split_keywords("苹果,新品， 新iPhone；iPhone 11|A、B") == [
        "苹果",
        "新品",
        "新iPhone",
        "iPhone 11",
        "A",
        "B",
    ]
    assert split_keywords("") == []


@pytest.mark.parametrize(
    ("value", "url"),
    [
        ("//n.sinaimg.cn/news/a.jpg", "https://n.sinaimg.cn/news/a.jpg"),
        ("http://i0.sinaimg.cn/ent/p.jpg", "http://i0.sinaimg.cn/ent/p.jpg"),
        ("/photo/p.jpg", "http://ent.sina.com.cn/photo/p.jpg"),
        ("p.jpg", "http://ent.sina.com.cn/y/p.jpg"),
        ("http://i0.sinaimg.cn/home/c.gif", None),  # spacer
        ("http://image.sinajs.cn/newchart/min/n/sh000001.gif", None),  # live quote chart
        ("//n.sinaimg.cn/default/transform/116/w550h366/20180418/a.png", None),  # share default
        ("https://p.ivideo.sina.com.cn/video/303/737/494/1_400_300.jpg", None),  # video poster
        ("data:image/gif;base64,R0lGOD", None),
        ("", None),
    ],
)
def test_absolute_image_url(value, url):
    assert absolute_image_url(value, {"base_url": "http://ent.sina.com.cn/y/1.shtml"}) == url


def test_breadcrumb_label():
    labels = ["企业服务首页", " 产经资讯", "正文", "新浪首页", "新浪", "外汇", ""]
    assert [breadcrumb_label(x) for x in labels] == [
        None,
        "产经资讯",
        None,
        None,
        None,
        "外汇",
        None,
    ]


def test_take_first_date():
    pick = TakeFirstDate()
    visible, create_at, published = (
        parse_sina_date(t)
        for t in ("2024年05月10日 00:26", "2024-05-10 00:26:45", "2024-05-10T05:54:20+08:00")
    )
    assert pick([visible, create_at, published]).isoformat() == "2024-05-10T00:26:45+08:00"
    assert pick([visible, published]).isoformat() == "2024-05-10T00:26:00+08:00"
    assert pick([published, create_at]) == published
    assert pick([]) is None


def test_add_first_stops_at_the_first_query_that_yields():
    html = "<h1 class='main-title'>甲</h1><h1 id='artibodyTitle'>乙</h1><p class='k'>a,b</p>"
    response = HtmlResponse(
        url="https://finance.sina.com.cn/x", body=html.encode(), encoding="utf-8"
    )
    loader = ArticleLoader(selector=response.selector, response=response)
    assert loader.add_first("title", ("h1.missing", "h1.main-title", "#artibodyTitle"))
    assert loader.get_collected_values("title") == ["甲"]
    assert not loader.add_first("editor", ("p.article-editor", "p.show_author"))
    loader.add_first("keywords", ("p.k",))
    loader.add_value("categories", ["外汇", "外汇", "正文"])
    item = loader.load_item()
    assert (item.title, item.editor, item.keywords, item.categories) == (
        "甲",
        None,
        ["a", "b"],
        ["外汇"],
    )
