"""Distributed mode against real Redis: the add-on, the adapted scheduler, the Redis state."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from scrapy import Request, Spider
from scrapy.settings import Settings
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler.distributed.addon import DistributedAddon

PROJECT_ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.redis


# --- the add-on ------------------------------------------------------------------------------


def test_without_redis_url_nothing_changes_and_scrapy_redis_is_never_imported():
    code = textwrap.dedent(
        """
        import sys
        from scrapy.utils.reactor import install_reactor
        install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
        from scrapy.utils.project import get_project_settings
        from scrapy.utils.test import get_crawler
        from spiders.sina import SinaSpider
        crawler = get_crawler(SinaSpider, get_project_settings().copy_to_dict())
        s = crawler.settings
        print(s["SCHEDULER"], s["DUPEFILTER_CLASS"], s.get("CRAWL_STATE_CLASS"),
              "scrapy_redis" in sys.modules, "redis" in sys.modules)
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    scheduler, dupefilter, state, scrapy_redis_loaded, redis_loaded = result.stdout.split()
    assert scheduler == "scrapy.core.scheduler.Scheduler"
    assert dupefilter == "crawler.storage.seen_keys.SeenKeysDupeFilter"
    assert state != "crawler.distributed.redis_state.RedisArticleState"
    assert (scrapy_redis_loaded, redis_loaded) == ("False", "False")


def test_redis_url_switches_scheduler_dupefilter_state_and_idle_exit():
    crawler = get_crawler(
        Spider,
        {
            "ADDONS": {DistributedAddon: 0},
            "REDIS_URL": "redis://127.0.0.1:6379/15",
            "SINA_REDIS_KEY_PREFIX": "jobA",
        },
    )
    s = crawler.settings
    assert s["SCHEDULER"] == "crawler.distributed.scheduler.RedisScheduler"
    assert s["DUPEFILTER_CLASS"] == "crawler.distributed.scheduler.RedisDupeFilter"
    assert s["SCHEDULER_QUEUE_CLASS"] == "scrapy_redis.queue.PriorityQueue"
    assert s["SCHEDULER_QUEUE_KEY"] == "jobA:requests"
    assert s["SCHEDULER_DUPEFILTER_KEY"] == "jobA:dupefilter"
    assert s.getbool("SCHEDULER_PERSIST") is True
    assert s.getint("SCHEDULER_IDLE_BEFORE_CLOSE") == 0
    assert s["CRAWL_STATE_CLASS"] == "crawler.distributed.redis_state.RedisArticleState"
    from crawler.distributed.idle import RedisIdleCloser

    assert s.getdict("EXTENSIONS")[RedisIdleCloser] == 500


def test_command_line_settings_beat_the_addon():
    settings = Settings({"REDIS_URL": "redis://r:6379/0", "CRAWL_STATE_CLASS": "x.Sqlite"})
    settings.set("SCHEDULER_PERSIST", False, priority="cmdline")
    DistributedAddon().update_settings(settings)
    assert settings.getbool("SCHEDULER_PERSIST") is False
    # the project's own state class is replaced: the state must be shared
    assert settings["CRAWL_STATE_CLASS"] == "crawler.distributed.redis_state.RedisArticleState"


# --- the Redis article state -----------------------------------------------------------------


def test_redis_state_is_shared_between_workers(redis_target):
    from crawler.distributed.redis_state import RedisArticleState

    settings = Settings(
        {"REDIS_URL": redis_target.url, "SINA_REDIS_KEY_PREFIX": redis_target.prefix}
    )
    first, second = (
        RedisArticleState.from_settings(settings),
        RedisArticleState.from_settings(settings),
    )
    assert first.is_saved("sina:ihqfskcn2160999") is False
    first.mark_saved("sina:ihqfskcn2160999", "https://finance.sina.com.cn/a.shtml", "标题")
    assert second.is_saved("sina:ihqfskcn2160999") is True
    assert second.is_saved("sina:inausehc2630922") is False
    second.mark_saved("sina:ihqfskcn2160999", "https://finance.sina.com.cn/a.shtml", "标题")
    assert (first.count(), second.count()) == (1, 1)
    record = json.loads(
        redis_target.client.hget(f"{redis_target.prefix}:saved", "sina:ihqfskcn2160999")
    )
    assert (record["url"], record["title"]) == ("https://finance.sina.com.cn/a.shtml", "标题")
    assert redis_target.keys() == [f"{redis_target.prefix}:saved"]
    first.close()
    second.close()


