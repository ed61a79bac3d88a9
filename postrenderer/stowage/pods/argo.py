"""Argo Workflows: which step and task pods can be live at the same time, and why.

Follows the Argo Workflows documentation:

- steps: "The outer lists run sequentially and the inner lists run in parallel."
- dag: a task starts once the tasks it depends on (`dependencies`, `depends`)
  complete; tasks with no dependency path between them can run at once.
- loops: `withItems`, `withParam` and `withSequence` run the step once per item,
  in parallel (`withParam`'s count is known only at run time: unbounded).
- parallelism: the workflow's limits its pods live at once; a template's limits
  the pods of its own steps or tasks in one invocation.
- daemon: a daemoned step keeps running while the later steps of the template
  that invoked it run, and stops when that template finishes.
- synchronization: a template holding a mutex runs one pod at a time; a workflow
  holding one runs one workflow at a time.
- CronWorkflow concurrencyPolicy: `Allow` (the default) lets runs overlap;
  `Forbid` and `Replace` do not.
- onExit: the exit handler runs after the entrypoint (or the step) finished.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from stowage.pods.groups import MANY, Dag, Group, Member, TooManyError, cliques, count_text
from stowage.pods.podspecs import Path, get_in, list_at

POD_TEMPLATE_KEYS = ("container", "script", "containerSet")
_DEPENDS_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_]*)(?:\.[A-Za-z]+)?")


@dataclass(frozen=True)
class Scope:
    """One level of where a pod runs: a step group, a step in it, a DAG task."""

    owner: str  # the invocation of the steps or dag template ("" for the workflow)
    kind: str  # "seq": one after another; "par": together; "dag": by dependencies; "alt": one of
    position: int | str
    name: str  # how messages name the step or task

    @property
    def key(self) -> tuple[str, str, int | str]:
        return (self.owner, self.kind, self.position)


@dataclass(frozen=True)
class Use:
    """One use of a pod template: a step or task that runs it (``pods`` of them at once)."""

    path: Path
    pods: int
    why: tuple[str, ...]
    trail: tuple[Scope, ...]
    daemon: bool
    owner: str  # the invocation whose step or task runs it
    mutex: str
    label: str


@dataclass
class Expansion:
    """Every use of a pod template one run of the workflow makes."""

    workflow: Path
    templates: dict[str, tuple[int, dict[str, Any]]]
    uses: list[Use] = field(default_factory=list)
    dags: dict[str, Dag] = field(default_factory=dict)
    caps: dict[str, tuple[int, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class Built:
    groups: list[Group] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def expand(body: dict[str, Any], workflow: Path, kind: str) -> Built:
    """The groups of one Argo object (Workflow, CronWorkflow, WorkflowTemplate, ...)."""
    spec = get_in(body, workflow)
    spec = spec if isinstance(spec, dict) else {}
    run = _expansion(spec, workflow)
    built = Built(notes=list(run.notes))
    built.groups = _groups(run, spec)
    overlap = _runs_overlap(body, spec, kind)
    if overlap:
        built.groups = [_scaled(group, overlap, kind) for group in built.groups]
    if kind in ("WorkflowTemplate", "ClusterWorkflowTemplate"):
        built.groups += _library(run, kind)
    elif spec.get("entrypoint"):
        built.notes += _never_run(run)
    return built


def _never_run(run: Expansion) -> list[str]:
    reached = {use.path for use in run.uses}
    return [
        f"template {name!r} is not reached from the entrypoint: its pods never run"
        for name, (index, template) in sorted(run.templates.items(), key=lambda i: i[1][0])
        if (*run.workflow, "templates", index) not in reached
        and any(isinstance(template.get(k), dict) for k in POD_TEMPLATE_KEYS)
    ]


@dataclass(frozen=True)
class At:
    """Where a template is invoked: its trail of scopes, who runs it, how many at once."""

    trail: tuple[Scope, ...]
    owner: str  # the invocation of the steps or dag template whose step or task runs it
    times: int
    why: tuple[str, ...]
    label: str  # "step 'a'", "task 'B'", "the entrypoint"
    stack: tuple[str, ...] = ()  # templates being invoked (a template calling itself stops)

    def inner(self, scopes: tuple[Scope, ...], owner: str, label: str) -> At:
        return At((*self.trail, *scopes), owner, self.times, self.why, label, self.stack)


def _expansion(spec: dict[str, Any], workflow: Path) -> Expansion:
    templates: dict[str, tuple[int, dict[str, Any]]] = {}
    for index, template in enumerate(list_at(spec, ("templates",))):
        if isinstance(template, dict) and isinstance(template.get("name"), str):
            templates.setdefault(template["name"], (index, template))
    run = Expansion(workflow, templates)
    entry = spec.get("entrypoint")
    if isinstance(entry, str):
        start = Scope("", "seq", 0, "the entrypoint")
        _invoke(run, entry, At((start,), "", 1, (), "the entrypoint"))
    exit_handler = spec.get("onExit") or get_in(spec, ("hooks", "exit", "template"))
    if isinstance(exit_handler, str):
        end = Scope("", "seq", 1, "the exit handler")
        _invoke(run, exit_handler, At((end,), "", 1, (), "the exit handler"))
    if not isinstance(entry, str) and templates:
        run.notes.append(
            "no entrypoint: each template no other one calls counted as a run of its own"
        )
        for place, name in enumerate(_roots(templates)):
            _invoke(
                run, name, At((Scope("", "alt", place, name),), "", 1, (), f"template {name!r}")
            )
    return run


def _roots(templates: dict[str, tuple[int, dict[str, Any]]]) -> list[str]:
    """Templates no step or task calls: what `argo submit --entrypoint` may start."""
    called = set()
    for _, template in templates.values():
        groups = template.get("steps")
        groups = groups if isinstance(groups, list) else []
        steps = [s for g in groups for s in (g if isinstance(g, list) else [g])]
        tasks = get_in(template, ("dag", "tasks"))
        steps += tasks if isinstance(tasks, list) else []
        called |= {str(s.get("template")) for s in steps if isinstance(s, dict)}
    return [name for name in templates if name not in called]


def _invoke(run: Expansion, name: str, at: At) -> None:
    found = run.templates.get(name)
    if found is None:
        run.notes.append(f"{at.label} runs template {name!r}, which this workflow does not define")
        return
    if name in at.stack:
        run.notes.append(f"template {name!r} calls itself: its pods are counted for one call")
        return
    index, template = found
    invocation = f"{at.owner}/{at.label}"
    inside = At(at.trail, invocation, at.times, at.why, at.label, (*at.stack, name))
    parallelism = template.get("parallelism")
    if isinstance(parallelism, int) and not isinstance(parallelism, bool) and parallelism > 0:
        most = min(parallelism * at.times, MANY)
        run.caps[invocation] = (most, f"template {name!r} parallelism {parallelism}")
    if isinstance(template.get("steps"), list):
        _steps(run, template["steps"], inside)
    elif isinstance(get_in(template, ("dag", "tasks")), list):
        _dag(run, template["dag"]["tasks"], inside)
    elif any(isinstance(template.get(key), dict) for key in POD_TEMPLATE_KEYS):
        run.uses.append(_use(run, name, index, template, at))


def _use(run: Expansion, name: str, index: int, template: dict[str, Any], at: At) -> Use:
    mutex = _mutex(template)
    pods, why = at.times, at.why
    if mutex and at.times > 1:
        pods, why = 1, (*why, f"template {name!r} holds mutex {mutex!r}: one at a time")
    path = (*run.workflow, "templates", index)
    daemon = template.get("daemon") is True
    return Use(path, pods, why, at.trail, daemon, at.owner, mutex, at.label)


def _steps(run: Expansion, groups: list[Any], at: At) -> None:
    """Steps: the outer list runs in sequence, each inner list in parallel."""
    for number, group in enumerate(groups):
        steps = group if isinstance(group, list) else [group]
        for place, step in enumerate(steps):
            if not isinstance(step, dict):
                continue
            name = str(step.get("name"))
            scopes = (Scope(at.owner, "seq", number, name), Scope(at.owner, "par", place, name))
            _call(run, step, at.inner(scopes, at.owner, f"step {name!r}"))


def _dag(run: Expansion, tasks: list[Any], at: At) -> None:
    """A DAG: each task waits for its dependencies; a daemon's dependents start beside it."""
    named = {str(t.get("name")): t for t in tasks if isinstance(t, dict)}
    dag = Dag()
    for name, task in named.items():
        dag.add(name)
        for dep in _task_deps(task):
            if dep in named and dep != name:
                dag.need(name, dep, serialises=not _daemon(run, named[dep]))
    run.dags[at.owner] = dag
    for name, task in named.items():
        scope = Scope(at.owner, "dag", name, name)
        _call(run, task, at.inner((scope,), at.owner, f"task {name!r}"))


