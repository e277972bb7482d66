"""Pure extraction: a Sina article page in, an ArticleItem out (no engine, no network)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from parsel import Selector

from crawler.site.dates import url_year
from crawler.site.errors import PageError
from crawler.site.loaders import ArticleLoader

if TYPE_CHECKING:
    from scrapy.http import TextResponse

    from crawler.items import ArticleItem

# Ordered fallback tables, one line per layout; the first query that yields a value wins.
# A query is CSS, or XPath when it starts with '/', '(', './' or an XPath function.
# Queries name the element as Sina's templates do ('div.date-source', not '.date-source'): a
# bare class or id test makes lxml test every element of the page, about 3x slower. Bare
# variants close each table, as a fallback for a template that changes the element.
TITLE_SELECTORS = (
    "h1.main-title",  # modern finance/news (2017-)
    "h1#artibodyTitle",  # 2009-2016 finance, older CMS template
    "h1.art_tit_h1",  # mobile finance.sina.cn
    "th.f24",  # 2005 table layout
    "#artibodyTitle",
    ".main-title",
    "meta[property='og:title']::attr(content)",
    "title",  # '<headline>|tags_频道_新浪网', suffix stripped by the loader
)

# Publish time: the first visible date line found, then every meta candidate; the visible one
# wins and a meta of the same minute only adds the seconds (see loaders.TakeFirstDate).
VISIBLE_DATE_SELECTORS = (
    "div.date-source span.date",  # modern: <span class="date">2018年12月28日 19:55</span>
    "span#pub_date",  # older template: 2009年11月09日13:56
    "span.time-source",  # 2014-2016: '2016年05月25日10:10 新浪财经'
    "time.art_time",  # mobile: 2018.05.09 12:52:37
    "time.weibo_time",  # mobile: '08月01日 11:23', the year comes from the URL
    "article time",
    "//th[contains(@class, 'f24')]/ancestor::table[1]//td[@align='center']",  # 2005
    ".date-source .date",
    "#pub_date",
    ".time-source",
)
META_DATE_SELECTORS = (
    "meta[name='weibo: article:create_at']::attr(content)",  # same minute as the page shows
    "meta[property='article:published_time']::attr(content)",
    "meta[name='publishdate']::attr(content)",
    "substring-after(//comment()[contains(., 'published at')], 'published at')",
    "figure.weibo_info::attr(data-time)",  # mobile: Unix seconds on the author box
)

AUTHOR_SELECTORS = (
    "meta[property='article:author']::attr(content)",
    "meta[name='mediaid']::attr(content)",
    "div.date-source .source",  # a.source (linked) or span.source
    "span#media_name",
    "span.time-source [data-sudaclick='media_name']",
    "span.time-source a",
    "span.time-source",  # date + plain source text; the loader removes the date
    "h2.weibo_user",  # mobile
    "cite.art_cite",
    "//th[contains(@class, 'f24')]/ancestor::table[1]//td[@align='center']/font",  # 2005
    ".date-source .source",
    "#media_name",
    ".time-source",
)

EDITOR_SELECTORS = (
    "p.article-editor",
    "p.show_author",
    ".article-editor",
    ".show_author",
    "//p[contains(., '责任编辑')]",
    "//div[contains(., '责任编辑') and not(.//div)]",
)

# The article container: its outer HTML is the body (cleaning happens downstream).
BODY_SELECTORS = (
    "div#artibody",  # finance 2009-today
    "div#article",  # modern news
    "section.art_content",  # mobile
    "#artibody",
    "#article",
    ".art_content",
    "article.art_box",
    "div.article",
    "#articleContent",
    "td.l17 td.l17",  # 2005: the inner cell holds the paragraphs
    "td.l17",
)

BREADCRUMB_SELECTORS = (
    "div.channel-path a",  # modern
    "div.bread a",  # 2014-2016
    "p#lo_links a",  # 2009 blkBreadcrumbNav
    "div.blkBreadcrumbNav a",
    # 2005; 专题 (/focus/) links there are promotions, not sections
    "//td[@valign='bottom']/font/a[@class='a02'][not(contains(@href, '/focus/'))]",
    "h2.hd_tit_l a",  # mobile header channel
    ".channel-path a",
    ".bread a",
)

DOC_ID_SELECTORS = (
    "meta[property='og:url']::attr(content)",
    "meta[name='publishid']::attr(content)",
    "meta[name='comment']::attr(content)",
    "#artibodyTitle::attr(docid)",
)

KEYWORD_SELECTORS = (
    "//meta[@name='keywords' or @name='Keywords' or @name='KEYWORDS']/@content",
    "meta[name='tags']::attr(content)",
)

OG_IMAGE_SELECTORS = (
    "meta[property='og:image']::attr(content)",
    "meta[name='og:image']::attr(content)",
)

# Images in the body that are not the article's: video posters, the follow-us QR block, and
# the 画中画 (NEWSZW_HZH) ad slot that pre-2012 pages inline between paragraphs.
BODY_IMAGES_XPATH = (
    ".//img[not(ancestor::*[contains(@class, 'video') or contains(@id, 'video')"
    " or contains(@class, 'appendQr') or contains(@class, 'qrcode')])]"
    "[not(ancestor::table[preceding::comment()[1][contains(., 'HZH_BEGIN')]])]"
)

# Pages that are not articles, decided before anything is extracted.
NOT_ARTICLE_URLS = (
    (re.compile(r"^https?://(?:[\w-]+\.)*video\.sina\.(?:com\.)?cn/"), "video page"),
    (re.compile(r"^https?://[^/]*/(?:[^?#]*/)?(?:video|kandian)/"), "video page"),
    (re.compile(r"^https?://(?:[\w-]+\.)*slide\.[\w.]*sina\.(?:com\.)?cn/"), "slide show"),
    (re.compile(r"^https?://[^/]+(?:/[^?#]*)?/(?:index[^/?#]*)?(?:[?#].*)?$"), "list page"),
)
NOT_ARTICLE_TYPES = (
    ("meta[property='og:type'][content*='video']", "video page"),
    ("meta[property='og:type'][content*='gallery']", "slide show"),
)
# Page markup that names what a page is; only consulted once it turned out to have no article
# title or body, since article pages carry players and related-news lists too.
NOT_ARTICLE_MARKERS = (
    ("#videoPlayerBox, .video-detail-player", "video page"),
    ("#eData, #slide_pic", "slide show"),
    ("ul.list_009, #d_list, .d_list_txt, .feed-card-list, ul.list_12", "list page"),
)
# Content types an article page may come with (servers that send none are given the benefit).
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# A whole <title> (optionally '- 新浪网'-style suffixed) that names an error; '404名员工' is news.
ERROR_TITLES = re.compile(
    r"^(?:404(?:\s*Not Found)?|页面没有找到|页面不存在|您访问的页面不存在|Not Found|Error)"
    r"(?:\s*[-_|].*)?$",
    re.IGNORECASE,
)

# Readable section names for Sina URL path segments, used when a page has no breadcrumb.
CHANNEL_PATHS = {
    "china": "国内",
    "world": "国际",
    "stock": "股票",
    "forex": "外汇",
    "fund": "基金",
    "futures": "期货",
    "nmetal": "贵金属",
    "money": "理财",
    "bank": "银行",
    "insurance": "保险",
    "chanjing": "产经",
    "usstock": "美股",
    "hkstock": "港股",
    "tech": "科技",
    "esg": "ESG",
}

# Site names by host label: the author of last resort and the channel of last resort.
SITE_NAMES = {
    "finance": "新浪财经",
    "money": "新浪财经",
    "news": "新浪新闻",
    "tech": "新浪科技",
    "ent": "新浪娱乐",
    "sports": "新浪体育",
    "auto": "新浪汽车",
    "edu": "新浪教育",
    "fashion": "新浪时尚",
    "games": "新浪游戏",
    "house": "新浪房产",
}
DEFAULT_SITE_NAME = "新浪网"


class NotAnArticle(PageError):
    """The page is not an article we can save (video, gallery, list, error page, no body...)."""


def site_name(url: str) -> str:
    """Name the Sina site a URL belongs to, by the first host label Sina names.

    >>> site_name("http://chanye.finance.sina.com.cn/sm/2005-03-21/244339.shtml")
    '新浪财经'
    >>> site_name("https://finance.sina.cn/2022-08-01/detail-imizmscv4399613.d.html")
    '新浪财经'
    >>> site_name("https://k.sina.com.cn/article_1.html")
    '新浪网'
    """
    labels = (urlsplit(url).hostname or "").split(".")
    return next((SITE_NAMES[label] for label in labels if label in SITE_NAMES), DEFAULT_SITE_NAME)


def url_channel(*paths: str) -> str | None:
    """Return the channel of the first path that names one; the deepest known segment wins.

    >>> url_channel("chanjing/gsnews/")
    '产经'
    >>> url_channel("stock/usstock/")
    '美股'
    >>> url_channel("/roll/2018-12-28/doc-ihqfskcn2160999.shtml", "/money/forex/forexroll/x.shtml")
    '外汇'
    >>> url_channel("/c/2024-05-10/doc-inausehc2630922.shtml") is None
    True
    """
    for path in paths:
        for segment in reversed(path.split("/")):
            if segment in CHANNEL_PATHS:
                return CHANNEL_PATHS[segment]
    return None


def fallback_channel(response: TextResponse, page: Selector, site: str) -> str:
    """Name the channel of a page without a breadcrumb: URL path section, else the site."""
    urlpath = page.xpath("//meta[@name='sudameta'][starts-with(@content, 'urlpath:')]")
    urlpath_text = urlpath.attrib.get("content", "")[len("urlpath:") :].split(";")[0]
    found = url_channel(urlpath_text, urlsplit(response.url).path)
    if found:
        return found
    # '新浪科技' -> '科技'; the bare '新浪网' stays whole.
    return site if site == DEFAULT_SITE_NAME else site.removeprefix("新浪")


def content_type_reason(content_type: bytes | None) -> str | None:
    """Name a Content-Type that cannot carry an article page; None for HTML or no header.

    Scrapy may still build a TextResponse for it (Sina's `.shtml` URLs guess as HTML).

    >>> content_type_reason(b"application/pdf"), content_type_reason(b"text/html; charset=gbk")
    ('not an HTML page (application/pdf)', None)
    >>> content_type_reason(None), content_type_reason(b"")
    (None, None)
    """
    mime = (content_type or b"").split(b";", 1)[0].strip().lower().decode("latin-1")
    if not mime or mime in HTML_TYPES:
        return None
    return f"not an HTML page ({mime})"


def not_article_reason(response: TextResponse, page: Selector) -> str | None:
    """Say why this page is not an article, or return None when it may be one."""
    if response.status >= 400:
        return "error page"
    reason = content_type_reason(response.headers.get("Content-Type"))
    if reason:
        return reason
    for pattern, reason in NOT_ARTICLE_URLS:
        if pattern.match(response.url):
            return reason
    for css, reason in NOT_ARTICLE_TYPES:
        if page.css(css):
            return reason
    page_title = page.xpath("normalize-space(//title)").get() or ""
    if ERROR_TITLES.match(page_title.strip()):
        return "error page"
    return None


def missing_part_reason(page: Selector, missing: str) -> str:
    """Name a page that lacks an article title or body: by its markup, else by what is missing."""
    for css, reason in NOT_ARTICLE_MARKERS:
        if page.css(css):
            return reason
    return missing


def find_body(page: Selector) -> Selector | None:
    """Return the article container: the first BODY_SELECTORS match."""
    for css in BODY_SELECTORS:
        found = page.css(css)
        if found:
            return found[0]
    return None


def has_text(container: Selector) -> bool:
    """Tell whether the container holds visible text (scripts and styles do not count)."""
    # [1] lets libxml2 stop at the first hit instead of collecting every text node.
    first = container.xpath(
        "(.//text()[normalize-space()][not(parent::script or parent::style)])[1]"
    )
    return bool(first)


def parse_article(response: TextResponse) -> ArticleItem:
    """Extract one article from a Sina page; raise NotAnArticle with the URL otherwise."""
    # One parse, shared by every query and the loader. Not `response.selector`: Scrapy's
    # Selector keeps a reference back to the response, a cycle that only the garbage collector
    # breaks, so every page's parsed tree (several MB) outlived its item and a crawl's memory
    # grew with the queue of finished pages. This one is freed when the item is built.
    # From the bytes: lxml decodes UTF-8 itself (parsel decodes any other charset first),
    # which saves re-encoding the decoded text for the parser.
    page = Selector(
        body=response.body or b"<html/>",
        encoding=response.encoding,
        type="html",
        base_url=response.url,
    )
    reason = not_article_reason(response, page)
    if reason:
        raise NotAnArticle(response.url, reason)

    loader = ArticleLoader(
        selector=page,
        response=response,
        base_url=response.url,
        year=url_year(response.url),
    )
    body = find_body(page)
    if not loader.add_first("title", TITLE_SELECTORS):
        raise NotAnArticle(response.url, missing_part_reason(page, "no title"))
    if body is None or not has_text(body):
        raise NotAnArticle(response.url, missing_part_reason(page, "no body"))

    loader.add_value("url", response.url)
    loader.add_value("body", body.get())
    loader.add_value("doc_id", response.url)
    if not loader.get_collected_values("doc_id"):
        loader.add_first("doc_id", DOC_ID_SELECTORS)
    loader.add_first("date", VISIBLE_DATE_SELECTORS)
    loader.add_all("date", META_DATE_SELECTORS)
    site = site_name(response.url)
    if not loader.add_first("author", AUTHOR_SELECTORS):
        loader.add_value("author", site)
    loader.add_first("editor", EDITOR_SELECTORS)
    loader.add_first("keywords", KEYWORD_SELECTORS)
    for image in body.xpath(BODY_IMAGES_XPATH):
        attrs = image.attrib
        loader.add_value("headimg", attrs.get("data-src") or attrs.get("data-original"))
        loader.add_value("headimg", attrs.get("src"))
        if loader.get_collected_values("headimg"):
            break
    else:
        loader.add_first("headimg", OG_IMAGE_SELECTORS)

    loader.add_first("categories", BREADCRUMB_SELECTORS)
    categories = loader.get_collected_values("categories")
    channel = categories[-1] if categories else fallback_channel(response, page, site)
    loader.add_value("channel", channel)

    item = loader.load_item()
    if item.date is None:
        raise NotAnArticle(response.url, "no date")
    # Set on the item, not through the loader: the breadcrumb filter would drop '新浪网'.
    item.categories = item.categories or [channel]
    # Pre-2012 pages filled the keywords meta with the headline itself.
    item.keywords = [word for word in item.keywords or [] if word != item.title]
    return item
