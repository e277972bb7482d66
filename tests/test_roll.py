"""Roll API parsing (the first discovery source), without a crawl.

Roll answers are built in the tests; their Sina URLs are only text: nothing is fetched.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from crawler.site.roll import RollError, entry_time, parse_roll, parse_roll_page, roll_page_url

BJ = timezone(timedelta(hours=8))


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


def test_parse_roll_page_sets_bad_entries_aside_and_keeps_the_rest():
    rows = [
        {"url": "http://[::1/x", "ctime": "1715272005"},
        {"url": "https://finance.sina.com.cn/a/doc-inausehc2630922.shtml", "ctime": "inf"},
        {"url": "https://finance.sina.com.cn:99999/b.shtml"},
        {"url": "https://finance.sina.com.cn/c/doc-inausehc2630923.shtml", "ctime": 99999999999999},
        {"url": "javascript:void(0)"},
        {"url": "https://finance.sina.com.cn/d/doc-inausehc2630924.shtml", "title": ["x"]},
    ]
    page = parse_roll_page(roll_doc(rows), "http://roll")
    assert [(e.url, e.published, e.title) for e in page.entries] == [
        ("https://finance.sina.com.cn/a/doc-inausehc2630922.shtml", None, ""),
        ("https://finance.sina.com.cn/c/doc-inausehc2630923.shtml", None, ""),
        ("https://finance.sina.com.cn/d/doc-inausehc2630924.shtml", None, ""),
    ]
    assert page.bad_entries == [
        ("http://[::1/x", "Invalid IPv6 URL"),
        ("https://finance.sina.com.cn:99999/b.shtml", "Port out of range 0-65535"),
    ]
    assert page.without_url == 1


def test_parse_roll_page_takes_at_most_the_limit():
    rows = [{"url": f"https://finance.sina.com.cn/{i}.shtml"} for i in range(270)]
    page = parse_roll_page(roll_doc(rows), "http://roll", limit=50)
    assert len(page.entries) == 50
    assert page.beyond_limit == 220


def test_deeply_nested_roll_answer_is_a_roll_error():
    body = b'{"result": {"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}"
    with pytest.raises(RollError, match="nests too deeply"):
        parse_roll_page(body, "http://roll")


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
