"""Body cleaning: keep what a reader sees of a Sina article's HTML, drop scripts, ads and widgets."""

from __future__ import annotations

import re
from html import unescape as html_unescape
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

# Subtrees that never carry article text.
DROP_TAGS = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "iframe",
        "frame",
        "frameset",
        "object",
        "embed",
        "applet",
        "video",
        "audio",
        "source",
        "track",
        "canvas",
        "svg",
        "math",
        "form",
        "input",
        "button",
        "select",
        "textarea",
        "label",
        "link",
        "meta",
        "base",
        "head",
        "title",
        "map",
        "area",
    }
)

# Sina's widget and ad blocks, by class token. Each entry is a block seen on Sina article pages:
# QR-code footer, account-opening QR, in-body ad slots, market-chart widget, video players,
# crowd-test promotion, topic links, share bars.
JUNK_CLASSES = frozenset(
    {
        "appendQr_wrap",
        "app-kaihu-qr",
        "sinaads",
        "otherContent_01",
        "ct_hqimg",
        "hqimg_related",
        "video-2017",
        "artical-player-wrap",
        "tech-quotation",
        "wap_special",
        "blk_tw",
        "article-bottom",
        "finance_app_zqtg",
        "weixin-code",
    }
)

# Ids naming ad slots or live widgets: exact ids, then prefixes (`quote_sh601229` is a live
# price Sina's JavaScript injects next to a stock link; `ad_44086`, `Sinads49447` are ad slots).
JUNK_IDS = frozenset({"left_hzh_ad", "J_Article_Player", "J_Play_List_Wrap"})
JUNK_ID_PREFIXES = ("quote_", "ad_", "sinaads", "left_hzh", "hzh_", "adcontent")

# `data-sudaclick` values of promotion blocks (the 股吧 "discuss in the forum" footer).
JUNK_SUDACLICK_PREFIXES = ("suda_1028_guba", "content_relativetopics")

# Links to Sina's "read us on your phone" pages that 2009-2012 templates put at the end of the
# body (`ent.sina.com.cn/f/v/waptuiguang.html`, `sports.sina.com.cn/nba_in_wap.html`); the link
# and its banner image are the whole paragraph, so the paragraph goes too.
WAP_PROMOTION_HREF = re.compile(
    r"^(?:https?:)?//[\w.-]*sina\.com\.cn/[^?#]*wap[^/?#]*\.s?html?$", re.IGNORECASE
)

# Comment pairs around Sina's in-body "picture in picture" ad (画中画) on old templates.
AD_REGION_BEGIN = "NEWSZW_HZH_BEGIN"
AD_REGION_END = "NEWSZW_HZH_END"

# Tags kept as they are (attributes filtered by KEEP_ATTRS); any other tag is unwrapped.
KEEP_TAGS = frozenset(
    {
        "div",
        "p",
        "br",
        "hr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "li",
        "dl",
        "dt",
        "dd",
        "table",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "td",
        "th",
        "caption",
        "blockquote",
        "pre",
        "code",
        "strong",
        "b",
        "em",
        "i",
        "u",
        "s",
        "del",
        "sub",
        "sup",
        "a",
        "img",
        "figure",
        "figcaption",
    }
)
KEEP_ATTRS = {
    "a": ("href", "title"),
    "img": ("src", "alt", "title"),
    "td": ("colspan", "rowspan"),
    "th": ("colspan", "rowspan"),
    "ol": ("start",),
}
# Elements that mean something even when empty.
VOID_CONTENT = frozenset({"br", "hr", "img", "td", "th", "tr"})
# Lazy-loading attributes, in the order they are trusted over `src`.
LAZY_SRC_ATTRS = ("data-src", "data-original", "real_src", "data-lazy-src")
LINK_SCHEMES = frozenset({"http", "https", "mailto", "ftp"})
IMAGE_SCHEMES = frozenset({"http", "https"})

# ASCII whitespace only: U+3000 (the paragraph indent) and U+00A0 are content.
_ASCII_SPACE = re.compile(r"[ \t\r\n\f\v]+")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


