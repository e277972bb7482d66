"""Feed parsing (OPML directories, RSS, Atom), the second discovery source, without a crawl.

Feeds come from tests/fixtures or are built here; their URLs are only text: nothing is fetched.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from lxml import etree

from crawler.site.feeds import FeedError, parse_atom, parse_feed, parse_opml, parse_rss

BJ = timezone(timedelta(hours=8))
FEEDS = Path(__file__).parent / "fixtures" / "sina" / "feeds"


def test_sina_opml_directory_lists_its_feeds():
    doc = parse_feed((FEEDS / "rss-sina-all-opml.xml").read_bytes(), "file:///opml")
    assert doc.title == "all-新浪rss"
    assert doc.entries == []
    assert len(doc.feeds) == 167
    assert doc.feeds[0] == "http://rss.sina.com.cn/news/marquee/ddt.xml"
    assert "http://rss.sina.com.cn/roll/finance/hot_roll.xml" in doc.feeds


def test_rss_items():
    rss = """<?xml version="1.0" encoding="gb2312"?>
    <rss version="2.0"><channel><title>财经要闻</title>
    <item><title>A</title><link>http://finance.sina.com.cn/a.shtml</link>
      <pubDate>Fri, 10 May 2024 10:40:00 +0800</pubDate></item>
    <item><title>B</title><guid>https://finance.sina.com.cn/b.shtml</guid></item>
    <item><title>no link</title></item>
    </channel></rss>""".encode("gb2312")
    doc = parse_feed(rss, "u")
    assert doc.title == "财经要闻"
    assert [(e.url, e.title) for e in doc.entries] == [
        ("http://finance.sina.com.cn/a.shtml", "A"),
        ("https://finance.sina.com.cn/b.shtml", "B"),
    ]
    assert doc.entries[0].published == datetime(2024, 5, 10, 10, 40, tzinfo=BJ)


def test_atom_entries():
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>
    <entry><title>A</title><link rel="alternate" href="https://finance.sina.com.cn/a.shtml"/>
      <updated>2024-05-10T02:40:00Z</updated></entry>
    <entry><title>B</title><link rel="self" href="https://x/feed"/></entry></feed>"""
    doc = parse_feed(atom, "u")
    assert [e.url for e in doc.entries] == ["https://finance.sina.com.cn/a.shtml"]
    assert doc.entries[0].published == datetime(2024, 5, 10, 10, 40, tzinfo=BJ)


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"", "feed is not XML"), (b"{}", "feed is not XML"), (b"<html></html>", "not a feed")],
)
def test_not_a_feed(body, reason):
    with pytest.raises(FeedError, match=reason):
        parse_feed(body, "http://rss.sina.com.cn/x.xml")


def test_feed_entities_are_not_expanded():
    evil = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
    <rss><channel><title>&x;</title></channel></rss>"""
    assert "root" not in parse_feed(evil, "u").title


def root(text: str) -> etree._Element:
    return etree.fromstring(text.encode())


def test_opml_lists_web_feeds_once_and_refuses_local_ones():
    doc = parse_opml(
        root(
            "<opml><head><title>目录</title></head><body><outline text='g'>"
            "<outline xmlUrl='file:///etc/passwd'/><outline xmlUrl='http://r.cn/a.xml'/>"
            "<outline xmlUrl='data:text/xml,&lt;rss/&gt;'/><outline xmlUrl='https://r.cn/b.xml'/>"
            "<outline xmlUrl='http://r.cn/a.xml'/></outline></body></opml>"
        )
    )
    assert doc.title == "目录"
    assert doc.feeds == ["http://r.cn/a.xml", "https://r.cn/b.xml"]
    assert doc.refused == ["file:///etc/passwd", "data:text/xml,<rss/>"]
    assert doc.entries == []


def test_rss_items_take_link_then_guid_and_refuse_file_links():
    doc = parse_rss(
        root(
            "<rss><channel><title>要闻</title>"
            "<item><title>A</title><link>FILE:///etc/passwd</link></item>"
            "<item><title>B</title><guid>http://f.cn/b.shtml</guid></item>"
            "<item><title>C</title><link>https://f.cn/c.shtml</link>"
            "<pubDate>Fri, 10 May 2024 10:40:00 GMT</pubDate></item></channel></rss>"
        )
    )
    assert doc.title == "要闻"
    assert [(e.url, e.title) for e in doc.entries] == [
        ("http://f.cn/b.shtml", "B"),
        ("https://f.cn/c.shtml", "C"),
    ]
    assert doc.entries[0].published is None
    assert doc.entries[1].published.isoformat() == "2024-05-10T10:40:00+00:00"
    assert doc.refused == ["FILE:///etc/passwd"]


def test_rss1_rdf_items():
    doc = parse_feed(
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        b' xmlns="http://purl.org/rss/1.0/"><item><title>R</title>'
        b"<link>http://f.cn/r.shtml</link></item></rdf:RDF>",
        "u",
    )
    assert [(e.url, e.title) for e in doc.entries] == [("http://f.cn/r.shtml", "R")]


def test_atom_takes_the_alternate_link_and_refuses_file_links():
    doc = parse_atom(
        root(
            "<feed xmlns='http://www.w3.org/2005/Atom'><title>A</title>"
            "<entry><title>x</title><link href='file:///home/u/.ssh/id_rsa'/></entry>"
            "<entry><title>E</title><link rel='self' href='https://f.cn/self'/>"
            "<link rel='alternate' href='https://f.cn/e.shtml'/>"
            "<published>2024-05-10T10:40:00</published></entry></feed>"
        )
    )
    assert doc.title == "A"
    assert [(e.url, e.title) for e in doc.entries] == [("https://f.cn/e.shtml", "E")]
    assert doc.entries[0].published.isoformat() == "2024-05-10T10:40:00+08:00"
    assert doc.refused == ["file:///home/u/.ssh/id_rsa"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not xml", "feed is not XML"),
        (b"<html><body/></html>", "not a feed (root element <html>)"),
    ],
)
def test_not_a_feed_gives_its_reason(body, reason):
    with pytest.raises(FeedError) as caught:
        parse_feed(body, "http://r.cn/x")
    assert caught.value.reason == reason
