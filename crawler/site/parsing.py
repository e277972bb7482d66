"""Parsing a page into one lxml tree, no further into the page than extraction reads.

A Sina article page is mostly what follows the article: comments, related-news lists, the
footer. Extraction reads the head, the headline and the block that holds the body; every field a
template knows sits there. So the page is fed to libxml2's push parser a slice at a time, and
the parse stops once the caller says it has read enough: on the fixture pages that leaves about
half of the elements unparsed (and unfreed). The tree it builds up to that point is the tree a
whole-page parse builds (libxml2 never moves a node it has placed), and a caller that never says
"enough" gets the whole page.

The tree is of plain lxml elements: lxml.html's element classes cost a Python call for every
element touched (cleaning.drop_tag brings the one of their methods extraction uses).

The bytes are prepared as parsel prepares them for ``Selector(body=..., encoding=...)``, so the
tree is the one ``response.selector`` would hold: UTF-8 read as is, any other charset decoded
first, NULs and surrounding whitespace removed, undecodable bytes replaced.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree
from parsel import Selector

# The slice fed between two "enough?" checks: what may be parsed past the point of enough.
SLICE_BYTES = 8 * 1024
# The parser asks only within the first MiB (a Sina article page is 7-400 KB): a check may
# walk what is parsed so far, and asking all the way through a hostile 4 MB page made its
# parse ten times slower. A page not done by then is parsed whole.
ASK_WITHIN_BYTES = 1024 * 1024
_ENCODING_ERRORS = frozenset(
    {etree.ErrorTypes.ERR_INVALID_CHAR, etree.ErrorTypes.ERR_INVALID_ENCODING}
)
_EMPTY_PAGE = b"<html/>"

ReadEnough = Callable[[etree._Element], bool]


@dataclass(frozen=True)
class ParsedPage:
    """The page as a selector, and whether the whole page is in it."""

    selector: Selector
    complete: bool


def page_bytes(body: bytes, encoding: str) -> bytes:
    r"""Return the UTF-8 bytes the parser reads: parsel's preparation of a response body.

    >>> page_bytes(" <p>\x00é</p> ".encode("latin-1"), "latin-1").decode()
    '<p>é</p>'
    """
    if codecs.lookup(encoding).name == "utf-8":
        data = body
    else:
        data = body.decode(encoding, errors="replace").encode("utf-8")
    if b"\x00" in data:
        data = data.replace(b"\x00", b"")
    return data.strip() or _EMPTY_PAGE


def parse_page_bytes(data: bytes, read_enough: ReadEnough | None = None) -> ParsedPage:
    """Parse UTF-8 page bytes; stop once ``read_enough(root)`` says so after a slice.

    ``read_enough`` gets the root of the tree built so far; the last element in document order
    may still be open (see is_closed).
    """
    root, complete, encoding_error = _parse(data, read_enough)
    if encoding_error:
        # Invalid UTF-8 reaches the tree as is and lxml raises reading it: parse the page again
        # with those bytes replaced, as parsel does, and whole (``read_enough`` may keep state
        # about the first tree).
        data = data.decode("utf-8", errors="replace").encode("utf-8")
        root, complete, _ = _parse(data, None)
    return ParsedPage(Selector(root=root, type="html"), complete)


def _parse(data: bytes, read_enough: ReadEnough | None) -> tuple[etree._Element, bool, bool]:
    """Return the root, whether the whole page was parsed, and whether it had invalid UTF-8."""
    # One event, for <html> (libxml2 implies it when the page has none): the root to check.
    parser = etree.HTMLPullParser(
        events=("start",), tag="html", recover=True, encoding="utf-8", huge_tree=True
    )
    root = None
    complete = True
    for offset in range(0, len(data), SLICE_BYTES):
        parser.feed(data[offset : offset + SLICE_BYTES])
        if root is None:
            root = next((element for _, element in parser.read_events()), None)
        if (
            read_enough is not None
            and root is not None
            and offset + SLICE_BYTES < min(len(data), ASK_WITHIN_BYTES)
            and read_enough(root)
        ):
            complete = False
            break
    try:
        root = parser.close()
    except etree.XMLSyntaxError:  # nothing libxml2 could make a document of
        root = None
    encoding_error = any(error.type in _ENCODING_ERRORS for error in parser.error_log)
    # The parser, its event context and the last document its tag filter matched in reference
    # one another: left so, the page's whole tree would live until the garbage collector ran.
    # Parsing an empty document in its place leaves nothing of the page in that cycle.
    for _ in parser.read_events():
        pass
    parser.feed(_EMPTY_PAGE)
    parser.close()
    for _ in parser.read_events():
        pass
    if root is None:
        root = etree.fromstring(_EMPTY_PAGE, etree.HTMLParser())
    return root, complete, encoding_error


def is_closed(element: etree._Element) -> bool:
    """Tell whether the parser has passed the element's end (something follows it).

    The parser appends each node after the last one placed, so an element is finished once a
    node outside it exists after it. Text alone after it does not show that: a conservative no.
    """
    node = element
    while node is not None:
        if node.getnext() is not None:
            return True
        node = node.getparent()
    return False
