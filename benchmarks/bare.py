"""The baseline: a bare Scrapy spider fetching a list of URLs and doing nothing with them.

Same Scrapy, reactor, concurrency, timeouts and headers as the project's settings; no item
pipelines, no extensions of ours, no feed. `--parse lxml` parses each page with lxml and drops
the tree (the cost floor of any extractor that parses once).

    python -m benchmarks.bare --urls-file FILE [--parse none|lxml]   (http_proxy from the env)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import lxml.html
import scrapy
from scrapy.crawler import CrawlerProcess

from crawler import settings as project

# The project's settings that shape fetching; the bare run copies them so only the work differs.
SHARED_SETTINGS = (
    "USER_AGENT",
    "DEFAULT_REQUEST_HEADERS",
    "ROBOTSTXT_OBEY",
    "CONCURRENT_REQUESTS",
    "CONCURRENT_REQUESTS_PER_DOMAIN",
    "DOWNLOAD_TIMEOUT",
    "DOWNLOAD_WARNSIZE",
    "DOWNLOAD_MAXSIZE",
    "COOKIES_ENABLED",
    "TELNETCONSOLE_ENABLED",
    "TWISTED_REACTOR",
    "RETRY_ENABLED",
    "RETRY_TIMES",
    "RETRY_HTTP_CODES",
)


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, urls_file: str, parse: str = "none", **kwargs: Any):
        super().__init__(**kwargs)
        self.urls = Path(urls_file).read_text(encoding="utf-8").split()
        self.parse_mode = parse

    async def start(self):
        for url in self.urls:
            yield scrapy.Request(url, callback=self.parse)

    def parse(self, response):
        if self.parse_mode == "lxml":
            lxml.html.document_fromstring(response.body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--urls-file", required=True)
    parser.add_argument("--parse", choices=("none", "lxml"), default="none")
    parser.add_argument("-s", action="append", default=[], help="NAME=VALUE setting override")
    opts = parser.parse_args(argv)
    settings = {name: getattr(project, name) for name in SHARED_SETTINGS}
    settings.update(AUTOTHROTTLE_ENABLED=False, LOG_LEVEL="INFO")
    for pair in opts.s:
        name, _, value = pair.partition("=")
        settings[name] = value
    process = CrawlerProcess(settings, install_root_handler=True)
    process.crawl(BareSpider, urls_file=opts.urls_file, parse=opts.parse)
    process.start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
