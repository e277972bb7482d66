import json
from pathlib import Path

import lxml.html
import parsel
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from crawler.site.cleaning import clean_body, first_image

FIXTURES = Path(__file__).parent / "fixtures" / "sina"
BASE = "https://finance.sina.com.cn/roll/2022-08-01/doc-ixxxx.shtml"


def clean(inner: str) -> str:
    return clean_body(f'<div class="article" id="artibody">{inner}</div>', BASE)


# One quirk a row: (id, article inner HTML, expected cleaned output).
CASES = [
    ("full-width indent kept", "<p>　　正文</p>", "<div><p>　　正文</p></div>"),
    ("nbsp indent kept", "<p>\xa0\xa0正文</p>", "<div><p>\xa0\xa0正文</p></div>"),
    ("comment removed", "<p>a<!-- news_keyword_pub,stock --></p>", "<div><p>a</p></div>"),
    ("script removed", "<p>a</p><script>var x = '<p>b</p>';</script>", "<div><p>a</p></div>"),
    ("style removed", "<style>.a{color:red}</style><p>a</p>", "<div><p>a</p></div>"),
    ("iframe removed", '<p>a<iframe src="https://x/"></iframe></p>', "<div><p>a</p></div>"),
    (
        "QR block removed",
        (
            '<p>a</p><div class="clearfix appendQr_wrap"><div class="appendQr_normal">'
            '<img src="https://n.sinaimg.cn/q.png"></div><div>海量资讯</div></div>'
        ),
        "<div><p>a</p></div>",
    ),
    (
        "kaihu QR removed",
        '<p>a</p><div class="app-kaihu-qr"><p>开户</p></div>',
        "<div><p>a</p></div>",
    ),
    ("hzh ad removed", '<p>a</p><div id="left_hzh_ad"><p>广告</p></div>', "<div><p>a</p></div>"),
    (
        "sinaads slot removed",
        '<p>a</p><div id="ad_44086" class="otherContent_01"><ins class="sinaads"></ins></div>',
        "<div><p>a</p></div>",
    ),
    (
        "live quote removed, stock link kept",
        (
            '<p>推进<span id="stock_sh601229"><a href="/realstock/company/sh601229/nc.shtml" '
            'class="keyword" target="_blank">上海银行</a></span><span id="quote_sh601229">5.1</span>业</p>'
        ),
        (
            '<div><p>推进<a href="https://finance.sina.com.cn/realstock/company/sh601229/nc.shtml">'
            "上海银行</a>业</p></div>"
        ),
    ),
    (
        "event handler dropped",
        '<p><a onmouseover="WeiboCard.show(1)" href="http://weibo.com/imf">IMF</a></p>',
        '<div><p><a href="http://weibo.com/imf">IMF</a></p></div>',
    ),
    (
        "javascript link unwrapped",
        '<p><a href="javascript:;">播放</a>x</p>',
        "<div><p>播放x</p></div>",
    ),
    (
        "hidden element removed",
        '<p>a</p><p style="display: none">b</p><p hidden>c</p>',
        "<div><p>a</p></div>",
    ),
    (
        "empty wrappers removed",
        "<p>a</p><div><span> </span><p>　　</p></div><p><br></p>",
        "<div><p>a</p></div>",
    ),
    (
        "lazy image resolved",
        '<p><img src="data:image/gif;base64,R0l" data-src="//n.sinaimg.cn/a.jpg" width="500"></p>',
        '<div><p><img src="https://n.sinaimg.cn/a.jpg" referrerpolicy="no-referrer"></p></div>',
    ),
    (
        "relative image made absolute",
        '<p><img src="/img/b.png" alt="图" class="x"></p>',
        (
            '<div><p><img src="https://finance.sina.com.cn/img/b.png" alt="图" '
            'referrerpolicy="no-referrer"></p></div>'
        ),
    ),
    (
        "spacer pixel removed",
        '<p>a<img src="http://i0.sinaimg.cn/home/c.gif" height="5" width="1"></p>',
        "<div><p>a</p></div>",
    ),
    (
        "headings lists tables quotes kept",
        (
            '<h2>小标题</h2><ul><li>一</li></ul><table><tr><td colspan="2">格</td></tr></table>'
            "<blockquote><b>粗</b><i>斜</i></blockquote>"
        ),
        (
            '<div><h2>小标题</h2><ul><li>一</li></ul><table><tr><td colspan="2">格</td></tr></table>'
            "<blockquote><b>粗</b><i>斜</i></blockquote></div>"
        ),
    ),
    (
        "font and center unwrapped",
        "<center><font color=red>红字</font></center>",
        "<div>红字</div>",
    ),
    ("blank lines collapsed", "<p>a</p>\n\n\n   <p>b</p>", "<div><p>a</p>\n<p>b</p></div>"),
    (
        "old in-body ad region removed",
        (
            '<p>获得了5<!--NEWSZW_HZH_BEGIN--></p><table><tr><td><img src="http://x/ad.jpg"></td></tr>'
            "</table><!--NEWSZW_HZH_END-->00万元"
        ),
        "<div><p>获得了500万元</p></div>",  # the sentence the ad split is whole again
    ),
    (
        "editor line kept",
        '<p class="article-editor">责任编辑：王蒙 </p>',
        "<div><p>责任编辑：王蒙 </p></div>",
    ),
    ("nothing readable", "<script>x</script><!-- c --><div> </div>", ""),
]