def _task_deps(task: dict[str, Any]) -> list[str]:
    deps = task.get("dependencies")
    names = [str(d) for d in deps] if isinstance(deps, list) else []
    depends = task.get("depends")
    if isinstance(depends, str):
        names += _DEPENDS_NAME.findall(depends)
    return names


def _daemon(run: Expansion, task: dict[str, Any]) -> bool:
    found = run.templates.get(str(task.get("template")))
    return found is not None and found[1].get("daemon") is True and not task.get("templateRef")


def _call(run: Expansion, step: dict[str, Any], at: At) -> None:
    """One step or task: its fan-out, its template, its exit handler."""
    target = step.get("template")
    if not isinstance(target, str):
        _note_elsewhere(run, step, at.label)
        return
    fan, text = _fan_out(step, _is_leaf(run, target), target)
    if fan <= 0:
        return
    why = (*at.why, text) if text else at.why
    at = At(at.trail, at.owner, min(at.times * fan, MANY), why, at.label, at.stack)
    exit_handler = step.get("onExit") or get_in(step, ("hooks", "exit", "template"))
    if not isinstance(exit_handler, str):
        _invoke(run, target, at)
        return
    call = f"{at.owner}/{at.label}"
    _invoke(run, target, at.inner((Scope(call, "seq", 0, at.label),), at.owner, at.label))
    handler = f"the exit handler of {at.label}"
    _invoke(run, exit_handler, at.inner((Scope(call, "seq", 1, handler),), at.owner, handler))


