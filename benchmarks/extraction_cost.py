"""Per-page cost: our extraction + cleaning + post rendering against trafilatura and readability.

Every tool gets the same raw page bytes (as downloaded) and decodes them itself. Timings are
pooled over all fixture article pages x repeats, tools interleaved page by page so that drift
on a shared machine hits all of them alike.
"""

from __future__ import annotations

import statistics
import time
import warnings
from collections.abc import Callable

import lxml.html

from benchmarks.pages import Page, article_pages, ours


def _trafilatura(page: Page) -> object:
    import trafilatura

    return trafilatura.extract(page.body, url=page.url, with_metadata=True)


def _readability(page: Page) -> object:
    from readability import Document

    return Document(page.text).summary()


def _lxml_parse(page: Page) -> object:
    return lxml.html.document_fromstring(page.body)


TOOLS: dict[str, Callable[[Page], object]] = {
    "ours (extract + clean + render)": lambda page: ours(page.url, page.body),
    "lxml parse only (floor)": _lxml_parse,
    "trafilatura.extract": _trafilatura,
    "readability-lxml Document.summary": _readability,
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def measure(repeats: int = 10) -> dict[str, dict[str, float]]:
    pages = article_pages()
    samples: dict[str, list[float]] = {name: [] for name in TOOLS}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for tool in TOOLS.values():  # warm-up: imports, compiled selectors
            for page in pages:
                tool(page)
        for _ in range(repeats):
            for page in pages:
                for name, tool in TOOLS.items():
                    start = time.perf_counter()
                    tool(page)
                    samples[name].append((time.perf_counter() - start) * 1000)
    return {
        name: {
            "median": statistics.median(values),
            "p95": percentile(values, 0.95),
            "n": len(values),
            "pages": len(pages),
        }
        for name, values in samples.items()
    }


if __name__ == "__main__":
    for name, row in measure().items():
        print(f"{name:40s} median {row['median']:7.2f} ms  p95 {row['p95']:7.2f} ms")
