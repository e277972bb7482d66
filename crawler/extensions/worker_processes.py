"""Extraction worker processes fed straight from the event loop, one socket each, no threads.

concurrent.futures.ProcessPoolExecutor hands every task through two threads of the crawl
process (its manager thread and its queue's feeder thread) and back through a lock, a pipe and
the event loop's wake-up pipe: measured over a 300-article crawl, those threads alone spent
0.23 s of CPU, a fifth of what the worker spent extracting, on a machine whose two cores the
crawl already keeps busy. Here the reactor thread writes each task to its worker's socket and
reads the results when the socket is readable, as it does with any download.

A worker that dies (the OOM killer, a crash in C code) fails the tasks it held with
WorkerProcessDied, naming its exit status; the next task starts a new worker. A stopped
ProcessPoolExecutor instead refused every later task of the crawl.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import multiprocessing
import multiprocessing.context
import os
import pickle
import signal
import socket
import struct
import threading
import time
import traceback
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

# A task: the length of the pickle of (function, arguments), the number of out-of-band buffers
# (arguments wrapped in pickle.PickleBuffer, a page's body: written to the socket from where
# they are, not copied into the pickle), their lengths, the pickle, the buffers. An answer: the
# length of the pickle of (succeeded, result or exception, traceback text), the pickle.
_TASK = struct.Struct("!QI")
_LENGTH = struct.Struct("!Q")
_RECEIVE_BYTES = 256 * 1024
# A page (up to a few hundred KB) fits in the socket's buffer: one send, no writer callback.
_SEND_BUFFER_BYTES = 1024 * 1024


class WorkerProcessDied(RuntimeError):
    """The worker process running a task exited before answering."""


class RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker, shown as its cause."""

    def __str__(self) -> str:
        return self.args[0]


def start_context(
    preferred: multiprocessing.context.BaseContext,
) -> multiprocessing.context.BaseContext:
    """Return ``preferred``, or spawn where it would fork a process that runs other threads.

    A forked worker starts at once with every module already imported (a spawned one spends
    ~0.4 s of CPU importing them again); but forking a process that runs other threads can
    leave the child holding a lock one of them held, and Python 3.12+ warns about it.
    """
    if preferred.get_start_method() == "fork" and threading.active_count() > 1:
        return multiprocessing.get_context("spawn")
    return preferred


class WorkerProcesses:
    """``processes`` worker processes; each task goes to the one with the fewest in hand.

    >>> import multiprocessing
    >>> workers = WorkerProcesses(1, multiprocessing.get_context("spawn"))
    >>> asyncio.run(workers.run(sum, [1, 2, 3]))
    6
    >>> workers.shutdown()
    """

    def __init__(
        self,
        processes: int,
        context: multiprocessing.context.BaseContext,
        initializer: Callable[[], None] | None = None,
    ):
        self._context = context
        self._initializer = initializer
        self._workers: list[_Worker] = []
        self._closed = False
        for _ in range(processes):
            self._workers.append(self._start())

    def _start(self) -> _Worker:
        # A worker replaced mid-crawl is spawned: the crawl runs other threads by then.
        context = start_context(self._context)
        return _Worker(context, self._initializer, [w.sock for w in self._workers])

    async def run(self, func: Callable[..., Any], *args: Any) -> Any:
        """Run ``func(*args)`` in a worker; return its result or raise its exception here."""
        if self._closed:
            raise RuntimeError("cannot run a task after shutdown")
        for index, worker in enumerate(self._workers):
            # A worker that died idle, before any task was read back, is only found so.
            if worker.dead or not worker.process.is_alive():
                worker.close()
                self._workers[index] = self._start()
        worker = min(self._workers, key=lambda w: len(w.pending))
        return await worker.call(func, args)

    def pids(self) -> list[int]:
        """Return the process ids of the workers (for tests and diagnostics)."""
        return [w.process.pid for w in self._workers if w.process.pid is not None]

    def shutdown(self, wait: float = 5.0) -> None:
        """Ask every worker to leave; kill those still there after ``wait`` s; tasks in hand fail.

        The engine has stopped when this runs, so a worker still busy is running a task nobody
        awaits any more: it is not waited for longer (one bound for all workers together).
        """
        self._closed = True
        for worker in self._workers:
            worker.stop()
        deadline = time.monotonic() + wait
        for worker in self._workers:
            worker.process.join(timeout=max(0.0, deadline - time.monotonic()))
        for worker in self._workers:
            worker.close()