def absolute_url(value: str | None, base_url: str, schemes: frozenset[str]) -> str | None:
    """Resolve ``value`` against the page URL; None for empty or unsafe (``javascript:``) URLs.

    Protocol-relative URLs get https, which every Sina host serves.

    >>> absolute_url("//n.sinaimg.cn/a.jpg", "http://finance.sina.com.cn/x.shtml", IMAGE_SCHEMES)
    'https://n.sinaimg.cn/a.jpg'
    >>> absolute_url("../b.shtml", "https://finance.sina.com.cn/a/c.shtml", LINK_SCHEMES)
    'https://finance.sina.com.cn/b.shtml'
    >>> absolute_url(" javascript:;", "https://finance.sina.com.cn/", LINK_SCHEMES) is None
    True
    >>> absolute_url("http://[::1/", "https://finance.sina.com.cn/", LINK_SCHEMES) is None
    True
    """
    if value is None:
        return None
    value = value.strip()
    if not value or value.startswith("#"):
        return None
    try:
        # urljoin parses `value` too: a malformed one (http://[::1/) raises ValueError there.
        url = "https:" + value if value.startswith("//") else urljoin(base_url, value)
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in schemes else None


def _collapse_space(text: str | None) -> str | None:
    r"""Collapse ASCII whitespace so no blank line survives (Markdown would end the HTML block).

    >>> _collapse_space("\n\n  　　text \t x")
    '\n　　text x'
    """
    if not text or not _needs_collapse(text):
        return text
    return _ASCII_SPACE.sub(lambda m: "\n" if "\n" in m.group() else " ", text)


def _needs_collapse(text: str) -> bool:
    # What _ASCII_SPACE would change (a lone " " or "\n" stays as it is), by substring tests:
    # C scans, against a regex walk of every character of every paragraph.
    return (
        "  " in text
        or "\n\n" in text
        or " \n" in text
        or "\n " in text
        or "\t" in text
        or "\r" in text
        or "\f" in text
        or "\v" in text
    )


def _is_junk(el: etree._Element) -> bool:
    """Tell ad slots, widgets, hidden elements and spacer pixels."""
    attrib = el.attrib
    if "hidden" in attrib or _HIDDEN_STYLE.search(attrib.get("style", "")):
        return True
    classes = attrib.get("class")
    if classes and not JUNK_CLASSES.isdisjoint(classes.split()):
        return True
    el_id = attrib.get("id")
    if el_id and (el_id in JUNK_IDS or el_id.lower().startswith(JUNK_ID_PREFIXES)):
        return True
    suda = attrib.get("data-sudaclick")
    if suda and suda.startswith(JUNK_SUDACLICK_PREFIXES):
        return True
    if el.tag == "a" and WAP_PROMOTION_HREF.match(attrib.get("href", "").strip()):
        return True
    if el.tag == "img":
        # Layout spacers and tracking pixels (Sina's 1x5 c.gif).
        for dim in ("width", "height"):
            size = attrib.get(dim, "").strip().removesuffix("px")
            if size.isdigit() and int(size) <= 5:
                return True
    return False


def _is_empty(el: etree._Element) -> bool:
    """Tell elements with no text (U+3000 indents count as empty) and only <br> children."""
    if el.tag in VOID_CONTENT:
        return False
    if el.text and el.text.strip():
        return False
    return all(child.tag == "br" and not (child.tail and child.tail.strip()) for child in el)


