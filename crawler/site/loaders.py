"""ArticleLoader and its processors: small pure functions that turn selected markup into fields."""

from __future__ import annotations

import re
from datetime import datetime
from functools import cached_property
from html import escape as html_escape
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urljoin

from itemloaders.processors import MapCompose, TakeFirst
from lxml import etree
from scrapy.loader import ItemLoader
from w3lib.html import remove_comments, remove_tags, replace_entities

from crawler.items import ArticleItem
from crawler.site.dates import parse_sina_date, strip_sina_date

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from parsel import Selector


# C0/C1 control characters that are not whitespace (str.split handles those): a title or
# author carrying BEL or an ANSI escape would reach posts, file names and terminals.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1b\x7f-\x9f]")


def normalise_space(text: str | None) -> str | None:
    r"""Collapse runs of whitespace (full-width spaces and NBSP included), drop control characters.

    None when nothing is left.

    >>> normalise_space("\u3000\u3000新京报快讯 \r\n（记者）\xa0")
    '新京报快讯 （记者）'
    >>> normalise_space(" \u3000 ") is None
    True
    >>> normalise_space("红\x07色\x1b[31m 标题\x00")
    '红色[31m 标题'
    """
    if text is None:
        return None
    return " ".join(_CONTROL_CHARS.sub("", text).split()) or None


def html_to_text(html: str | None) -> str | None:
    """Visible text of a small markup fragment, entities decoded, whitespace collapsed.

    >>> html_to_text('<th class=f24><font color=#05006C>四年前 &amp; 现在</font></th>')
    '四年前 & 现在'
    >>> html_to_text('<div><!-- <a>新浪新闻</a> --><a> 国内新闻</a></div>')
    '国内新闻'
    """
    if html is None:
        return None
    if "<" in html or "&" in html:  # most values are plain text: meta contents, link texts
        html = replace_entities(remove_tags(remove_comments(html)))
    return normalise_space(html)


def selected_markup(selected: Selector) -> str:
    """Return what a query selected as markup for the input processors: an element as its text.

    An element's text, HTML-escaped, is what html_to_text makes of the element's serialised
    HTML (tags and comments go, entities are decoded), without serialising the element and
    stripping the tags again. Attribute and text results are returned as they are.

    >>> from parsel import Selector
    >>> page = Selector(text="<p>a <b>&amp;</b><!-- x --> b<script>s</script></p>")
    >>> selected_markup(page.css("p")[0]), html_to_text(page.css("p").get())
    ('a &amp; bs', 'a & bs')
    >>> html_to_text(selected_markup(page.css("p")[0]))
    'a & bs'
    """
    root = selected.root
    if isinstance(root, etree._Element) and isinstance(root.tag, str):
        return html_escape(root.xpath("string()"), quote=False)
    return selected.get()


# Sina's <title> carries '|keyword' tags and '_channel_site' suffixes after the headline.
_SITE_NAME = re.compile(r"(?:新浪|sina)", re.IGNORECASE)


def strip_title_suffix(title: str | None) -> str | None:
    """Drop the '|tags_频道_新浪网' tail Sina appends to <title>.

    >>> strip_title_suffix("60万账号外泄? 中铁总辟谣|辟谣_新浪财经_新浪网")
    '60万账号外泄? 中铁总辟谣'
    >>> strip_title_suffix("四年前中500万现穷困潦倒__商贸_产业资讯_新浪网")
    '四年前中500万现穷困潦倒'
    >>> strip_title_suffix("人民币中间价创新低_手机新浪网")
    '人民币中间价创新低'
    >>> strip_title_suffix("A_B 不是站点后缀")
    'A_B 不是站点后缀'
    """
    if not title:
        return None
    head, sep, tail = title.partition("_")
    if sep and _SITE_NAME.search(tail):
        title = head.split("|")[0]
    return normalise_space(title)


_SOURCE_LABEL = re.compile(r"^(?:来源|稿源|来自|媒体)\s*[:：]\s*")
_BRACKETED = re.compile(r"^[《〈]([^《》〈〉]+)[》〉]$")


