"""The stand-in for Sina itself: it serves the sample pages and guards its roll API like Sina."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.e2e.samples import T0, TITLES, URLS
from tests.standin import fixture_urls, page_key

pytestmark = pytest.mark.e2e


def test_known_pages_are_served_fixtures():
    served = {page_key(u) for u in fixture_urls()}
    assert set(TITLES) <= served
    assert len(URLS) == 10


def test_standin_refuses_roll_calls_without_referer(standin):
    standin.add_entries(URLS[:1], start=T0)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    url = f"{standin.url}/api/roll/get?pageid=384&lid=2519&num=50&page=1"
    with pytest.raises(urllib.error.HTTPError) as info:
        opener.open(url, timeout=10)
    assert info.value.code == 403
    info.value.close()
    request = urllib.request.Request(url, headers={"Referer": "https://news.sina.com.cn/"})
    with opener.open(request, timeout=10) as answer:
        doc = json.load(answer)
    assert [row["url"] for row in doc["result"]["data"]] == URLS[:1]