def test_redis_state_needs_redis_url():
    from crawler.distributed.redis_state import RedisArticleState

    with pytest.raises(ValueError, match="REDIS_URL"):
        RedisArticleState.from_settings(Settings({"REDIS_URL": ""}))


# --- the adapted scheduler, in process -------------------------------------------------------


class _StillLoop:
    """Stands in for the lease renewal loop: these tests drive `_tick` by hand."""

    def __init__(self, func):
        self.func = func
        self.running = False

    def start(self, interval, now=True):
        self.running = True

    def stop(self):
        self.running = False


class _IdleEngine:
    """An engine with nothing in progress: popped requests count as finished at once."""

    _slot = None


class _ListSpider(Spider):
    name = "listspider"

    def parse(self, response):
        pass


def _open_scheduler(redis_target, monkeypatch, worker_id):
    monkeypatch.setattr("crawler.distributed.scheduler.create_looping_call", _StillLoop)
    from crawler.distributed.scheduler import RedisScheduler

    crawler = get_crawler(
        _ListSpider,
        {
            "ADDONS": {DistributedAddon: 0},
            "REDIS_URL": redis_target.url,
            "SINA_REDIS_KEY_PREFIX": redis_target.prefix,
            "SINA_REDIS_WORKER_ID": worker_id,
            "SINA_REDIS_WORKER_TTL": 30,
        },
    )
    crawler.spider = crawler._create_spider()
    crawler.engine = _IdleEngine()
    scheduler = build_from_crawler(RedisScheduler, crawler)
    scheduler.open(crawler.spider)
    return scheduler


def test_scheduler_shares_queue_filters_duplicates_and_leases_popped_requests(
    redis_target, monkeypatch
):
    p = redis_target.prefix
    a = _open_scheduler(redis_target, monkeypatch, "a")
    b = _open_scheduler(redis_target, monkeypatch, "b")
    cb = a.spider.parse
    assert a.enqueue_request(Request("http://127.0.0.1/1", callback=cb)) is True
    assert b.enqueue_request(Request("http://127.0.0.1/1", callback=cb)) is False
    assert a.enqueue_request(Request("http://127.0.0.1/2", callback=cb, priority=5)) is True
    assert len(b) == 2

    first = b.next_request()  # highest priority first, whoever asks
    assert first.url == "http://127.0.0.1/2"
    assert first.callback == b.spider.parse
    assert redis_target.client.zcard(f"{p}:inflight:b") == 1
    assert a.crawl_is_drained() is False

    second = a.next_request()
    assert second.url == "http://127.0.0.1/1"
    assert a.next_request() is None
    assert len(a) == 0

    # Worker b dies: its lease is gone, so a's next tick puts b's request back in the queue.
    redis_target.client.delete(f"{p}:worker:b")
    a._tick()
    assert len(a) == 1
    assert redis_target.client.exists(f"{p}:inflight:b") == 0
    assert a.stats.get_value("redis/requeued") == 1
    again = a.next_request()
    assert again.url == "http://127.0.0.1/2"

    # Nothing is in progress in the stand-in engine, so a's popped requests settle as done.
    a._settle()
    assert a.crawl_is_drained() is True
    a.finish_crawl()
    a.close("finished")
    # b never closed: its lease is gone (deleted above) and its in-flight set was requeued
    assert redis_target.keys() == []
    assert a.stats.get_value("scheduler/enqueued/redis") == 2
    assert a.stats.get_value("scheduler/dequeued/redis") == 2
    assert b.stats.get_value("dupefilter/filtered") == 1


