"""RSS 2.0, Atom and OPML parsing: article links from feeds, feed links from OPML directories."""

from __future__ import annotations

from dataclasses import dataclass
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


def parse_feed(body: bytes, url: str) -> FeedDocument:
    """Parse RSS, Atom or OPML bytes.

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
        feeds = [o.get("xmlUrl").strip() for o in root.iter("outline") if o.get("xmlUrl")]
        return FeedDocument(_text(root.find("head/title")), [], list(dict.fromkeys(feeds)))
    if tag == "rss" or tag == "rdf":
        channel = root.find("channel")
        items = root.iter("item", "{http://purl.org/rss/1.0/}item")
        entries = []
        for item in items:
            link = _text(item.find("link")) or _text(item.find("{http://purl.org/rss/1.0/}link"))
            link = link or _text(item.find("guid"))
            if link.startswith(("http://", "https://")):
                title = _text(item.find("title")) or _text(
                    item.find("{http://purl.org/rss/1.0/}title")
                )
                entries.append(FeedEntry(link, title, parse_feed_date(_text(item.find("pubDate")))))
        return FeedDocument(
            _text(channel.find("title")) if channel is not None else "", entries, []
        )
    if tag == "feed":
        entries = []
        for entry in root.iter(f"{ATOM}entry"):
            links = entry.findall(f"{ATOM}link")
            href = next(
                (x.get("href") for x in links if x.get("rel", "alternate") == "alternate"), None
            )
            if href and href.startswith(("http://", "https://")):
                when = _text(entry.find(f"{ATOM}published")) or _text(entry.find(f"{ATOM}updated"))
                entries.append(
                    FeedEntry(href, _text(entry.find(f"{ATOM}title")), parse_feed_date(when))
                )
        return FeedDocument(_text(root.find(f"{ATOM}title")), entries, [])
    raise FeedError(url, f"not a feed (root element <{tag}>)")
