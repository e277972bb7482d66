"""Live canary: crawl a few live Sina pages of each template family, fail loudly on a gap.

    python -m crawler.canary [--pages FILE] [--timeout 300]     (also: make canary)

Runs a real `scrapy crawl sina -a urls=...` (its own state and posts in a temporary directory,
so the user's output is untouched) and checks every page: saved, read by the template family
it is listed under (not the generic fallback), and no empty title, date, author, body or
channel. Exit status 0 when every page passed; 1 with one line per problem otherwise. Meant
for a daily cron entry: cron mails the output of a failed run.

FILE lists one page a line: `<template> <url>` (`#` starts a comment).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

# Live pages, a few per template family (crawler/site/extraction.py: TEMPLATES). Old pages
# stay online for years; replace one that Sina takes down.
CANARY_PAGES = (
    ("modern", "https://finance.sina.com.cn/roll/2018-12-28/doc-ihqfskcn2160999.shtml"),
    ("modern", "https://news.sina.com.cn/c/2024-05-10/doc-inausehc2630922.shtml"),
    ("artibody", "https://finance.sina.com.cn/money/forex/forexroll/2016-05-25/doc-ifxsktkp9337164.shtml"),
    ("artibody", "http://ent.sina.com.cn/y/2009-11-09/13562762964.shtml"),
    ("mobile", "https://finance.sina.cn/2022-08-01/detail-imizmscv4399613.d.html"),
    ("table2005", "http://chanye.finance.sina.com.cn/sm/2005-03-21/244339.shtml"),
)  # fmt: skip
REQUIRED_FIELDS = ("title", "date", "author", "body", "channel")
EXIT_CANARY_FAILED = 1


def read_pages(path: Path) -> list[tuple[str, str]]:
    """Read `<template> <url>` lines; raise ValueError naming a malformed line."""
    pages = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2:
            raise ValueError(f"{path}:{number}: expected '<template> <url>', got {line!r}")
        pages.append((parts[0], parts[1]))
    return pages


def url_key(url: str) -> str:
    """Compare URLs without their scheme (a page may answer on http or https).

    >>> url_key("https://finance.sina.cn/a.html") == url_key("http://finance.sina.cn/a.html")
    True
    """
    return url.split("://", 1)[-1]


def problems(pages: list[tuple[str, str]], items: list[dict]) -> list[str]:
    """Name every page that was not saved, came from another template, or lacks a field.

    >>> item = {"url": "https://x/a", "template": "modern", "title": "t", "date": "d",
    ...         "author": "a", "body": "<div>b</div>", "channel": ""}
    >>> problems([("modern", "https://x/a"), ("mobile", "https://x/b")], [item])
    ['https://x/a: empty channel', 'https://x/b: no article saved']
    >>> problems([("mobile", "https://x/a")], [item])
    ['https://x/a: read by the modern template, expected mobile', 'https://x/a: empty channel']
    """
    by_url = {url_key(item.get("url") or ""): item for item in items}
    found = []
    for template, url in pages:
        item = by_url.get(url_key(url))
        if item is None:
            found.append(f"{url}: no article saved")
            continue
        if item.get("template") != template:
            found.append(f"{url}: read by the {item.get('template')} template, expected {template}")
        found.extend(f"{url}: empty {name}" for name in REQUIRED_FIELDS if not item.get(name))
    return found


def crawl(pages: list[tuple[str, str]], work: Path, timeout: float) -> tuple[int, list[dict]]:
    """Crawl the pages with the project's own spider; return its exit status and its items."""
    feed = work / "canary.jsonl"
    cmd = [
        sys.executable, "-m", "scrapy", "crawl", "sina",
        "-a", "urls=" + ",".join(url for _, url in pages),
        "-s", f"CRAWL_STATE_DIR={work / 'state'}",
        "-s", f"MARKDOWN_POSTS_DIR={work / 'posts'}",
        "-s", "FEEDS=" + json.dumps({str(feed): {"format": "jsonlines", "overwrite": True}}),
        "-s", "LOG_LEVEL=WARNING",
    ]  # fmt: skip
    # A REDIS_URL from the shell would make this a worker of a distributed crawl.
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    proc = subprocess.run(
        cmd, cwd=Path(__file__).resolve().parent.parent, env=env, timeout=timeout, check=False
    )
    lines = feed.read_text(encoding="utf-8").splitlines() if feed.exists() else []
    return proc.returncode, [json.loads(line) for line in lines if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, help="file of '<template> <url>' lines")
    parser.add_argument("--timeout", type=float, default=300, help="seconds for the crawl")
    opts = parser.parse_args(argv)
    try:
        pages = read_pages(opts.pages) if opts.pages else list(CANARY_PAGES)
    except (OSError, ValueError) as exc:
        print(f"canary: error: {exc}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="sina-canary-") as work:
        status, items = crawl(pages, Path(work), opts.timeout)
    found = problems(pages, items)
    if status != 0:
        found.append(f"the crawl exited with status {status} (see docs: exit codes)")
    if found:
        print(f"CANARY FAILED: {len(found)} problems on {len(pages)} live pages", file=sys.stderr)
        for line in found:
            print(f"  {line}", file=sys.stderr)
        return EXIT_CANARY_FAILED
    families = sorted({template for template, _ in pages})
    print(f"canary OK: {len(pages)} pages, templates {', '.join(families)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
