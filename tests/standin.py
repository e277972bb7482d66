"""An offline stand-in for Sina on 127.0.0.1: roll API, sample pages, scripted faults, hit counts.

It answers both as an HTTP proxy (absolute-URI requests, so article URLs keep their real Sina
hostnames over plain http while the crawler runs with `http_proxy` set) and as a plain server
(any path ending in /api/roll/get is the roll API). `make demo` and the end-to-end tests use it.

    python -m tests.standin [--port 0] [--portfile FILE] [--roll-cap 5] [--config FILE.json]

The config JSON may hold "roll" (entries), "faults" ({url: fault}) and "roll_faults"
({page: fault}); see `StandIn.configure`. GET /__hits__ returns the hits per URL as JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import socket
import struct
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "sina"
ROLL_PATH = "/api/roll/get"


def page_key(url: str) -> str:
    """Key a URL by host and path, so http/https and query strings reach the same page.

    >>> page_key("https://finance.sina.com.cn/roll/a.shtml?from=x")
    'finance.sina.com.cn/roll/a.shtml'
    """
    parts = urlsplit(url)
    return f"{(parts.hostname or '').lower()}{parts.path or '/'}"


def as_http(url: str) -> str:
    """Rewrite a URL to plain http (the stand-in speaks no TLS).

    >>> as_http("https://news.sina.com.cn/c/a.shtml")
    'http://news.sina.com.cn/c/a.shtml'
    """
    return "http://" + url.split("://", 1)[1]


@dataclass
class Page:
    """A page served at its original URL."""

    body: bytes
    content_type: str
    title: str = ""


def load_fixture_pages(root: Path = FIXTURES) -> dict[str, Page]:
    """Read `<case>/page.html` + `source.json` pairs, keyed by `page_key` of the original URL."""
    pages: dict[str, Page] = {}
    for source in sorted(root.glob("*/source.json")):
        meta = json.loads(source.read_text(encoding="utf-8"))
        html = source.parent / "page.html"
        if not html.exists():
            continue
        # Old Sina pages are GB2312 served as bare text/html; the charset is only in a <meta>.
        gb = "gb2312" in meta.get("encoding", "").lower()
        ctype = "text/html" if gb else "text/html; charset=utf-8"
        pages[page_key(meta["url"])] = Page(html.read_bytes(), ctype, source.parent.name)
    return pages


def fixture_urls(root: Path = FIXTURES) -> list[str]:
    """Return the sample pages' original URLs rewritten to http, in a stable order."""
    urls = []
    for source in sorted(root.glob("*/source.json")):
        urls.append(as_http(json.loads(source.read_text(encoding="utf-8"))["url"]))
    return urls


