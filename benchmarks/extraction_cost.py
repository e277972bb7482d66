"""Per-page cost: our extraction + cleaning + post rendering against trafilatura and readability.

Every tool gets the same raw page bytes (as downloaded) and decodes them itself. Two schedules,
each pooled over all fixture article pages x repeats:

- tool by tool: each tool runs over every page in a block, the order of the tools rotating from
  repeat to repeat. Each tool runs as it does in a crawl, page after page, its code and data in
  the CPU's caches.
- page by page: the tools take turns on each page. Drift on a shared machine hits all of them
  alike, but each call starts with caches the other tools' calls filled: a fixed penalty that
  weighs most on the fastest tool (about 0.6-1 ms a page on ours).
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


SCHEDULES = ("tool by tool", "page by page")


def measure(repeats: int = 10, schedule: str = "tool by tool") -> dict[str, dict[str, float]]:
    """Median and p95 milliseconds per page of each tool, under one of SCHEDULES."""
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}")
    pages = article_pages()
    samples: dict[str, list[float]] = {name: [] for name in TOOLS}
    names = list(TOOLS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for tool in TOOLS.values():  # warm-up: imports, compiled selectors
            for page in pages:
                tool(page)
        for repeat in range(repeats):
            if schedule == "tool by tool":
                order = names[repeat % len(names) :] + names[: repeat % len(names)]
                runs = [(name, page) for name in order for page in pages]
            else:
                runs = [(name, page) for page in pages for name in names]
            for name, page in runs:
                tool = TOOLS[name]
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
    for schedule in SCHEDULES:
        print(f"{schedule}:")
        for name, row in measure(schedule=schedule).items():
            print(f"  {name:40s} median {row['median']:7.2f} ms  p95 {row['p95']:7.2f} ms")
