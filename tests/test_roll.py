"""Roll API and feed parsing (the two discovery sources), without a crawl."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.site.feeds import FeedError, parse_feed
from crawler.site.roll import RollError, entry_time, parse_roll, roll_page_url

BJ = timezone(timedelta(hours=8))
FEEDS = Path(__file__).parent / "fixtures" / "sina" / "feeds"


def roll_doc(data, code=0):
    return json.dumps(
        {"result": {"status": {"code": code, "msg": "succ"}, "total": 2, "data": data}},
        ensure_ascii=False,
    ).encode()


def test_roll_page_url_has_paging_and_channel():
    url = roll_page_url(
        "https://feed.mix.sina.com.cn/api/roll/get", pageid=155, lid=1686, page=3, num=50
    )
    assert url == "https://feed.mix.sina.com.cn/api/roll/get?pageid=155&lid=1686&num=50&page=3"


def test_roll_page_url_overrides_existing_paging():
    url = roll_page_url("http://x/api/roll/get?page=9&k=1", pageid=384, lid=2519, page=1, num=5)
    assert url == "http://x/api/roll/get?k=1&pageid=384&lid=2519&num=5&page=1"


def test_parse_roll_entries():
    body = roll_doc(
        [
            {
                "url": "https://finance.sina.com.cn/stock/2024-05-10/doc-inausehc2630922.shtml",
                "wapurl": "https://finance.sina.cn/2024-05-10/detail-inausehc2630922.d.html",
                "title": "城市有轨电车之困",
                "intro": "导语",
                "media_name": "每日经济新闻",
                "ctime": "1715272005",
                "intime": "1715272100",
            },
            {"url": "", "wapurl": "https://finance.sina.cn/x/detail-iabcdefg1234567.d.html"},
            {"url": "javascript:void(0)", "title": "no link"},
            "not an object",
        ]
    )
    entries = parse_roll(body, "http://roll")
    assert [e.url for e in entries] == [
        "https://finance.sina.com.cn/stock/2024-05-10/doc-inausehc2630922.shtml",
        "https://finance.sina.cn/x/detail-iabcdefg1234567.d.html",
    ]
    first = entries[0]
    assert (first.title, first.media, first.intro) == ("城市有轨电车之困", "每日经济新闻", "导语")
    assert first.published == datetime(2024, 5, 10, 0, 26, 45, tzinfo=BJ)
    assert entries[1].published is None


def test_parse_roll_empty_page():
    assert parse_roll(roll_doc([]), "u") == []
    assert parse_roll(b'{"result": {"status": {"code": 0}, "data": null}}', "u") == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<html>502 Bad Gateway</html>", "roll API answer is not JSON"),
        (b"\xff\xfe\x00", "roll API answer is not JSON"),
        (b"[]", "roll API answer has no 'result'"),
        (b'{"result": {"status": {"code": 11, "msg": "lid error"}}}', "roll API status code 11"),
        (b'{"result": {"status": {}}}', "roll API status code None"),
        (b'{"result": {"status": {"code": 0}, "data": {"a": 1}}}', "roll API 'data' is not a list"),
    ],
)
def test_parse_roll_errors_name_the_url(body, reason):
    url = "https://feed.mix.sina.com.cn/api/roll/get?pageid=384&lid=2519&num=50&page=2"
    with pytest.raises(RollError) as info:
        parse_roll(body, url)
    assert info.value.reason.startswith(reason)
    assert str(info.value).endswith(f": {url}")


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"ctime": "1715308800", "intime": "1"}, datetime(2024, 5, 10, 10, 40, tzinfo=BJ)),
        ({"ctime": "0", "intime": "1715308800"}, datetime(2024, 5, 10, 10, 40, tzinfo=BJ)),
        ({"ctime": 1715308800.0}, datetime(2024, 5, 10, 10, 40, tzinfo=BJ)),
        ({"ctime": "soon"}, None),
    ],
)
def test_entry_time(row, expected):
    assert entry_time(row) == expected


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


def test_roll_entries_with_file_urls_are_never_listed():
    doc = {
        "result": {
            "status": {"code": 0},
            "data": [
                {"url": "file:///etc/passwd", "wapurl": "", "ctime": "1715308800"},
                {"url": "file:///etc/passwd", "wapurl": "https://finance.sina.cn/x.d.html"},
                {"url": "https://finance.sina.com.cn/a.shtml", "ctime": "1715308800"},
            ],
        }
    }
    entries = parse_roll(json.dumps(doc), "http://feed.mix.sina.com.cn/api/roll/get")
    assert [e.url for e in entries] == [
        "https://finance.sina.cn/x.d.html",
        "https://finance.sina.com.cn/a.shtml",
    ]
