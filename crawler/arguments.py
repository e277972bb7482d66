"""Pure parsers and validators for the `sina` spider's `-a` arguments (all arrive as strings)."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from w3lib.url import file_uri_to_path

from crawler.downloader.local_files import local_file_problem
from crawler.site.channels import Channel, UnknownChannel, default_channels, resolve_channels
from crawler.site.dates import BEIJING
from crawler.url_faults import NO_HOST, url_fault

# A roll page is one small request; ten pages are Sina's 500 newest entries, so a run after some
# downtime still catches up. Entries already saved cost nothing but their line in the roll.
DEFAULT_PAGES = 10


class ArgumentError(ValueError):
    """A spider argument that cannot be used; the message is one line meant for the user."""


def split_list(text: str) -> list[str]:
    """Split a comma- or whitespace-separated list, keeping order and dropping repeats.

    >>> split_list("https://a.cn/1.shtml, https://a.cn/2.shtml,https://a.cn/1.shtml")
    ['https://a.cn/1.shtml', 'https://a.cn/2.shtml']
    >>> split_list("")
    []
    """
    seen: dict[str, None] = {}
    for part in text.replace(",", " ").replace("，", " ").split():
        seen.setdefault(part.strip(), None)
    return list(seen)


def parse_pages(text: str) -> int:
    """Parse `pages=N`, the most roll pages read per channel (a positive integer).

    >>> parse_pages("10")
    10
    >>> parse_pages("abc")
    Traceback (most recent call last):
    ...
    crawler.arguments.ArgumentError: pages must be a positive integer, got 'abc'
    """
    value = text.strip()
    if not value.isdigit() or int(value) < 1:
        raise ArgumentError(f"pages must be a positive integer, got {text!r}")
    return int(value)


_DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M")


def parse_when(text: str, *, name: str = "since", end_of_day: bool = False) -> datetime:
    """Parse a date or datetime in Beijing time (or with an explicit offset).

    A bare date means its first second, or with `end_of_day` its last (so `until=2024-05-10`
    includes the whole day).

    >>> parse_when("2024-05-10").isoformat()
    '2024-05-10T00:00:00+08:00'
    >>> parse_when("2024-05-10", end_of_day=True).isoformat()
    '2024-05-10T23:59:59.999999+08:00'
    >>> parse_when("2024-05-10 08:30").isoformat()
    '2024-05-10T08:30:00+08:00'
    >>> parse_when("2024-05-10T00:30:00+00:00").isoformat()
    '2024-05-10T00:30:00+00:00'
    >>> parse_when("yesterday")
    Traceback (most recent call last):
    ...
    crawler.arguments.ArgumentError: since must be a date (2024-05-10) or datetime (2024-05-10 08:30), got 'yesterday'
    """
    value = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            pass
        else:
            start = datetime.combine(day, time(0), tzinfo=BEIJING)
            return start + timedelta(days=1, microseconds=-1) if end_of_day else start
    for fmt in _DATETIME_FORMATS:
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=BEIJING)
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is not None and re.match(r"\d{4}-\d{2}-\d{2}[T ]", value):
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=BEIJING)
    raise ArgumentError(
        f"{name} must be a date (2024-05-10) or datetime (2024-05-10 08:30), got {text!r}"
    )


def parse_flag(text: str, *, name: str) -> bool:
    """Parse a yes/no argument such as `refresh=1`.

    >>> parse_flag("1", name="refresh"), parse_flag("no", name="refresh")
    (True, False)
    """
    value = text.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"", "0", "false", "no", "off"}:
        return False
    raise ArgumentError(f"{name} must be 1 or 0, got {text!r}")


def parse_lids(text: str) -> list[Channel]:
    """Parse `lids=` (ids, Chinese names, slugs or groups); empty means the default channels.

    >>> [c.lid for c in parse_lids("2671,港股, forex,2671")]
    [2671, 2674, 2487]
    >>> [c.lid for c in parse_lids("")]
    [2519]
    """
    tokens = split_list(text)
    if not tokens:
        return default_channels()
    channels: dict[int, Channel] = {}
    for token in tokens:
        try:
            found = resolve_channels(token)
        except UnknownChannel as exc:
            raise ArgumentError(f"{exc}; see the channels table in README (Usage)") from None
        for channel in found:
            channels.setdefault(channel.lid, channel)
    return list(channels.values())


def check_url(url: str, *, name: str = "urls", allow_file: bool = False) -> str:
    """Accept only absolute http(s) URLs (and file:// ones if allowed); they are fetched as given.

    The host must be there and the port, if any, a number from 1 to 65535.

    >>> check_url("http://finance.sina.com.cn/a.shtml")
    'http://finance.sina.com.cn/a.shtml'
    >>> check_url("finance.sina.com.cn/a.shtml")
    Traceback (most recent call last):
    ...
    crawler.arguments.ArgumentError: urls: not an http(s) URL: 'finance.sina.com.cn/a.shtml'
    >>> check_url("http://example.com:99999/a")
    Traceback (most recent call last):
    ...
    crawler.arguments.ArgumentError: urls: bad port in 'http://example.com:99999/a' (1-65535)
    """
    if allow_file and url.lower().startswith("file:///"):
        problem = local_file_problem(file_uri_to_path(url))
        if problem:
            raise ArgumentError(f"{name}: {url} is {problem}")
        return url
    if not re.match(r"https?://[^/\s]+", url, re.IGNORECASE):
        raise ArgumentError(f"{name}: not an http(s) URL: {url!r}")
    fault = url_fault(url)
    if fault is None:
        return url
    if fault.part == "port":
        raise ArgumentError(f"{name}: bad port in {url!r} (1-65535)")
    if fault.reason == NO_HOST:
        raise ArgumentError(f"{name}: no host in {url!r}")
    raise ArgumentError(f"{name}: bad host in {url!r}")


def read_urls_file(path: str) -> list[str]:
    """Read one URL a line (blank lines and `#` comments skipped) from `urls_file` (UTF-8).

    A UTF-8 byte order mark is not part of the first URL; a file with no URL is an error (it
    would otherwise mean a full discovery crawl).
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ArgumentError(f"urls_file: cannot read {path!r}: {exc.strerror}") from None
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        text = data[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ArgumentError(
            f"urls_file: {path!r} is not UTF-8 text: byte 0x{data[start + exc.start]:02x}"
            f" at offset {start + exc.start}"
        ) from None
    lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    urls = [check_url(line, name="urls_file") for line in split_list(" ".join(lines))]
    if not urls:
        raise ArgumentError(f"urls_file: no URLs in {path!r}")
    return urls


@dataclass
class SpiderArguments:
    """Everything the `-a` arguments say, validated."""

    urls: list[str] = field(default_factory=list)
    channels: list[Channel] = field(default_factory=default_channels)
    pages: int = DEFAULT_PAGES
    since: datetime | None = None
    until: datetime | None = None
    feeds: list[str] = field(default_factory=list)
    refresh: bool = False

    @property
    def explicit(self) -> bool:
        """True when URLs were given, so nothing is discovered."""
        return bool(self.urls)


KNOWN = ("urls", "urls_file", "lids", "pages", "since", "until", "feeds", "refresh")
# Arguments that choose what discovery reads; explicit URLs bypass discovery altogether.
DISCOVERY_ONLY = ("lids", "pages", "since", "until", "feeds")


def parse_arguments(args: dict[str, str]) -> SpiderArguments:
    """Validate all spider arguments at once; raise ArgumentError naming the bad one.

    >>> parse_arguments({"pages": "2", "since": "2024-05-01"}).pages
    2
    >>> parse_arguments({"feeds": "http://rss.sina.com.cn/a.xml"}).channels
    []
    >>> parse_arguments({"_job": "7"}).pages
    10
    >>> parse_arguments({"page": "2"})
    Traceback (most recent call last):
    ...
    crawler.arguments.ArgumentError: unknown argument 'page'; known: urls, urls_file, lids, pages, since, until, feeds, refresh
    """
    # `_`-prefixed arguments belong to the runner (scrapyd passes `_job`), not to us.
    unknown = sorted(k for k in set(args) - set(KNOWN) if not k.startswith("_"))
    if unknown:
        raise ArgumentError(f"unknown argument {unknown[0]!r}; known: {', '.join(KNOWN)}")
    for name in ("urls", "urls_file"):
        if name in args and not args[name].strip():
            # An empty list must not quietly become a full discovery crawl.
            raise ArgumentError(f"{name} is empty; leave it out to discover from the roll")
    urls = [check_url(u) for u in split_list(args.get("urls", ""))]
    if "urls" in args and not urls:
        raise ArgumentError("urls is empty; leave it out to discover from the roll")
    if args.get("urls_file"):
        urls = list(dict.fromkeys(urls + read_urls_file(args["urls_file"])))
    ignored = [name for name in DISCOVERY_ONLY if name in args]
    if urls and ignored:
        raise ArgumentError(
            f"explicit URLs are fetched as given; {', '.join(ignored)}"
            f" {'applies' if len(ignored) == 1 else 'apply'} only to discovery: leave"
            f" {'it' if len(ignored) == 1 else 'them'} out"
        )
    parsed = SpiderArguments(
        urls=urls,
        # Feeds alone mean feeds only; the default channel joins only when nothing was asked.
        channels=parse_lids(args.get("lids", ""))
        if args.get("lids") or not args.get("feeds")
        else [],
        pages=parse_pages(args["pages"]) if "pages" in args else DEFAULT_PAGES,
        since=parse_when(args["since"]) if args.get("since") else None,
        until=parse_when(args["until"], name="until", end_of_day=True)
        if args.get("until")
        else None,
        feeds=[
            check_url(u, name="feeds", allow_file=True) for u in split_list(args.get("feeds", ""))
        ],
        refresh=parse_flag(args.get("refresh", ""), name="refresh"),
    )
    if parsed.since and parsed.until and parsed.since > parsed.until:
        raise ArgumentError("since must not be later than until")
    return parsed
