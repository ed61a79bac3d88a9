"""stowage.parallel.map_halves gives exactly the sequential map, whatever happens in the
child, and a large stream renders the same bytes with and without the second process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stowage import parallel
from stowage.engine import Options, run
from stowage.errors import UsageError
from stowage.layers import Layer
from stowage.read import manifests
from stowage.write.stream import write

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux only")


@pytest.fixture(autouse=True)
def two_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "cpus", lambda: 2)  # CI may give one


def square(n: int) -> int:
    return n * n


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(), max_size=40))
def test_the_result_is_the_sequential_map(items: list[int]) -> None:
    assert parallel.map_halves(square, items, minimum=1) == [n * n for n in items]


def test_the_second_half_is_mapped_in_a_forked_child() -> None:
    parent = os.getpid()
    pids = parallel.map_halves(lambda _: os.getpid(), range(6), minimum=1)
    assert pids[:3] == [parent] * 3
    assert pids[3] != parent
    assert pids[3:] == [pids[3]] * 3  # one child took the whole second half


def test_a_child_that_fails_gives_its_half_back_and_the_error_surfaces_here() -> None:
    parent = os.getpid()
    calls: list[int] = []

    def fails_in_the_child(n: int) -> int:
        if os.getpid() != parent:
            raise RuntimeError("only in the child")
        calls.append(n)
        return n + 1

    assert parallel.map_halves(fails_in_the_child, [1, 2, 3, 4], minimum=1) == [2, 3, 4, 5]
    assert calls == [1, 2, 3, 4]  # the parent mapped the child's half too


@pytest.mark.parametrize("bad", [1, 4], ids=["in this process's half", "in the child's half"])
def test_an_error_in_either_half_surfaces_here_and_the_child_is_reaped(bad: int) -> None:
    def refuses(n: int) -> int:
        if n == bad:
            raise ValueError(f"refused {n}")
        return n

    with pytest.raises(ValueError, match=f"refused {bad}"):
        parallel.map_halves(refuses, [1, 2, 3, 4], minimum=1)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # every child was reaped


def test_short_lists_and_single_cpu_machines_never_fork(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fork() -> int:
        raise AssertionError("forked")

    monkeypatch.setattr(os, "fork", no_fork)
    assert parallel.map_halves(square, [1, 2, 3], minimum=4) == [1, 4, 9]
    monkeypatch.setattr(parallel, "cpus", lambda: 1)
    assert parallel.map_halves(square, list(range(10)), minimum=1) == [n * n for n in range(10)]


def test_output_pending_in_this_process_is_written_once() -> None:
    script = textwrap.dedent(
        """
        import sys
        from stowage import parallel
        parallel.cpus = lambda: 2
        sys.stdout.write("pending\\n")  # buffered: a child that flushed would repeat it
        print(parallel.map_halves(abs, [-1, -2, -3, -4], minimum=1))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert out == "pending\n[1, 2, 3, 4]\n"


def test_a_large_stream_renders_the_same_bytes_in_one_process_or_two() -> None:
    deployment = (
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-{i}\n"
        "  labels: {{app: web}}\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {{app: web}}\n"
        "  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      containers:\n"
        "      - name: web\n        image: nginx\n"
    )
    text = "".join(deployment.format(i=i) for i in range(300))
    config = Layer(
        "test",
        {
            "persistence": {
                "data": {"d": {"mountPath": "/d", "nfs": {"server": "s", "path": "/"}}}
            },
            "targets": {"web": {"matchLabels": {"app": "web"}}},
        },
    )
    outputs, children = [], []
    for minimum in (1, 1 << 30):
        forked: list[object] = []
        with (
            patch.object(manifests, "PARALLEL_MIN_DOCUMENTS", minimum),
            patch.object(parallel, "in_child", _counting(parallel.in_child, forked)),
        ):
            outputs.append(write(run(text, Options(layers=[config])).stream))
        children.append(len(forked))
    assert children[0] > 0  # the first run did use a second process
    assert children[1] == 0
    assert outputs[0] == outputs[1]
    assert outputs[0].count("mountPath: /d") == 300


def _counting(in_child: Callable[..., Any], started: list[object]) -> Callable[..., Any]:
    """``in_child`` that records each child it did start."""

    def counted(work: Callable[[], Any]) -> Any:
        child = in_child(work)
        if child is not None:
            started.append(child)
        return child

    return counted


def test_a_bad_manifest_in_either_half_is_refused_as_it_would_be_in_one_process() -> None:
    good = "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p{i}\nspec:\n  containers: []\n"
    bad = "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  containers: 7\n"
    for at in (10, 250):  # in this process's half, then in the child's
        docs = [good.format(i=i) for i in range(300)]
        docs[at] = bad
        messages = []
        for minimum in (1, 1 << 30):
            with (
                patch.object(manifests, "PARALLEL_MIN_DOCUMENTS", minimum),
                pytest.raises(UsageError) as refused,
            ):
                run("".join(docs), Options())
            messages.append(str(refused.value))
        assert messages[0] == messages[1]
        assert f"document {at + 1} (Pod/bad)" in messages[0]
        assert "containers must be a list" in messages[0]


def test_when_fork_fails_the_whole_map_runs_here_and_no_pipe_is_left_open(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_fork() -> int:
        raise OSError("no more processes")

    monkeypatch.setattr(os, "fork", no_fork)
    before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0
    assert parallel.map_halves(square, [1, 2, 3, 4], minimum=1) == [1, 4, 9, 16]
    if before:
        assert len(os.listdir("/proc/self/fd")) == before