class _Cleaner:
    """One depth-first pass over the parsed body; carries the ad-region state across levels."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.in_ad_region = False
        # The paragraph an ad region began in: the parser closed it at the ad's <table>, so the
        # text after the region is the rest of that paragraph's sentence.
        self.region_paragraph: etree._Element | None = None

    def clean_children(self, parent: etree._Element, *, preserve_space: bool) -> None:
        for child in list(parent):
            self.clean(child, preserve_space=preserve_space)
        if not preserve_space:
            # Set only what changed: lxml replaces the text node on every assignment.
            text = parent.text
            collapsed = _collapse_space(text)
            if collapsed != text:
                parent.text = collapsed
            for child in parent:
                tail = child.tail
                collapsed = _collapse_space(tail)
                if collapsed != tail:
                    child.tail = collapsed

    def clean(self, el: etree._Element, *, preserve_space: bool) -> None:
        tag = el.tag
        if not isinstance(tag, str):  # comment or processing instruction
            if tag is etree.Comment:
                text = el.text or ""
                if AD_REGION_BEGIN in text:
                    self.in_ad_region = True
                    parent = el.getparent()
                    self.region_paragraph = (
                        parent if parent is not None and parent.tag == "p" else None
                    )
                elif AD_REGION_END in text:
                    self.in_ad_region = False
                    if self.region_paragraph is not None:
                        _continue_paragraph(self.region_paragraph, el)
                    self.region_paragraph = None
            _remove(el)
            return
        tag = tag.lower()
        if self.in_ad_region or tag in DROP_TAGS or _is_junk(el):
            _remove(el)
            return
        if tag == "img":
            self._clean_img(el)
            return
        self.clean_children(el, preserve_space=preserve_space or tag == "pre")
        if tag not in KEEP_TAGS:
            drop_tag(el)
            return
        if tag == "a":
            href = absolute_url(el.get("href"), self.base_url, LINK_SCHEMES)
            if href is None:
                drop_tag(el)
                return
            el.set("href", href)
        _keep_attrs(el, KEEP_ATTRS.get(tag, ()))
        if _is_empty(el):
            _remove(el)

    def _clean_img(self, el: etree._Element) -> None:
        src = None
        for attr in (*LAZY_SRC_ATTRS, "src"):
            src = absolute_url(el.get(attr), self.base_url, IMAGE_SCHEMES)
            if src is not None:
                break
        if src is None:
            _remove(el)
            return
        _keep_attrs(el, KEEP_ATTRS["img"])
        el.set("src", src)
        # Sina's image host refuses requests whose Referer is another site (hotlink guard).
        el.set("referrerpolicy", "no-referrer")


# Elements that start a new block: anything else after an ad region is still the paragraph's.
BLOCK_TAGS = frozenset(
    {"p", "div", "table", "ul", "ol", "dl", "blockquote", "pre", "hr", "center", "section"}
    | {"h1", "h2", "h3", "h4", "h5", "h6", "figure", "article"}
)


def _continue_paragraph(paragraph: etree._Element, region_end: etree._Element) -> None:
    """Move the text and inline elements after an ad region back into the paragraph it split.

    >>> root = lxml.html.fragment_fromstring(
    ...     "<div><p>获得了5<!--NEWSZW_HZH_BEGIN--><table><tr><td>广告</td></tr></table>"
    ...     "<!--NEWSZW_HZH_END-->00万元<b>大奖</b>。<p>下一段</p></div>")
    >>> clean_body(lxml.html.tostring(root, encoding="unicode"), "http://chanye.sina.com.cn/")
    '<div><p>获得了500万元<b>大奖</b>。</p><p>下一段</p></div>'
    """
    if region_end.getparent() is not paragraph.getparent():
        return
    tail, region_end.tail = region_end.tail, None
    last = paragraph[-1] if len(paragraph) else None
    if tail:
        tail = _collapse_space(tail.rstrip())
        if last is not None:
            last.tail = (last.tail or "") + tail
        else:
            paragraph.text = (paragraph.text or "") + tail
    following = region_end.getnext()
    while (
        following is not None
        and isinstance(following.tag, str)
        and following.tag.lower() not in BLOCK_TAGS
    ):
        after = following.getnext()
        following.tail = _collapse_space((following.tail or "").rstrip()) or None
        paragraph.append(following)
        following = after


def _keep_attrs(el: etree._Element, allowed: tuple[str, ...]) -> None:
    attrib = el.attrib
    try:
        for name in [name for name in attrib.keys() if name not in allowed]:  # noqa: SIM118
            del attrib[name]
    except ValueError:
        # libxml2 keeps attribute names lxml refuses to name (a control character in them):
        # clear them all and set the kept ones again, in their order, without what XML cannot
        # hold in a value.
        kept = [
            (name, _XML_INCOMPATIBLE.sub("", value))
            for name, value in attrib.items()
            if name in allowed
        ]
        attrib.clear()
        for name, value in kept:
            el.set(name, value)


def _remove(el: etree._Element) -> None:
    """Remove an element or comment, keeping the text that follows it."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    previous = el.getprevious()
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


# Characters XML (and so lxml) cannot hold: C0 controls other than tab/newline/return, and
# U+FFFE/U+FFFF.
_XML_INCOMPATIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# Labels of the editors' "related news" link lists Sina puts inside article bodies.
_RELATED_LABEL = re.compile(r"^(?:相关新闻|相关阅读|延伸阅读|相关报道|推荐阅读)\s*[:：]?$")


def _is_link_only(el: etree._Element) -> bool:
    """Tell a paragraph whose whole text is link text (a related-article entry)."""
    text = "".join(el.itertext()).strip()
    links = "".join(t for a in el.iter("a") for t in a.itertext()).strip()
    return bool(text) and text == links


