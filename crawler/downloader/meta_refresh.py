"""Downloader middleware: Scrapy's meta-refresh redirect, without decoding pages that have none.

Scrapy's MetaRefreshMiddleware reads the first 4,096 characters of ``response.text``, and
``response.text`` decodes the whole body: on a Sina article page (30-400 KB) that decode was a
tenth of the crawl process's time, and nothing else in that process reads the text (the
extraction worker parses the bytes). A page whose head cannot hold a refresh tag is passed on
untouched; any other goes through Scrapy's own middleware, so its behaviour and settings
(METAREFRESH_ENABLED, METAREFRESH_MAXDELAY, METAREFRESH_IGNORE_TAGS) are Scrapy's.
"""

from __future__ import annotations

import codecs
from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.http import HtmlResponse

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response

# Scrapy reads 4,096 characters; the charsets below spend at most 4 bytes on one.
HEAD_BYTES = 4096 * 4
# Charsets in which the bytes of `refresh` are the word and nothing else: ASCII-compatible,
# without escape sequences (ISO-2022-JP and HZ switch modes inside the text), at most 4 bytes a
# character. A page in any other goes to Scrapy.
BYTE_SEARCHABLE = frozenset(
    {"utf-8", "gb18030", "gbk", "gb2312", "big5", "big5hkscs", "ascii", "iso8859-1", "cp1252"}
)


def may_refresh(body: bytes) -> bool:
    r"""Tell whether the head of a page may hold a meta refresh, as w3lib would find it.

    w3lib looks for the word in a `<meta>` tag's attributes as written (no character
    references decoded). A charset that is not ASCII-compatible (UTF-16 and -32: NUL bytes)
    hides the word from a byte search: such a page goes to Scrapy.

    >>> may_refresh(b'<meta http-equiv="Refresh" content="0; url=/a">')
    True
    >>> may_refresh(b"<html><head><title>x</title></head>")
    False
    >>> may_refresh("<meta>".encode("utf-16"))
    True
    """
    head = body[:HEAD_BYTES]
    return b"\x00" in head or b"refresh" in head.lower()


class MetaRefreshPrecheckMiddleware(MetaRefreshMiddleware):
    """MetaRefreshMiddleware that skips HTML pages whose head has no refresh tag in it."""

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if (
            isinstance(response, HtmlResponse)
            and _codec_name(response.encoding) in BYTE_SEARCHABLE
            and not may_refresh(response.body)
        ):
            return response
        return super().process_response(request, response)


def _codec_name(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        return encoding
