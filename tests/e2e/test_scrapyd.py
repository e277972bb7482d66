"""Scrapyd for real: start a server, `scrapyd-deploy` the project, schedule `sina`, find the posts.

The server runs in a temporary folder on 127.0.0.1 with the stand-in as its http_proxy (jobs
inherit Scrapyd's environment); deploy and schedule talk to it directly, as the docs show.
"""

from __future__ import annotations

import configparser
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.conftest import PROJECT_ROOT
from tests.e2e.as_user import ARTICLES, copy_project, proxy_env, read_lines

pytestmark = pytest.mark.e2e

BIN = Path(sys.executable).parent
# Scrapyd's own address must never go through a proxy.
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Scrapyd:
    def __init__(self, folder: Path, env: dict[str, str]):
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        folder.mkdir(parents=True)
        (folder / "scrapyd.conf").write_text(
            "[scrapyd]\n"
            "bind_address = 127.0.0.1\n"
            f"http_port = {self.port}\n"
            "eggs_dir = eggs\nlogs_dir = logs\ndbs_dir = dbs\nitems_dir =\n"
            "max_proc = 1\npoll_interval = 0.2\n",
            encoding="utf-8",
        )
        self.log = (folder / "scrapyd.out").open("w")
        self.process = subprocess.Popen(
            [BIN / "scrapyd"], cwd=folder, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                self.get("daemonstatus.json")
                break
            except OSError:
                assert self.process.poll() is None, (folder / "scrapyd.out").read_text()
                assert time.monotonic() < deadline, "Scrapyd did not answer in 30 s"
                time.sleep(0.2)

    def get(self, path: str) -> dict:
        with DIRECT.open(f"{self.url}/{path}", timeout=10) as answer:
            return json.load(answer)

    def schedule(self, fields: list[tuple[str, str]]) -> str:
        body = urlencode(fields).encode()
        with DIRECT.open(f"{self.url}/schedule.json", data=body, timeout=10) as answer:
            reply = json.load(answer)
        assert reply["status"] == "ok", reply
        return reply["jobid"]

    def wait(self, job: str, timeout: float = 120) -> str:
        """Wait for the job to finish; return its log."""
        deadline = time.monotonic() + timeout
        while self.get(f"status.json?job={job}")["currstate"] != "finished":
            assert time.monotonic() < deadline, f"job {job} not finished in {timeout} s"
            time.sleep(0.3)
        return (self.folder / "logs" / "crawler" / "sina" / f"{job}.log").read_text("utf-8")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


def deployable_copy(folder: Path, scrapyd_url: str) -> Path:
    """The project as a user has it, its [deploy] target pointed at the test's Scrapyd."""
    cfg = configparser.ConfigParser()
    cfg.read(PROJECT_ROOT / "scrapy.cfg")
    assert cfg["deploy"]["url"] == "http://localhost:6800/"  # Scrapyd's default address
    source = copy_project(folder)
    text = (source / "scrapy.cfg").read_text(encoding="utf-8")
    (source / "scrapy.cfg").write_text(
        text.replace("http://localhost:6800/", f"{scrapyd_url}/"), encoding="utf-8"
    )
    return source


def test_scrapyd_deploy_schedule_and_posts(standin, tmp_path):
    # Jobs inherit Scrapyd's environment: the proxy (the stand-in) is set where Scrapyd starts.
    server = Scrapyd(tmp_path / "scrapyd", proxy_env(standin))
    try:
        source = deployable_copy(tmp_path / "source", server.url)
        deploy = subprocess.run(
            [BIN / "scrapyd-deploy"],
            cwd=source,
            env={**proxy_env(standin), "no_proxy": "127.0.0.1", "NO_PROXY": "127.0.0.1"},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert deploy.returncode == 0, deploy.stdout + deploy.stderr
        assert server.get("listprojects.json")["projects"] == ["crawler"]
        assert server.get("listspiders.json?project=crawler")["spiders"] == ["sina"]

        common = [
            ("project", "crawler"),
            ("spider", "sina"),
            ("setting", f"SINA_ROLL_API_URL={standin.roll_api_url}"),
            ("setting", "AUTOTHROTTLE_ENABLED=False"),
        ]
        job = server.schedule([*common, ("urls", ",".join(ARTICLES[:2]))])
        log = server.wait(job)
        assert "'finish_reason': 'finished'" in log, log
        output = server.folder / "output"  # Scrapyd's folder, where the docs say
        assert len(list((output / "posts").glob("*.md"))) == 2
        assert {item["url"] for item in read_lines(output / "articles.jsonl")} == set(ARTICLES[:2])

        # Settings per job: this job's posts go where the job says.
        elsewhere = tmp_path / "blog posts"
        job = server.schedule(
            [*common, ("setting", f"MARKDOWN_POSTS_DIR={elsewhere}"), ("urls", ARTICLES[2])]
        )
        log = server.wait(job)
        assert "'finish_reason': 'finished'" in log, log
        assert len(list(elsewhere.glob("*.md"))) == 1
        assert len(list((output / "posts").glob("*.md"))) == 2
    finally:
        server.stop()
    # Nothing was written inside the deployed egg's folder.
    eggs = server.folder / "eggs"
    assert [p.name for p in eggs.rglob("*") if p.is_dir()] == ["crawler"]
