"""Atomic writes, one file or many: all or nothing per file, one directory sync per batch."""

import os
import stat
import time

import pytest

from crawler.storage import atomic
from crawler.storage.atomic import (
    remove_stale_temporaries,
    write_atomically,
    write_files_atomically,
)


def leftovers(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_writes_every_file_readable_with_no_temporary_left(tmp_path):
    files = [(tmp_path / f"{n}.md", f"post {n}".encode()) for n in range(5)]
    assert write_files_atomically(files) == [True] * 5
    for path, data in files:
        assert path.read_bytes() == data
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert leftovers(tmp_path) == []


def test_a_file_already_holding_the_data_is_left_untouched(tmp_path):
    same, changed = tmp_path / "same.md", tmp_path / "changed.md"
    same.write_bytes(b"kept")
    changed.write_bytes(b"old")
    os.utime(same, ns=(1_000_000_000, 1_000_000_000))
    assert write_files_atomically([(same, b"kept"), (changed, b"new")]) == [False, True]
    assert same.stat().st_mtime_ns == 1_000_000_000
    assert changed.read_bytes() == b"new"


def test_one_failing_file_does_not_stop_the_others(tmp_path):
    missing_dir = tmp_path / "missing" / "a.md"
    results = write_files_atomically(
        [(tmp_path / "a.md", b"a"), (missing_dir, b"x"), (tmp_path / "b.md", b"b")]
    )
    assert results[0] is True
    assert results[2] is True
    assert isinstance(results[1], FileNotFoundError)
    assert (tmp_path / "b.md").read_bytes() == b"b"
    assert leftovers(tmp_path) == []


def test_a_failed_sync_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "a.md"
    target.write_bytes(b"old")
    real_fsync = os.fsync
    temp_fds = set()
    real_stage = atomic._stage

    def stage(path, data):
        entry = real_stage(path, data)
        if path == target:
            temp_fds.add(entry.fd)
        return entry

    def fsync(fd):
        if fd in temp_fds:
            raise OSError(5, "Input/output error")
        real_fsync(fd)

    monkeypatch.setattr(atomic, "_stage", stage)
    monkeypatch.setattr(os, "fsync", fsync)
    results = write_files_atomically([(target, b"new"), (tmp_path / "b.md", b"b")])
    assert isinstance(results[0], OSError)
    assert results[1] is True
    assert target.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


def test_an_interrupt_leaves_every_target_as_it_was(tmp_path, monkeypatch):
    target = tmp_path / "a.md"
    target.write_bytes(b"old")

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_files_atomically([(target, b"new"), (tmp_path / "b.md", b"b")])
    assert target.read_bytes() == b"old"
    assert not (tmp_path / "b.md").exists()
    assert leftovers(tmp_path) == []


def test_each_directory_is_synced_once_for_the_whole_batch(tmp_path, monkeypatch):
    synced = []
    monkeypatch.setattr(atomic, "_fsync_dir", synced.append)
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    files = [(tmp_path / d / f"{n}.md", b"p") for d in ("x", "y") for n in range(3)]
    write_files_atomically(files)
    assert sorted(synced) == [tmp_path / "x", tmp_path / "y"]


def test_the_same_path_twice_keeps_the_later_data(tmp_path):
    path = tmp_path / "a.md"
    assert write_files_atomically([(path, b"first"), (path, b"second")]) == [True, True]
    assert path.read_bytes() == b"second"


def test_write_atomically_raises_what_stopped_it(tmp_path):
    with pytest.raises(FileNotFoundError):
        write_atomically(tmp_path / "missing" / "a.md", b"x")


def test_only_old_temporaries_named_as_ours_are_swept(tmp_path):
    two_hours_ago = time.time() - 7200
    stale = tmp_path / ".2022-08-01-x.md.k3j4h5ab.tmp"
    fresh = tmp_path / ".2022-08-01-y.md.a1b2c3de.tmp"
    others = [
        tmp_path / "notes.tmp",
        tmp_path / ".hidden",
        tmp_path / "2022-08-01-x.md",
        tmp_path / ".deploy-lock.tmp",  # someone else's: not a name this module makes
        tmp_path / ".tmp",
    ]
    for path in [stale, fresh, *others]:
        path.write_bytes(b"partial")
    (tmp_path / ".a.md.dir12345.tmp").mkdir()
    for path in [stale, *others, tmp_path / ".a.md.dir12345.tmp"]:
        os.utime(path, (two_hours_ago, two_hours_ago))
    assert remove_stale_temporaries(tmp_path) == 1
    assert not stale.exists()
    assert fresh.exists()  # a write that may be in progress
    assert all(path.exists() for path in others)
    assert (tmp_path / ".a.md.dir12345.tmp").is_dir()


def test_a_name_the_os_refuses_is_that_files_error_alone(tmp_path):
    results = write_files_atomically([(tmp_path / "a\0.md", b"x"), (tmp_path / "b.md", b"y")])
    assert isinstance(results[0], ValueError)
    assert results[1] is True
    assert leftovers(tmp_path) == []


def test_a_path_twice_counts_as_if_written_one_after_the_other(tmp_path):
    path = tmp_path / "a.md"
    path.write_bytes(b"old")
    # The second is what the first left: unchanged, as it would be written in turn.
    assert write_files_atomically([(path, b"new"), (path, b"new")]) == [True, False]
    assert path.read_bytes() == b"new"
    assert write_files_atomically([(path, b"other"), (path, b"new")]) == [True, True]
    assert path.read_bytes() == b"new"


def test_a_failed_close_closes_nothing_else(tmp_path, monkeypatch):
    real_close = os.close
    closed = []

    def close(fd):
        closed.append(fd)
        real_close(fd)
        if len(closed) == 1:
            raise OSError(5, "Input/output error reported at close")

    monkeypatch.setattr(os, "close", close)
    results = write_files_atomically([(tmp_path / "a.md", b"a")])
    monkeypatch.undo()
    assert isinstance(results[0], OSError)
    assert len(closed) == 1  # not closed a second time: the number may be another file's now
    assert leftovers(tmp_path) == []
