"""Canonical keys and the SQLite state: URLs here are only text; nothing is fetched, no fixture needed."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from crawler import settings as project
from crawler.storage.crawl_state import (
    SQLiteState,
    StateUnusable,
    canonical_key,
    check_state,
    open_state,
)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (
            "http://finance.sina.com.cn/roll/2018-12-28/doc-ihqfskcn2160999.shtml",
            "https://finance.sina.com.cn/roll/2018-12-28/doc-ihqfskcn2160999.shtml?cre=x#top",
        ),
        (
            "https://finance.sina.com.cn/roll/2018-12-28/doc-ihqfskcn2160999.shtml",
            "https://finance.sina.cn/2018-12-28/detail-ihqfskcn2160999.d.html",
        ),
        ("http://ent.sina.com.cn/y/2009/1.shtml", "https://ENT.sina.com.cn/y/2009/1.shtml?a=b"),
        ("http://www.sina.com.cn/a.shtml", "http://m.sina.com.cn/a.shtml"),
    ],
)
def test_same_article_same_key(a, b):
    assert canonical_key(a) == canonical_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("http://finance.sina.com.cn/a/1.shtml", "http://finance.sina.com.cn/a/2.shtml"),
        ("http://finance.sina.com.cn/a/1.shtml", "http://tech.sina.com.cn/a/1.shtml"),
        (
            "https://finance.sina.com.cn/doc-ihqfskcn2160999.shtml",
            "https://finance.sina.com.cn/doc-ihqfskcn2160998.shtml",
        ),
    ],
)
def test_different_articles_different_keys(a, b):
    assert canonical_key(a) != canonical_key(b)


def test_sqlite_state_persists_across_opens(tmp_path):
    path = tmp_path / "deep" / "articles.sqlite3"
    state = SQLiteState(path)
    assert not state.is_saved("sina:ihqfskcn2160999")
    state.mark_saved("sina:ihqfskcn2160999", "http://f/doc-ihqfskcn2160999.shtml", "T")
    state.mark_saved("sina:ihqfskcn2160999", "https://f/doc-ihqfskcn2160999.shtml", "T2")
    assert state.count() == 1
    state.close()
    again = SQLiteState(path)
    assert again.is_saved("sina:ihqfskcn2160999")
    assert not again.is_saved("sina:iother000000001")
    again.close()
    db = sqlite3.connect(path)
    rows = db.execute("SELECT key, url, title FROM saved").fetchall()
    db.close()
    assert rows == [("sina:ihqfskcn2160999", "https://f/doc-ihqfskcn2160999.shtml", "T2")]


def test_a_mark_is_visible_to_another_connection_at_once(tmp_path):
    writer, reader = SQLiteState(tmp_path / "s.db"), SQLiteState(tmp_path / "s.db")
    writer.mark_saved("k", "http://u")
    assert reader.is_saved("k")  # autocommit: a kill right after loses nothing
    writer.close()
    reader.close()


def test_open_state_uses_the_settings(tmp_path):
    crawler = get_crawler(
        settings_dict={
            "CRAWL_STATE_DIR": str(tmp_path / "st"),
            "CRAWL_STATE_CLASS": project.CRAWL_STATE_CLASS,
        }
    )
    state = open_state(crawler.settings)
    assert isinstance(state, SQLiteState)
    assert state.path == tmp_path / "st" / "articles.sqlite3"
    state.close()


class RecordingState:
    def __init__(self):
        self.marked: list[tuple[str, str, str | None]] = []

    @classmethod
    def from_settings(cls, settings):
        return cls()

    def is_saved(self, key):
        return False

    def mark_saved(self, key, url, title=None):
        self.marked.append((key, url, title))

    def close(self):
        pass


def test_state_class_is_pluggable(tmp_path):
    crawler = get_crawler(
        settings_dict={
            "CRAWL_STATE_DIR": str(tmp_path),
            "CRAWL_STATE_CLASS": f"{__name__}.RecordingState",
        }
    )
    assert isinstance(open_state(crawler.settings), RecordingState)


def test_skipped_pages_are_remembered_apart_from_saved_ones(tmp_path):
    state = SQLiteState(tmp_path / "s.db")
    state.mark_skipped(
        "video.sina.com.cn/p/1.html", "http://video.sina.com.cn/p/1.html", "video page"
    )
    assert state.is_skipped("video.sina.com.cn/p/1.html")
    assert not state.is_saved("video.sina.com.cn/p/1.html")
    assert state.count() == 0
    state.close()


def test_page_failures_are_counted_per_run_and_parked_reasons_kept(tmp_path):
    state = SQLiteState(tmp_path / "s.db")
    key, url = "sina:indeaddd0000001", "http://finance.sina.com.cn/doc-indeaddd0000001.shtml"
    assert [state.record_page_failure(key, url, "HTTP 404") for _ in range(3)] == [1, 2, 3]
    assert state.skip_reason(key) is None
    state.mark_skipped(key, url, "parked: HTTP 404 on 3 runs")
    assert state.skip_reason(key) == "parked: HTTP 404 on 3 runs"
    state.close()
    reopened = SQLiteState(tmp_path / "s.db")  # the count survives the run
    assert reopened.record_page_failure(key, url, "HTTP 404") == 4
    reopened.close()


ROWS = 2000


def real_state(path):
    state = SQLiteState(path)
    for i in range(ROWS):
        state.mark_saved(f"k{i}", f"http://news.sina.com.cn/{i}.shtml" * 3, "标题" * 20)
    state.close()
    # Fold the WAL into the main file, as a finished run leaves it.
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path


def test_a_healthy_state_opens(tmp_path):
    state = SQLiteState(real_state(tmp_path / "articles.sqlite3"))
    assert state.count() == ROWS
    state.close()


def test_a_page_overwritten_is_found_at_open(tmp_path):
    path = real_state(tmp_path / "articles.sqlite3")
    with path.open("r+b") as data:
        data.seek(5 * 4096)
        data.write(b"\xff" * 300)
    with pytest.raises(StateUnusable) as caught:
        SQLiteState(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"crawl state {path} is damaged (")
    assert f"move it aside (mv {path} {path}.damaged) and run again" in message


def test_garbage_bytes_are_damage(tmp_path):
    path = tmp_path / "articles.sqlite3"
    path.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(StateUnusable, match=r"is damaged \(file is not a database\)"):
        SQLiteState(path)


def test_an_unopenable_state_says_so(tmp_path):
    path = tmp_path / "articles.sqlite3"
    path.mkdir()
    with pytest.raises(StateUnusable, match=r"cannot be opened \(unable to open database file\)"):
        SQLiteState(path)


def test_check_state_creates_nothing_and_finds_damage(tmp_path):
    settings = Settings({"CRAWL_STATE_DIR": str(tmp_path / "state")})
    settings.setmodule("crawler.settings", priority="default")
    check_state(settings)
    assert not (tmp_path / "state").exists()
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "articles.sqlite3").write_bytes(b"garbage" * 100)
    with pytest.raises(StateUnusable, match="is damaged"):
        check_state(settings)


def test_check_state_finds_a_state_folder_that_cannot_be_made(tmp_path, monkeypatch):
    # A read-only file system (or a folder the user may not write): the state folder cannot be
    # made. Root ignores folder permissions, so the file system's answer is simulated.
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda path, mode: Path(path) != readonly and real_access(path, mode)
    )
    settings = Settings({"CRAWL_STATE_DIR": str(readonly / "state")})
    settings.setmodule("crawler.settings", priority="default")
    with pytest.raises(StateUnusable) as caught:
        check_state(settings)
    assert str(caught.value) == (
        f"crawl state folder {readonly / 'state'} cannot be made: {readonly} is not writable; "
        "point CRAWL_STATE_DIR elsewhere"
    )
    assert list(readonly.iterdir()) == []