@pytest.mark.parametrize(("inner", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_clean_body_quirks(inner, expected):
    assert clean(inner) == expected


def test_empty_input():
    assert clean_body("", BASE) == ""
    assert clean_body("   ", BASE) == ""


def fixture_body(case: str) -> tuple[str, str]:
    raw = (FIXTURES / case / "page.html").read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("gb18030")
    url = json.loads((FIXTURES / case / "source.json").read_text())["url"]
    return parsel.Selector(text).css("#artibody, #article")[0].get(), url


def test_real_modern_finance_page():
    body, url = fixture_body("modern-finance-roll-ihqfskcn2160999")
    assert clean_body(body, url) == (
        "<div>\n"
        "<p>　　新京报快讯（记者 裴剑飞）今日（12月28日）有网友爆料，有60万个“12306账号”和410万条"
        "联系人数据在暗网低价出售。</p>\n"
        "<p>　　今晚，中国铁路总公司通过官方微博发布辟谣消息称：网传信息不实，铁路12306网站未发生用户"
        "信息泄漏。</p>\n"
        "<p>　　铁路部门提醒广大旅客，请通过铁路12306官方网站（www.12306.cn）和“铁路12306”客户端"
        "（在“铁路12306”字体上方标有路徽和“中国铁路”字样的图标）购票，避免非正常渠道购票带来的风险。</p>\n"
        "<p>责任编辑：霍琦 </p>\n"
        "</div>"
    )


def test_real_2024_page_loses_ad_slot_and_keeps_text():
    body, url = fixture_body("modern-news-2024-inavmmfi1968342")
    out = clean_body(body, url)
    assert "sinaads" not in out
    assert "iframe" not in out
    assert "style=" not in out
    assert out.count("<p>") == 7
    assert out.endswith("<p>　　（总台央视记者 奚丹霓 张赛）</p>\n<p>责任编辑：刘光博 </p>\n</div>")


def test_real_video_page_loses_player_and_topic_widget():
    body, url = fixture_body("modern-news-iicezuev4202091")
    out = clean_body(body, url)
    assert "SINA_TEXT_PAGE_INFO" not in out
    assert "00f3-ihfpfwa8298764" not in out  # video poster
    assert "点击进入专题" not in out
    assert first_image(out) == (
        "https://n.sinaimg.cn/news/transform/185/w550h435/20191023/07ad-ihfpfwa8214890.png"
    )
    assert out.count("<img ") == 3
    assert "\n\n" not in out


def test_real_forex_page_loses_chart_widget_and_forum_promo():
    body, url = fixture_body("v2014-finance-forex-ifxsktkp9337164")
    out = clean_body(body, url)
    assert "USDCNH.png" not in out
    assert "新浪财经股吧" not in out
    assert out.startswith("<div>\n<p>　　新浪财经讯 5月25日上午消息")
    assert '<a href="http://weibo.com/imf?zw=finance">IMF</a>' in out


def test_real_tech_page_loses_live_quotes_and_promo():
    body, url = fixture_body("old-artibodyTitle-tech-iicezzrq4972166")
    out = clean_body(body, url)
    assert "新浪众测" not in out
    assert "自动播放" not in out
    assert 'id="quote_' not in out
    assert (
        '<a href="http://stock.finance.sina.com.cn/usstock/quotes/AAPL.html">苹果</a>2019秋季'
        in out
    )


def test_every_fixture_cleans_without_junk():
    for case in sorted(p.name for p in FIXTURES.iterdir() if (p / "page.html").exists()):
        try:
            body, url = fixture_body(case)
        except IndexError:
            continue  # the 2005 table layout has no article container id
        out = clean_body(body, url)
        for junk in ("<!--", "<script", "<style", "<iframe", " on", "javascript:", "\n\n"):
            assert junk not in out, (case, junk)


def test_real_usstock_page_loses_live_quotes_and_keeps_company_links():
    body, url = fixture_body("modern-finance-usstock-iicezzrq4681677")
    out = clean_body(body, url)
    assert 'id="quote_' not in out
    for value in ("115.395", "431.2", "0.00%"):
        assert value not in out
    assert (
        '包括先锋领航、<a href="http://stock.finance.sina.com.cn/usstock/quotes/JPM.html">摩根大通</a>'
        "等，了解他们的首席投资官对债券市场的观点。</p>"
    ) in out
    assert out.endswith("<p>责任编辑：郭明煜 </p>\n</div>")


def test_real_2009_page_loses_wap_promotion_paragraph():
    body, url = fixture_body("old-gb2312-ent-13562762964")
    out = clean_body(body, url)
    assert "ent.sina.cn" not in out
    assert "entphone.gif" not in out
    assert out.endswith("共同关注阿里郎全新同名专辑《兰花指》热度上市。</p>\n</div>")


# --- Property-based: any body ----------------------------------------------------------------


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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


VIDEO_BOX = (
    '<div style="width:480px;margin:0 auto"><table><tr><td>'
    '<div id="flashcontent_12345"><object width="480" height="370">'
    '<embed src="http://you.video.sina.com.cn/api/sinawebApi/outplayrefer.php/vid=12345/s.swf">'
    "</embed></object></div>"
    "<p>视频：央行宣布加息0.25个百分点</p><p>来源：新浪财经</p>"
    '<p><a href="http://video.sina.com.cn/p/finance/20101019/123.html" target="_blank">播放视频</a>'
    "</p></td></tr></table></div>"
)


@pytest.mark.parametrize(
    "box",
    [
        VIDEO_BOX,
        (
            "<p>视频：央行宣布加息</p><p>来源：新浪财经</p>"
            '<a href="http://video.sina.com.cn/p/1.html">播放视频</a>'
        ),
    ],
    ids=["wrapped", "loose"],
)
def test_old_in_body_video_box_is_removed(box):
    html = f'<div id="artibody"><p>　　第一段。</p>{box}<p>　　第二段。</p></div>'
    assert clean_body(html, "http://finance.sina.com.cn/") == (
        "<div><p>　　第一段。</p><p>　　第二段。</p></div>"
    )


def test_article_text_about_a_video_stays():
    html = (
        '<div id="artibody"><p>　　来源：新华社</p><p>视频：' + "正文" * 120 + "</p>"
        "<p>读者可点击播放视频观看。</p></div>"
    )
    assert clean_body(html, "http://finance.sina.com.cn/") == html.replace(' id="artibody"', "")


def test_2005_table_page_keeps_its_paragraphs():
    from scrapy.http import HtmlResponse

    from crawler.site.extraction import parse_article

    case = FIXTURES / "old-2005-chanye-finance-244339"
    url = json.loads((case / "source.json").read_text(encoding="utf-8"))["url"]
    item = parse_article(HtmlResponse(url, body=(case / "page.html").read_bytes()))
    body = clean_body(item.body, url)
    assert body.startswith("<div>\n<p>")
    assert "<td" not in body
    assert "</td>" not in body
    paragraphs = parsel.Selector(text=body).css("p::text").getall()
    assert any("获得了500万元的体彩大奖，成为让无数人羡慕不已的幸运儿" in p for p in paragraphs)
    # Every piece of text is inside a paragraph: none is left loose in the container.
    assert parsel.Selector(text=body).xpath("/html/body/div/text()[normalize-space()]") == []


def test_an_attribute_name_lxml_refuses_is_dropped_with_the_others():
    from scrapy.http import HtmlResponse

    from crawler.site.extraction import parse_article

    page = (
        b'<meta property="article:published_time" content="2018-12-28T19:55:00+08:00">'
        b'<h1 class="main-title">t</h1><div id="artibody"><p \x01=1 class="x">text</p>'
        b'<img src="https://n.sinaimg.cn/a.jpg" alt="a\x02b" \x03=1></div>'
    )
    url = "https://finance.sina.com.cn/roll/2018-12-28/doc-ihqfskcn2160999.shtml"
    body = parse_article(HtmlResponse(url, body=page, encoding="utf-8")).body
    assert body == (
        '<div><p>text</p><img src="https://n.sinaimg.cn/a.jpg" alt="ab" '
        'referrerpolicy="no-referrer"></div>'
    )