def clean_source(text: str | None) -> str | None:
    """Return the media name from a 'date + source' line or a source link.

    A date and a '来源：' label are removed. Title marks that wrap the whole name are dropped
    (《理财周刊》 -> 理财周刊), since they decorate a publication's name; marks inside a
    longer name stay (《财经》杂志).

    >>> clean_source(" 2016年05月25日10:10 新浪财经 ")
    '新浪财经'
    >>> clean_source("来源：《理财周刊》")
    '理财周刊'
    >>> clean_source("《财经》杂志")
    '《财经》杂志'
    >>> clean_source("2009年11月09日13:48") is None
    True
    """
    if not text:
        return None
    text = normalise_space(strip_sina_date(text))
    if text is None:
        return None
    text = _SOURCE_LABEL.sub("", text)
    bracketed = _BRACKETED.match(text)
    return (bracketed.group(1).strip() if bracketed else text) or None


_MAX_EDITOR_CHARS = 20
_EDITOR_LABEL = re.compile(r"^.*?责任编辑\s*[:：]?\s*")
# Sina appends the editor's staff code ('支全明 SF099', '余蓉_WH07'); it is not part of the name.
_STAFF_CODE = re.compile(r"(?<=\S)[\s_]+[A-Za-z]{1,5}\d{2,}$")


def clean_editor(text: str | None) -> str | None:
    """Return the editor's name from a '责任编辑：…' line.

    >>> clean_editor("责任编辑：霍琦 ")
    '霍琦'
    >>> clean_editor("责任编辑：支全明 SF099")
    '支全明'
    >>> clean_editor("责任编辑：zyk")
    'zyk'
    >>> clean_editor("相关阅读") is None
    True
    >>> clean_editor("责任编辑：" + "正文" * 20) is None
    True
    """
    if not text or "责任编辑" not in text:
        return None
    name = normalise_space(_STAFF_CODE.sub("", _EDITOR_LABEL.sub("", text)))
    # A long remainder means the label sat inside a paragraph of text, not an editor line.
    return name if name and len(name) <= _MAX_EDITOR_CHARS else None


# Sina's URL form of a CMS id: doc-<id>.shtml (PC), detail-<id>.d.html (mobile).
_URL_DOC_ID = re.compile(r"(?:doc|detail)-(i[a-z]+\d+)(?:\.|$)")
# Pre-2012 pages are named by a number: /2009-11-09/13562762964.shtml.
_URL_NUMERIC_ID = re.compile(r"/(\d{5,})\.s?html?$")
# comment meta 'cj:comos-hqfskcn2160999', sudameta 'comos:hqfskcn2160999', bare publishid.
_COMOS_ID = re.compile(r"(?:comos[-:])?\b([a-z]+\d{6,})$")
# publishid '28,3,2762964' or the '[111,3,244339]' of older pages: the last number is the doc.
_NUMERIC_TRIPLE = re.compile(r"^\[?\d+,\s*\d+,\s*(\d+)\]?$")


def normalise_doc_id(value: str | None) -> str | None:
    """Sina's article id in the form its URLs use.

    The URL id wins (it is what readers and other systems see). Meta ids are mapped to the
    same form: a comos id gains the leading 'i' the URL carries; a numeric triple keeps
    its last number.

    >>> normalise_doc_id("https://finance.sina.com.cn/roll/2018-12-28/doc-ihqfskcn2160999.shtml")
    'ihqfskcn2160999'
    >>> normalise_doc_id("https://finance.sina.cn/2022-08-01/detail-imizmscv4399613.d.html?vt=4")
    'imizmscv4399613'
    >>> normalise_doc_id("http://ent.sina.com.cn/y/2009-11-09/13562762964.shtml")
    '13562762964'
    >>> normalise_doc_id("cj:comos-hqfskcn2160999")
    'ihqfskcn2160999'
    >>> normalise_doc_id("hqfskcn2160999")
    'ihqfskcn2160999'
    >>> normalise_doc_id("[111,3,244339]")
    '244339'
    >>> normalise_doc_id("https://finance.sina.com.cn/china/") is None
    True
    """
    if not value:
        return None
    value = value.strip()
    if "/" in value:
        path = value.split("?", 1)[0].split("#", 1)[0]
        match = _URL_DOC_ID.search(path) or _URL_NUMERIC_ID.search(path)
        return match.group(1) if match else None
    if triple := _NUMERIC_TRIPLE.match(value):
        return triple.group(1)
    if comos := _COMOS_ID.search(value):
        return "i" + comos.group(1)
    return None


