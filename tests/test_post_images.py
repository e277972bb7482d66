"""The local image copies pipeline: off by default; a real crawl rewrites the post to the copies."""

import functools
import os
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from scrapy.exceptions import NotConfigured

from pipelines.post_images import PostImagesPipeline
from tests.conftest import build

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def test_images_pipeline_not_configured_by_default():
    with pytest.raises(NotConfigured):
        build(PostImagesPipeline)


@pytest.fixture
def image_server(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    (root / "a.png").write_bytes(b"\x89PNG fake image a")
    (root / "b.jpg").write_bytes(b"\xff\xd8 fake image b")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


CRAWL_SCRIPT = """
import sys
from datetime import datetime
from zoneinfo import ZoneInfo
import scrapy
from scrapy.crawler import CrawlerProcess
from crawler import settings as project_settings
from crawler.items import ArticleItem
from crawler.site.cleaning import clean_body

base, posts, store = sys.argv[1:4]

class OneArticleSpider(scrapy.Spider):
    name = "one"
    async def start(self):
        yield scrapy.Request(base + "/a.png", callback=self.parse)
    def parse(self, response):
        yield ArticleItem(
            url=base + "/doc-itest0000001.shtml", doc_id="itest0000001", title="图片",
            date=datetime(2024, 5, 10, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), channel="国内",
            body=clean_body(
                f'<div><p>　　图</p><img src="{base}/a.png"><img src="/b.jpg"><img src="{base}/missing.gif"></div>',
                base + "/doc-itest0000001.shtml",
            ),
        )

post_settings = {  # the defaults of what the pipelines read, from crawler/settings.py
    name: getattr(project_settings, name)
    for name in dir(project_settings)
    if name.startswith(("MARKDOWN_", "CLEANING_"))
}
process = CrawlerProcess({
    **post_settings,
    "EXTENSIONS": {"crawler.extensions.offload.OffloadExtension": 0}, "SINA_WORKER_PROCESSES": 0,
    "ITEM_PIPELINES": {
        "pipelines.post_images.PostImagesPipeline": 400,
        "pipelines.markdown_posts.MarkdownPostPipeline": 500,
    },
    "MARKDOWN_POSTS_DIR": posts, "MARKDOWN_LOCAL_IMAGES": True, "MARKDOWN_IMAGES_STORE": store,
    "MARKDOWN_IMAGES_URL": "/images/sina", "LOG_LEVEL": "INFO", "TELNETCONSOLE_ENABLED": False,
    "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
})
process.crawl(OneArticleSpider)
process.start()
"""


def test_local_image_copies_rewrite_post(image_server, tmp_path):
    posts, store = tmp_path / "posts", tmp_path / "images"
    script = tmp_path / "crawl_one.py"  # a file, so Scrapy can inspect the callback's source
    script.write_text(CRAWL_SCRIPT, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script), image_server, str(posts), str(store)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "no_proxy": "127.0.0.1", "PYTHONPATH": str(PROJECT_ROOT)},
    )
    assert result.returncode == 0, result.stderr
    (post,) = posts.iterdir()
    text = post.read_text(encoding="utf-8")
    saved = sorted(p.read_bytes() for p in (store / "full").iterdir())
    assert saved == [b"\x89PNG fake image a", b"\xff\xd8 fake image b"]
    local = sorted("/images/sina/full/" + p.name for p in (store / "full").iterdir())
    png = next(u for u in local if u.endswith(".png"))
    data = yaml.safe_load(text.split("---\n")[1])
    assert data["headimg"] == data["thumbnail"] == png
    for url in local:
        assert f'<img src="{url}" referrerpolicy="no-referrer">' in text
    # A failed download keeps Sina's URL rather than a broken local link.
    assert f'<img src="{image_server}/missing.gif" referrerpolicy="no-referrer">' in text
    assert "'images/saved': 2" in result.stderr
    assert "'images/failed': 1" in result.stderr
