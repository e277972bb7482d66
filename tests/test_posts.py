"""Post rendering and file names: items are built here; their URLs are only text, nothing is fetched."""

from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from scrapy.utils.project import get_project_settings

from crawler.items import ArticleItem
from crawler.site.cleaning import clean_body
from crawler.site.posts import PostOptions, post_filename, render_post

SEED = Path(__file__).parent / "fixtures" / "seed" / "example-post.md"
SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_IMAGE = "https://n.sinaimg.cn/finance/cece9e13/20200514/343233024.png"
OPTIONS = PostOptions.from_settings(get_project_settings())  # the defaults in crawler/settings.py


def options(**changes) -> PostOptions:
    return replace(OPTIONS, **changes)


def split_post(text: str) -> tuple[str, str]:
    _, matter, body = text.split("---\n", 2)
    return matter, body


def example_item(**changes) -> ArticleItem:
    _, raw_body = split_post(SEED.read_text(encoding="utf-8"))
    fields = {
        "url": "https://finance.sina.com.cn/money/bank/2022-08-01/doc-imizmscv4373413.shtml",
        "doc_id": "imizmscv4373413",
        "title": "上海银保监局局长王俊寿：支持地方政府做好_保交楼_工作",
        "author": "新浪财经",
        "editor": "王蒙",
        "date": datetime(2022, 8, 1, 11, 23, 57, tzinfo=SHANGHAI),
        "body": clean_body(raw_body, "https://finance.sina.com.cn/"),
        "channel": "国內",
        "keywords": ["保交楼", "银保监"],
    }
    fields.update(changes)
    return ArticleItem(**fields)


def test_golden_front_matter_matches_example():
    expected_matter, _ = split_post(SEED.read_text(encoding="utf-8"))
    matter, _body = split_post(render_post(example_item(), OPTIONS))
    expected = yaml.safe_load(expected_matter)
    # The example's keys, values and order, then `updated` (the publish date, for themes that
    # show an update time).
    assert yaml.safe_load(matter) == {**expected, "updated": expected["date"]}
    assert list(yaml.safe_load(matter)) == [*expected, "updated"]
    assert "updated: Mon, 01 Aug 2022 03:23:57 GMT" in matter.splitlines()
    lines = matter.splitlines()
    expected_lines = expected_matter.splitlines()
    for key in ("title", "headimg", "thumbnail", "author", "comments", "date"):
        line = next(x for x in lines if x.startswith(f"{key}:"))
        assert line == next(x.rstrip() for x in expected_lines if x.startswith(f"{key}:"))
    # Same list style: a block list, one `- item` per line.
    assert [x.strip() for x in lines if x.strip().startswith("- ")] == [
        "- 金融",
        "- 新浪财经",
        "- 新浪财经－国內",
    ]


def test_golden_body_is_example_minus_junk():
    _, body = split_post(render_post(example_item(), OPTIONS))
    assert body.startswith("\n<div>\n<p>　　原标题：上海银保监局局长王俊寿：进一步强化风险防范化解")
    assert body.endswith("等18条意见。</p>\n<p>责任编辑：王蒙 </p>\n</div>\n")
    for junk in ("<!--", "<style", "appendQr", "海量资讯", "quote_sh601229", "&#123;border"):
        assert junk not in body
    assert (
        '推进<a href="https://finance.sina.com.cn/realstock/company/sh601229/nc.shtml">上海银行</a>业'
        in body
    )
    assert body.count("<p>") == 11  # ten paragraphs and the editor line


