"""The Markdown post pipeline: writes, rewrites and renames posts; fails by path and URL.

Items are built here: their URLs are only text; nothing is fetched.
"""

import os
from datetime import datetime

import pytest
import yaml
from scrapy.exceptions import DropItem, NotConfigured

from pipelines.markdown_posts import MarkdownPostPipeline
from tests.conftest import build, make_item, process


def test_writes_post(tmp_path):
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


def test_unchanged_article_leaves_file_untouched(tmp_path):
    pipe, stats = build(MarkdownPostPipeline, MARKDOWN_POSTS_DIR=str(tmp_path))
    process(pipe, make_item())
    path = tmp_path / "2022-08-01-imizmscv4373413.md"
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    process(pipe, make_item())
    assert path.stat().st_mtime_ns == 1_000_000_000
    assert stats.get_value("markdown/unchanged") == 1
    assert stats.get_value("markdown/written") == 1


def test_changed_article_rewritten_in_place(tmp_path):
    pipe, stats = build(MarkdownPostPipeline, MARKDOWN_POSTS_DIR=str(tmp_path))
    process(pipe, make_item())
    process(pipe, make_item(body="<div><p>　　更正后的正文。</p></div>"))
    (post,) = tmp_path.iterdir()
    assert post.read_text(encoding="utf-8").endswith("\n<div><p>　　更正后的正文。</p></div>\n")
    assert stats.get_value("markdown/written") == 2


def test_changed_title_with_slug_replaces_old_name(tmp_path):
    pipe, stats = build(
        MarkdownPostPipeline, MARKDOWN_POSTS_DIR=str(tmp_path), MARKDOWN_TITLE_SLUG=True
    )
    process(pipe, make_item(title="旧标题"))
    process(pipe, make_item(title="新标题"))
    assert [p.name for p in tmp_path.iterdir()] == ["2022-08-01-imizmscv4373413~新标题.md"]
    assert stats.get_value("markdown/renamed") == 1


def test_other_articles_are_not_touched(tmp_path):
    pipe, _ = build(
        MarkdownPostPipeline, MARKDOWN_POSTS_DIR=str(tmp_path), MARKDOWN_TITLE_SLUG=True
    )
    process(pipe, make_item(doc_id="imizmscv4373413"))
    process(pipe, make_item(doc_id="imizmscv437341"))  # a prefix of the first id
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "2022-08-01-imizmscv4373413~标题-一.md",
        "2022-08-01-imizmscv437341~标题-一.md",
    ]


def test_settings_reach_the_post(tmp_path):
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


def test_not_configured_without_posts_dir():
    with pytest.raises(NotConfigured):
        build(MarkdownPostPipeline, MARKDOWN_POSTS_DIR="")


def test_bad_date_format_fails_fast(tmp_path):
    with pytest.raises(ValueError, match="MARKDOWN_DATE_FORMAT"):
        build(MarkdownPostPipeline, MARKDOWN_POSTS_DIR=str(tmp_path), MARKDOWN_DATE_FORMAT="epoch")


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_unwritable_dir_drops_item_naming_path_and_url(tmp_path):
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


def test_posts_dir_that_is_a_file_drops_item(tmp_path):
    blocker = tmp_path / "posts"
    blocker.write_text("not a directory")
    pipe, _ = build(MarkdownPostPipeline, MARKDOWN_POSTS_DIR=str(blocker))
    with pytest.raises(DropItem, match="cannot write post"):
        process(pipe, make_item())


def test_full_disk_drops_item_naming_path_and_url(tmp_path, monkeypatch):
    import errno

    import pipelines.markdown_posts

    def full(files):
        return [OSError(errno.ENOSPC, "No space left on device") for _ in files]

    monkeypatch.setattr(pipelines.markdown_posts, "write_files_atomically", full)
    pipe, stats = build(MarkdownPostPipeline, MARKDOWN_POSTS_DIR=str(tmp_path))
    with pytest.raises(DropItem) as info:
        process(pipe, make_item())
    assert str(info.value) == (
        f"cannot write post {tmp_path / '2022-08-01-imizmscv4373413.md'} for "
        "https://finance.sina.com.cn/roll/2022-08-01/doc-imizmscv4373413.shtml: "
        "No space left on device"
    )
    assert stats.get_value("markdown/failed") == 1