def _note_elsewhere(run: Expansion, step: dict[str, Any], label: str) -> None:
    ref = step.get("templateRef")
    if isinstance(ref, dict):
        owner = "ClusterWorkflowTemplate" if ref.get("clusterScope") else "WorkflowTemplate"
        run.notes.append(
            f"{label} runs template {ref.get('template')!r} of {owner} {ref.get('name')!r}: "
            "its pods are counted there"
        )
    elif step.get("inline") is not None:
        run.notes.append(f"{label} has an inline template: stowage does not reach it")


def _is_leaf(run: Expansion, name: str) -> bool:
    found = run.templates.get(name)
    return found is not None and any(isinstance(found[1].get(k), dict) for k in POD_TEMPLATE_KEYS)


def _fan_out(step: dict[str, Any], leaf: bool, target: str) -> tuple[int, str]:
    """How many copies a loop runs at once (MANY: unknown until run time), and why."""
    what = "pods" if leaf else f"runs of {target!r}"
    items = step.get("withItems")
    if isinstance(items, list):
        return len(items), f"withItems fans out {len(items)} {what}" if len(items) != 1 else ""
    param = step.get("withParam")
    literal = _json_list(param)
    if literal is not None:
        return len(literal), f"withParam fans out {len(literal)} {what}" if len(
            literal
        ) != 1 else ""
    if param is not None:
        return MANY, f"withParam fans out an unbounded number of {what} (known only at run time)"
    sequence = step.get("withSequence")
    if isinstance(sequence, dict):
        count = _sequence_length(sequence)
        if count is None:
            return MANY, f"withSequence fans out an unbounded number of {what}"
        return count, f"withSequence fans out {count} {what}" if count != 1 else ""
    return 1, ""


def _json_list(value: Any) -> list[Any] | None:
    """A withParam that is a JSON list written out (no `{{...}}`): its items."""
    if not isinstance(value, str) or "{{" in value:
        return None
    try:
        items = json.loads(value)
    except ValueError:
        return None
    return items if isinstance(items, list) else None


def _sequence_length(sequence: dict[str, Any]) -> int | None:
    count = _number(sequence.get("count"))
    if "count" in sequence:
        return count
    start, end = _number(sequence.get("start", 0)), _number(sequence.get("end"))
    if start is None or end is None:
        return None
    return abs(end - start) + 1


