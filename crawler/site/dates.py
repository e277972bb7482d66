"""Sina publish-time parsing: every format Sina has printed since 2005, read as Beijing time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")

# One pattern covers the whole family: 2022年08月01日 11:23, 2009年11月09日13:48,
# 2018-12-28T19:56:29+08:00, 2005-08-26 05:39:00, 2018.05.09 12:52:37, 2022/08/01 11:23.
# It is searched, not matched, so a date embedded in a source line is found too.
_SINA_DATE = re.compile(
    r"(?P<year>(?:19|20)\d{2})\s*[年./-]\s*(?P<month>\d{1,2})\s*[月./-]\s*(?P<day>\d{1,2})\s*日?"
    r"\s*T?\s*(?P<hour>\d{1,2})\s*[:：]\s*(?P<minute>\d{2})(?:\s*[:：]\s*(?P<second>\d{2}))?"
    r"(?:\.\d+)?\s*(?P<offset>Z|[+-]\d{2}:?\d{2}(?![\d:]))?"
)

# Mobile pages print '09月28日07:56' without a year; read only when the caller knows the year.
_MONTH_DAY_TIME = re.compile(
    r"(?<!\d)(?P<month>\d{1,2})\s*[月/-]\s*(?P<day>\d{1,2})\s*日?\s*"
    r"(?P<hour>\d{1,2})\s*[:：]\s*(?P<minute>\d{2})(?:\s*[:：]\s*(?P<second>\d{2}))?"
)
# Mobile pages stamp the author box with Unix seconds: <figure class="weibo_info" data-time=...>.
_EPOCH_SECONDS = re.compile(r"\s*(1\d{9})\s*")
# Sina URLs carry the publish date: /2022-08-01/doc-..., /g/20091109/....
_URL_YEAR = re.compile(r"/((?:19|20)\d{2})-?[01]\d-?[0-3]\d/")


def _offset(text: str) -> timezone:
    """Turn 'Z', '+08:00' or '+0800' into a fixed offset.

    >>> _offset("+0800")
    datetime.timezone(datetime.timedelta(seconds=28800))
    """
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def parse_sina_date(text: str | None, year: int | None = None) -> datetime | None:
    """Find the first date-time in ``text`` and return it as an aware Asia/Shanghai datetime.

    Sina prints Beijing time; a value without an offset is read as Beijing time, one with an
    offset is converted. A date without a year ('09月28日07:56', mobile pages) is read only
    when ``year`` is given (the year of the URL); otherwise None, never a guess.

    >>> parse_sina_date("2022年08月01日 11:23").isoformat()
    '2022-08-01T11:23:00+08:00'
    >>> parse_sina_date("2009年11月09日13:48").isoformat()
    '2009-11-09T13:48:00+08:00'
    >>> parse_sina_date("2018-12-28T19:56:29+08:00").isoformat()
    '2018-12-28T19:56:29+08:00'
    >>> parse_sina_date("2018-12-28T11:56:29Z").isoformat()
    '2018-12-28T19:56:29+08:00'
    >>> parse_sina_date("2005-08-26 05:39:00").isoformat()
    '2005-08-26T05:39:00+08:00'
    >>> parse_sina_date("http://www.sina.net 2005年03月21日 11:21 《理财周刊》").isoformat()
    '2005-03-21T11:21:00+08:00'
    >>> parse_sina_date("2018.05.09 12:52:37").isoformat()
    '2018-05-09T12:52:37+08:00'
    >>> parse_sina_date("09月28日07:56") is None
    True
    >>> parse_sina_date("09月28日07:56", year=2017).isoformat()
    '2017-09-28T07:56:00+08:00'
    >>> parse_sina_date("12:30", year=2017) is None
    True
    >>> parse_sina_date("2019年13月40日 10:00") is None
    True
    >>> parse_sina_date("1511361881").isoformat()
    '2017-11-22T22:44:41+08:00'
    """
    if not text:
        return None
    epoch = _EPOCH_SECONDS.fullmatch(text)
    if epoch:
        return datetime.fromtimestamp(int(epoch.group(1)), tz=BEIJING)
    match = _SINA_DATE.search(text)
    if match is None and year is not None:
        match = _MONTH_DAY_TIME.search(text)
    if match is None:
        return None
    parts = match.groupdict()
    try:
        naive = datetime(
            int(parts.get("year") or year),
            int(parts["month"]),
            int(parts["day"]),
            int(parts["hour"]),
            int(parts["minute"]),
            int(parts["second"] or 0),
        )
    except ValueError:
        return None
    if parts.get("offset"):
        try:
            offset = _offset(parts["offset"])
        except ValueError:  # +24:00 and beyond: no such time zone, no date from this text
            return None
        return naive.replace(tzinfo=offset).astimezone(BEIJING)
    return naive.replace(tzinfo=BEIJING)


def url_year(url: str) -> int | None:
    """Return the publish year a Sina URL carries in its date path, if any.

    >>> url_year("https://finance.sina.cn/2022-08-01/detail-imizmscv4399613.d.html")
    2022
    >>> url_year("http://finance.sina.com.cn/g/20091109/09006963001.shtml")
    2009
    >>> url_year("https://finance.sina.com.cn/china/") is None
    True
    """
    match = _URL_YEAR.search(url)
    return int(match.group(1)) if match else None


def strip_sina_date(text: str) -> str:
    """Remove the date-time from a line such as Sina's 'date + source' span.

    >>> strip_sina_date(" 2016年05月25日10:10 新浪财经 ")
    ' 新浪财经 '
    """
    return _SINA_DATE.sub("", text, count=1)
