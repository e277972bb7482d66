"""crawler.site.feeds: OPML, RSS and Atom parsed apart; links that are not http(s) refused."""

from __future__ import annotations

import pytest
from lxml import etree

from crawler.site.feeds import FeedError, parse_atom, parse_feed, parse_opml, parse_rss


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
def test_not_a_feed(body, reason):
    with pytest.raises(FeedError) as caught:
        parse_feed(body, "http://r.cn/x")
    assert caught.value.reason == reason
