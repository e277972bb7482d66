"""The worker process: results and the URL-naming errors come back intact across processes."""

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from crawler.extensions import offload
from crawler.site.extraction import NotAnArticle, parse_article

FIXTURES = Path(__file__).parent / "fixtures" / "sina"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


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


def test_worker_process_leaves_when_the_crawl_is_killed(tmp_path):
    # The crawl process is SIGKILLed (cron's timeout, an OOM killer): its worker must not linger.
    script = tmp_path / "crawl.py"
    script.write_text(
        "import os, signal, sys\n"
        "from crawler.extensions import offload\n"
        "offload.use_processes(1)\n"
        "offload._executor.submit(int).result()\n"
        "print(*offload._executor._processes, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL
    worker = int(done.stdout.split()[0])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(worker):
        time.sleep(0.1)
    assert not _alive(worker)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
