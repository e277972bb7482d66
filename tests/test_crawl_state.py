"""crawler.storage.crawl_state: a damaged or unopenable state file is refused with one line."""

from __future__ import annotations

import sqlite3

import pytest
from scrapy.settings import Settings

from crawler.storage.crawl_state import SQLiteState, StateUnusable, check_state

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
