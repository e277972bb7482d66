"""A Sina redesign in miniature: every `class` and `id` attribute stripped from a saved page.

Every template selector keys on class and id, so a stripped page is what a redesign looks like
to the extractor; the generic fallback has to carry it. Used by the tests and the benchmarks.
"""

from __future__ import annotations

import re

# On the raw bytes, so the page keeps its own encoding: every byte this pattern touches is
# ASCII, and GB2312/GBK trail bytes (0x40 and up) never look like a quote, space or `>`.
_CLASS_OR_ID = re.compile(
    rb"""(?<=[\s"'])(?:class|id)\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+)""", re.IGNORECASE
)


def strip_class_and_id(page: bytes) -> bytes:
    """Remove every class and id attribute from an HTML page.

    >>> strip_class_and_id(b'<div id="artibody" class=\\'article\\'><p class=x>t</p></div>')
    b'<div  ><p >t</p></div>'
    """
    return _CLASS_OR_ID.sub(b"", page)