class StandIn:
    """The stand-in server; configure it, `start()`, read `url`/`hits`, `stop()`.

    Faults (per page URL, or per roll page number):
      {"status": 404}            answer with that status
      {"delay": 2.0}             wait before answering
      {"slow_body": 3.0}         send headers, then trickle the body over that many seconds
      {"reset": true}            close the connection without answering (TCP reset)
      {"redirect": "http://x/"}  answer 302 with that Location
      {"truncate": 0.5}          announce the whole body, send that share of it, then close
      {"roll": "invalid_json"}   roll pages only: a body that is not JSON
      {"roll": "nonzero"}        roll pages only: JSON with status code 1
      {"roll": "deep"}           roll pages only: JSON nested 100,000 deep
      {"roll": "all"}            roll pages only: every entry at once, whatever `num` asked
    """

    def __init__(
        self,
        *,
        roll_cap: int = 50,
        pages: dict[str, Page] | None = None,
        require_referer: bool = True,
    ):
        self.roll_cap = roll_cap
        # Like Sina: roll API calls without a sina.com.cn Referer get 403.
        self.require_referer = require_referer
        self.pages = load_fixture_pages() if pages is None else pages
        self.roll: list[dict[str, Any]] = []
        self.faults: dict[str, dict[str, Any]] = {}
        self.roll_faults: dict[int, dict[str, Any]] = {}
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- configuration ------------------------------------------------------------------------
    def add_entries(
        self, urls: list[str], *, start: int | None = None, lid: int | None = None
    ) -> None:
        """List URLs in the roll, newest first, one minute apart from `start` (epoch seconds)."""
        now = int(time.time()) if start is None else start
        with self.lock:
            for i, url in enumerate(urls):
                key = page_key(url)
                title = self.pages[key].title if key in self.pages else ""
                entry = {
                    "url": url,
                    "wapurl": "",
                    "title": title,
                    "intro": "",
                    "media_name": "新浪财经",
                    "ctime": str(now - 60 * i),
                    "intime": str(now - 60 * i),
                }
                if lid is not None:
                    entry["lid"] = lid
                self.roll.append(entry)

    def set_fault(self, url: str, **fault: Any) -> None:
        """Script a fault for one page URL (any scheme)."""
        with self.lock:
            self.faults[page_key(url)] = fault

    def set_roll_fault(self, page: int, **fault: Any) -> None:
        """Script a fault for one roll page number (every channel)."""
        with self.lock:
            self.roll_faults[page] = fault

    def configure(self, config: dict[str, Any]) -> None:
        """Apply a JSON config: {"roll_cap", "roll": [urls or entries], "faults", "roll_faults"}."""
        self.roll_cap = int(config.get("roll_cap", self.roll_cap))
        for entry in config.get("roll", []):
            if isinstance(entry, str):
                self.add_entries([entry])
            else:
                self.roll.append(entry)
        for url, fault in config.get("faults", {}).items():
            self.set_fault(url, **fault)
        for page, fault in config.get("roll_faults", {}).items():
            self.set_roll_fault(int(page), **fault)

    # --- running ------------------------------------------------------------------------------
    def start(self, port: int = 0) -> str:
        """Serve on 127.0.0.1:`port` (0 = any free port) in a thread; return the base URL."""
        standin = self

        class Handler(StandInHandler):
            owner = standin

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self.url

    @property
    def port(self) -> int:
        """The bound port."""
        assert self._server is not None, "not started"
        return self._server.server_port

    @property
    def url(self) -> str:
        """The base URL, also the value for `http_proxy`."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def roll_api_url(self) -> str:
        """A roll API URL with Sina's hostname, for `SINA_ROLL_API_URL` when proxying."""
        return f"http://feed.mix.sina.com.cn{ROLL_PATH}"

    def stop(self) -> None:
        """Stop serving and free the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def article_hits(self) -> dict[str, int]:
        """Hits on pages other than the roll API, keyed by `page_key`."""
        with self.lock:
            counts: Counter[str] = Counter()
            for url, n in self.hits.items():
                if not urlsplit(url).path.endswith(ROLL_PATH):
                    counts[page_key(url)] += n
            return dict(counts)

    def roll_hits(self) -> list[str]:
        """Return the roll API URLs fetched (each once per hit)."""
        with self.lock:
            return sorted(u for u, n in self.hits.items() for _ in range(n) if ROLL_PATH in u)

    def roll_page(
        self, query: dict[str, list[str]], *, every: bool = False
    ) -> tuple[int, dict[str, Any]]:
        """Answer one roll API query: (HTTP status, JSON document); `every`: ignore paging."""
        try:
            page = max(int(query.get("page", ["1"])[0]), 1)
            num = max(min(int(query.get("num", ["50"])[0]), self.roll_cap), 1)
        except ValueError:
            return 200, {"result": {"status": {"code": 2, "msg": "bad page or num"}}}
        lid = query.get("lid", [""])[0]
        with self.lock:
            rows = [r for r in self.roll if "lid" not in r or str(r["lid"]) == lid]
        rows.sort(key=_listed_time, reverse=True)
        if every:
            page, num = 1, len(rows)
        chunk = [{k: v for k, v in r.items() if k != "lid"} for r in rows[(page - 1) * num :][:num]]
        doc = {
            "result": {
                "status": {"code": 0, "msg": "succ"},
                "total": len(rows),
                "lid": lid,
                "data": chunk,
            }
        }
        return 200, doc


def _listed_time(row: dict[str, Any]) -> float:
    """Sort key of a roll row: its ctime, or 0 for a hostile one ("inf", "x", 1e99)."""
    try:
        value = float(row.get("ctime") or 0)
    except (TypeError, ValueError):
        return 0.0
    return value if math.isfinite(value) else 0.0


class StandInHandler(BaseHTTPRequestHandler):
    """Routes one request: control endpoints, roll API, pages; applies scripted faults."""

    owner: StandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the test output stays readable; hits are counted instead

    def do_GET(self) -> None:
        owner = self.owner
        url = self.path
        if not url.startswith(("http://", "https://")):
            url = f"http://{self.headers.get('Host', '127.0.0.1')}{self.path}"
        parts = urlsplit(url)
        if parts.path == "/__hits__":
            with owner.lock:
                body = json.dumps(dict(owner.hits), ensure_ascii=False).encode()
            self.answer(200, "application/json", body)
            return
        with owner.lock:
            owner.hits[url] += 1
        if parts.path.endswith(ROLL_PATH):
            referer = urlsplit(self.headers.get("Referer", "")).hostname or ""
            if owner.require_referer and not referer.endswith("sina.com.cn"):
                self.answer(403, "text/html", b"<html><body>403 Forbidden</body></html>")
                return
            query = parse_qs(parts.query)
            with owner.lock:
                fault = dict(owner.roll_faults.get(int(query.get("page", ["1"])[0] or 1), {}))
            self.serve(fault, *self.roll_body(query, fault))
            return
        key = page_key(url)
        with owner.lock:
            fault = dict(owner.faults.get(key, {}))
        page = owner.pages.get(key)
        if page is None:
            self.serve(fault, 404, "text/html", b"<html><body>404 Not Found</body></html>")
        else:
            self.serve(fault, 200, page.content_type, page.body)

    def roll_body(
        self, query: dict[str, list[str]], fault: dict[str, Any]
    ) -> tuple[int, str, bytes]:
        kind = fault.get("roll")
        if kind == "invalid_json":
            return 200, "application/json", b"<html>502 Bad Gateway</html>"
        if kind == "deep":
            depth = 100_000
            return (
                200,
                "application/json",
                b'{"result": {"data": ' + b"[" * depth + b"]" * depth + b"}}",
            )
        if kind == "nonzero":
            doc: dict[str, Any] = {"result": {"status": {"code": 1, "msg": "lid error"}}}
            status = 200
        else:
            status, doc = self.owner.roll_page(query, every=kind == "all")
        return (
            status,
            "application/json; charset=utf-8",
            json.dumps(doc, ensure_ascii=False).encode(),
        )

    def serve(self, fault: dict[str, Any], status: int, ctype: str, body: bytes) -> None:
        if fault.get("delay"):
            time.sleep(float(fault["delay"]))
        if fault.get("reset"):
            # SO_LINGER 0 makes close() send RST: the client sees a connection reset.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        if fault.get("redirect"):
            self.send_response(int(fault.get("status", 302)))
            self.send_header("Location", str(fault["redirect"]))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if fault.get("truncate"):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: int(len(body) * float(fault["truncate"]))])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if "status" in fault:
            status = int(fault["status"])
            if status != 200:
                body = f"<html><body>{status}</body></html>".encode()
                ctype = "text/html"
        if fault.get("slow_body"):
            self.answer(status, ctype, body, trickle=float(fault["slow_body"]))
        else:
            self.answer(status, ctype, body)

    def answer(self, status: int, ctype: str, body: bytes, trickle: float = 0.0) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not trickle:
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up (e.g. DOWNLOAD_MAXSIZE)
            return
        chunks = 10
        size = max(len(body) // chunks, 1)
        for start in range(0, len(body), size):
            self.wfile.write(body[start : start + size])
            self.wfile.flush()
            time.sleep(trickle / chunks)


def main(argv: list[str] | None = None) -> int:
    """Run the stand-in until interrupted (SIGTERM/SIGINT)."""
    parser = argparse.ArgumentParser(description="Offline stand-in for Sina (roll API + pages).")
    parser.add_argument("--port", type=int, default=0, help="port to bind (0: any free port)")
    parser.add_argument("--portfile", type=Path, help="write the bound port here")
    parser.add_argument("--roll-cap", type=int, default=50, help="most entries a roll page")
    parser.add_argument("--config", type=Path, help="JSON: roll, faults, roll_faults, roll_cap")
    parser.add_argument("--no-roll", action="store_true", help="do not list the sample pages")
    opts = parser.parse_args(argv)
    standin = StandIn(roll_cap=opts.roll_cap)
    if not opts.no_roll:
        standin.add_entries(fixture_urls())
    if opts.config:
        standin.configure(json.loads(opts.config.read_text(encoding="utf-8")))
    standin.start(opts.port)
    if opts.portfile:
        opts.portfile.write_text(str(standin.port), encoding="ascii")
    print(f"Stand-in for Sina on {standin.url} ({len(standin.roll)} roll entries)", flush=True)
    serve_until_interrupted(standin)
    return 0


def serve_until_interrupted(standin: StandIn) -> None:
    """Keep a started stand-in serving until Ctrl-C or SIGTERM's KeyboardInterrupt, then stop it."""
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        standin.stop()


if __name__ == "__main__":
    sys.exit(main())
