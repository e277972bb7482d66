"""Extraction quality per field on every fixture article page: ours against general extractors.

title, date and author are compared exactly with expected.json (date to the minute; the day
alone is counted separately, since trafilatura and newspaper4k only give a day or a guess).
The body is compared with the reviewed text in benchmarks/quality/<case>.txt by character F1:
whitespace is removed (it carries no meaning in Chinese text and every tool lays it out
differently), then matched characters are those of difflib's longest matching blocks, in order.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from benchmarks.pages import Page, article_pages, html_text, ours
from tests.redesign import strip_class_and_id


@dataclass
class Extracted:
    title: str | None = None
    date: str | None = None  # ISO text as the tool gives it
    author: str | None = None
    text: str = ""


def squeeze(text: str) -> str:
    return "".join(text.split())


def char_f1(predicted: str, expected: str) -> float:
    """Character F1 of two texts, whitespace ignored.

    >>> round(char_f1("甲 乙丙", "甲乙丙丁"), 3)
    0.857
    """
    pred, gold = squeeze(predicted), squeeze(expected)
    if not pred or not gold:
        return 0.0
    matcher = difflib.SequenceMatcher(None, pred, gold, autojunk=False)
    matched = sum(block.size for block in matcher.get_matching_blocks())
    if not matched:
        return 0.0
    precision, recall = matched / len(pred), matched / len(gold)
    return 2 * precision * recall / (precision + recall)


def _ours(page: Page) -> Extracted:
    item, _post = ours(page.url, page.body)
    date = item.date.isoformat() if item.date else None
    return Extracted(item.title, date, item.author, html_text(item.body or ""))


def _trafilatura(page: Page) -> Extracted:
    import trafilatura

    doc = trafilatura.bare_extraction(page.body, url=page.url, with_metadata=True)
    if doc is None:
        return Extracted()
    return Extracted(doc.title, doc.date, doc.author, doc.text or "")


def _readability(page: Page) -> Extracted:
    from readability import Document

    doc = Document(page.text)
    return Extracted(doc.short_title(), None, None, html_text(doc.summary()))


def _newspaper(page: Page) -> Extracted:
    import newspaper

    article = newspaper.Article(page.url, language="zh")
    article.download(input_html=page.text)
    article.parse()
    date = article.publish_date.isoformat() if article.publish_date else None
    return Extracted(article.title, date, ", ".join(article.authors) or None, article.text)


def redesigned(tool: Callable[[Page], Extracted]) -> Callable[[Page], Extracted]:
    """The same tool on the page with every class and id stripped (tests/redesign.py)."""

    def on_redesigned_page(page: Page) -> Extracted:
        return tool(replace(page, body=strip_class_and_id(page.body)))

    return on_redesigned_page


TOOLS: dict[str, Callable[[Page], Extracted]] = {
    "ours": _ours,
    "trafilatura": _trafilatura,
    "newspaper4k": _newspaper,
    "readability-lxml": _readability,
    # A redesign: no template matches, ours runs its generic fallback.
    "ours, redesigned": redesigned(_ours),
    "trafilatura, redesigned": redesigned(_trafilatura),
    "readability-lxml, redesigned": redesigned(_readability),
}


def same_minute(found: str | None, expected: str) -> bool:
    if not found:
        return False
    try:
        got = datetime.fromisoformat(found)
    except ValueError:
        return False
    want = datetime.fromisoformat(expected)
    if got.tzinfo is None:  # a naive time is read as the page's own (Beijing) time
        got = got.replace(tzinfo=want.tzinfo)
    return got.replace(second=0, microsecond=0) == want.replace(second=0, microsecond=0)


def same_day(found: str | None, expected: str) -> bool:
    return bool(found) and found[:10] == expected[:10]


@dataclass
class Score:
    case: str
    title: bool
    date: bool
    day: bool
    author: bool
    f1: float


def evaluate() -> dict[str, list[Score]]:
    pages = article_pages()
    results: dict[str, list[Score]] = {name: [] for name in TOOLS}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for page in pages:
            want = page.expected
            for name, tool in TOOLS.items():
                try:
                    got = tool(page)
                except Exception as exc:  # noqa: BLE001 (a tool failing on a page scores zero)
                    print(f"  {name} failed on {page.case}: {type(exc).__name__}: {exc}")
                    got = Extracted()
                results[name].append(
                    Score(
                        page.case,
                        title=(got.title or "").strip() == want["title"],
                        date=same_minute(got.date, want["date"]),
                        day=same_day(got.date, want["date"]),
                        author=(got.author or "").strip() == (want.get("author") or ""),
                        f1=char_f1(got.text, page.expected_text),
                    )
                )
    return results


if __name__ == "__main__":
    for name, scores in evaluate().items():
        f1s = [s.f1 for s in scores]
        print(
            f"{name:18s} title {sum(s.title for s in scores)}/{len(scores)} "
            f"date {sum(s.date for s in scores)} day {sum(s.day for s in scores)} "
            f"author {sum(s.author for s in scores)} F1 min {min(f1s):.3f} mean "
            f"{sum(f1s) / len(f1s):.3f}"
        )
        for s in scores:
            if s.f1 < 0.98 and name == "ours":
                print("   ", s.case, round(s.f1, 4))