class _Worker:
    """One worker process and the reactor's end of its socket."""

    def __init__(
        self,
        context: multiprocessing.context.BaseContext,
        initializer: Callable[[], None] | None,
        siblings: list[socket.socket],
    ):
        self.sock, child = socket.socketpair()
        # A forked child inherits the crawl's ends of every worker's socket: it closes them, so
        # that the crawl alone holds them and a worker sees its socket close when the crawl
        # goes (a spawned child gets only what it is passed).
        inherited = [*siblings, self.sock] if context.get_start_method() == "fork" else []
        self.process = context.Process(
            target=_serve, args=(child, initializer, inherited), name="sina-worker", daemon=True
        )
        self.process.start()
        child.close()
        with contextlib.suppress(OSError):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, _SEND_BUFFER_BYTES)
        self.sock.setblocking(False)
        self.pending: collections.deque[asyncio.Future[Any]] = collections.deque()
        self.dead = False
        self._skip = 0  # answers still due to futures of a loop that is gone
        self._loop: asyncio.AbstractEventLoop | None = None
        self._inbox = bytearray()
        # Reused for every read: a fresh buffer this size would be mapped and faulted in anew
        # each time (crawler.memory keeps blocks over 64 KiB off the heap).
        self._received = bytearray(_RECEIVE_BYTES)
        self._outbox = bytearray()

    async def call(self, func: Callable[..., Any], args: tuple[Any, ...]) -> Any:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._attach(loop)
        buffers: list[pickle.PickleBuffer] = []
        message = pickle.dumps((func, args), protocol=5, buffer_callback=buffers.append)
        views = [buffer.raw() for buffer in buffers]
        header = _TASK.pack(len(message), len(views))
        header += b"".join(_LENGTH.pack(view.nbytes) for view in views)
        future = loop.create_future()
        self.pending.append(future)
        self._send([header, message, *views])
        return await future

    def _attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Read this worker's answers in ``loop`` (a test may run several loops in turn)."""
        self._detach()
        # Futures of a loop that is gone can never be awaited again; their answers are skipped.
        self._skip = len(self.pending)
        self.pending.clear()
        self._loop = loop
        loop.add_reader(self.sock.fileno(), self._receive)
        if self._outbox:  # the rest of a task sent from the old loop: the stream must go on
            loop.add_writer(self.sock.fileno(), self._flush)

    def _detach(self) -> None:
        loop = self._loop
        self._loop = None
        if loop is not None and not loop.is_closed():
            loop.remove_reader(self.sock.fileno())
            loop.remove_writer(self.sock.fileno())

    def _send(self, parts: list[bytes | memoryview]) -> None:
        if self._outbox:
            for part in parts:
                self._outbox += part
            return
        try:
            sent = self.sock.sendmsg(parts)
        except BlockingIOError:
            sent = 0
        except OSError:
            self._died()
            return
        for part in parts:  # what the socket did not take waits for it to drain
            if sent >= len(part):
                sent -= len(part)
                continue
            self._outbox += memoryview(part)[sent:]
            sent = 0
        if self._outbox:
            self._loop.add_writer(self.sock.fileno(), self._flush)

    def _flush(self) -> None:
        try:
            sent = self.sock.send(self._outbox)
        except BlockingIOError:
            return
        except OSError:
            self._died()
            return
        del self._outbox[:sent]
        if not self._outbox:
            self._loop.remove_writer(self.sock.fileno())

    def _receive(self) -> None:
        try:
            received = self.sock.recv_into(self._received)
        except BlockingIOError:
            return
        except OSError:
            received = 0
        if not received:
            self._died()
            return
        self._inbox += memoryview(self._received)[:received]
        while len(self._inbox) >= _LENGTH.size:
            (length,) = _LENGTH.unpack_from(self._inbox)
            end = _LENGTH.size + length
            if len(self._inbox) < end:
                break
            message = bytes(memoryview(self._inbox)[_LENGTH.size : end])
            del self._inbox[:end]
            self._answered(message)

    def _answered(self, message: bytes) -> None:
        if self._skip:
            self._skip -= 1
            return
        future = self.pending.popleft()
        if future.cancelled():
            return
        try:
            succeeded, value, remote_traceback = pickle.loads(message)
        except Exception as exc:  # noqa: BLE001 - an answer that cannot be read fails its task
            future.set_exception(exc)
            return
        if succeeded:
            future.set_result(value)
            return
        if remote_traceback:
            value.__cause__ = RemoteTraceback(remote_traceback)
        future.set_exception(value)

    def _died(self) -> None:
        """Fail the tasks of a worker whose socket closed; the pool starts another."""
        if self.dead:
            return
        self.dead = True
        self._detach()
        self.process.join(timeout=1)
        error = WorkerProcessDied(
            f"extraction worker process {self.process.pid} exited"
            f" (exit status {self.process.exitcode}) before answering"
        )
        while self.pending:
            future = self.pending.popleft()
            if not future.done():
                future.set_exception(error)

    def stop(self) -> None:
        """Ask the worker to leave once the tasks it was sent are done (never blocks).

        With part of a task still unsent the request cannot follow it: close() kills the worker.
        """
        if self.dead or self._outbox:
            return
        with contextlib.suppress(OSError):
            self.sock.send(_TASK.pack(0, 0))  # an empty task: leave

    def close(self) -> None:
        """Kill the worker if it is still there, fail what it held, close the socket."""
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self._died()
        self.sock.close()


