"""Feed parsing (OPML directories, RSS, Atom), the second discovery source, without a crawl."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.site.feeds import FeedError, parse_feed

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
