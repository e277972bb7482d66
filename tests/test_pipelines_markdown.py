import asyncio
import functools
import json
import os
import subprocess
import sys
import threading
from datetime import datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.exporters import JsonLinesItemExporter
from scrapy.utils.misc import build_from_crawler

from crawler import settings as project_settings
from crawler.items import ArticleItem
from pipelines.clean_body import BodyCleaningPipeline
from pipelines.markdown_posts import MarkdownPostPipeline
from pipelines.post_images import PostImagesPipeline

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHANGHAI = ZoneInfo("Asia/Shanghai")
RAW_BODY = (
    '<div class="article" id="artibody"><!-- 秒拍begin --><p>　　正文第一段。</p>'
    '<script>var a = 1;</script><div class="appendQr_wrap"><img src="https://n.sinaimg.cn/q.png"></div>'
    '<p class="article-editor">责任编辑：王蒙 </p></div>'
)


def make_item(**changes) -> ArticleItem:
    fields = {
        "url": "https://finance.sina.com.cn/roll/2022-08-01/doc-imizmscv4373413.shtml",
        "doc_id": "imizmscv4373413",
        "title": "标题：一",
        "author": "上海证券报",
        "date": datetime(2022, 8, 1, 11, 23, 57, tzinfo=SHANGHAI),
        "body": "<div><p>　　正文第一段。</p></div>",
        "channel": "国内",
    }
    fields.update(changes)
    return ArticleItem(**fields)


@pytest.fixture
def build(project_crawler):
    """Build a pipeline the way the crawl does: project settings plus overrides."""

    def build(cls, **settings):
        crawler = project_crawler(**settings)
        return build_from_crawler(cls, crawler), crawler.stats

    return build


def process(pipe, item):
    """Run the pipeline's async process_item to completion, as the engine awaits it."""
    return asyncio.run(pipe.process_item(item))


# --- cleaning ------------------------------------------------------------------------------


def test_cleaning_pipeline_cleans_body_and_counts(build):
    pipe, stats = build(BodyCleaningPipeline)
    item = process(pipe, make_item(body=RAW_BODY))
    assert item.body == "<div><p>　　正文第一段。</p><p>责任编辑：王蒙 </p></div>"
    assert stats.get_value("cleaning/cleaned") == 1


def test_cleaning_pipeline_drops_empty_body_naming_url(build):
    pipe, stats = build(BodyCleaningPipeline)
    with pytest.raises(DropItem, match=r"doc-imizmscv4373413\.shtml"):
        process(pipe, make_item(body="<div><script>x</script></div>"))
    assert stats.get_value("cleaning/dropped_empty") == 1


def test_cleaning_pipeline_can_be_disabled(build):
    with pytest.raises(NotConfigured):
        build(BodyCleaningPipeline, CLEANING_ENABLED=False)


# --- markdown ------------------------------------------------------------------------------


def test_writes_post(build, tmp_path):
    pipe, stats = build(MarkdownPostPipeline, MARKDOWN_POSTS_DIR=str(tmp_path / "posts"))
    item = make_item()
    assert process(pipe, item) is item
    path = tmp_path / "posts" / "2022-08-01-imizmscv4373413.md"
    text = path.read_text(encoding="utf-8")
    assert text.startswith(
        "---\ntitle: '标题：一'\ncategories:\n  - 金融\n  - 新浪财经\n  - 新浪财经－国内\n"
    )
    assert text.endswith("---\n\n<div><p>　　正文第一段。</p></div>\n")
    assert [p.name for p in (tmp_path / "posts").iterdir()] == [path.name]  # no temp files left
    assert stats.get_value("markdown/written") == 1


def test_unchanged_article_leaves_file_untouched(build, tmp_path):
    pipe, stats = build(MarkdownPostPipeline, MARKDOWN_POSTS_DIR=str(tmp_path))
    process(pipe, make_item())
    path = tmp_path / "2022-08-01-imizmscv4373413.md"
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    process(pipe, make_item())
    assert path.stat().st_mtime_ns == 1_000_000_000
    assert stats.get_value("markdown/unchanged") == 1
    assert stats.get_value("markdown/written") == 1


def test_changed_article_rewritten_in_place(build, tmp_path):
    pipe, stats = build(MarkdownPostPipeline, MARKDOWN_POSTS_DIR=str(tmp_path))
    process(pipe, make_item())
    process(pipe, make_item(body="<div><p>　　更正后的正文。</p></div>"))
    (post,) = tmp_path.iterdir()
    assert post.read_text(encoding="utf-8").endswith("\n<div><p>　　更正后的正文。</p></div>\n")
    assert stats.get_value("markdown/written") == 2


def test_changed_title_with_slug_replaces_old_name(build, tmp_path):
    pipe, stats = build(
        MarkdownPostPipeline, MARKDOWN_POSTS_DIR=str(tmp_path), MARKDOWN_TITLE_SLUG=True
    )
    process(pipe, make_item(title="旧标题"))
    process(pipe, make_item(title="新标题"))
    assert [p.name for p in tmp_path.iterdir()] == ["2022-08-01-imizmscv4373413~新标题.md"]
    assert stats.get_value("markdown/renamed") == 1