def _serve(
    sock: socket.socket,
    initializer: Callable[[], None] | None,
    inherited: list[socket.socket],
) -> None:
    """Read a task, run it, write the answer; until told to stop or orphaned."""
    for other in inherited:
        other.close()
    # Ctrl-C reaches the whole process group: the crawl's own process decides how to stop (it
    # finishes the pages in hand), so a worker must not die of it half way.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A forked worker inherits the crawl's SIGTERM handler (Scrapy's graceful stop), which does
    # nothing here: a crawl that exits without stopping its workers (it never got as far as
    # starting its engine) terminates them with SIGTERM, and they must go.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # The crawl killed with SIGKILL closes its end of the socket, which ends the loop below;
    # this catches the case where another process still holds that end.
    threading.Thread(
        target=_exit_with_parent, args=(os.getppid(),), name="sina-parent-watch", daemon=True
    ).start()
    if initializer is not None:
        initializer()
    stream = sock.makefile("rb")
    while True:
        header = stream.read(_TASK.size)
        if len(header) < _TASK.size:
            return
        length, buffer_count = _TASK.unpack(header)
        if length == 0:
            return
        lengths = stream.read(_LENGTH.size * buffer_count)
        sizes = [size for (size,) in _LENGTH.iter_unpack(lengths)]
        message = stream.read(length)
        buffers = [stream.read(size) for size in sizes]
        if len(message) < length or [len(b) for b in buffers] != sizes:
            return  # the crawl went away mid-task
        sock.sendall(_answer(message, buffers))


def _answer(task: bytes, buffers: list[bytes]) -> bytes:
    """Run one task; return the framed answer: its result, or the exception it raised."""
    try:
        func, args = pickle.loads(task, buffers=buffers)
        outcome = (True, func(*args), "")
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - raised again in the crawl process
        outcome = (False, _portable(exc), "".join(traceback.format_exception(exc)))
    try:
        message = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # noqa: BLE001 - a result pickle cannot carry
        error = RuntimeError(f"the worker's answer could not be pickled: {exc!r}")
        message = pickle.dumps((False, error, outcome[2]), protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(message)) + message


def _portable(exc: BaseException) -> BaseException:
    """Return the exception, or a RuntimeError naming it when it would not survive the trip.

    SystemExit is named too: raised in the crawl process, it would end the crawl.
    """
    if not isinstance(exc, Exception):
        return RuntimeError(f"the task raised {exc!r}")
    try:
        pickle.loads(pickle.dumps(exc, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:  # noqa: BLE001 - e.g. a class whose __init__ wants other arguments
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def _exit_with_parent(parent: int, interval: float = 0.5) -> None:
    while os.getppid() == parent:
        time.sleep(interval)
    os._exit(1)
