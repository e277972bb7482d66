from __future__ import annotations

import os
import subprocess
import sys

from crawler.extensions.lock import RunLock

HOLD = """
import sys, time
from pathlib import Path
from crawler.extensions.lock import RunLock
lock = RunLock(Path(sys.argv[1]))
print("held" if lock.acquire() else "busy", flush=True)
time.sleep(60)
"""


def test_second_holder_is_refused_until_release(tmp_path):
    path = tmp_path / "state" / "crawl.lock"
    first, second = RunLock(path), RunLock(path)
    assert first.acquire()
    assert not second.acquire()
    first.release()
    assert second.acquire()
    second.release()


def test_lock_file_names_the_holder(tmp_path):
    lock = RunLock(tmp_path / "crawl.lock")
    assert lock.acquire()
    assert RunLock(lock.path).holder() == str(os.getpid())
    lock.release()


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    path = tmp_path / "crawl.lock"
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "held"
        assert not RunLock(path).acquire()  # another process holds it
    finally:
        proc.kill()  # SIGKILL: no cleanup in the holder
        proc.wait(10)
        proc.stdout.close()
    assert path.exists()  # the file stays, the lock does not
    lock = RunLock(path)
    assert lock.acquire()
    lock.release()
