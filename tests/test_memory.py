"""glibc's mmap threshold: fixed on Linux so page buffers leave the heap; nothing done elsewhere."""

import ctypes.util
import sys

import pytest

from crawler import memory


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or ctypes.util.find_library("c") is None,
    reason="glibc only",
)
def test_threshold_is_set_on_glibc():
    assert memory.keep_page_buffers_off_the_heap() is True


def test_nothing_is_changed_off_linux(monkeypatch):
    monkeypatch.setattr(sys, "platform", "darwin")
    assert memory.keep_page_buffers_off_the_heap() is False


def test_a_libc_without_mallopt_is_left_alone(monkeypatch):
    class NoMallopt:
        def __init__(self, name):
            pass

    monkeypatch.setattr(memory.ctypes, "CDLL", NoMallopt)
    assert memory.keep_page_buffers_off_the_heap() is False
