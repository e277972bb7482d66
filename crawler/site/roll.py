"""Sina's roll API: build the page requests' URLs and parse the JSON answers into entries."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode, urlsplit, urlunsplit

from crawler.site.dates import BEIJING
from crawler.site.errors import PageError
from crawler.url_faults import url_problem

# Sina answers roll API calls without this Referer with 403.
ROLL_REFERER = "https://news.sina.com.cn/"


class RollError(PageError):
    """A roll API answer we cannot use (not JSON, wrong shape, non-zero status code)."""


@dataclass(frozen=True)
class RollEntry:
    """One listed article."""

    url: str
    title: str
    published: datetime | None
    media: str = ""
    intro: str = ""


def roll_page_url(api_url: str, *, pageid: int, lid: int, page: int, num: int) -> str:
    """Build the URL of one roll page; parameters already in `api_url` are kept unless overridden.

    >>> roll_page_url("https://feed.mix.sina.com.cn/api/roll/get", pageid=384, lid=2519, page=2, num=50)
    'https://feed.mix.sina.com.cn/api/roll/get?pageid=384&lid=2519&num=50&page=2'
    >>> roll_page_url("http://127.0.0.1:8/api/roll/get?k=v", pageid=155, lid=1686, page=1, num=5)
    'http://127.0.0.1:8/api/roll/get?k=v&pageid=155&lid=1686&num=5&page=1'
    """
    parts = urlsplit(api_url)
    query = {"pageid": pageid, "lid": lid, "num": num, "page": page}
    kept = [kv for kv in parts.query.split("&") if kv and kv.split("=", 1)[0] not in query]
    return urlunsplit(parts._replace(query="&".join([*kept, urlencode(query)])))


def entry_time(row: dict) -> datetime | None:
    """Return the entry's publish time from `ctime` (else `intime`), epoch seconds, in Beijing time.

    >>> entry_time({"ctime": "1715308800"}).isoformat()
    '2024-05-10T10:40:00+08:00'
    >>> entry_time({"ctime": "", "intime": 1715308860}).isoformat()
    '2024-05-10T10:41:00+08:00'
    >>> entry_time({}) is None
    True
    >>> entry_time({"ctime": "99999999999999", "intime": "inf", "mtime": 1715308800}).isoformat()
    '2024-05-10T10:40:00+08:00'
    """
    for key in ("ctime", "intime", "mtime"):
        value = row.get(key)
        try:
            seconds = int(float(value))
            if seconds > 0:
                return datetime.fromtimestamp(seconds, tz=BEIJING)
        except (TypeError, ValueError, OverflowError, OSError):
            # Not a number, inf/nan, or a time no calendar holds (99999999999999): try the next.
            continue
    return None


def entry_url(row: dict) -> str:
    """Return the desktop URL when listed, else the mobile one (both are the same article).

    >>> entry_url({"url": "", "wapurl": "https://finance.sina.cn/x.d.html"})
    'https://finance.sina.cn/x.d.html'
    """
    for key in ("url", "wapurl"):
        value = row.get(key)
        if isinstance(value, str) and value.strip().lower().startswith(("http://", "https://")):
            return value.strip()
    return ""


@dataclass
class RollPage:
    """One roll API answer: the usable entries, and a line for each entry that is not."""

    entries: list[RollEntry]
    bad_entries: list[tuple[str, str]] = field(default_factory=list)  # (URL as listed, why)
    without_url: int = 0  # entries with no http(s) link at all (nothing to fetch or name)
    beyond_limit: int = 0  # entries past the `num` the page asked for, left out


def parse_roll_page(body: bytes | str, url: str, *, limit: int | None = None) -> RollPage:
    """Parse one roll API answer entry by entry: a bad entry is set aside, the rest is kept.

    At most `limit` entries are taken (the `num` the request asked for), whatever the answer holds.

    >>> doc = '{"result": {"status": {"code": 0}, "data": [{"url": "http://[::1/x"},'
    >>> doc += ' {"url": "https://f.cn/a.shtml", "ctime": "inf"}, {"url": "https://f.cn/b.shtml"}]}}'
    >>> page = parse_roll_page(doc, "u", limit=2)
    >>> [e.url for e in page.entries], page.bad_entries, page.beyond_limit
    (['https://f.cn/a.shtml'], [('http://[::1/x', 'Invalid IPv6 URL')], 1)
    """
    data = _roll_data(body, url)
    page = RollPage([])
    for row in data:
        if limit is not None and len(page.entries) + len(page.bad_entries) >= limit:
            page.beyond_limit += 1
            continue
        listed = entry_url(row) if isinstance(row, dict) else ""
        if not listed:
            page.without_url += 1
            continue
        problem = url_problem(listed)
        if problem:
            page.bad_entries.append((listed, problem))
            continue
        page.entries.append(
            RollEntry(
                url=listed,
                title=_text(row.get("title")),
                published=entry_time(row),
                media=_text(row.get("media_name")),
                intro=_text(row.get("intro")),
            )
        )
    return page


def _text(value: object) -> str:
    """Return a JSON value fit to display: a string as it is, nothing for anything else."""
    return value if isinstance(value, str) else ""


def parse_roll(body: bytes | str, url: str) -> list[RollEntry]:
    """Parse one roll API answer into entries, newest first as Sina lists them.

    >>> doc = '{"result": {"status": {"code": 0}, "data": [{"url": "https://f.cn/a.shtml",'
    >>> doc += ' "title": "T", "ctime": "1715308800", "media_name": "M"}]}}'
    >>> parse_roll(doc, "u")[0].url, parse_roll(doc, "u")[0].media
    ('https://f.cn/a.shtml', 'M')
    >>> parse_roll('{"result": {"status": {"code": 1, "msg": "bad lid"}}}', "u")
    Traceback (most recent call last):
    ...
    crawler.site.roll.RollError: roll API status code 1 (bad lid): u
    >>> parse_roll("<html>", "u")
    Traceback (most recent call last):
    ...
    crawler.site.roll.RollError: roll API answer is not JSON: u
    """
    return parse_roll_page(body, url).entries


def _roll_data(body: bytes | str, url: str) -> list:
    """Return the answer's `data` list; RollError says why the answer as a whole is unusable."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise RollError(url, "roll API answer is not JSON") from None
    except RecursionError:
        raise RollError(url, "roll API answer nests too deeply to be a roll page") from None
    result = doc.get("result") if isinstance(doc, dict) else None
    if not isinstance(result, dict):
        raise RollError(url, "roll API answer has no 'result'")
    status = result.get("status") or {}
    code = status.get("code") if isinstance(status, dict) else None
    if code not in (0, "0"):
        msg = status.get("msg") if isinstance(status, dict) else None
        raise RollError(url, f"roll API status code {code}" + (f" ({msg})" if msg else ""))
    data = result.get("data") or []
    if not isinstance(data, list):
        raise RollError(url, "roll API 'data' is not a list")
    return data
