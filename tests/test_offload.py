"""The crawl's executors: results and URL-naming errors cross the process intact; one per crawl."""

import asyncio
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from crawler.extensions.offload import Offload, OffloadExtension, offload_of
from crawler.site.extraction import NotAnArticle, parse_article
from tests.conftest import process_alive

FIXTURES = Path(__file__).parent / "fixtures" / "sina"


@pytest.fixture
def worker_process():
    offload = Offload(processes=1)
    yield offload
    offload.shutdown()


def test_article_extracted_in_a_worker_process_matches_in_process(worker_process):
    page = (FIXTURES / "old-gb2312-ent-13562762964" / "page.html").read_bytes()
    # Served with no charset in the header: the worker must find GB18030 from the meta tag too.
    response = HtmlResponse(
        url="http://ent.sina.com.cn/y/2009-11-09/13562762964.shtml",
        body=page,
        headers={"Content-Type": "text/html"},
    )
    remote = asyncio.run(worker_process.on_response_in_worker(parse_article, response))
    assert remote == parse_article(response)
    assert remote.title == "阿里郎全新力作《兰花指》单曲成红歌(图)"


def test_not_an_article_crosses_the_process_boundary_with_url_and_reason(worker_process):
    response = HtmlResponse(
        url="https://finance.sina.com.cn/roll/2024-05-10/doc-iempty0000001.shtml",
        body=b"<html><head><title>x</title></head><body></body></html>",
    )
    with pytest.raises(NotAnArticle) as caught:
        asyncio.run(worker_process.on_response_in_worker(parse_article, response))
    assert caught.value.url == response.url
    assert caught.value.reason == "no body"


def test_each_crawler_has_its_own_executors(project_crawler):
    first, second = project_crawler(), project_crawler()
    assert offload_of(first) is not offload_of(second)
    first.get_extension(OffloadExtension).engine_stopped()
    # The first crawl's executors are gone; the second crawl's still work.
    with pytest.raises(RuntimeError, match="shutdown"):
        asyncio.run(offload_of(first).in_thread(len, "abc"))
    assert asyncio.run(offload_of(second).in_thread(len, "abc")) == 3


def test_worker_processes_exit_when_the_engine_stops(project_crawler):
    crawler = project_crawler(SINA_WORKER_PROCESSES=2)
    offload = offload_of(crawler)
    assert asyncio.run(offload.in_worker(sum, [1, 2, 3])) == 6
    workers = offload.worker_pids()
    assert len(workers) == 2
    crawler.get_extension(OffloadExtension).engine_stopped()
    assert not any(process_alive(worker) for worker in workers)


def test_a_crawler_without_the_extension_is_told_so(project_crawler):
    crawler = project_crawler(EXTENSIONS={"crawler.extensions.offload.OffloadExtension": None})
    with pytest.raises(RuntimeError, match="OffloadExtension must be enabled"):
        offload_of(crawler)