_KEYWORD_SPLIT = re.compile(r"[,，;；|、]+")


def split_keywords(text: str | None) -> list[str]:
    """Split a keywords/tags meta value into its entries.

    >>> split_keywords("苹果,新品, 新iPhone，iPhone 11")
    ['苹果', '新品', '新iPhone', 'iPhone 11']
    """
    if not text:
        return []
    return [word for part in _KEYWORD_SPLIT.split(text) if (word := normalise_space(part))]


def unique(values: Iterable[Any]) -> list[Any]:
    """Keep the first occurrence of each value, in order.

    >>> unique(["辟谣", "外泄", "辟谣"])
    ['辟谣', '外泄']
    """
    return list(dict.fromkeys(values))


# Images that are layout, not the article's: spacers, live quote charts (image.sinajs.cn),
# Sina's default share picture, video posters and the mobile QR/placeholder images.
IGNORED_IMAGES = re.compile(
    r"(?:sinajs\.cn|ivideo\.sina\.com\.cn|/c\.gif|blank\.gif|spacer|/default/|/deco/|320X320\.png|w180h180|qrcode)",
    re.IGNORECASE,
)


def absolute_image_url(value: str | None, loader_context: dict[str, Any]) -> str | None:
    """Resolve an image reference against the page; protocol-relative becomes https.

    >>> ctx = {"base_url": "http://ent.sina.com.cn/y/2009-11-09/1.shtml"}
    >>> absolute_image_url("//n.sinaimg.cn/a/b.jpg", ctx)
    'https://n.sinaimg.cn/a/b.jpg'
    >>> absolute_image_url("/ent/p.jpg", ctx)
    'http://ent.sina.com.cn/ent/p.jpg'
    >>> absolute_image_url("http://i0.sinaimg.cn/home/c.gif", ctx) is None
    True
    >>> absolute_image_url("data:image/gif;base64,R0l", ctx) is None
    True
    >>> absolute_image_url("http://[::1/x.jpg", ctx) is None
    True
    """
    value = (value or "").strip()
    if not value or value.startswith(("data:", "javascript:")) or IGNORED_IMAGES.search(value):
        return None
    if value.startswith("//"):
        return "https:" + value
    try:
        return urljoin(loader_context.get("base_url", ""), value)
    except ValueError:
        return None  # malformed (http://[::1/x.jpg): no image rather than no article


# Breadcrumb entries that are navigation, not a section.
_NOT_CATEGORY = re.compile(r"(?:首页|正文|^新浪网?)$")


def breadcrumb_label(text: str | None) -> str | None:
    """Keep a breadcrumb entry as a category unless it is navigation ('首页', '正文').

    >>> breadcrumb_label(" 产经"), breadcrumb_label("企业服务首页"), breadcrumb_label("正文")
    ('产经', None, None)
    """
    text = normalise_space(text)
    if text is None or _NOT_CATEGORY.search(text):
        return None
    return text


def parse_date_in_context(text: str | None, loader_context: dict[str, Any]) -> datetime | None:
    """Parse a Sina date; a year-less one takes the loader context's ``year`` (from the URL).

    >>> parse_date_in_context("08月01日 11:23", {"year": 2022}).isoformat()
    '2022-08-01T11:23:00+08:00'
    """
    return parse_sina_date(text, year=loader_context.get("year"))


class TakeFirstDate:
    """Pick the publish time: the first candidate wins, a later one in the same minute adds seconds.

    The visible date line is what Sina shows readers, to the minute; meta tags carry seconds
    but `article:published_time` is sometimes the last update. So a meta value only refines
    the visible one when both name the same minute.
    """

    def __call__(self, values: Sequence[datetime]) -> datetime | None:
        """Return the chosen publish time, or None without candidates.

        >>> from crawler.site.dates import parse_sina_date as p
        >>> pick = TakeFirstDate()
        >>> pick([p("2022-08-01 11:23"), p("2022-08-01 11:23"), p("2022-08-01 11:23:57")])
        datetime.datetime(2022, 8, 1, 11, 23, 57, tzinfo=zoneinfo.ZoneInfo(key='Asia/Shanghai'))
        >>> pick([p("2024年05月10日 00:26"), p("2024-05-10T05:54:20+08:00")]).isoformat()
        '2024-05-10T00:26:00+08:00'
        """
        if not values:
            return None
        first = values[0]
        if first.second:
            return first
        for later in values[1:]:
            if later.second and later.replace(second=0, microsecond=0) == first:
                return later
        return first