def test_closing_hands_unfinished_requests_back(redis_target, monkeypatch):
    p = redis_target.prefix
    a = _open_scheduler(redis_target, monkeypatch, "a")
    a.enqueue_request(Request("http://127.0.0.1/1", callback=a.spider.parse))
    request = a.next_request()

    a.crawler.engine._slot = type("Slot", (), {"inprogress": {request}})()
    a.close("shutdown")
    assert redis_target.client.zcard(f"{p}:requests") == 1
    assert redis_target.client.exists(f"{p}:inflight:a", f"{p}:worker:a") == 0
    assert a.stats.get_value("redis/requeued") == 1


# --- a throwaway spider: two real worker processes, warnings as errors ----------------------

THROWAWAY_SPIDER = """
import os
import scrapy

class ThrowawaySpider(scrapy.Spider):
    name = "throwaway"
    custom_settings = {
        "ADDONS": {"crawler.distributed.addon.DistributedAddon": 0},
        "REDIS_URL": os.environ["T_REDIS_URL"],
        "SINA_REDIS_KEY_PREFIX": os.environ["T_PREFIX"],
        "SINA_REDIS_IDLE_TIMEOUT": 1.0,
        "CONCURRENT_REQUESTS": 1,
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "INFO",
    }

    async def start(self):
        base = os.environ["T_BASE"]
        for n in (0, 1, 0):  # the repeat, and the other worker's copies, are filtered
            yield scrapy.Request(f"{base}/page/{n}")

    def parse(self, response):
        yield {"url": response.url}
        for href in response.css("a::attr(href)").getall():
            yield response.follow(href)
"""

PAGES = 30


class _PageServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _PageHandler)
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()


class _PageHandler(BaseHTTPRequestHandler):
    server: _PageServer

    def do_GET(self):
        with self.server.lock:
            self.server.hits[self.path] += 1
        n = int(self.path.rsplit("/", 1)[1])
        links = "".join(f'<a href="/page/{c}">{c}</a>' for c in (2 * n + 2, 2 * n + 3) if c < PAGES)
        body = f"<html><body><h1>{n}</h1>{links}</body></html>".encode()
        # Slow enough (30 x 0.25 s) that the worker whose start requests were all filtered
        # wakes up (once a second) while there is still work to share.
        time.sleep(0.25)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def page_server():
    server = _PageServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_two_workers_share_one_crawl_on_scrapy_219_without_warnings(
    redis_target, page_server, tmp_path
):
    spider_file = tmp_path / "throwaway.py"
    spider_file.write_text(THROWAWAY_SPIDER, encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "T_REDIS_URL": redis_target.url,
        "T_PREFIX": redis_target.prefix,
        "T_BASE": f"http://127.0.0.1:{page_server.server_port}",
    }
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-W",
                "error",
                "-m",
                "scrapy",
                "runspider",
                str(spider_file),
                "-O",
                f"{tmp_path / f'items{i}.jsonl'}:jsonlines",
            ],
            cwd=tmp_path,  # no scrapy.cfg here: only the spider's own settings apply
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in (1, 2)
    ]
    logs = [w.communicate(timeout=90)[1] for w in workers]
    for worker, log in zip(workers, logs, strict=True):
        assert worker.returncode == 0, log
        assert "Warning" not in log, log
        assert "Traceback" not in log, log
        assert "'finish_reason': 'finished'" in log, log
        assert "'redis/idle_exit': 1" in log, log

    assert page_server.hits == Counter({f"/page/{n}": 1 for n in range(PAGES)})
    scraped = [
        [
            json.loads(line)["url"]
            for line in (tmp_path / f"items{i}.jsonl").read_text().splitlines()
        ]
        for i in (1, 2)
    ]
    assert all(scraped), f"one worker did no work: {[len(s) for s in scraped]}"
    assert Counter(scraped[0] + scraped[1]) == Counter(
        {f"{env['T_BASE']}/page/{n}": 1 for n in range(PAGES)}
    )
    # Queue drained, leases and in-flight sets gone, the crawl's dupefilter forgotten.
    assert redis_target.keys() == []
