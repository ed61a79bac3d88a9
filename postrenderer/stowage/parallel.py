"""Run pure, CPU-bound work over two processes when a stream is large.

Loading and writing thousands of documents is the part of a run users wait
for, and each document is independent. :func:`in_child` forks once and hands
back what the child's work returned, pickled; :func:`map_halves` uses it to
map the second half of a list in the child while this process maps the
first. The child shares this process's memory copy-on-write, so nothing is
sent to it. Whenever that cannot help or cannot work (a short list, one CPU,
not Linux, a child that fails) the whole map runs here: the result is always
exactly ``[fn(item) for item in items]``.

``fn`` must be pure and its results picklable; it may raise in this process,
never silently in the child (a child that raises just gives its half back
to be mapped here, where the exception surfaces as it would have).
"""

from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Callable, Sequence
from functools import partial
from typing import Generic, NoReturn, TypeVar, cast

Item = TypeVar("Item")
Result = TypeVar("Result")

_READ_SIZE = 1 << 20


def cpus() -> int:
    """CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def can_fork() -> bool:
    """Whether a second process can be forked here and has a CPU to run on."""
    return _forks_safely() and cpus() >= 2


def _forks_safely() -> bool:
    """Linux only: macOS may abort a forked child once system frameworks are loaded
    (Python's own multiprocessing spawns there), and Windows has no fork."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def map_halves(fn: Callable[[Item], Result], items: Sequence[Item], minimum: int) -> list[Result]:
    """``[fn(item) for item in items]``, half of it in a forked child when
    ``items`` has at least ``minimum`` entries and a second CPU is there."""
    if len(items) < minimum:
        return _map(fn, items)
    half = len(items) // 2
    child = in_child(partial(_map, fn, items[half:]))
    if child is None:
        return _map(fn, items)
    with child:
        mine = _map(fn, items[:half])
        theirs = child.result()
    if theirs is None or len(theirs) != len(items) - half:
        theirs = _map(fn, items[half:])
    return mine + theirs


def _map(fn: Callable[[Item], Result], items: Sequence[Item]) -> list[Result]:
    return [fn(item) for item in items]


def in_child(work: Callable[[], Result]) -> Child[Result] | None:
    """Start ``work()`` in a forked child, or None when a second process cannot help
    (one CPU) or cannot be had (not Linux, no processes or pipes left)."""
    if not can_fork():
        return None
    try:
        read_end, write_end = os.pipe()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:  # out of processes or memory: one process will do
        os.close(read_end)
        os.close(write_end)
        return None
    if pid == 0:
        _child(work, read_end, write_end)
    os.close(write_end)
    return Child(pid, read_end)


class Child(Generic[Result]):
    """A forked child's answer. Use it in a ``with`` block: leaving the block, on an
    error too, closes the pipe and reaps the child."""

    def __init__(self, pid: int, read_end: int) -> None:
        self.pid, self.read_end = pid, read_end
        self.reaped = False

    def result(self) -> Result | None:
        """What ``work()`` returned, or None when the child failed."""
        data = _read_all(self.read_end)
        if not self._reap():
            return None
        try:
            return cast(Result, pickle.loads(data))
        except Exception:
            return None

    def _reap(self) -> bool:
        """Wait for the child; whether it exited cleanly."""
        if self.reaped:
            return False
        self.reaped = True
        os.close(self.read_end)
        _, status = os.waitpid(self.pid, 0)
        return status == 0

    def __enter__(self) -> Child[Result]:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.reaped:
            self._reap()  # closing the pipe first ends a child blocked writing to it


def _child(work: Callable[[], Result], read_end: int, write_end: int) -> NoReturn:
    """Work, send, and leave without running exit handlers or flushing the parent's
    buffers (they would print the parent's pending output a second time)."""
    code = 1
    try:
        os.close(read_end)
        data = pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(data)
        while view:
            view = view[os.write(write_end, view) :]
        code = 0
    except BaseException:
        pass
    finally:
        os._exit(code)


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, _READ_SIZE):
        chunks.append(chunk)
    return b"".join(chunks)
