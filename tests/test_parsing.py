"""parse_page_bytes: a page's tree, parsed no further than the caller needs."""

from __future__ import annotations

import gc

import pytest
from lxml import etree

from crawler.site.parsing import (
    ASK_WITHIN_BYTES,
    SLICE_BYTES,
    is_closed,
    page_bytes,
    parse_page_bytes,
)

FILLER = "<li><a href='/x'>相关新闻</a></li>" * 2000  # far more than one slice
PAGE = (
    "<!DOCTYPE html><!-- published at 2022-08-01 -->\n<html><head><title>T</title></head><body>"
    "<div id='block'><h1>标题</h1><div id='artibody'><p>正文</p></div><p>责任编辑：甲</p></div>"
    f"<ul id='related'>{FILLER}</ul><div id='footer'>页脚</div></body></html>"
).encode()


def block_closed(root: etree._Element) -> bool:
    found = root.xpath("id('block')")
    return bool(found) and is_closed(found[0])


def test_whole_page_when_never_enough():
    parsed = parse_page_bytes(PAGE)
    assert parsed.complete
    assert parsed.selector.xpath("string(id('footer'))").get() == "页脚"


def test_stops_after_the_slice_where_the_caller_has_enough():
    parsed = parse_page_bytes(PAGE, block_closed)
    assert not parsed.complete
    root = parsed.selector.root
    assert root.xpath("id('footer')") == []
    assert len(root.xpath("id('related')/li")) < 2000
    # Everything up to the point of enough is the whole-page tree.
    whole = parse_page_bytes(PAGE).selector.root
    for part in ("head", "body/div[@id='block']"):
        assert etree.tostring(root.find(part)) == etree.tostring(whole.find(part))
    assert root.getprevious().text == " published at 2022-08-01 "


def test_the_caller_sees_the_tree_grow_and_an_open_element_as_open():
    seen = []

    def record(root: etree._Element) -> bool:
        related = root.xpath("id('related')")
        seen.append((len(root.xpath("//li")), bool(related) and is_closed(related[0])))
        return False

    parse_page_bytes(PAGE, record)
    assert len(seen) == len(PAGE) // SLICE_BYTES  # asked after each slice but the last
    counts = [count for count, _ in seen]
    assert counts == sorted(counts)
    assert counts[0] < counts[-1] < 2000
    assert not any(closed for _, closed in seen)


def test_a_failing_caller_does_not_leak_into_the_next_page():
    def boom(root: etree._Element) -> bool:
        raise RuntimeError("caller bug")

    with pytest.raises(RuntimeError):
        parse_page_bytes(PAGE, boom)
    parsed = parse_page_bytes(b"<html><body><p>next page</p></body></html>")
    assert parsed.selector.xpath("//p/text()").getall() == ["next page"]
    assert parsed.selector.xpath("//li") == []


def test_pages_are_freed_without_the_garbage_collector():
    # A pull parser per page would sit in a reference cycle with the page's document.
    gc.collect()
    gc.disable()
    try:
        for _ in range(3):
            parsed = parse_page_bytes(PAGE, block_closed)
            del parsed
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        leaked = [obj for obj in gc.garbage if type(obj).__module__ == "lxml.etree"]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert leaked == []


@pytest.mark.parametrize(
    ("body", "encoding", "text"),
    [
        ("<p>新浪财经</p>".encode("gb18030"), "gb18030", "新浪财经"),
        (b"<p>\xe6\x96\xb0\xff\xfe</p>", "utf-8", "新\ufffd\ufffd"),  # invalid UTF-8
        (b"\x00<p>a\x00b</p> ", "utf-8", "ab"),
    ],
)
def test_bytes_are_read_as_parsel_reads_them(body, encoding, text):
    parsed = parse_page_bytes(page_bytes(body, encoding))
    assert parsed.selector.xpath("string(//p)").get() == text


@pytest.mark.parametrize("body", [b"", b"   ", b"\x00"])
def test_an_empty_page_is_an_empty_document(body):
    parsed = parse_page_bytes(page_bytes(body, "utf-8"))
    assert parsed.selector.root.tag == "html"
    assert parsed.complete


def test_a_page_not_done_within_the_first_mib_is_parsed_whole():
    asked = []

    def never(root: etree._Element) -> bool:
        asked.append(True)
        return False

    big = b"<html><body>" + b"<h1>x</h1>" * (2 * ASK_WITHIN_BYTES // 10) + b"</body></html>"
    parsed = parse_page_bytes(big, never)
    assert parsed.complete
    assert len(asked) == ASK_WITHIN_BYTES // SLICE_BYTES - 1
    assert len(parsed.selector.xpath("//h1")) == 2 * ASK_WITHIN_BYTES // 10
