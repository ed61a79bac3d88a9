"""Tekton: which TaskRun pods of a PipelineRun can be live at the same time, and why.

Follows the Tekton Pipelines documentation (tektoncd/pipeline docs/pipelines.md,
pipelineruns.md, workspaces.md, affinityassistants.md):

- a TaskRun runs one pod;
- a Pipeline's tasks run as a DAG: a task waits for the tasks its `runAfter` names,
  those whose results it uses (`$(tasks.X.results.Y)`) and, in v1beta1, those its
  resources come `from`; tasks with no ordering between them run at once;
- a task with a `matrix` runs one TaskRun per combination, in parallel (matrix.md);
- `finally` tasks run after all the other tasks, in parallel with one another;
- the affinity assistant (the `coschedule` feature flag, `workspaces` by default)
  schedules "all TaskRun pods within the PipelineRun that share the Workspace" to
  one node: a ReadWriteOnce claim bound to a workspace is shared on one node.

A PipelineRun that names its Pipeline (`pipelineRef`) shows no tasks: its pods are
counted as many, and the note says why.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from stowage.pods.groups import MANY, Dag, Group, Member, TooManyError, cliques
from stowage.pods.podspecs import Path, get_in

_RESULT_REF = re.compile(r"\$\(tasks\.([-A-Za-z0-9_]+)\.results\.")
COSCHEDULED = (
    "Tekton's affinity assistant (coschedule: workspaces, the default) puts the pods "
    "of a PipelineRun that share a workspace's claim on one node"
)


def workspace_claims(body: dict[str, Any]) -> Iterator[tuple[str, bool]]:
    """(claimName, read-only) for every workspace a TaskRun or PipelineRun binds to a claim."""
    for binding in get_in(body, ("spec", "workspaces")) or []:
        claim = get_in(binding, ("persistentVolumeClaim",))
        if isinstance(claim, dict) and isinstance(claim.get("claimName"), str):
            yield claim["claimName"], bool(claim.get("readOnly"))


def pipeline_groups(body: dict[str, Any], path: Path) -> tuple[tuple[Group, ...], str]:
    """The groups of a PipelineRun's task pods (all at the pod template's ``path``), and
    a note when the tasks are not in the manifest."""
    spec = get_in(body, ("spec", "pipelineSpec"))
    if not isinstance(spec, dict):
        why = "a PipelineRun naming its Pipeline (pipelineRef): its tasks are not in the manifest"
        return (Group((Member(path, MANY, why, "pod"),)),), why
    tasks = [t for t in spec.get("tasks") or [] if isinstance(t, dict) and "name" in t]
    final = [t for t in spec.get("finally") or [] if isinstance(t, dict) and "name" in t]
    names = [str(t["name"]) for t in (*tasks, *final)]
    dag = Dag()
    for task in tasks:
        name = str(task["name"])
        dag.add(name)
        for need in _needs(task, names):
            dag.need(name, need)
    for task in final:
        for other in tasks:
            dag.need(str(task["name"]), str(other["name"]))
    members = [Member(path, *_fan_out(task), f"task '{task['name']}'") for task in (*tasks, *final)]
    return _groups(members, names, dag), ""


def _fan_out(task: dict[str, Any]) -> tuple[int, str]:
    """A task's pods at once: a `matrix` runs one TaskRun per combination, in parallel
    ("the `Task` will be executed in parallel `TaskRuns`"): the product of its params'
    lengths, or its `include` entries alone; an array param's length is known at run time."""
    matrix = task.get("matrix")
    if not isinstance(matrix, dict):
        return 1, "1 pod"
    params = [p for p in matrix.get("params") or [] if isinstance(p, dict)]
    include = [i for i in matrix.get("include") or [] if isinstance(i, dict)]
    if any(not isinstance(p.get("value"), list) for p in params):
        return MANY, f"task '{task['name']}' matrix fans out over an array param"
    count = 1
    for param in params:
        count *= len(param["value"])
    count = count if params else len(include)
    return count, f"task '{task['name']}' matrix fans out {count} TaskRuns"


def _needs(task: dict[str, Any], names: list[str]) -> list[str]:
    after = [str(n) for n in task.get("runAfter") or [] if str(n) in names]
    for source in get_in(task, ("resources", "inputs")) or []:  # v1alpha1/v1beta1 `from`
        after += [str(n) for n in get_in(source, ("from",)) or [] if str(n) in names]
    text = json.dumps({k: v for k, v in task.items() if k in ("params", "when", "matrix")})
    used = [n for n in _RESULT_REF.findall(text) if n in names]
    return list(dict.fromkeys([*after, *used]))


def _groups(members: list[Member], names: list[str], dag: Dag) -> tuple[Group, ...]:
    soft = "{b} starts while {a} runs"  # Tekton has no soft edges: never used

    def overlap(a: int, b: int) -> bool:
        return dag.concurrent(names[a], names[b])

    try:
        found = cliques(len(members), overlap)
    except TooManyError:
        return (Group(tuple(members)),)
    groups = []
    for clique in found:
        reasons = tuple(
            (x, y, dag.why(names[clique[x]], names[clique[y]], "task", soft))
            for x in range(len(clique))
            for y in range(x + 1, len(clique))
        )
        groups.append(Group(tuple(members[i] for i in clique), reasons))
    return tuple(groups)
