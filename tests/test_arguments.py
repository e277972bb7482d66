"""Spider arguments parsed from strings: URLs here are only text; nothing is fetched, no fixture needed."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from crawler.arguments import (
    DEFAULT_PAGES,
    ArgumentError,
    parse_arguments,
    parse_lids,
    parse_pages,
    parse_when,
    read_urls_file,
)

BJ = timezone(timedelta(hours=8))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-10", datetime(2024, 5, 10, tzinfo=BJ)),
        ("2024-05-10 08:30", datetime(2024, 5, 10, 8, 30, tzinfo=BJ)),
        ("2024-05-10 08:30:15", datetime(2024, 5, 10, 8, 30, 15, tzinfo=BJ)),
        ("2024-05-10T08:30", datetime(2024, 5, 10, 8, 30, tzinfo=BJ)),
        ("2024-05-10T00:30:00Z", datetime(2024, 5, 10, 8, 30, tzinfo=BJ)),
        (" 2024-05-10 ", datetime(2024, 5, 10, tzinfo=BJ)),
    ],
)
def test_parse_when_is_beijing_time(text, expected):
    assert parse_when(text) == expected


def test_until_date_covers_the_whole_day():
    end = parse_when("2024-05-10", name="until", end_of_day=True)
    assert end == datetime(2024, 5, 10, 23, 59, 59, 999999, tzinfo=BJ)


@pytest.mark.parametrize("text", ["yesterday", "2024-13-01", "10/05/2024", "", "1715308800"])
def test_parse_when_rejects(text):
    with pytest.raises(ArgumentError, match=r"^since must be a date \(2024-05-10\)"):
        parse_when(text)


@pytest.mark.parametrize(("text", "value"), [("1", 1), ("50", 50), (" 3 ", 3)])
def test_parse_pages(text, value):
    assert parse_pages(text) == value


@pytest.mark.parametrize("text", ["abc", "0", "-1", "2.5", ""])
def test_parse_pages_rejects(text):
    with pytest.raises(ArgumentError, match="pages must be a positive integer"):
        parse_pages(text)


def test_lids_accept_ids_names_slugs_groups_in_order_without_repeats():
    channels = parse_lids("1686, 港股,FOREX，economy-all")
    assert [c.lid for c in channels] == [1686, 2674, 2487, 1687, 1690, 1688, 1689]
    assert [c.pageid for c in channels] == [155, 384, 384, 155, 155, 155, 155]


def test_unknown_lid_is_an_argument_error():
    with pytest.raises(ArgumentError, match=r"^unknown channel '9999'; see the channels table"):
        parse_lids("2519,9999")


def test_defaults():
    args = parse_arguments({})
    assert not args.explicit
    assert [c.lid for c in args.channels] == [2519]
    assert args.pages == DEFAULT_PAGES == 10
    assert (args.since, args.until, args.feeds, args.refresh) == (None, None, [], False)


def test_explicit_urls_and_file_merge_in_order(tmp_path):
    listing = tmp_path / "urls.txt"
    listing.write_text(
        "# comment line\nhttp://b.sina.com.cn/2.shtml\n\n"
        "http://a.sina.com.cn/1.shtml # again\nhttp://c.sina.com.cn/3.shtml\n",
        encoding="utf-8",
    )
    args = parse_arguments({"urls": "http://a.sina.com.cn/1.shtml", "urls_file": str(listing)})
    assert args.explicit
    assert args.urls == [
        "http://a.sina.com.cn/1.shtml",
        "http://b.sina.com.cn/2.shtml",
        "http://c.sina.com.cn/3.shtml",
    ]


def test_urls_keep_their_scheme():
    urls = parse_arguments({"urls": "https://a.cn/1.shtml http://a.cn/1.shtml"}).urls
    assert urls == ["https://a.cn/1.shtml", "http://a.cn/1.shtml"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"urls_file": "/nonexistent/u.txt"}, "urls_file: cannot read '/nonexistent/u.txt'"),
        ({"urls": "finance.sina.com.cn/a.shtml"}, "urls: not an http(s) URL"),
        ({"feeds": "ftp://x/a.xml"}, "feeds: not an http(s) URL"),
        ({"refresh": "maybe"}, "refresh must be 1 or 0, got 'maybe'"),
        ({"since": "2024-05-02", "until": "2024-05-01"}, "since must not be later than until"),
        ({"lid": "2519"}, "unknown argument 'lid'"),
    ],
)
def test_bad_arguments(args, message):
    with pytest.raises(ArgumentError) as info:
        parse_arguments(args)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_feeds_accept_local_files():
    args = parse_arguments({"feeds": "file:///tmp/sina.opml,http://rss.sina.com.cn/a.xml"})
    assert args.feeds == ["file:///tmp/sina.opml", "http://rss.sina.com.cn/a.xml"]


def test_read_urls_file_rejects_non_urls(tmp_path):
    listing = tmp_path / "u.txt"
    listing.write_text("http://a.cn/1.shtml\nnot-a-url\n", encoding="utf-8")
    with pytest.raises(ArgumentError, match="urls_file: not an http"):
        read_urls_file(str(listing))
