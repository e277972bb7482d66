"""Hexo post rendering: an ArticleItem in, front-matter Markdown text and a safe file name out."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import yaml

from crawler.site.cleaning import first_image

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

    from crawler.items import ArticleItem

DATE_FORMATS = ("gmt", "iso", "local")
BODY_FORMATS = ("html", "markdown")
EXTRA_KEYS = ("tags", "source_url", "editor")
MAX_NAME_BYTES = 200
# Sina doc ids are ASCII letters and digits (`ihqfskcn2160999`, `13562762964`); anything else is
# treated as hostile or missing and replaced by a hash of the URL.
_DOC_ID = re.compile(r"[A-Za-z0-9]{1,64}")
_SLUG_JUNK = re.compile(r"[\W_]+")
# Hexo runs every post through Nunjucks: `{{`, `{%` and `{#` in an article would break the build.
_NUNJUCKS_ESCAPES = str.maketrans({"{": "&#123;", "}": "&#125;"})
_FULLWIDTH_SPACE = "\u3000"
_INDENT_PLACEHOLDER = "\ue000"  # private-use: survives markdownify's whitespace stripping


@dataclass(frozen=True)
class PostOptions:
    """How posts look: the MARKDOWN_* settings, whose defaults live in crawler/settings.py."""

    category_root: str | None
    site_name: str
    channel_separator: str
    default_image: str
    comments: bool
    date_format: str
    timezone: str
    body_format: str
    extra_keys: tuple[str, ...]
    title_slug: bool

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> PostOptions:
        """Build the options from the MARKDOWN_* settings; ValueError names a bad one."""
        return cls(
            category_root=settings.get("MARKDOWN_CATEGORY_ROOT") or None,
            site_name=settings.get("MARKDOWN_SITE_NAME"),
            channel_separator=settings.get("MARKDOWN_CHANNEL_SEPARATOR"),
            default_image=settings.get("MARKDOWN_DEFAULT_IMAGE"),
            comments=settings.getbool("MARKDOWN_COMMENTS"),
            date_format=settings.get("MARKDOWN_DATE_FORMAT"),
            timezone=settings.get("MARKDOWN_TIMEZONE"),
            body_format=settings.get("MARKDOWN_BODY_FORMAT"),
            extra_keys=tuple(settings.getlist("MARKDOWN_EXTRA_KEYS")),
            title_slug=settings.getbool("MARKDOWN_TITLE_SLUG"),
        )

    def __post_init__(self) -> None:
        if self.date_format not in DATE_FORMATS:
            raise ValueError(f"MARKDOWN_DATE_FORMAT must be one of {DATE_FORMATS}")
        if self.body_format not in BODY_FORMATS:
            raise ValueError(f"MARKDOWN_BODY_FORMAT must be one of {BODY_FORMATS}")
        unknown = set(self.extra_keys) - set(EXTRA_KEYS)
        if unknown:
            raise ValueError(f"MARKDOWN_EXTRA_KEYS: unknown {sorted(unknown)}; use {EXTRA_KEYS}")
        ZoneInfo(self.timezone)  # fail at start-up, not on the first item


class _Quoted(str):
    """A string the YAML emitter writes single-quoted, as the example post quotes titles/URLs."""


class _PostDumper(yaml.SafeDumper):
    """SafeDumper that indents block lists under their key, as the example post does."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True  # `updated` is the same datetime as `date`: write it out, not as `*id001`


# What YAML can hold inside single quotes: its printable set, minus line breaks and the BOM.
_SINGLE_QUOTABLE = re.compile(
    "[\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]*"
)


