"""Properties of the concurrency model over generated Argo DAGs and steps, JobSets:
a reordering that keeps the dependencies never changes the verdict, and a dependency
that serialises two users of a claim never turns a pass into a rejection."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enginehelpers import dump_all, render

CLAIM = {
    "apiVersion": "v1",
    "kind": "PersistentVolumeClaim",
    "metadata": {"name": "work"},
    "spec": {"accessModes": ["ReadWriteOnce"]},
}
TEMPLATES = [
    {"name": "use", "container": {"image": "busybox", "volumeMounts": [
        {"name": "work", "mountPath": "/work"}]}},
    {"name": "other", "container": {"image": "busybox"}},
    {"name": "serve", "daemon": True, "container": {"image": "busybox", "volumeMounts": [
        {"name": "work", "mountPath": "/work"}]}},
]  # fmt: skip
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# A task: (template, fan-out or None, the earlier tasks it depends on).
Task = tuple[str, int | None, list[int]]


@st.composite
def dags(draw: st.DrawFn) -> list[Task]:
    count = draw(st.integers(2, 7))
    tasks = []
    for index in range(count):
        template = draw(st.sampled_from(["use", "use", "other", "serve"]))
        fan = draw(st.one_of(st.none(), st.integers(1, 3)))
        deps = draw(st.lists(st.integers(0, index - 1), unique=True, max_size=3)) if index else []
        tasks.append((template, fan, sorted(deps)))
    return tasks


def _task(index: int, task: Task) -> dict[str, Any]:
    template, fan, deps = task
    body: dict[str, Any] = {"name": f"t{index}", "template": template}
    if fan is not None:
        body["withItems"] = list(range(fan))
    if deps:
        body["dependencies"] = [f"t{d}" for d in deps]
    return body


def _workflow(main: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "wf"},
        "spec": {
            "entrypoint": "main",
            "volumes": [{"name": "work", "persistentVolumeClaim": {"claimName": "work"}}],
            "templates": [main, *TEMPLATES],
        },
    }


def _dag(tasks: list[Task], order: list[int]) -> dict[str, Any]:
    return _workflow({"name": "main", "dag": {"tasks": [_task(i, tasks[i]) for i in order]}})


def _verdict(workflow: dict[str, Any]) -> tuple[str, ...]:
    """The access-mode findings with their pod counts (the message's `mounted by N`)."""
    found = render(dump_all(CLAIM, workflow)).findings
    return tuple(f.message.split(" pods ")[0] for f in found if f.rule.startswith("SW10"))


@SETTINGS
@given(dags(), st.randoms(use_true_random=False))
def test_reordering_dag_tasks_keeps_the_verdict(tasks: list[Task], random: Any) -> None:
    order = list(range(len(tasks)))
    shuffled = order[:]
    random.shuffle(shuffled)
    assert _verdict(_dag(tasks, shuffled)) == _verdict(_dag(tasks, order))


@SETTINGS
@given(dags(), st.data())
def test_a_serialising_dependency_never_turns_a_pass_into_a_rejection(
    tasks: list[Task], data: st.DataObject
) -> None:
    first = data.draw(st.integers(0, len(tasks) - 2))
    then = data.draw(st.integers(first + 1, len(tasks) - 1))
    if tasks[first][0] == "serve":
        return  # a daemon's dependents start beside it: that dependency does not serialise
    order = list(range(len(tasks)))
    before = _verdict(_dag(tasks, order))
    template, fan, deps = tasks[then]
    serialised = [*tasks[:then], (template, fan, sorted({*deps, first})), *tasks[then + 1 :]]
    after = _verdict(_dag(serialised, order))
    if not before:
        assert not after
    assert _count(after) <= _count(before)


def _count(verdict: tuple[str, ...]) -> int:
    words = verdict[0].split() if verdict else ["0"]
    last = words[-1]
    return 10**9 if last == "many" else int(last) if last.isdigit() else 0


@st.composite
def step_groups(draw: st.DrawFn) -> list[list[tuple[str, int | None]]]:
    groups = draw(st.integers(1, 4))
    return [
        draw(st.lists(st.tuples(st.sampled_from(["use", "other", "serve"]),
                                st.one_of(st.none(), st.integers(1, 3))), min_size=1, max_size=3))
        for _ in range(groups)
    ]  # fmt: skip


def _steps(groups: list[list[tuple[str, int | None]]]) -> dict[str, Any]:
    steps = [
        [_task(10 * g + s, (template, fan, [])) for s, (template, fan) in enumerate(group)]
        for g, group in enumerate(groups)
    ]
    return _workflow({"name": "main", "steps": steps})


@SETTINGS
@given(step_groups(), st.randoms(use_true_random=False))
def test_reordering_steps_within_a_step_group_keeps_the_verdict(
    groups: list[list[tuple[str, int | None]]], random: Any
) -> None:
    shuffled = [random.sample(group, len(group)) for group in groups]
    before = _verdict(_steps(groups))
    after = _verdict(_steps([[(t, f) for t, f in g] for g in shuffled]))
    assert after == before
