"""RSS 2.0, Atom and OPML parsing: article links from feeds, feed links from OPML directories."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime

from lxml import etree

from crawler.site.dates import BEIJING
from crawler.site.errors import PageError

ATOM = "{http://www.w3.org/2005/Atom}"


class FeedError(PageError):
    """A document that is neither RSS, Atom nor OPML (or not XML at all)."""


@dataclass(frozen=True)
class FeedEntry:
    """One article link from a feed."""

    url: str
    title: str
    published: datetime | None


@dataclass(frozen=True)
class FeedDocument:
    """A parsed feed: its title, article entries, and (for OPML) the feeds it lists."""

    title: str
    entries: list[FeedEntry]
    feeds: list[str]
    # Links the document named that are not http(s) (file://, data:...): never followed.
    refused: list[str] = field(default_factory=list)


def _parser() -> etree.XMLParser:
    # Feeds are untrusted input: no entities, no network, tolerate the odd broken byte.
    return etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)


def parse_feed_date(text: str | None) -> datetime | None:
    """Parse RFC 822 (RSS) or ISO 8601 (Atom) dates; naive times are taken as Beijing time.

    >>> parse_feed_date("Fri, 10 May 2024 10:40:00 GMT").isoformat()
    '2024-05-10T10:40:00+00:00'
    >>> parse_feed_date("2024-05-10T10:40:00+08:00").isoformat()
    '2024-05-10T10:40:00+08:00'
    >>> parse_feed_date("soon") is None
    True
    """
    if not text or not text.strip():
        return None
    value = text.strip()
    parsed: datetime | None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=BEIJING)


def _text(node: etree._Element | None) -> str:
    return (node.text or "").strip() if node is not None else ""


WEB_SCHEMES = ("http://", "https://")
RSS1 = "{http://purl.org/rss/1.0/}"


def is_web_url(url: str) -> bool:
    """Tell whether a URL found in a document may be followed: http(s) only, never file://.

    >>> is_web_url("https://rss.sina.com.cn/a.xml"), is_web_url("file:///etc/passwd")
    (True, False)
    """
    return url.lower().startswith(WEB_SCHEMES)


def parse_feed(body: bytes, url: str) -> FeedDocument:
    """Parse RSS, Atom or OPML bytes (the root element decides which).

    Links that are not http(s) are never followed, whatever document names them: they are
    listed in `refused` so the caller can say so.

    >>> rss = b'<rss><channel><title>F</title><item><title>A</title>'
    >>> rss += b'<link>http://finance.sina.com.cn/a.shtml</link></item></channel></rss>'
    >>> parse_feed(rss, "u").entries[0].url
    'http://finance.sina.com.cn/a.shtml'
    >>> opml = b'<opml><body><outline text="x"><outline xmlUrl="http://rss.sina.com.cn/a.xml"/>'
    >>> opml += b'</outline></body></opml>'
    >>> parse_feed(opml, "u").feeds
    ['http://rss.sina.com.cn/a.xml']
    """
    try:
        root = etree.fromstring(body.strip(), parser=_parser())
    except etree.XMLSyntaxError:
        root = None
    if root is None:
        raise FeedError(url, "feed is not XML")
    tag = etree.QName(root).localname.lower()
    if tag == "opml":
        return parse_opml(root)
    if tag in {"rss", "rdf"}:
        return parse_rss(root)
    if tag == "feed":
        return parse_atom(root)
    raise FeedError(url, f"not a feed (root element <{tag}>)")


def parse_opml(root: etree._Element) -> FeedDocument:
    """Read an OPML directory: the feeds its outlines list (`xmlUrl`), once each, in order.

    >>> doc = parse_opml(etree.fromstring(
    ...     b'<opml><head><title>D</title></head><body><outline xmlUrl="file:///etc/passwd"/>'
    ...     b'<outline xmlUrl=" http://r.cn/a.xml "/><outline xmlUrl="http://r.cn/a.xml"/></body></opml>'))
    >>> doc.title, doc.feeds, doc.refused
    ('D', ['http://r.cn/a.xml'], ['file:///etc/passwd'])
    """
    listed = dict.fromkeys(o.get("xmlUrl").strip() for o in root.iter("outline") if o.get("xmlUrl"))
    feeds = [u for u in listed if is_web_url(u)]
    refused = [u for u in listed if u and not is_web_url(u)]
    return FeedDocument(_text(root.find("head/title")), [], feeds, refused)


def parse_rss(root: etree._Element) -> FeedDocument:
    """Read RSS 2.0 (or RSS 1.0/RDF) items: link (or guid), title, pubDate.

    >>> doc = parse_rss(etree.fromstring(
    ...     b'<rss><channel><title>F</title><item><link>file:///etc/passwd</link></item>'
    ...     b'<item><guid>https://f.cn/b.shtml</guid><title>B</title>'
    ...     b'<pubDate>Fri, 10 May 2024 10:40:00 +0800</pubDate></item></channel></rss>'))
    >>> doc.title, [(e.url, e.title, e.published.isoformat()) for e in doc.entries], doc.refused
    ('F', [('https://f.cn/b.shtml', 'B', '2024-05-10T10:40:00+08:00')], ['file:///etc/passwd'])
    """
    channel = root.find("channel")
    entries, refused = [], []
    for item in root.iter("item", f"{RSS1}item"):
        link = _text(item.find("link")) or _text(item.find(f"{RSS1}link"))
        link = link or _text(item.find("guid"))
        if not is_web_url(link):
            if link:
                refused.append(link)
            continue
        title = _text(item.find("title")) or _text(item.find(f"{RSS1}title"))
        entries.append(FeedEntry(link, title, parse_feed_date(_text(item.find("pubDate")))))
    title = _text(channel.find("title")) if channel is not None else ""
    return FeedDocument(title, entries, [], refused)


def parse_atom(root: etree._Element) -> FeedDocument:
    """Read Atom entries: the alternate link, title, and published (else updated) time.

    >>> doc = parse_atom(etree.fromstring(
    ...     b'<feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>'
    ...     b'<entry><link href="file:///etc/passwd"/></entry><entry><title>E</title>'
    ...     b'<link rel="self" href="https://f.cn/self"/><link href="https://f.cn/e.shtml"/>'
    ...     b'<updated>2024-05-10T10:40:00+08:00</updated></entry></feed>'))
    >>> doc.title, [(e.url, e.title, e.published.isoformat()) for e in doc.entries], doc.refused
    ('A', [('https://f.cn/e.shtml', 'E', '2024-05-10T10:40:00+08:00')], ['file:///etc/passwd'])
    """
    entries, refused = [], []
    for entry in root.iter(f"{ATOM}entry"):
        links = entry.findall(f"{ATOM}link")
        href = next(
            (x.get("href") for x in links if x.get("rel", "alternate") == "alternate"), None
        )
        if not href or not is_web_url(href):
            if href:
                refused.append(href)
            continue
        when = _text(entry.find(f"{ATOM}published")) or _text(entry.find(f"{ATOM}updated"))
        entries.append(FeedEntry(href, _text(entry.find(f"{ATOM}title")), parse_feed_date(when)))
    return FeedDocument(_text(root.find(f"{ATOM}title")), entries, [], refused)
