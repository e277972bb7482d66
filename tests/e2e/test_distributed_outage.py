"""End-to-end: distributed mode when Redis is unreachable, refuses the password, or goes away.

Each test runs its own redis-server on a free loopback port, so it can be killed and restarted.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from tests.conftest import PROJECT_ROOT
from tests.standin import StandIn, load_fixture_pages, page_key

pytestmark = [pytest.mark.e2e, pytest.mark.redis]

SAMPLE = "news.sina.com.cn/c/2024-05-10/doc-inausehc2630922.shtml"
ARTICLES = 12
URLS = [f"http://news.sina.com.cn/c/2024-05-10/doc-inausehc{n:07d}.shtml" for n in range(ARTICLES)]
T0 = 1715308800
PASSWORD = "s3cret-Pa55"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A private redis-server: append-only file synced on every write, like a durable Redis."""

    def __init__(self, workdir: Path, password: str = ""):
        self.dir = workdir
        self.port = free_port()
        self.password = password
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed (.ci/run installs it)")
        cmd = [
            binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
            "--save", "", "--appendonly", "yes", "--appendfsync", "always",
        ]  # fmt: skip
        if self.password:
            cmd += ["--requirepass", self.password]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.RedisError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
            finally:
                client.close()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path / "redis")
    server.dir.mkdir()
    server.start()
    yield server
    server.kill()


@pytest.fixture
def site():
    sample = load_fixture_pages()[SAMPLE]
    standin = StandIn(roll_cap=4, pages={page_key(u): sample for u in URLS})
    standin.add_entries(URLS, start=T0)
    for url in URLS:
        standin.set_fault(url, delay=0.4)  # a crawl long enough to lose Redis in the middle
    standin.start()
    yield standin
    standin.stop()


def crawl(site: StandIn, redis_url: str, work: Path, *settings: str) -> subprocess.Popen:
    env = {**os.environ, "REDIS_URL": redis_url, "http_proxy": site.url, "no_proxy": ""}
    for variable in ("https_proxy", "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY"):
        env.pop(variable, None)
    cmd = [
        sys.executable, "-m", "scrapy", "crawl", "sina", "-a", "pages=10",
        "-s", "LOG_LEVEL=INFO",
        "-s", f"SINA_ROLL_API_URL={site.roll_api_url}",
        "-s", "SINA_REDIS_IDLE_TIMEOUT=2",
        "-s", "CONCURRENT_REQUESTS=2",
        "-s", f"CRAWL_STATE_DIR={work / 'state'}",
        "-s", f"MARKDOWN_POSTS_DIR={work / 'posts'}",
        "-s", "AUTOTHROTTLE_ENABLED=False",
        "-s", "FEEDS=" + json.dumps({str(work / "items.jsonl"): {"format": "jsonlines"}}),
        *settings,
    ]  # fmt: skip
    log = (work / "crawl.log").open("w", encoding="utf-8")
    proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    return proc


def finish(proc: subprocess.Popen, work: Path, timeout: float = 120) -> str:
    proc.wait(timeout=timeout)
    return (work / "crawl.log").read_text(encoding="utf-8")


def posts(work: Path) -> list[Path]:
    return sorted((work / "posts").rglob("*.md"))


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


# --- before the engine starts -----------------------------------------------------------------


def test_unreachable_redis_is_one_line_naming_host_and_port(site, tmp_path):
    port = free_port()  # nothing listens there
    proc = crawl(site, f"redis://:{PASSWORD}@127.0.0.1:{port}/0", tmp_path)
    log = finish(proc, tmp_path)
    assert proc.returncode == 1
    assert log.strip() == (
        f"scrapy crawl sina: error: Redis at 127.0.0.1:{port} is unreachable: Connection refused"
    )
    assert site.roll_hits() == []


def test_a_refused_password_is_one_line_without_the_password(site, tmp_path):
    server = RedisServer(tmp_path, password=PASSWORD)
    server.start()
    try:
        proc = crawl(site, f"redis://:wrong-{PASSWORD}@127.0.0.1:{server.port}/0", tmp_path)
        log = finish(proc, tmp_path)
    finally:
        server.kill()
    assert proc.returncode == 1
    assert log.strip() == (
        f"scrapy crawl sina: error: Redis at 127.0.0.1:{server.port} refused the connection:"
        " wrong or missing password in REDIS_URL"
    )
    assert PASSWORD not in log
    assert site.roll_hits() == []


# --- mid-crawl --------------------------------------------------------------------------------


def test_redis_lost_mid_crawl_resumes_when_back_with_nothing_lost(site, redis_server, tmp_path):
    proc = crawl(site, redis_server.url, tmp_path)
    wait_for(lambda: len(posts(tmp_path)) >= 2, 60, "the crawl never got going")
    redis_server.kill()
    time.sleep(4)  # several engine heartbeats and lease renewals without Redis
    assert proc.poll() is None, "the worker gave up on a short outage"
    redis_server.start()
    log = finish(proc, tmp_path)
    assert proc.returncode == 0, log
    assert log.count("is unreachable") == 1, log
    assert "Traceback" not in log, log
    assert f"Redis at 127.0.0.1:{redis_server.port} is back after" in log
    assert "'finish_reason': 'finished'" in log
    # Every listed article saved, each once; the shared state knows them all.
    assert len(posts(tmp_path)) == ARTICLES
    client = redis.Redis.from_url(redis_server.url)
    assert client.hlen("sina:saved") == ARTICLES
    client.close()


def test_redis_gone_for_good_gives_up_after_the_outage_timeout(site, redis_server, tmp_path):
    proc = crawl(site, redis_server.url, tmp_path, "-s", "SINA_REDIS_OUTAGE_TIMEOUT=3")
    wait_for(lambda: len(posts(tmp_path)) >= 1, 60, "the crawl never got going")
    redis_server.kill()
    log = finish(proc, tmp_path)
    assert proc.returncode == 1, log
    assert log.count("is unreachable (") == 1, log
    assert f"Redis at 127.0.0.1:{redis_server.port} has been unreachable for 3.0s" in log
    assert "'finish_reason': 'redis_unavailable'" in log
    assert "Traceback" not in log, log
