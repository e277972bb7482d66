"""The worker process: results and the URL-naming errors come back intact across processes."""

import asyncio
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from crawler import offload
from crawler.extraction import NotAnArticle, parse_article

FIXTURES = Path(__file__).parent / "fixtures" / "sina"


@pytest.fixture
def worker_process():
    offload.use_processes(1)
    yield
    offload.shutdown()


async def _extract(response):
    return await offload.on_response_in_worker(parse_article, response)


@pytest.mark.usefixtures("worker_process")
def test_article_extracted_in_a_worker_process_matches_in_process():
    page = (FIXTURES / "old-gb2312-ent-13562762964" / "page.html").read_bytes()
    # Served with no charset in the header: the worker must find GB18030 from the meta tag too.
    response = HtmlResponse(
        url="http://ent.sina.com.cn/y/2009-11-09/13562762964.shtml",
        body=page,
        headers={"Content-Type": "text/html"},
    )
    remote = asyncio.run(_extract(response))
    assert remote == parse_article(response)
    assert remote.title == "阿里郎全新力作《兰花指》单曲成红歌(图)"


@pytest.mark.usefixtures("worker_process")
def test_not_an_article_crosses_the_process_boundary_with_url_and_reason():
    response = HtmlResponse(
        url="https://finance.sina.com.cn/roll/2024-05-10/doc-iempty0000001.shtml",
        body=b"<html><head><title>x</title></head><body></body></html>",
    )
    with pytest.raises(NotAnArticle) as caught:
        asyncio.run(_extract(response))
    assert caught.value.url == response.url
    assert caught.value.reason == "no body"