def test_posts_arriving_together_share_a_batch_and_fail_alone(tmp_path, monkeypatch):
    import asyncio

    import crawler.storage.atomic

    synced = []
    monkeypatch.setattr(crawler.storage.atomic, "_fsync_dir", synced.append)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a posts folder should be")

    class OnePostBlocked(MarkdownPostPipeline):
        def post_path(self, item):
            path = super().post_path(item)
            return blocker / path.name if item.url.endswith("2.shtml") else path

    pipe, stats = build(OnePostBlocked, MARKDOWN_POSTS_DIR=str(tmp_path / "posts"))
    base = "https://finance.sina.com.cn/roll/2022-08-01/doc-imizmscv437341{}.shtml"
    items = [make_item(url=base.format(n), doc_id=f"imizmscv437341{n}") for n in range(5)]

    async def together():
        return await asyncio.gather(*map(pipe.process_item, items), return_exceptions=True)

    results = asyncio.run(together())
    assert isinstance(results[2], DropItem)
    assert [r for i, r in enumerate(results) if i != 2] == [items[0], items[1], items[3], items[4]]
    written = sorted(p.name for p in (tmp_path / "posts").iterdir())
    assert written == [f"2022-08-01-imizmscv437341{n}.md" for n in (0, 1, 3, 4)]
    # The five arrived together: one batch, one sync of the posts folder.
    assert synced == [tmp_path / "posts"]
    assert stats.get_value("markdown/written") == 4
    assert stats.get_value("markdown/failed") == 1


def test_temporaries_a_killed_crawl_left_are_swept_at_start_with_nothing_to_write(tmp_path, caplog):
    import asyncio

    left = tmp_path / ".2022-07-01-ihqfskcn2160999.md.x8y9z0ab.tmp"
    left.write_text("---\ntitle: half")
    someone_elses = tmp_path / ".deploy-lock.tmp"
    someone_elses.write_text("")
    for path in (left, someone_elses):
        os.utime(path, (0, 0))
    pipe, _ = build(MarkdownPostPipeline, MARKDOWN_POSTS_DIR=str(tmp_path))
    with caplog.at_level("INFO", logger="pipelines.markdown_posts"):
        asyncio.run(pipe.sweep())
    assert [p.name for p in tmp_path.iterdir()] == [".deploy-lock.tmp"]
    assert f"Removed 1 temporary files a killed crawl left in {tmp_path}" in caplog.text


def test_a_folder_a_post_path_override_adds_is_swept_when_first_written_to(tmp_path):
    other = tmp_path / "2022"
    other.mkdir()
    left = other / ".2022-08-01-imizmscv4373413.md.q1w2e3r4.tmp"
    left.write_text("---\ntitle: half")
    os.utime(left, (0, 0))

    class ByYear(MarkdownPostPipeline):
        def post_path(self, item):
            return other / super().post_path(item).name

    pipe, _ = build(ByYear, MARKDOWN_POSTS_DIR=str(tmp_path))
    process(pipe, make_item())
    assert [p.name for p in other.iterdir()] == ["2022-08-01-imizmscv4373413.md"]


def test_a_posts_folder_not_there_yet_is_not_an_error_at_start(tmp_path):
    import asyncio

    pipe, _ = build(MarkdownPostPipeline, MARKDOWN_POSTS_DIR=str(tmp_path / "posts"))
    asyncio.run(pipe.sweep())
    assert not (tmp_path / "posts").exists()


def test_a_path_the_os_refuses_fails_its_own_item_alone(tmp_path):
    import asyncio

    class NulInOneName(MarkdownPostPipeline):
        def post_path(self, item):
            path = super().post_path(item)
            return path.with_name("bad\0name.md") if item.url.endswith("1.shtml") else path

    pipe, stats = build(NulInOneName, MARKDOWN_POSTS_DIR=str(tmp_path))
    base = "https://finance.sina.com.cn/roll/2022-08-01/doc-imizmscv437341{}.shtml"
    items = [make_item(url=base.format(n), doc_id=f"imizmscv437341{n}") for n in range(3)]

    async def together():
        return await asyncio.gather(*map(pipe.process_item, items), return_exceptions=True)

    first, bad, third = asyncio.run(together())
    assert isinstance(bad, ValueError)
    assert (first, third) == (items[0], items[2])
    assert stats.get_value("markdown/written") == 2


def test_a_posts_folder_that_is_a_file_is_left_to_the_writes_to_report(tmp_path):
    import asyncio

    blocker = tmp_path / "posts"
    blocker.write_text("not a directory")
    pipe, _ = build(MarkdownPostPipeline, MARKDOWN_POSTS_DIR=str(blocker))
    asyncio.run(pipe.sweep())  # no error at start
    with pytest.raises(DropItem, match="cannot write post"):
        process(pipe, make_item())