def test_full_front_matter_exact_text():
    item = example_item(title="It's: a #test ---", channel="国内", keywords=["A股"])
    extras = options(extra_keys=("tags", "source_url", "editor"))
    matter, _ = split_post(render_post(item, extras))
    assert matter == (
        "title: 'It''s: a #test ---'\n"
        "categories:\n"
        "  - 金融\n"
        "  - 新浪财经\n"
        "  - 新浪财经－国内\n"
        f"headimg: '{DEFAULT_IMAGE}'\n"
        "author: 新浪财经\n"
        "comments: false\n"
        "date: Mon, 01 Aug 2022 03:23:57 GMT\n"
        f"thumbnail: '{DEFAULT_IMAGE}'\n"
        "updated: Mon, 01 Aug 2022 03:23:57 GMT\n"
        "tags:\n"
        "  - A股\n"
        "source_url: https://finance.sina.com.cn/money/bank/2022-08-01/doc-imizmscv4373413.shtml\n"
        "editor: 王蒙\n"
    )


@pytest.mark.parametrize(
    ("date_format", "line"),
    [
        ("gmt", "date: Mon, 01 Aug 2022 03:23:57 GMT"),
        ("local", "date: 2022-08-01 11:23:57"),
        ("iso", "date: 2022-08-01 11:23:57+08:00"),
    ],
)
def test_date_formats(date_format, line):
    matter, _ = split_post(render_post(example_item(), options(date_format=date_format)))
    assert line in matter.splitlines()
    assert line.replace("date:", "updated:", 1) in matter.splitlines()  # written out, no alias


def test_first_body_image_becomes_headimg():
    body = '<div><p>x</p><img src="https://n.sinaimg.cn/a.jpg" referrerpolicy="no-referrer"></div>'
    data = yaml.safe_load(split_post(render_post(example_item(body=body), OPTIONS))[0])
    assert data["headimg"] == data["thumbnail"] == "https://n.sinaimg.cn/a.jpg"


def test_no_channel_gives_two_levels_and_comments_setting():
    data = yaml.safe_load(
        split_post(render_post(example_item(channel=None), options(comments=True)))[0]
    )
    assert data["categories"] == ["金融", "新浪财经"]
    assert data["comments"] is True


def test_nunjucks_braces_escaped_in_body():
    _, body = split_post(
        render_post(example_item(body="<div><p>{{ x }} {% y %}</p></div>"), OPTIONS)
    )
    assert body == "\n<div><p>&#123;&#123; x &#125;&#125; &#123;% y %&#125;</p></div>\n"


def test_markdown_body_keeps_indents_and_never_indents_code():
    item = example_item(
        body='<div><p>　　第一段<a href="https://a/">链接</a></p>\n<p>\xa0\xa0\xa0\xa0第二段</p>'
        "<h2>小标题</h2></div>"
    )
    _, body = split_post(render_post(item, options(body_format="markdown")))
    assert body == "\n　　第一段[链接](https://a/)\n\n\xa0\xa0\xa0\xa0第二段\n\n## 小标题\n"


def test_bad_options_fail_fast():
    with pytest.raises(ValueError, match="MARKDOWN_DATE_FORMAT"):
        options(date_format="unix")
    with pytest.raises(ValueError, match="MARKDOWN_BODY_FORMAT"):
        options(body_format="rst")


# --- file names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "slug", "expected"),
    [
        ({}, False, "2022-08-01-imizmscv4373413.md"),
        (
            {},
            True,
            "2022-08-01-imizmscv4373413~上海银保监局局长王俊寿-支持地方政府做好-保交楼-工作.md",
        ),
        # Publish time after 16:00 UTC is the next day in Beijing, the day Sina shows.
        (
            {"date": datetime(2022, 7, 31, 16, 30, tzinfo=ZoneInfo("UTC"))},
            False,
            "2022-08-01-imizmscv4373413.md",
        ),
        ({"doc_id": "../../etc/passwd"}, False, "2022-08-01-_de6ab8b8d0a2f0c1e8c4.md"),
        ({"doc_id": None}, False, "2022-08-01-_de6ab8b8d0a2f0c1e8c4.md"),
        ({"doc_id": "a/b"}, False, "2022-08-01-_de6ab8b8d0a2f0c1e8c4.md"),
        ({"date": None}, False, "undated-imizmscv4373413.md"),
        ({"title": "../../.ssh/id_rsa"}, True, "2022-08-01-imizmscv4373413~ssh-id-rsa.md"),
        ({"title": "a\nb\x00c\x1fd: e"}, True, "2022-08-01-imizmscv4373413~a-b-c-d-e.md"),
        ({"title": "涨停🚀🚀A股"}, True, "2022-08-01-imizmscv4373413~涨停-A股.md"),
        ({"title": '🚀/\\:*?"<>|'}, True, "2022-08-01-imizmscv4373413.md"),
    ],
)
def test_post_filename(changes, slug, expected):
    item = example_item(**changes)
    if changes.get("doc_id", "x") in (None, "a/b", "../../etc/passwd"):
        expected = expected.replace("_de6ab8b8d0a2f0c1e8c4", _url_key(item.url))
    assert post_filename(item, options(title_slug=slug)) == expected


