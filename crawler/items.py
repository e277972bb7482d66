"""The article item: the fields every component and JSON-lines consumer relies on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


def _isoformat(value: datetime | None) -> str | None:
    """Serialise the publish time with its offset (Scrapy's JSON encoder would drop it).

    >>> from datetime import timedelta, timezone
    >>> _isoformat(datetime(2022, 8, 1, 11, 23, tzinfo=timezone(timedelta(hours=8))))
    '2022-08-01T11:23:00+08:00'
    """
    return value.isoformat() if value is not None else None


@dataclass
class ArticleItem:
    """One Sina article. Every field defaults to None, as Scrapy's loader docs recommend."""

    url: str | None = None
    doc_id: str | None = None
    title: str | None = None
    author: str | None = None
    editor: str | None = None
    date: datetime | None = field(default=None, metadata={"serializer": _isoformat})
    body: str | None = None
    categories: list[str] | None = None
    keywords: list[str] | None = None
    headimg: str | None = None
    channel: str | None = None
    # Which page template the fields came from ('modern', 'artibody', 'mobile', 'table2005'),
    # or 'generic' when none matched and the fallback extractor read the page.
    template: str | None = None