XPATH_STARTS = (
    "/",
    "(",
    "./",
    "../",
    "id(",
    "ancestor",
    "following",
    "substring",
    "normalize-space",
    "string(",
)
# `meta[name='x']::attr(content)`: answered from ArticleLoader.meta_index, not a tree walk.
_META_CONTENT = re.compile(
    r"meta\[(?P<attribute>name|property)='(?P<value>[^']*)'\]::attr\(content\)"
)


def build_meta_index(root: Any) -> dict[tuple[str, str], list[str]]:
    """Index every `<meta>` tag's content by (name or property, its value), in one pass."""
    index: dict[tuple[str, str], list[str]] = {}
    for meta in root.iter("meta"):
        content = meta.get("content")
        if content is None:
            continue
        for attribute in ("name", "property"):
            value = meta.get(attribute)
            if value is not None:
                index.setdefault((attribute, value), []).append(content)
    return index


class ArticleLoader(ItemLoader):
    """Loads an ArticleItem; every field takes the first non-empty value unless it is a list."""

    default_item_class = ArticleItem
    default_input_processor = MapCompose(html_to_text)
    default_output_processor = TakeFirst()

    url_in = MapCompose(str.strip)
    doc_id_in = MapCompose(normalise_doc_id)
    title_in = MapCompose(html_to_text, strip_title_suffix)
    author_in = MapCompose(html_to_text, clean_source)
    editor_in = MapCompose(html_to_text, clean_editor)
    date_in = MapCompose(html_to_text, parse_date_in_context)
    date_out = TakeFirstDate()
    categories_in = MapCompose(html_to_text, breadcrumb_label)
    categories_out = unique
    keywords_in = MapCompose(html_to_text, split_keywords)
    keywords_out = unique
    headimg_in = MapCompose(absolute_image_url)
    channel_in = MapCompose(html_to_text)

    # (loader class, field, "in" | "out") -> processor. ItemLoader looks each one up on every
    # value (attribute, then the item's field metadata); ours are fixed per class.
    _processors: ClassVar[dict[tuple[type, str, str], Any]] = {}

    def get_input_processor(self, field_name: str) -> Any:
        key = (type(self), field_name, "in")
        if key not in self._processors:
            self._processors[key] = super().get_input_processor(field_name)
        return self._processors[key]

    def get_output_processor(self, field_name: str) -> Any:
        key = (type(self), field_name, "out")
        if key not in self._processors:
            self._processors[key] = super().get_output_processor(field_name)
        return self._processors[key]

    @cached_property
    def meta_index(self) -> dict[tuple[str, str], list[str]]:
        """Every `<meta>` tag's content by (name or property, its value), from one pass.

        A page has a dozen meta queries in the selector tables; each as its own query would walk
        the whole tree again.
        """
        return build_meta_index(self.selector.root)

    def add_query(self, field_name: str, query: str, within: Selector | None = None) -> None:
        """Add the values of one query: XPath when it looks like XPath, CSS otherwise.

        ``within`` evaluates it relative to that element instead of the page, so an anchored
        query walks a small subtree rather than the whole document.
        """
        if meta := _META_CONTENT.fullmatch(query):
            values = self.meta_index.get((meta["attribute"], meta["value"]))
        else:
            within = self.selector if within is None else within
            found = within.xpath(query) if query.startswith(XPATH_STARTS) else within.css(query)
            values = [selected_markup(selected) for selected in found]
        if values:  # nothing found adds nothing: ItemLoader's processors are not run on []
            self.add_value(field_name, values)

    def add_first(
        self, field_name: str, queries: Iterable[str], within: Selector | None = None
    ) -> bool:
        """Add values from the first query that yields any; return whether one did.

        Later queries are not evaluated, so an ordered fallback table costs one hit. Call it
        on a field that has no values yet.
        """
        for query in queries:
            self.add_query(field_name, query, within)
            if self.get_collected_values(field_name):
                return True
        return False

    def add_all(self, field_name: str, queries: Iterable[str]) -> None:
        """Add the values of every query, in order."""
        for query in queries:
            self.add_query(field_name, query)