def _url_key(url: str) -> str:
    import hashlib

    return "_" + hashlib.sha1(url.encode(), usedforsecurity=False).hexdigest()[:20]


def test_long_title_filename_is_cut_to_200_bytes_on_a_character_boundary():
    name = post_filename(example_item(title="长" * 300), options(title_slug=True))
    assert len(name.encode()) <= 200
    assert name == "2022-08-01-imizmscv4373413~" + "长" * 56 + ".md"


# --- properties ----------------------------------------------------------------------------

titles = st.text(st.characters(exclude_categories=("Cs",)), max_size=400)


@settings(max_examples=300, deadline=None)
@given(title=titles)
def test_any_title_round_trips_through_front_matter(title):
    matter, _ = split_post(render_post(example_item(title=title), OPTIONS))
    assert yaml.safe_load(matter)["title"] == title


@settings(max_examples=300, deadline=None)
@given(title=titles, doc_id=st.none() | st.text(max_size=80), url=st.text(min_size=1, max_size=80))
def test_any_title_gives_a_safe_file_name(tmp_path_factory, title, doc_id, url):
    item = example_item(title=title, doc_id=doc_id, url=url)
    name = post_filename(item, options(title_slug=True))
    assert len(name.encode("utf-8")) <= 200
    assert name.endswith(".md")
    assert not any(c in name for c in '/\\:*?"<>|')
    assert name.isprintable()
    assert not name.startswith(".")
    assert name == name.strip()
    root = tmp_path_factory.getbasetemp()
    assert (root / name).resolve().parent == root.resolve()


@settings(max_examples=200, deadline=None)
@given(
    a=st.tuples(st.none() | st.text(max_size=20), st.text(min_size=1, max_size=30)),
    b=st.tuples(st.none() | st.text(max_size=20), st.text(min_size=1, max_size=30)),
    title_a=titles,
    title_b=titles,
)
def test_different_articles_never_share_a_file_name(a, b, title_a, title_b):
    item_a = example_item(doc_id=a[0], url=a[1], title=title_a)
    item_b = example_item(doc_id=b[0], url=b[1], title=title_b)
    # Two items are the same article when they carry the same usable doc id, else the same URL.
    same = post_filename(item_a, OPTIONS) == post_filename(item_b, OPTIONS)
    slugged = options(title_slug=True)
    if (a[0] or "") != (b[0] or "") and a[1] != b[1]:
        assert not same
        assert post_filename(item_a, slugged) != post_filename(item_b, slugged)


@pytest.mark.parametrize(
    ("title", "line"),
    [
        ("全角　空格", "title: '全角　空格'"),
        ("a\nb", 'title: "a\\nb"'),
        ("tab\there", 'title: "tab\\there"'),
        ("bell\x07", 'title: "bell\\a"'),
        ("---", "title: '---'"),
        ("😀 emoji", "title: '😀 emoji'"),
    ],
)
def test_title_quoting(title, line):
    matter, _ = split_post(render_post(example_item(title=title), OPTIONS))
    assert matter.splitlines()[0] == line
    assert yaml.safe_load(matter)["title"] == title
