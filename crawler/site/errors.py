"""The one shape of error a page or answer we cannot use raises: what was wrong, and where."""

from __future__ import annotations


class PageError(Exception):
    """A fetched page or API answer that cannot be used; the message names the URL.

    >>> str(PageError("https://finance.sina.com.cn/x.shtml", "no title"))
    'no title: https://finance.sina.com.cn/x.shtml'
    """

    def __init__(self, url: str, reason: str):
        super().__init__(f"{reason}: {url}")
        self.url = url
        self.reason = reason

    def __reduce__(self) -> tuple:
        # Pickled back from a worker process with both arguments, not just the message.
        return (type(self), (self.url, self.reason))
