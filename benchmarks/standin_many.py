"""A stand-in for Sina that lists N distinct article URLs, each served by one sample page.

tests.standin serves each sample page at its one original URL; a throughput or memory run
needs thousands of distinct articles. Here the sample pages' URLs are multiplied by rewriting
the number in their doc id (doc-ihqfskcn2160999 -> doc-ihqfskcn0000123), so every URL keeps
its real host and path family, has its own doc id (own post file, own state key) and is answered
with the bytes of the page it was derived from.

    python -m benchmarks.standin_many --articles 1000 --portfile PORTFILE [--urls-file FILE]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

from tests.standin import (
    FIXTURES,
    StandIn,
    as_http,
    load_fixture_pages,
    page_key,
    serve_until_interrupted,
)

# The number inside the article id, just before the extension: 2160999 in
# doc-ihqfskcn2160999.shtml, 4399613 in detail-imizmscv4399613.d.html, 244339 in /244339.shtml.
_ID_NUMBER = re.compile(r"(\d{6,})(?=(?:\.d)?\.s?html?$)")


def article_samples(root: Path = FIXTURES) -> list[str]:
    """Original URLs (as http) of the sample pages that are articles (expected.json has a title)."""
    urls = []
    for case in sorted(root.iterdir()):
        expected = case / "expected.json"
        if not expected.exists() or not (case / "page.html").exists():
            continue
        if json.loads(expected.read_text(encoding="utf-8")).get("title"):
            source = json.loads((case / "source.json").read_text(encoding="utf-8"))
            urls.append(as_http(source["url"]))
    return urls


def numbered_url(sample: str, number: int) -> str:
    """The sample URL with its id number replaced by ``number`` (same width, zero-padded).

    >>> numbered_url("http://finance.sina.com.cn/roll/2018-12-28/doc-ihqfskcn2160999.shtml", 42)
    'http://finance.sina.com.cn/roll/2018-12-28/doc-ihqfskcn0000042.shtml'
    >>> numbered_url("http://chanye.finance.sina.com.cn/sm/2005-03-21/244339.shtml", 7)
    'http://chanye.finance.sina.com.cn/sm/2005-03-21/000007.shtml'
    """
    match = _ID_NUMBER.search(sample)
    if match is None:
        raise ValueError(f"no id number in {sample}")
    width = len(match.group(1))
    return f"{sample[: match.start()]}{number:0{width}d}{sample[match.end() :]}"


def article_urls(count: int, samples: list[str]) -> list[str]:
    """``count`` distinct URLs, round-robin over the samples."""
    return [numbered_url(samples[i % len(samples)], i) for i in range(count)]


def build_standin(count: int, roll_cap: int = 50) -> tuple[StandIn, list[str]]:
    """A StandIn whose roll lists ``count`` distinct URLs, each answered by its sample's bytes."""
    fixtures = load_fixture_pages()
    samples = article_samples()
    urls = article_urls(count, samples)
    pages = {
        page_key(url): fixtures[page_key(samples[i % len(samples)])] for i, url in enumerate(urls)
    }
    standin = StandIn(roll_cap=roll_cap, pages=pages)
    standin.add_entries(urls, start=int(time.time()))
    return standin, urls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--roll-cap", type=int, default=50)
    parser.add_argument("--portfile", type=Path, required=True)
    parser.add_argument("--urls-file", type=Path, help="write the listed URLs here, one a line")
    opts = parser.parse_args(argv)
    standin, urls = build_standin(opts.articles, opts.roll_cap)
    if opts.urls_file:
        opts.urls_file.write_text("\n".join(urls) + "\n", encoding="utf-8")
    standin.start(0)
    # Written last and renamed into place: its presence means the server is listening.
    tmp = opts.portfile.with_suffix(".tmp")
    tmp.write_text(str(standin.port), encoding="ascii")
    tmp.replace(opts.portfile)
    serve_until_interrupted(standin)
    return 0


if __name__ == "__main__":
    sys.exit(main())
