"""Worker processes fed from the event loop: answers in order, errors intact, a dead worker replaced."""

import asyncio
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from crawler.extensions.worker_processes import (
    RemoteTraceback,
    WorkerProcessDied,
    WorkerProcesses,
)
from tests.conftest import PROJECT_ROOT, process_alive

FORK = multiprocessing.get_context("fork")


@pytest.fixture
def workers():
    pool = WorkerProcesses(2, FORK)
    yield pool
    pool.shutdown()


def _echo_after(seconds: float, value: object) -> object:
    time.sleep(seconds)
    return value


def _fail(message: str) -> None:
    raise ValueError(message)


def _unpicklable() -> object:
    return lambda: None


def test_many_tasks_at_once_each_get_their_own_answer(workers):
    async def many():
        # Uneven durations: the answers of one worker arrive in the order its tasks were sent.
        return await asyncio.gather(
            *(workers.run(_echo_after, (i % 3) / 100, i) for i in range(40))
        )

    assert asyncio.run(many()) == list(range(40))


def test_a_large_argument_and_result_cross_intact(workers):
    # Several MB: more than the socket's buffer, so the rest is written when it drains.
    page = os.urandom(3 * 1024 * 1024)
    assert asyncio.run(workers.run(bytes, page)) == page


def test_an_exception_is_raised_here_with_the_workers_traceback(workers):
    with pytest.raises(ValueError, match="bad page") as caught:
        asyncio.run(workers.run(_fail, "bad page"))
    assert isinstance(caught.value.__cause__, RemoteTraceback)
    assert "_fail" in str(caught.value.__cause__)


def test_an_answer_pickle_cannot_carry_is_an_error_not_a_hang(workers):
    with pytest.raises(RuntimeError, match="could not be pickled"):
        asyncio.run(workers.run(_unpicklable))
    assert asyncio.run(workers.run(sum, [1, 2])) == 3


def test_a_killed_worker_fails_its_tasks_and_the_next_task_gets_a_new_worker():
    pool = WorkerProcesses(1, FORK)
    try:
        (first,) = pool.pids()

        async def killed_mid_task():
            task = asyncio.ensure_future(pool.run(_echo_after, 30, "never"))
            await asyncio.sleep(0.3)
            os.kill(first, signal.SIGKILL)
            return await task

        with pytest.raises(WorkerProcessDied, match=rf"{first} exited \(exit status -9\)"):
            asyncio.run(killed_mid_task())
        assert asyncio.run(pool.run(sum, [1, 2, 3])) == 6
        assert pool.pids() != [first]
    finally:
        pool.shutdown()


def test_shutdown_stops_every_worker_and_refuses_later_tasks():
    pool = WorkerProcesses(2, FORK)
    processes = [worker.process for worker in pool._workers]
    pool.shutdown()
    assert not any(process.is_alive() for process in processes)
    assert all(process.exitcode == 0 for process in processes)
    with pytest.raises(RuntimeError, match="after shutdown"):
        asyncio.run(pool.run(sum, [1]))