def _number(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _mutex(template: dict[str, Any]) -> str:
    sync = template.get("synchronization")
    if not isinstance(sync, dict):
        return ""
    names = [get_in(sync, ("mutex", "name"))]
    names += [m.get("name") for m in list_at(sync, ("mutexes",)) if isinstance(m, dict)]
    return next((str(n) for n in names if isinstance(n, str) and n), "")


# --- groups -------------------------------------------------------------------------------------


def _groups(run: Expansion, spec: dict[str, Any]) -> list[Group]:
    uses = [u for u in run.uses if u.pods > 0]
    parallelism = spec.get("parallelism")
    workflow_cap: list[tuple[str, int, str]] = []
    if isinstance(parallelism, int) and not isinstance(parallelism, bool) and parallelism > 0:
        workflow_cap = [("", parallelism, f"workflow parallelism {parallelism}")]
    members = [_member(run, use) for use in uses]
    try:
        found = cliques(len(uses), lambda a, b: overlap(run, uses[a], uses[b]))
    except TooManyError:
        run.notes.append("too many steps to tell which overlap: all counted as running at once")
        return [Group(tuple(members), caps=(*_caps(run, members), *workflow_cap))]
    groups = []
    for clique in found:
        chosen = tuple(members[i] for i in clique)
        reasons = tuple(
            (x, y, reason(run, uses[clique[x]], uses[clique[y]]))
            for x in range(len(clique))
            for y in range(x + 1, len(clique))
        )
        groups.append(Group(chosen, reasons, (*_caps(run, list(chosen)), *workflow_cap)))
    return groups


def _member(run: Expansion, use: Use) -> Member:
    why = "; ".join(use.why) or "1 pod"
    return Member(use.path, use.pods, why, use.label, use.owner if use.owner in run.caps else "")


def _caps(run: Expansion, members: list[Member]) -> tuple[tuple[str, int, str], ...]:
    owners = sorted({m.cap for m in members if m.cap})
    return tuple((owner, *run.caps[owner]) for owner in owners)


def _diverge(a: Use, b: Use) -> int | None:
    for index, (x, y) in enumerate(zip(a.trail, b.trail, strict=False)):
        if x.key != y.key:
            return index
    return None


def overlap(run: Expansion, a: Use, b: Use) -> bool:
    """Whether pods of two uses can be live at the same time."""
    if a.mutex and a.mutex == b.mutex:
        return False
    index = _diverge(a, b)
    if index is None:
        return False
    x, y = a.trail[index], b.trail[index]
    if x.kind == "alt":
        return False  # alternatives: one run starts one of them
    if x.kind != y.kind or x.kind == "par":
        return True
    if x.kind == "seq":
        first = a if x.position < y.position else b  # type: ignore[operator]
        return first.daemon and first.owner == x.owner
    return run.dags[x.owner].concurrent(str(x.position), str(y.position))


def reason(run: Expansion, a: Use, b: Use) -> str:
    """Why pods of two overlapping uses are live together."""
    index = _diverge(a, b)
    if index is None:
        return ""
    x, y = a.trail[index], b.trail[index]
    if x.kind == "par":
        return f"steps {x.name!r} and {y.name!r} are in the same step group"
    if x.kind == "seq":
        first, then = (x, y) if x.position < y.position else (y, x)  # type: ignore[operator]
        return f"step {first.name!r} is daemoned: it stays up while step {then.name!r} runs"
    soft = "{a} is daemoned: it stays up while {b} runs"
    return run.dags[x.owner].why(str(x.position), str(y.position), "task", soft)


# --- runs ---------------------------------------------------------------------------------------


def _runs_overlap(body: dict[str, Any], spec: dict[str, Any], kind: str) -> str:
    """Why runs of the object overlap ("" when they do not or it runs once)."""
    if _mutex(spec):
        return ""
    if kind == "CronWorkflow":
        policy = get_in(body, ("spec", "concurrencyPolicy"))
        if policy in (None, "Allow"):
            return "a CronWorkflow with concurrencyPolicy Allow: runs overlap"
        return ""
    if kind in ("WorkflowTemplate", "ClusterWorkflowTemplate"):
        return (
            f"an Argo {kind}: every workflow submitted from it runs its own pods, and runs "
            "overlap unless the workflow holds a synchronization mutex"
        )
    return ""


def _scaled(group: Group, why: str, kind: str) -> Group:
    """A group when runs overlap: twice the pods for a CronWorkflow, unbounded otherwise."""
    members = []
    for member in group.members:
        if member.pods and "holds mutex" not in member.why:
            pods = min(member.pods * 2, MANY) if kind == "CronWorkflow" else MANY
            members.append(
                Member(member.path, pods, f"{member.why}; {why}", member.label, member.cap)
            )
        else:
            members.append(member)
    return Group(tuple(members), group.reasons, group.caps)


def _library(run: Expansion, kind: str) -> list[Group]:
    """Pod templates no run reaches: other workflows call them by templateRef, any time."""
    reached = {use.path for use in run.uses}
    groups = []
    for name, (index, template) in sorted(run.templates.items(), key=lambda item: item[1][0]):
        path = (*run.workflow, "templates", index)
        if path in reached or not any(isinstance(template.get(k), dict) for k in POD_TEMPLATE_KEYS):
            continue
        why = f"a template of an Argo {kind}: any workflow can run it by templateRef, any time"
        groups.append(Group((Member(path, MANY, why, f"template {name!r}"),)))
    return groups


__all__ = ["Built", "Expansion", "Scope", "Use", "count_text", "expand", "overlap", "reason"]
