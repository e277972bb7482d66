"""crawler.storage.seen_keys: sets on disk for listed keys and the duplicate filter."""

from __future__ import annotations

import pytest
import scrapy
from scrapy.utils.test import get_crawler

from crawler.storage.seen_keys import SeenKeys, SeenKeysDupeFilter


def test_keys_of_both_kinds_and_many_of_them():
    seen = SeenKeys()
    seen.update(f"sina:i{n:014d}" for n in range(20_000))
    assert len(seen) == 20_000
    assert "sina:i00000000019999" in seen
    assert not seen.add("sina:i00000000000007")
    assert seen.add(b"\x00\xff")
    assert b"\x00\xff" in seen
    assert "\x00\xff" not in seen  # bytes and str keys stay distinct
    seen.close()


def filter_for(jobdir=None) -> SeenKeysDupeFilter:
    settings = {"JOBDIR": str(jobdir)} if jobdir else {}
    return SeenKeysDupeFilter.from_crawler(get_crawler(settings_dict=settings))


def test_dupefilter_filters_what_scrapys_filters():
    dupes = filter_for()
    first = scrapy.Request("http://127.0.0.1/a?x=1&y=2")
    assert not dupes.request_seen(first)
    assert dupes.request_seen(scrapy.Request("http://127.0.0.1/a?y=2&x=1"))  # canonical URL
    assert not dupes.request_seen(scrapy.Request("http://127.0.0.1/a?x=1&y=2", method="POST"))
    dupes.close("finished")


def test_a_jobdir_filter_remembers_across_runs(tmp_path):
    dupes = filter_for(tmp_path)
    assert not dupes.request_seen(scrapy.Request("http://127.0.0.1/a"))
    dupes.close("shutdown")
    assert (tmp_path / "requests.seen").exists()
    resumed = filter_for(tmp_path)
    assert resumed.request_seen(scrapy.Request("http://127.0.0.1/a"))
    assert not resumed.request_seen(scrapy.Request("http://127.0.0.1/b"))
    resumed.close("finished")


def test_a_jobdir_of_another_format_is_refused_in_one_line(tmp_path):
    (tmp_path / "requests.seen").write_bytes(b"\x00\x14" + bytes(20))  # Scrapy's own format
    with pytest.raises(RuntimeError, match=r"^cannot use .*requests\.seen as a set of seen keys: "):
        filter_for(tmp_path)