def _run_script(tmp_path: Path, source: str) -> subprocess.CompletedProcess:
    """Run ``source`` as a crawl process of its own would run: a fresh interpreter."""
    script = tmp_path / "crawl.py"
    script.write_text(source, encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_process_exiting_without_shutdown_does_not_wait_on_its_workers(tmp_path):
    # Scrapy installs a SIGTERM handler before the workers fork; a crawl that ends before its
    # engine stops never shuts them down, and multiprocessing terminates them at exit.
    done = _run_script(
        tmp_path,
        "import asyncio, multiprocessing, signal\n"
        "from crawler.extensions.worker_processes import WorkerProcesses\n"
        "signal.signal(signal.SIGTERM, lambda *_: None)\n"
        "pool = WorkerProcesses(1, multiprocessing.get_context('fork'))\n"
        "print(asyncio.run(pool.run(sum, [1, 2])), *pool.pids(), flush=True)\n",
    )
    assert done.returncode == 0, done.stderr
    answer, worker = done.stdout.split()
    assert answer == "3"
    assert not process_alive(int(worker))


def test_a_worker_leaves_when_the_crawl_is_killed(tmp_path):
    # The crawl process is SIGKILLed (cron's timeout, an OOM killer): its worker must not linger.
    done = _run_script(
        tmp_path,
        "import asyncio, os, signal\n"
        "from crawler.extensions.offload import Offload\n"
        "offload = Offload(processes=1)\n"
        "asyncio.run(offload.in_worker(int))\n"
        "print(*offload.worker_pids(), flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n",
    )
    assert done.returncode == -signal.SIGKILL
    worker = int(done.stdout.split()[0])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and process_alive(worker):
        time.sleep(0.1)
    assert not process_alive(worker)


class _RefusesToUnpickle:
    def __reduce__(self):
        return (_fail, ("cannot rebuild the argument",))


class _NeedsTwoArguments(Exception):
    def __init__(self, first, second):
        super().__init__(f"{first} {second}")


def _raise_needing_two_arguments() -> None:
    raise _NeedsTwoArguments("bad", "page")


def _exit() -> None:
    raise SystemExit(3)


def test_a_task_whose_arguments_cannot_be_rebuilt_fails_alone(workers):
    async def three():
        return await asyncio.gather(
            workers.run(_echo_after, 0.05, "before"),
            workers.run(_echo_after, 0, _RefusesToUnpickle()),
            workers.run(_echo_after, 0, "after"),
            return_exceptions=True,
        )

    before, failed, after = asyncio.run(three())
    assert (before, after) == ("before", "after")
    assert isinstance(failed, ValueError)
    assert str(failed) == "cannot rebuild the argument"


def test_an_exception_that_cannot_travel_and_system_exit_arrive_as_runtime_errors(workers):
    with pytest.raises(RuntimeError, match="_NeedsTwoArguments: bad page"):
        asyncio.run(workers.run(_raise_needing_two_arguments))
    # Raised here as it is, SystemExit would end the crawl.
    with pytest.raises(RuntimeError, match=r"SystemExit\(3\)"):
        asyncio.run(workers.run(_exit))
    assert asyncio.run(workers.run(sum, [1, 2])) == 3


def test_a_worker_that_died_before_its_first_task_is_replaced_before_it():
    pool = WorkerProcesses(1, FORK)
    try:
        (first,) = pool.pids()
        os.kill(first, signal.SIGKILL)
        time.sleep(0.3)
        assert asyncio.run(pool.run(sum, [1, 2, 3])) == 6
        assert pool.pids() != [first]
    finally:
        pool.shutdown()


def test_shutdown_waits_for_busy_workers_once_then_kills_them():
    pool = WorkerProcesses(2, FORK)

    async def busy():
        tasks = [asyncio.ensure_future(pool.run(_echo_after, 30, i)) for i in range(2)]
        await asyncio.sleep(0.3)
        started = time.monotonic()
        pool.shutdown(wait=1)
        return time.monotonic() - started, await asyncio.gather(*tasks, return_exceptions=True)

    took, outcomes = asyncio.run(busy())
    assert took < 5  # one bound for both workers, not one each
    assert all(isinstance(outcome, WorkerProcessDied) for outcome in outcomes)


def test_a_task_left_half_sent_by_a_closed_loop_does_not_block_the_next_loop():
    pool = WorkerProcesses(1, FORK)
    page = os.urandom(30 * 1024 * 1024)  # far more than the socket holds: most of it waits

    async def leave_half_sent():
        asyncio.ensure_future(pool.run(len, page))
        await asyncio.sleep(0)

    async def next_loop():
        return await asyncio.wait_for(pool.run(sum, [1, 2]), 30)

    try:
        asyncio.run(leave_half_sent())
        assert asyncio.run(next_loop()) == 3
    finally:
        pool.shutdown()


def test_a_worker_replaced_while_other_threads_run_is_spawned_not_forked():
    pool = WorkerProcesses(1, FORK)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)  # the crawl's side thread, say
    other.start()
    try:
        os.kill(pool.pids()[0], signal.SIGKILL)
        time.sleep(0.3)
        assert asyncio.run(pool.run(sum, [1, 2, 3])) == 6
        assert type(pool._workers[0].process).__name__ == "SpawnProcess"
    finally:
        stop.set()
        other.join()
        pool.shutdown()
