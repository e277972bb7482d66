"""End-to-end: the live canary (crawler.canary, `make canary`) run offline against the stand-in."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from crawler.canary import CANARY_PAGES
from tests.conftest import PROJECT_ROOT
from tests.redesign import strip_class_and_id
from tests.standin import Page, StandIn, as_http, load_fixture_pages

pytestmark = pytest.mark.e2e


def run_canary(server: StandIn, tmp_path) -> subprocess.CompletedProcess:
    pages = tmp_path / "pages.txt"
    # The stand-in speaks plain http; the pages are the canary's own list.
    pages.write_text(
        "".join(f"{template} {as_http(url)}\n" for template, url in CANARY_PAGES), encoding="utf-8"
    )
    env = {**os.environ, "http_proxy": server.url, "HTTP_PROXY": server.url}
    for variable in ("no_proxy", "NO_PROXY", "https_proxy", "HTTPS_PROXY", "REDIS_URL"):
        env.pop(variable, None)
    return subprocess.run(
        [sys.executable, "-m", "crawler.canary", "--pages", str(pages), "--timeout", "120"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=150, check=False,
    )  # fmt: skip


def test_canary_passes_on_the_pages_as_they_are(tmp_path):
    server = StandIn()
    server.start()
    try:
        result = run_canary(server, tmp_path)
    finally:
        server.stop()
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        f"canary OK: {len(CANARY_PAGES)} pages, templates artibody, mobile, modern, table2005"
    )


def test_canary_fails_loudly_on_a_redesign(tmp_path):
    pages = {
        key: Page(strip_class_and_id(page.body), page.content_type, page.title)
        for key, page in load_fixture_pages().items()
    }
    server = StandIn(pages=pages)
    server.start()
    try:
        result = run_canary(server, tmp_path)
    finally:
        server.stop()
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert (
        f"CANARY FAILED: {len(CANARY_PAGES) + 1} problems on {len(CANARY_PAGES)} live pages"
        in lines
    )
    for template, url in CANARY_PAGES:
        assert f"  {as_http(url)}: read by the generic template, expected {template}" in lines
    assert "  the crawl exited with status 4 (see docs: exit codes)" in lines  # drift
