"""Sina's roll channels: the table and how names, slugs and groups resolve."""

from __future__ import annotations

import pytest

from crawler.site.channels import CHANNELS, GROUPS, UnknownChannel, resolve_channels


def test_channel_table_matches_the_issue():
    table = {c.lid: (c.pageid, c.name) for c in CHANNELS}
    assert table == {
        2519: (384, "财经"),
        2671: (384, "股市"),
        2672: (384, "美股"),
        2673: (384, "中国概念股"),
        2674: (384, "港股"),
        2675: (384, "研究报告"),
        2676: (384, "全球市场"),
        2487: (384, "外汇"),
        1686: (155, "国内滚动"),
        1687: (155, "宏观经济"),
        1690: (155, "金融新闻"),
        1688: (155, "地方经济"),
        1689: (155, "部委动态"),
    }
    assert len(GROUPS["all"]) == 13
    assert len({c.slug for c in CHANNELS}) == 13


@pytest.mark.parametrize("token", ["9999", "crypto", "", "财"])
def test_unknown_channels(token):
    with pytest.raises(UnknownChannel):
        resolve_channels(token)
