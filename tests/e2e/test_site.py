"""`make site` in a real browser: the Volantis blog shows our posts as they should look.

Posts come from a real crawl of the stand-in; hexo/site.py builds the blog; headless Chromium
opens the index and a post page while a local HTTPS stand-in for Sina's image host answers 403
to any request that carries a Referer, as n.sinaimg.cn does. Every other host resolves nowhere,
so nothing leaves the machine (the theme's CDN assets simply fail).

Needs Debian's `chromium` and npm (the packages are installed once into a cache folder, see
hexo/site.py); skipped when absent, unless REQUIRE_BROWSER=1 (CI), which makes that a failure.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import threading
import zlib
from functools import partial
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml

from tests.conftest import PROJECT_ROOT, run_crawl
from tests.standin import fixture_urls

pytestmark = pytest.mark.e2e

SHANGHAI = ZoneInfo("Asia/Shanghai")
PER_PAGE = 10  # index_generator.per_page in hexo/site/_config.yml
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--ignore-certificate-errors",  # the image stand-in's certificate is self-signed
]


def tools() -> str:
    """Path of chromium; skip (or fail under REQUIRE_BROWSER=1) when chromium or npm is absent."""
    chromium = shutil.which("chromium")
    missing = [
        name for name, path in (("chromium", chromium), ("npm", shutil.which("npm"))) if not path
    ]
    if missing:
        message = f"{', '.join(missing)} not installed (apt-get install -y chromium npm)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"{message} (REQUIRE_BROWSER=1, so this is an error, not a skip)")
        pytest.skip(message)
    assert chromium
    return chromium


def png(width: int, height: int) -> bytes:
    """A real PNG of one colour, so the browser decodes it to a non-zero naturalWidth."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\xe6\x16\x2d" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "n.sinaimg.cn")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("*.sinaimg.cn")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class HttpAndHttpsServer(ThreadingHTTPServer):
    """Plain HTTP and HTTPS on one port (Sina's pages link images both ways; one MAP rule)."""

    def __init__(self, *args: Any, **kwargs: Any):
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        super().__init__(*args, **kwargs)

    def get_request(self) -> tuple[Any, Any]:
        sock, address = super().get_request()
        if sock.recv(1, socket.MSG_PEEK) == b"\x16":  # a TLS handshake record
            sock = self.tls.wrap_socket(sock, server_side=True)
        return sock, address


class ImageHost:
    """HTTPS stand-in for *.sinaimg.cn: a PNG for any path, 403 when a Referer comes along."""

    def __init__(self, folder: Path):
        self.requests: list[tuple[str, str | None]] = []  # (path, Referer)
        host = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                referer = self.headers.get("Referer")
                host.requests.append((self.path, referer))
                status, body = (403, b"forbidden") if referer else (200, png(8, 6))
                self.send_response(status)
                self.send_header("Content-Type", "image/png" if status == 200 else "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = HttpAndHttpsServer(("127.0.0.1", 0), Handler)
        self.server.tls.load_cert_chain(*self_signed(folder))
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# Loads the page in a same-origin frame and writes what a reader would see into #result, which
# `chromium --dump-dom` prints once the frame (and its images) finished loading.
CHECK_PAGE = """<!doctype html><html><body><pre id="result">not loaded</pre><script>
const frame = document.createElement('iframe');
frame.style.width = '1280px';
frame.style.height = '4000px';
frame.addEventListener('load', () => {
  const doc = frame.contentDocument;
  const win = frame.contentWindow;
  const shown = (el) => {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) return false;
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const style = win.getComputedStyle(node);
      if (style.display === 'none' || style.visibility === 'hidden' || style.opacity === '0') {
        return false;
      }
    }
    return true;
  };
  const texts = (selector) => [...doc.querySelectorAll(selector)].filter(shown)
    .map((el) => el.textContent.replace(/\\s+/g, ' ').trim());
  document.getElementById('result').textContent = JSON.stringify({
    referrer: (doc.querySelector('meta[name=referrer]') || {}).content || null,
    headlines: texts('h1.title, h2.article-title'),
    dates: texts('.new-meta-item.date'),
    authors: texts('.new-meta-item.author'),
    // Index cards show the author as an avatar; the name is in the card's schema.org data.
    card_authors: [...doc.querySelectorAll('.meta-v3 [itemprop=author] meta[itemprop=name]')]
      .map((el) => el.content),
    card_avatars: [...doc.querySelectorAll('.meta-v3 a.avatar img')].filter(shown).length,
    card_dates: texts('.meta-v3 time'),
    images: [...doc.images].map((img) => ({
      src: img.currentSrc || img.src, cls: img.className, width: img.naturalWidth,
      shown: shown(img),
    })),
  });
});
frame.src = decodeURIComponent(location.hash.slice(1));
document.body.appendChild(frame);
</script></body></html>
"""


class SiteServer:
    """Serves the built blog (public/) and the check page on 127.0.0.1."""

    def __init__(self, public: Path):
        class Handler(SimpleHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.path == "/__check__.html":
                    body = CHECK_PAGE.encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                super().do_GET()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=public))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Browser:
    def __init__(self, chromium: str, folder: Path, image_port: int):
        self.chromium = chromium
        self.folder = folder
        # Sina's image hosts go to the stand-in; every other name resolves nowhere.
        self.rules = f"MAP *.sinaimg.cn 127.0.0.1:{image_port}, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"

    def run(self, name: str, *args: str) -> str:
        profile = self.folder / f"profile-{name}"  # fresh per run: no cache, no stored state
        cmd = [
            self.chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--host-resolver-rules={self.rules}",
            *args,
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=90, check=False)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    def look(self, site: SiteServer, path: str, name: str) -> dict[str, Any]:
        """What the page shows, read by the check page; and a screenshot of it in `folder`."""
        dom = self.run(name, "--dump-dom", f"{site.url}/__check__.html#{site.url}{path}")
        match = re.search(r'<pre id="result">(.*?)</pre>', dom, re.DOTALL)
        assert match, dom[:2000]
        self.run(
            f"{name}-shot",
            f"--screenshot={self.folder / f'{name}.png'}",
            "--window-size=1280,1800",
            f"{site.url}{path}",
        )
        return json.loads(html.unescape(match.group(1)))


