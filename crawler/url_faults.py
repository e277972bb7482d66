"""What keeps a URL from being fetched: a host or a port urllib cannot read, or none at all.

One reading of a URL's host and port, shared by the checks of typed arguments
(`crawler.arguments.check_url`, which words it for the command line) and of URLs found in
pages and feeds (`url_problem`, a reason for the log and the ledger).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

NO_HOST = "no host"  # the reason of a URL with no host at all (urllib raises nothing for it)


@dataclass(frozen=True)
class UrlFault:
    """The part of a URL that cannot be used, and why in urllib's words (or ours)."""

    part: str  # "host" or "port"
    reason: str


def url_fault(url: str) -> UrlFault | None:
    """Return what keeps ``url``'s host or port from being used; None when both are fine.

    >>> url_fault("https://finance.sina.com.cn:8080/a.shtml") is None
    True
    >>> url_fault("http://[::1/x"), url_fault("http:///a")
    (UrlFault(part='host', reason='Invalid IPv6 URL'), UrlFault(part='host', reason='no host'))
    >>> url_fault("http://example.com:99999/a"), url_fault("http://example.com:0/a")
    (UrlFault(part='port', reason='Port out of range 0-65535'), UrlFault(part='port', reason='port 0'))
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:
        return UrlFault("host", str(exc))
    try:
        port = parts.port
    except ValueError as exc:  # not a number, or outside 0-65535
        return UrlFault("port", str(exc))
    if not host:
        return UrlFault("host", NO_HOST)
    if port == 0:
        return UrlFault("port", "port 0")
    return None


def url_problem(url: str) -> str:
    """Say why a listed http(s) URL cannot be fetched ('' when it can).

    >>> url_problem("https://finance.sina.com.cn/a.shtml")
    ''
    >>> url_problem("http://[::1/x"), url_problem("http://example.com:99999/a"), url_problem("http:///a")
    ('Invalid IPv6 URL', 'Port out of range 0-65535', 'no host')
    """
    fault = url_fault(url)
    return fault.reason if fault else ""
