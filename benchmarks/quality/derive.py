"""Draft an expected body text for a fixture page, to be read and corrected by hand.

Independent of crawler.site.extraction: the page's visible text (scripts and styles left out),
one line per block, from the line holding expected.json's first paragraph to the line holding
its last. The draft then gets reviewed against the page and edited (ads, widgets and captions
that are not the article's are removed by hand); the reviewed file is what the bench uses.

    python -m benchmarks.quality.derive CASE > benchmarks/quality/CASE.txt
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import lxml.html
from scrapy.http import HtmlResponse

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "sina"
BLOCKS = {"p", "div", "br", "li", "tr", "td", "h1", "h2", "h3", "h4", "table", "section",
          "figure", "figcaption", "blockquote", "center", "dd", "dt"}  # fmt: skip


def visible_lines(html: str) -> list[str]:
    root = lxml.html.document_fromstring(html)
    for bad in root.xpath("//script|//style|//noscript|//textarea|//comment()"):
        if bad.getparent() is not None:
            bad.drop_tree()
    parts: list[str] = []

    def walk(el) -> None:
        if el.tag in BLOCKS:
            parts.append("\n")
        if el.text:
            parts.append(el.text)
        for child in el:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if el.tag in BLOCKS:
            parts.append("\n")

    walk(root)
    lines = (" ".join(line.split()) for line in "".join(parts).split("\n"))
    return [line for line in lines if line]


def draft(case: str) -> str:
    folder = FIXTURES / case
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    source = json.loads((folder / "source.json").read_text(encoding="utf-8"))
    text = HtmlResponse(source["url"], body=(folder / "page.html").read_bytes()).text
    lines = visible_lines(text)
    first = " ".join(expected["first_paragraph"].split())
    last = " ".join(expected["last_paragraph"].split())
    start = next(i for i, line in enumerate(lines) if first in line)
    end = max(i for i, line in enumerate(lines) if last in line)
    return "\n".join(lines[start : end + 1]) + "\n"


if __name__ == "__main__":
    sys.stdout.write(draft(sys.argv[1]))
