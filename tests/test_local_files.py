"""crawler.downloader.local_files: regular files only, never more than DOWNLOAD_MAXSIZE."""

from __future__ import annotations

import os
import threading

import pytest

from crawler.downloader.local_files import LocalFileRefused, local_file_problem, read_regular_file


def test_reads_a_regular_file_within_the_limit(tmp_path):
    feed = tmp_path / "feed.xml"
    feed.write_bytes(b"<rss/>")
    assert read_regular_file(str(feed), 6) == b"<rss/>"
    assert read_regular_file(str(feed), 0) == b"<rss/>"  # 0: no limit, as in Scrapy


def test_refuses_a_file_over_the_limit(tmp_path):
    feed = tmp_path / "feed.xml"
    feed.write_bytes(b"x" * 11)
    with pytest.raises(LocalFileRefused, match=r"11 bytes is larger than DOWNLOAD_MAXSIZE \(10\)"):
        read_regular_file(str(feed), 10)


def test_refuses_dev_zero_without_reading_it():
    with pytest.raises(LocalFileRefused, match=r"not a regular file \(character device\)"):
        read_regular_file("/dev/zero", 16 * 1024 * 1024)


def test_refuses_a_named_pipe_at_once_even_with_no_writer(tmp_path):
    pipe = tmp_path / "feed.fifo"
    os.mkfifo(pipe)
    outcome: list[BaseException] = []

    def read() -> None:
        try:
            read_regular_file(str(pipe), 1024)
        except LocalFileRefused as exc:
            outcome.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(5)
    assert not reader.is_alive(), "reading a named pipe blocked"
    assert "not a regular file (named pipe)" in str(outcome[0])
    assert local_file_problem(str(pipe)) == "not a regular file (named pipe)"


def test_local_file_problem_of_a_directory_and_a_regular_file(tmp_path):
    (tmp_path / "f").write_text("x")
    assert local_file_problem(str(tmp_path)) == "not a regular file (directory)"
    assert local_file_problem(str(tmp_path / "f")) == ""
