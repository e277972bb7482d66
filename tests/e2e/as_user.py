"""Run the crawler as a user would: from their own folder, with the project's default paths.

`tests.conftest.run_crawl` points posts, state and the export into the test folder with `-s`;
these helpers set none of that, so the defaults (./output, SINA_OUTPUT_DIR) are what is tested.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tests.conftest import PROJECT_ROOT

if TYPE_CHECKING:
    from tests.standin import StandIn

# Sample article pages the stand-in serves (tests/fixtures/sina), as http:// (it speaks no TLS).
ARTICLES = [
    "http://news.sina.com.cn/c/2024-05-10/doc-inausehc2630922.shtml",
    "http://news.sina.com.cn/c/2019-10-23/doc-iicezuev4202091.shtml",
    "http://ent.sina.com.cn/y/2009-11-09/13562762964.shtml",
]


def proxy_env(standin: StandIn, **extra: str) -> dict[str, str]:
    """The environment of a crawl that reaches Sina through the stand-in (as run_crawl's)."""
    env = {
        **os.environ,
        "http_proxy": standin.url,
        "HTTP_PROXY": standin.url,
        "no_proxy": "",
        "NO_PROXY": "",
        **extra,
    }
    for variable in ("https_proxy", "HTTPS_PROXY", "REDIS_URL", "SINA_OUTPUT_DIR"):
        if variable not in extra:
            env.pop(variable, None)
    return env


def crawl_here(
    standin: StandIn,
    folder: Path,
    *args: str,
    python: str = sys.executable,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`scrapy crawl sina` run in `folder`, settings found through SCRAPY_SETTINGS_MODULE."""
    cmd = [
        python, "-m", "scrapy", "crawl", "sina",
        "-s", f"SINA_ROLL_API_URL={standin.roll_api_url}",
        "-s", "AUTOTHROTTLE_ENABLED=False",
        *args,
    ]  # fmt: skip
    environment = env or proxy_env(standin)
    environment["SCRAPY_SETTINGS_MODULE"] = "crawler.settings"
    folder.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        cmd, cwd=folder, env=environment, capture_output=True, text=True, timeout=120, check=False
    )


def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def project_files() -> list[str]:
    """The project's files as a clone has them (tracked, or new and not ignored)."""
    listing = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return [name for name in listing.stdout.splitlines() if (PROJECT_ROOT / name).is_file()]


def copy_project(target: Path) -> Path:
    """A copy of the project (builds write build/ and *.egg-info beside the sources)."""
    for name in project_files():
        if name.startswith(("tests/", "benchmarks/")):
            continue
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes((PROJECT_ROOT / name).read_bytes())
    return target