def test_other_articles_are_not_touched(build, tmp_path):
    pipe, _ = build(
        MarkdownPostPipeline, MARKDOWN_POSTS_DIR=str(tmp_path), MARKDOWN_TITLE_SLUG=True
    )
    process(pipe, make_item(doc_id="imizmscv4373413"))
    process(pipe, make_item(doc_id="imizmscv437341"))  # a prefix of the first id
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "2022-08-01-imizmscv4373413~标题-一.md",
        "2022-08-01-imizmscv437341~标题-一.md",
    ]


def test_settings_reach_the_post(build, tmp_path):
    pipe, _ = build(
        MarkdownPostPipeline,
        MARKDOWN_POSTS_DIR=str(tmp_path),
        MARKDOWN_DATE_FORMAT="local",
        MARKDOWN_COMMENTS=True,
        MARKDOWN_CATEGORY_ROOT="财经",
        MARKDOWN_EXTRA_KEYS="source_url,tags",
    )
    process(pipe, make_item(keywords=["A股"]))
    matter = (
        (tmp_path / "2022-08-01-imizmscv4373413.md").read_text(encoding="utf-8").split("---\n")[1]
    )
    data = yaml.safe_load(matter)
    assert data["date"] == datetime(2022, 8, 1, 11, 23, 57)
    assert data["comments"] is True
    assert data["categories"] == ["财经", "新浪财经", "新浪财经－国内"]
    assert data["tags"] == ["A股"]
    assert (
        data["source_url"]
        == "https://finance.sina.com.cn/roll/2022-08-01/doc-imizmscv4373413.shtml"
    )


def test_not_configured_without_posts_dir(build):
    with pytest.raises(NotConfigured):
        build(MarkdownPostPipeline, MARKDOWN_POSTS_DIR="")


def test_bad_date_format_fails_fast(build, tmp_path):
    with pytest.raises(ValueError, match="MARKDOWN_DATE_FORMAT"):
        build(MarkdownPostPipeline, MARKDOWN_POSTS_DIR=str(tmp_path), MARKDOWN_DATE_FORMAT="epoch")


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_unwritable_dir_drops_item_naming_path_and_url(build, tmp_path):
    posts = tmp_path / "posts"
    posts.mkdir()
    posts.chmod(0o500)
    try:
        pipe, stats = build(MarkdownPostPipeline, MARKDOWN_POSTS_DIR=str(posts))
        with pytest.raises(DropItem) as info:
            process(pipe, make_item())
    finally:
        posts.chmod(0o700)
    message = str(info.value)
    assert str(posts / "2022-08-01-imizmscv4373413.md") in message
    assert "https://finance.sina.com.cn/roll/2022-08-01/doc-imizmscv4373413.shtml" in message
    assert stats.get_value("markdown/failed") == 1
    assert list(posts.iterdir()) == []


def test_posts_dir_that_is_a_file_drops_item(build, tmp_path):
    blocker = tmp_path / "posts"
    blocker.write_text("not a directory")
    pipe, _ = build(MarkdownPostPipeline, MARKDOWN_POSTS_DIR=str(blocker))
    with pytest.raises(DropItem, match="cannot write post"):
        process(pipe, make_item())


# --- JSON lines ----------------------------------------------------------------------------


def test_default_feed_is_readable_utf8_with_offset_dates(tmp_path):
    ((uri, options),) = project_settings.FEEDS.items()
    assert project_settings.FEED_EXPORT_ENCODING == "utf-8"
    assert uri.endswith("output/articles.jsonl")
    assert options["format"] == "jsonlines"
    assert options["encoding"] == "utf-8"
    out = tmp_path / "a.jsonl"
    with out.open("wb") as f:
        exporter = JsonLinesItemExporter(f, encoding="utf-8")
        exporter.start_exporting()
        exporter.export_item(make_item())
        exporter.finish_exporting()
    line = out.read_text(encoding="utf-8")
    assert '"title": "标题：一"' in line
    assert json.loads(line)["date"] == "2022-08-01T11:23:57+08:00"


# --- local image copies --------------------------------------------------------------------


def test_images_pipeline_not_configured_by_default(build):
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

base, posts, store = sys.argv[1:4]

class OneArticleSpider(scrapy.Spider):
    name = "one"
    async def start(self):
        yield scrapy.Request(base + "/a.png", callback=self.parse)
    def parse(self, response):
        yield ArticleItem(
            url=base + "/doc-itest0000001.shtml", doc_id="itest0000001", title="图片",
            date=datetime(2024, 5, 10, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")), channel="国内",
            body=f'<div><p>　　图</p><img src="{base}/a.png"><img src="/b.jpg"><img src="{base}/missing.gif"></div>',
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
        "pipelines.clean_body.BodyCleaningPipeline": 300,
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


def test_full_disk_drops_item_naming_path_and_url(build, tmp_path, monkeypatch):
    import errno

    import pipelines.markdown_posts

    def full(path, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pipelines.markdown_posts, "write_atomically", full)
    pipe, stats = build(MarkdownPostPipeline, MARKDOWN_POSTS_DIR=str(tmp_path))
    with pytest.raises(DropItem) as info:
        process(pipe, make_item())
    assert str(info.value) == (
        f"cannot write post {tmp_path / '2022-08-01-imizmscv4373413.md'} for "
        "https://finance.sina.com.cn/roll/2022-08-01/doc-imizmscv4373413.shtml: "
        "No space left on device"
    )
    assert stats.get_value("markdown/failed") == 1
