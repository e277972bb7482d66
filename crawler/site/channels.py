"""The table of Sina roll-API channels (pageid + lid) and the names users may call them by."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Channel:
    """One roll-API channel: Sina's page id and list id, and its readable Chinese name."""

    pageid: int
    lid: int
    name: str
    slug: str


CHANNELS: tuple[Channel, ...] = (
    # pageid 384: the finance roll (finance.sina.com.cn/roll)
    Channel(384, 2519, "财经", "finance"),
    Channel(384, 2671, "股市", "stock"),
    Channel(384, 2672, "美股", "usstock"),
    Channel(384, 2673, "中国概念股", "chinaconcept"),
    Channel(384, 2674, "港股", "hkstock"),
    Channel(384, 2675, "研究报告", "research"),
    Channel(384, 2676, "全球市场", "global"),
    Channel(384, 2487, "外汇", "forex"),
    # pageid 155: the economy news roll
    Channel(155, 1686, "国内滚动", "domestic"),
    Channel(155, 1687, "宏观经济", "macro"),
    Channel(155, 1690, "金融新闻", "banking"),
    Channel(155, 1688, "地方经济", "local"),
    Channel(155, 1689, "部委动态", "ministries"),
)

# Named groups, so `-a lids=finance-all` does not need eight ids.
GROUPS: dict[str, tuple[int, ...]] = {
    "finance-all": tuple(c.lid for c in CHANNELS if c.pageid == 384),
    "economy-all": tuple(c.lid for c in CHANNELS if c.pageid == 155),
    "all": tuple(c.lid for c in CHANNELS),
}

# 2519 is the whole finance roll (every finance sub-channel's entries appear in it), so one
# channel covers finance at the cost of one request a page; cron runs stay light.
DEFAULT_LIDS: tuple[int, ...] = (2519,)

_BY_LID = {c.lid: c for c in CHANNELS}


class UnknownChannel(ValueError):
    """A channel token that is neither a known lid, a name, a slug nor a group."""


def resolve_channels(token: str) -> list[Channel]:
    """Resolve one user token (lid, Chinese name, slug or group) to channels.

    >>> [c.lid for c in resolve_channels("2671")]
    [2671]
    >>> [c.lid for c in resolve_channels("港股")]
    [2674]
    >>> [c.name for c in resolve_channels("FOREX")]
    ['外汇']
    >>> len(resolve_channels("economy-all"))
    5
    >>> resolve_channels("crypto")
    Traceback (most recent call last):
    ...
    crawler.site.channels.UnknownChannel: unknown channel 'crypto'
    """
    key = token.strip()
    if key.isdigit() and int(key) in _BY_LID:
        return [_BY_LID[int(key)]]
    lowered = key.lower()
    if lowered in GROUPS:
        return [_BY_LID[lid] for lid in GROUPS[lowered]]
    for channel in CHANNELS:
        if key == channel.name or lowered == channel.slug:
            return [channel]
    raise UnknownChannel(f"unknown channel {token!r}")


def default_channels() -> list[Channel]:
    """Return the channels crawled when `-a lids=` is not given."""
    return [_BY_LID[lid] for lid in DEFAULT_LIDS]
