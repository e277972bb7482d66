"""Sina date parsing: one row per format Sina has printed, all read as Beijing time.

URLs here are only text (the year of a mobile page comes from its URL); no fixture needed.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from crawler.site.dates import BEIJING, parse_sina_date, strip_sina_date, url_year


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2022年08月01日 11:23", "2022-08-01T11:23:00+08:00"),  # modern span.date
        ("2009年11月09日13:48", "2009-11-09T13:48:00+08:00"),  # 2009 #pub_date, no space
        ("2016年05月25日10:10 新浪财经", "2016-05-25T10:10:00+08:00"),  # 2014 span.time-source
        ("http://www.sina.net 2005年03月21日 11:21 《理财周刊》", "2005-03-21T11:21:00+08:00"),
        ("2018-12-28T19:56:29+08:00", "2018-12-28T19:56:29+08:00"),  # article:published_time
        ("2018-12-28T11:56:29Z", "2018-12-28T19:56:29+08:00"),  # UTC converted
        ("2018-12-28T06:56:29-05:00", "2018-12-28T19:56:29+08:00"),
        ("2018-12-28T19:56:29+0800", "2018-12-28T19:56:29+08:00"),
        ("2018-12-28T19:56:29.123+08:00", "2018-12-28T19:56:29+08:00"),
        ("2005-08-26 05:39:00", "2005-08-26T05:39:00+08:00"),  # naive meta: Beijing time
        ("2018-12-28 19:55:10", "2018-12-28T19:55:10+08:00"),  # weibo: article:create_at
        ("2018.05.09 12:52:37", "2018-05-09T12:52:37+08:00"),  # mobile time.art_time
        ("2022-08-01 11:23", "2022-08-01T11:23:00+08:00"),
        ("2022-08-0111:23", "2022-08-01T11:23:00+08:00"),  # the same with its tags stripped
        ("2022年8月1日 9:05", "2022-08-01T09:05:00+08:00"),
        ("2022年08月01日 11：23", "2022-08-01T11:23:00+08:00"),  # full-width colon
        (" [111,3,244339] published at 2005-03-21 11:21:30 from #013", "2005-03-21T11:21:30+08:00"),
    ],
)
def test_parse_sina_date(text, iso):
    value = parse_sina_date(text)
    assert value.isoformat() == iso
    assert value.tzinfo == ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "新浪财经",
        "09月28日07:56",
        "2022年08月01日",
        "2019年13月40日 10:00",
        "12:30",
        "2018-12-28T19:55:00+24:00",  # no such offset
    ],
)
def test_unparseable_is_none(text):
    assert parse_sina_date(text) is None


def test_dst_free_zone_keeps_plus_eight_in_summer_and_winter():
    summer = parse_sina_date("2022-07-01 12:00")
    winter = parse_sina_date("2022-01-01 12:00")
    assert summer.utcoffset() == winter.utcoffset()
    assert summer == datetime(2022, 7, 1, 4, 0, tzinfo=ZoneInfo("UTC"))
    assert summer.tzinfo is BEIJING


def test_strip_sina_date_leaves_the_source():
    assert strip_sina_date("2016年05月25日10:10 新浪财经").strip() == "新浪财经"
    assert strip_sina_date("新浪财经") == "新浪财经"


@pytest.mark.parametrize(
    ("text", "year", "iso"),
    [
        ("08月01日11:23", 2022, "2022-08-01T11:23:00+08:00"),  # mobile time.weibo_time
        ("09月28日 07:56", 2017, "2017-09-28T07:56:00+08:00"),
        ("2016年05月25日10:10", 2017, "2016-05-25T10:10:00+08:00"),  # a full date keeps its year
    ],
)
def test_year_less_mobile_time_uses_the_given_year(text, year, iso):
    assert parse_sina_date(text, year=year).isoformat() == iso


def test_url_year():
    assert url_year("https://finance.sina.com.cn/roll/2018-12-28/doc-ihqfskcn2160999.shtml") == 2018
    assert url_year("https://finance.sina.cn/article?id=1") is None
