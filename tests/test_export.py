"""Export files replaced per run keep the lines of a run that was killed (kill -9)."""

from __future__ import annotations

import subprocess
import sys

from crawler.storage.export import SyncedFileFeedStorage

KILLED_RUN = """
import os, sys
from crawler.storage.export import SyncedFileFeedStorage
file = SyncedFileFeedStorage(sys.argv[1], feed_options={"overwrite": True}).open(None)
file.write(b'{"url": "a"}\\n')
os._exit(0)  # as kill -9: nothing closed
"""


def storage(path) -> SyncedFileFeedStorage:
    return SyncedFileFeedStorage(str(path), feed_options={"overwrite": True})


def test_a_replaced_export_keeps_the_lines_of_a_killed_run(tmp_path):
    path = tmp_path / "articles.jsonl"
    subprocess.run([sys.executable, "-c", KILLED_RUN, str(path)], check=True)
    rerun = storage(path).open(None)
    rerun.write(b'{"url": "b"}\n')
    storage(path).store(rerun)
    assert path.read_bytes() == b'{"url": "a"}\n{"url": "b"}\n'

    # The re-run ended cleanly: the next run replaces the export as usual.
    clean = storage(path).open(None)
    clean.write(b'{"url": "c"}\n')
    storage(path).store(clean)
    assert path.read_bytes() == b'{"url": "c"}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["articles.jsonl"]


def test_a_run_opening_the_export_while_another_writes_it_neither_truncates_nor_unmarks(tmp_path):
    # A cron run that finds the crawl lock held still opens the export (Scrapy's FeedExporter
    # opens it before the lock extension stops the run): it used to truncate the running
    # crawl's file, which then wrote on at its offset behind a run of NUL bytes.
    path = tmp_path / "articles.jsonl"
    running = storage(path).open(None)
    running.write(b'{"url": "a"}\n')
    locked = storage(path).open(None)
    storage(path).store(locked)  # closes at once, nothing written
    running.write(b'{"url": "b"}\n')
    assert path.read_bytes() == b'{"url": "a"}\n{"url": "b"}\n'
    # The running crawl is then killed: its mark is still there for the next run.
    rerun = storage(path).open(None)
    rerun.write(b'{"url": "c"}\n')
    storage(path).store(rerun)
    running.close()
    assert path.read_bytes() == b'{"url": "a"}\n{"url": "b"}\n{"url": "c"}\n'
