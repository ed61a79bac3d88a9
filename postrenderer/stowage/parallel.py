"""Run a pure, CPU-bound map over two processes when a stream is large.

Loading and writing thousands of documents is the part of a run users wait
for, and each document is independent. :func:`map_halves` forks once: the
child maps the second half and sends its results back pickled while this
process maps the first. The child shares this process's memory copy-on-write,
so nothing is sent to it. Whenever that cannot help or cannot work (a short
list, one CPU, not Linux, a child that fails) the whole map runs here: the
result is always exactly ``[fn(item) for item in items]``.

``fn`` must be pure and its results picklable; it may raise in this process,
never silently in the child (a child that raises just gives its half back
to be mapped here, where the exception surfaces as it would have).
"""

from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

_READ_SIZE = 1 << 20


def cpus() -> int:
    """CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _forks_safely() -> bool:
    """Linux only: macOS may abort a forked child once system frameworks are loaded
    (Python's own multiprocessing spawns there), and Windows has no fork."""
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def map_halves(fn: Callable[[Item], Result], items: Sequence[Item], minimum: int) -> list[Result]:
    """``[fn(item) for item in items]``, half of it in a forked child when
    ``items`` has at least ``minimum`` entries and a second CPU is there."""
    if len(items) < minimum or not _forks_safely() or cpus() < 2:
        return [fn(item) for item in items]
    half = len(items) // 2
    try:
        read_end, write_end = os.pipe()
    except OSError:
        return [fn(item) for item in items]
    try:
        pid = os.fork()
    except OSError:  # out of processes or memory: one process will do
        os.close(read_end)
        os.close(write_end)
        return [fn(item) for item in items]
    if pid == 0:
        _child(fn, items[half:], read_end, write_end)
    os.close(write_end)
    try:
        mine = [fn(item) for item in items[:half]]
        data = _read_all(read_end)
    finally:
        os.close(read_end)
        _, status = os.waitpid(pid, 0)
    theirs: list[Result] | None = _results(data) if status == 0 else None
    if theirs is None or len(theirs) != len(items) - half:
        theirs = [fn(item) for item in items[half:]]
    return mine + theirs


def _child(
    fn: Callable[[Item], Result], items: Sequence[Item], read_end: int, write_end: int
) -> NoReturn:
    """Map, send, and leave without running exit handlers or flushing the parent's
    buffers (they would print the parent's pending output a second time)."""
    code = 1
    try:
        os.close(read_end)
        data = pickle.dumps([fn(item) for item in items], protocol=pickle.HIGHEST_PROTOCOL)
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


def _results(data: bytes) -> list[Result] | None:
    try:
        results = pickle.loads(data)
    except Exception:
        return None
    return results if isinstance(results, list) else None