def _drop_related_links(root: etree._Element) -> None:
    """Remove a "相关新闻：" label paragraph and the link-only paragraphs that follow it.

    >>> root = lxml.html.fragment_fromstring(
    ...     '<div><p><b>相关新闻：</b></p><p><a href="/a">甲</a></p><p>正文</p></div>')
    >>> _drop_related_links(root); lxml.html.tostring(root, encoding="unicode")
    '<div><p>正文</p></div>'
    """
    for label in list(root.iterchildren("p")):
        if label.getparent() is None or not _RELATED_LABEL.match("".join(label.itertext()).strip()):
            continue
        entry = label.getnext()
        while entry is not None and entry.tag == "p" and _is_link_only(entry):
            following = entry.getnext()
            _remove(entry)
            entry = following
        _remove(label)


# The 2010-era video box Sina put inside the body markers: a player (object/embed, dropped with
# the other players), a '视频：<title>' caption, a '来源：<site>' line and a '播放视频' control.
# Told by that text, not by class names, which changed from channel to channel.
VIDEO_CONTROL = "播放视频"
_VIDEO_CAPTION = re.compile(r"^\s*视频\s*[:：]")
_SOURCE_LINE = re.compile(r"^\s*来源\s*[:：]")
# A box is small: caption, source and control; more text than this is article text.
MAX_VIDEO_BOX_CHARS = 200


def _drop_video_boxes(root: etree._Element) -> None:
    """Remove Sina's old in-body video boxes: the caption, source line and play control.

    >>> root = lxml.html.fragment_fromstring(
    ...     "<div><p>正文</p><div><table><tr><td><p>视频：央行降息</p><p>来源：新浪财经</p>"
    ...     "<a href='http://v.sina.com.cn/x'>播放视频</a></td></tr></table></div><p>下文</p></div>")
    >>> _drop_video_boxes(root); lxml.html.tostring(root, encoding="unicode")
    '<div><p>正文</p><p>下文</p></div>'
    """
    controls = [
        el
        for el in root.iter()
        if isinstance(el.tag, str) and (el.text or "").strip() == VIDEO_CONTROL
    ]
    for control in controls:
        if control.getparent() is None:
            continue
        box = _video_box(root, control)
        if box is not None:
            _remove(box)
            continue
        # No wrapper: the caption and source lines are the control's preceding siblings.
        for sibling in list(control.itersiblings(preceding=True))[:3]:
            text = "".join(sibling.itertext())
            if _VIDEO_CAPTION.match(text) or _SOURCE_LINE.match(text):
                _remove(sibling)
        _remove(control)


def _video_box(root: etree._Element, control: etree._Element) -> etree._Element | None:
    """Return the smallest ancestor of a play control that holds the caption and source line."""
    for ancestor in control.iterancestors():
        if ancestor is root:
            return None
        text = "".join(ancestor.itertext())
        if len(text.strip()) > MAX_VIDEO_BOX_CHARS:
            return None
        lines = ["".join(el.itertext()) for el in ancestor.iter() if isinstance(el.tag, str)]
        if any(_VIDEO_CAPTION.match(line) for line in lines) and any(
            _SOURCE_LINE.match(line) for line in lines
        ):
            return _outermost_wrapper(root, ancestor)
    return None


def _outermost_wrapper(root: etree._Element, box: etree._Element) -> etree._Element:
    """Widen the box to the wrappers (table, row, div) that hold nothing else."""
    text = "".join(box.itertext()).strip()
    parent = box.getparent()
    while parent is not None and parent is not root and "".join(parent.itertext()).strip() == text:
        box, parent = parent, parent.getparent()
    return box


def clean_body(html: str, base_url: str) -> str:
    """Return the article HTML as a reader sees it, as one ``<div>`` without blank lines.

    ``html`` is the article container (or any fragment); links and images become absolute
    against ``base_url``. An empty string means nothing readable was left.

    >>> clean_body('<div id="artibody"><!-- x --><p>　　正文<span id="quote_sh600000">9.1</span>'
    ...            '</p><script>var a;</script><p> </p></div>', "https://finance.sina.com.cn/")
    '<div><p>　　正文</p></div>'
    """
    if not html or not html.strip():
        return ""
    # lxml refuses text with control characters outside any element (ValueError), and no
    # reader wants them anywhere.
    html = _XML_INCOMPATIBLE.sub("", html)
    return _clean_wrapped(lxml.html.fragment_fromstring(html, create_parent="div"), base_url)