def front_matter(post: Path) -> dict[str, Any]:
    return yaml.safe_load(post.read_text(encoding="utf-8").split("---\n", 2)[1])


def published(matter: dict[str, Any]) -> dt.datetime:
    return dt.datetime.strptime(matter["date"], "%a, %d %b %Y %H:%M:%S GMT")


def beijing_minute(value: str) -> str:
    """`Mon, 01 Aug 2022 03:23:57 GMT` -> `2022-08-01 11:23` (the theme's format, Beijing time)."""
    instant = dt.datetime.strptime(value, "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=dt.UTC)
    return instant.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def assert_sina_images_loaded(seen: dict[str, Any], at_least: int) -> list[dict[str, Any]]:
    sina = [img for img in seen["images"] if re.match(r"https?://[^/]*\.sinaimg\.cn/", img["src"])]
    assert len(sina) >= at_least, seen["images"]
    assert [img for img in sina if img["width"] == 0] == []  # refused or broken images
    return sina


def test_volantis_blog_in_chromium(standin, tmp_path):
    chromium = tools()
    crawl = run_crawl(standin, tmp_path, "-a", "urls=" + ",".join(fixture_urls()))
    assert crawl.returncode == 0, crawl.log
    posts = sorted((tmp_path / "posts").glob("*.md"))
    assert len(posts) == len(crawl.items) > PER_PAGE

    site = tmp_path / "site"
    build = subprocess.run(
        [sys.executable, "hexo/site.py", "--posts", str(tmp_path / "posts"), "--site", str(site)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert build.returncode == 0, build.stderr
    authors = yaml.safe_load((site / "source" / "_data" / "author.yml").read_text("utf-8"))
    assert sorted(authors) == sorted({front_matter(p)["author"] for p in posts})

    images = ImageHost(tmp_path)
    server = SiteServer(site / "public")
    browser = Browser(chromium, tmp_path, images.port)
    try:
        # A post whose head image is one of its own body images (not the default picture).
        post = next(p for p in posts if "<img" in p.read_text(encoding="utf-8"))
        matter = front_matter(post)
        day = dt.datetime.strptime(matter["date"], "%a, %d %b %Y %H:%M:%S GMT")
        day = day.replace(tzinfo=dt.UTC).astimezone(SHANGHAI)
        page = f"/{day:%Y/%m/%d}/{post.stem}/"
        seen = browser.look(server, page, "post")
        assert seen["referrer"] == "no-referrer"
        assert seen["headlines"] == [matter["title"]]
        minute = beijing_minute(matter["date"])
        assert f"发布于：{minute}" in seen["dates"]
        assert f"更新于：{minute}" in seen["dates"]
        assert matter["author"] in seen["authors"]
        sina = assert_sina_images_loaded(seen, at_least=3)
        classes = {img["cls"] for img in sina}
        assert {"headimg", "thumbnail"} <= classes, sina  # plus the body's own images
        assert matter["headimg"] in {img["src"] for img in sina if img["cls"] == "headimg"}

        index = browser.look(server, "/", "index")
        assert index["referrer"] == "no-referrer"
        newest = sorted(map(front_matter, posts), key=published, reverse=True)[:PER_PAGE]
        assert index["headlines"] == [m["title"] for m in newest]
        assert index["card_authors"] == [m["author"] for m in newest]
        assert index["card_avatars"] == PER_PAGE
        assert index["card_dates"] == [beijing_minute(m["date"])[:10] for m in newest]
        assert_sina_images_loaded(index, at_least=PER_PAGE)
        for seen_page in (seen, index):  # the author avatars, from the blog itself
            own = [img for img in seen_page["images"] if img["src"].startswith(server.url)]
            assert own
            assert [img for img in own if img["width"] == 0] == []
    finally:
        server.stop()
        images.stop()
    # Every image request reached the stand-in without a Referer (none was refused).
    assert images.requests
    assert [r for r in images.requests if r[1] is not None] == []
    assert (tmp_path / "post.png").stat().st_size > 10_000
    assert (tmp_path / "index.png").stat().st_size > 10_000