def _represent_quoted(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    # Single quotes cannot escape anything: a line break inside them is folded on load, and
    # control characters are not allowed. Such strings go double-quoted, with escapes.
    style = "'" if _SINGLE_QUOTABLE.fullmatch(data) else '"'
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_PostDumper.add_representer(_Quoted, _represent_quoted)


def format_date(value: datetime, options: PostOptions) -> str | datetime:
    """Render the publish time in the form the Hexo site needs (README: Output).

    >>> from dataclasses import replace
    >>> from zoneinfo import ZoneInfo
    >>> from scrapy.utils.project import get_project_settings
    >>> options = PostOptions.from_settings(get_project_settings())
    >>> d = datetime(2022, 8, 1, 11, 23, 57, tzinfo=ZoneInfo("Asia/Shanghai"))
    >>> format_date(d, options)
    'Mon, 01 Aug 2022 03:23:57 GMT'
    >>> format_date(d, replace(options, date_format="local"))
    datetime.datetime(2022, 8, 1, 11, 23, 57)
    """
    if options.date_format == "gmt":
        return format_datetime(value.astimezone(UTC), usegmt=True)
    if options.date_format == "local":
        # A naive datetime: YAML writes it unquoted, Hexo reads it in its `timezone`.
        return value.astimezone(ZoneInfo(options.timezone)).replace(tzinfo=None)
    return value


def post_categories(channel: str | None, options: PostOptions) -> list[str]:
    """Root, site, site+channel: the three-level hierarchy of the example post.

    >>> from dataclasses import replace
    >>> from scrapy.utils.project import get_project_settings
    >>> options = PostOptions.from_settings(get_project_settings())
    >>> post_categories("国内", options)
    ['金融', '新浪财经', '新浪财经－国内']
    >>> post_categories(None, replace(options, category_root=None))
    ['新浪财经']
    """
    levels = [options.category_root] if options.category_root else []
    levels.append(options.site_name)
    if channel and channel.strip():
        levels.append(f"{options.site_name}{options.channel_separator}{channel.strip()}")
    return levels


def front_matter(item: ArticleItem, body: str, options: PostOptions) -> dict[str, Any]:
    """Build the front-matter mapping: the example post's keys in order, `updated`, then extras."""
    image = first_image(body) or item.headimg or options.default_image
    date = format_date(item.date, options) if item.date else None
    matter: dict[str, Any] = {
        "title": _Quoted(item.title or ""),
        "categories": post_categories(item.channel, options),
        "headimg": _Quoted(image),
        "author": item.author or options.site_name,
        "comments": options.comments,
        "date": date,
        "thumbnail": _Quoted(image),
        # After the example post's keys: without it Hexo shows the file's mtime (the crawl
        # time) as the post's update time.
        "updated": date,
    }
    if "tags" in options.extra_keys and item.keywords:
        matter["tags"] = list(item.keywords)
    if "source_url" in options.extra_keys and item.url:
        matter["source_url"] = item.url
    if "editor" in options.extra_keys and item.editor:
        matter["editor"] = item.editor
    return matter


def html_to_markdown(html: str) -> str:
    r"""Convert cleaned HTML to Markdown, keeping full-width paragraph indents as text.

    >>> html_to_markdown("<div><p>　　第一段</p><p>　　<b>第二段</b></p></div>")
    '　　第一段\n\n　　**第二段**'
    """
    from markdownify import markdownify  # only needed in markdown mode

    protected = html.replace(_FULLWIDTH_SPACE, _INDENT_PLACEHOLDER)
    text = markdownify(protected, heading_style="ATX", bullets="-", wrap=False)
    text = text.replace(_INDENT_PLACEHOLDER, _FULLWIDTH_SPACE)
    # ASCII indentation of four or more would make a code block.
    lines = [
        line.lstrip(" \t") if not line.startswith(("- ", "* ")) else line
        for line in text.splitlines()
    ]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")


# Values the fast path writes itself: plain text of letters, CJK and a few marks, and the
# single-quoted strings. Anything else goes through PyYAML's emitter, whose choices the fast path
# copies for these (PyYAML's pure-Python emitter was a third of a page's cost).
_PLAIN_SAFE = re.compile(
    r"[A-Za-z\u3400-\u9fff\uf900-\ufaff\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]"
    r"[\w\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff01-\uff5e·. ()-]*",
)
# The `gmt` date form (format_date), which PyYAML writes plain.
_GMT_DATE = re.compile(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT")
_STR_TAG = "tag:yaml.org,2002:str"
_RESOLVER = yaml.resolver.Resolver()


def _plain(value: str) -> str | None:
    """Return a string as PyYAML writes it plain, or None when it needs PyYAML to decide."""
    if _GMT_DATE.fullmatch(value):
        return value
    if (
        _PLAIN_SAFE.fullmatch(value)
        and not value.endswith(" ")
        and "  " not in value
        and _RESOLVER.resolve(yaml.ScalarNode, value, (True, False)) == _STR_TAG
    ):
        return value
    return None


def _scalar(value: Any) -> str | None:
    if isinstance(value, _Quoted):
        if _SINGLE_QUOTABLE.fullmatch(value) and "\n" not in value:
            return "'" + value.replace("'", "''") + "'"
        return None
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _plain(value)
    return None


def dump_front_matter(matter: dict[str, Any]) -> str:
    """Write the front matter as YAML: block lists indented under their key, as Hexo's are."""
    lines = []
    for key, value in matter.items():
        if isinstance(value, list):
            entries = [_scalar(entry) if isinstance(entry, str) else None for entry in value]
            if not entries or None in entries:
                break
            lines.append(f"{key}:")
            lines.extend(f"  - {entry}" for entry in entries)
            continue
        text = _scalar(value)
        if text is None:
            break
        lines.append(f"{key}: {text}")
    else:
        return "\n".join(lines) + "\n"
    return yaml.dump(
        matter,
        Dumper=_PostDumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=2**31 - 1,
    )


def render_post(item: ArticleItem, options: PostOptions) -> str:
    """Render one Hexo post: `---` YAML front matter, then the cleaned body."""
    body = item.body or ""
    matter = dump_front_matter(front_matter(item, body, options))
    if options.body_format == "markdown":
        body = html_to_markdown(body)
    if "{" in body or "}" in body:  # a scan, cheaper than translating every body
        body = body.translate(_NUNJUCKS_ESCAPES)
    return f"---\n{matter}---\n\n{body}\n"


def article_key(item: ArticleItem) -> str:
    """Return the article part of its file name: the Sina doc id, or a hash of the URL.

    A hash key starts with `_`, which no doc id contains, so the two never collide.

    >>> from crawler.items import ArticleItem
    >>> article_key(ArticleItem(url="https://x/doc-ihqfskcn2160999.shtml", doc_id="ihqfskcn2160999"))
    'ihqfskcn2160999'
    >>> article_key(ArticleItem(url="https://x/a.shtml", doc_id="../../etc"))
    '_cce0be8651859e1fe890'
    """
    doc_id = item.doc_id or ""
    if _DOC_ID.fullmatch(doc_id):
        return doc_id
    digest = hashlib.sha1((item.url or "").encode("utf-8"), usedforsecurity=False)
    return "_" + digest.hexdigest()[:20]


def title_slug(title: str | None, max_bytes: int) -> str:
    """Slug the title for file names: letters and digits of any script joined by `-`.

    >>> title_slug("上海银保监局：支持/“保交楼”工作!", 200)
    '上海银保监局-支持-保交楼-工作'
    >>> title_slug("上海银保监局", 7)
    '上海'
    """
    text = unicodedata.normalize("NFC", title or "")
    slug = _SLUG_JUNK.sub("-", text).strip("-")
    encoded = slug.encode("utf-8")[:max_bytes]
    return encoded.decode("utf-8", errors="ignore").rstrip("-")


def post_stem(item: ArticleItem, options: PostOptions) -> str:
    """`<YYYY-MM-DD>-<key>` in the site's time zone: the part of the name that never changes."""
    day = (
        item.date.astimezone(ZoneInfo(options.timezone)).strftime("%Y-%m-%d")
        if item.date
        else "undated"
    )
    return f"{day}-{article_key(item)}"


def post_filename(item: ArticleItem, options: PostOptions) -> str:
    """File name of the item's post: stable, unique per article, safe everywhere, <= 200 bytes.

    With ``title_slug`` the slug follows a `~`, which neither the date nor the key contains,
    so the stem still names the article when the title changes.
    """
    stem = post_stem(item, options)
    if options.title_slug:
        room = MAX_NAME_BYTES - len(stem.encode()) - len("~.md")
        slug = title_slug(item.title, room)
        if slug:
            return f"{stem}~{slug}.md"
    return f"{stem}.md"