def drop_tag(element: etree._Element) -> None:
    """Remove the element's tag, keeping its text and children in its place.

    lxml.html's drop_tag, for an element of any class: pages are parsed into plain lxml
    elements (see crawler/site/parsing.py).
    """
    lxml.html.HtmlMixin.drop_tag(element)


def clean_element(container: etree._Element, base_url: str) -> str:
    """Clean the article container of a parsed page, in that page's own tree.

    What clean_body does to the container's HTML, without serialising the container and
    parsing it again: extraction hands over the element it found. The element is taken out of
    its page (the page is spent after extraction), and its subtree is changed in place.

    >>> page = lxml.html.document_fromstring(
    ...     '<html><body><div id="artibody"><p>正文<script>x</script></p></div>尾</body></html>')
    >>> clean_element(page.get_element_by_id("artibody"), "https://finance.sina.com.cn/")
    '<div><p>正文</p></div>'
    """
    container.tail = None
    wrapper = etree.Element("div")
    wrapper.append(container)
    # A page's tree may hold control characters the HTML parser let through; the string form
    # is where they are dropped (clean_body drops them before parsing).
    return _XML_INCOMPATIBLE.sub("", _clean_wrapped(wrapper, base_url))


def _clean_wrapped(wrapper: etree._Element, base_url: str) -> str:
    """Clean the content of ``wrapper``, a ``<div>`` made to hold the article container."""
    children = list(wrapper)
    # The usual input is one container element: clean it in place of our wrapper.
    if (
        len(children) == 1
        # Only a <div> container: any other lone element (a comment, a <p onclick>) is
        # cleaned as a child, so its own attributes and links are cleaned too.
        and children[0].tag == "div"
        and not (wrapper.text or "").strip()
        and not (children[0].tail or "").strip()
    ):
        root = children[0]
        root.tail = None
        if root.tag in DROP_TAGS or _is_junk(root):
            return ""
    else:
        root = wrapper
        # A table cell as the article container (2005 table layout): out of its table a <td>
        # means nothing, so its content is the body.
        if len(children) == 1 and children[0].tag in CELL_CONTAINERS:
            drop_tag(children[0])
    cleaner = _Cleaner(base_url)
    _drop_related_links(root)  # first, so the whitespace pass below tidies where it was
    if _has_video_control(root):
        _drop_video_boxes(root)
    cleaner.clean_children(root, preserve_space=False)
    if _is_empty(root) and root.tag not in VOID_CONTENT:
        return ""
    if root.tag != "div":
        root = _wrap(root)
    root.attrib.clear()
    return lxml.html.tostring(root, encoding="unicode")


def _has_video_control(root: etree._Element) -> bool:
    """Tell whether the body's text may hold a play control (_drop_video_boxes makes sure).

    The text serialised in C, one search: spares _drop_video_boxes' Python walk on nearly
    every page (an XPath `contains()` over each text node cost ten times as much).
    """
    return VIDEO_CONTROL in etree.tostring(root, method="text", encoding="unicode", with_tail=False)


def _wrap(el: etree._Element) -> etree._Element:
    """Put a lone non-div root (say a <td> or <p>) inside a <div>, keeping block markup valid."""
    div = etree.Element("div")
    if el.tag in ("td", "th", "center", "article", "section"):
        div.text = el.text
        div.extend(list(el))
    else:
        div.append(el)
    return div


CELL_CONTAINERS = frozenset({"td", "th"})

_IMG_TAG = re.compile(r"<img[\s/>]", re.IGNORECASE)
_QUOTED_SRC = re.compile(r'<img(?:\s[^>]*?)?\ssrc="([^"]*)"', re.IGNORECASE)


def first_image(html: str) -> str | None:
    """Return the ``src`` of the first ``<img>`` in cleaned HTML, or None.

    >>> first_image('<div><p>x</p><img src="https://n.sinaimg.cn/a.jpg"></div>')
    'https://n.sinaimg.cn/a.jpg'
    """
    first = _IMG_TAG.search(html) if html else None
    if first is None:  # spares parsing a body without images
        return None
    # clean_body's own output writes `src="..."` (lxml quotes and escapes every attribute):
    # read it from the first <img> tag; other markup is parsed.
    quoted = _QUOTED_SRC.match(html, first.start())
    if quoted and quoted.group(1):
        return html_unescape(quoted.group(1))
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    for img in root.iter("img"):
        src = img.get("src")
        if src:
            return src
    return None
