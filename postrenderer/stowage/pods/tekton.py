"""Tekton: which TaskRun pods of a PipelineRun can be live at the same time, and why.

Follows the Tekton Pipelines documentation (tektoncd/pipeline docs/pipelines.md,
pipelineruns.md, workspaces.md, affinityassistants.md, additional-configs.md):

- a TaskRun runs one pod;
- a Pipeline's tasks run as a DAG: a task waits for the tasks its `runAfter` names,
  those whose results it uses (`$(tasks.X.results.Y)`) and, in v1beta1, those its
  resources come `from`; tasks with no ordering between them run at once;
- a task with a `matrix` runs one TaskRun per combination, in parallel (matrix.md);
- `finally` tasks run after all the other tasks, in parallel with one another;
- a PipelineRun's tasks are its inline `pipelineSpec`, or the Pipeline its `pipelineRef`
  names in the run's namespace (read from the stream: :class:`Tekton`);
- a workspace the run binds to a claim (`persistentVolumeClaim`, or a
  `volumeClaimTemplate`: one claim per run) reaches only the tasks that bind that
  workspace (`tasks[].workspaces[].workspace`, the task's own name when unset), or whose
  inline `taskSpec` uses it by propagation (`$(workspaces.<name>...)`);
- the affinity assistant (the `coschedule` flag of ConfigMap tekton-pipelines/feature-flags)
  with `workspaces` schedules "all TaskRun pods within the PipelineRun that share the
  Workspace" to one node; with `pipelineruns` or `isolate-pipelinerun` all of the run's
  pods; `disabled` places them freely. :func:`affinity` reads it.

A PipelineRun whose Pipeline is not in the stream shows no tasks: its pods are counted as
many, and the note says why (rule SW905 names it when the config has targets).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from stowage.pods.groups import MANY, Dag, Group, Member
from stowage.pods.podspecs import Path, api_group, get_in, list_at

_RESULT_REF = re.compile(r"\$\(tasks\.([-A-Za-z0-9_]+)\.results\.")
_WORKSPACE_REF = re.compile(r"\$\(workspaces\.([-A-Za-z0-9_]+)\.")
SYSTEM_NAMESPACE = "tekton-pipelines"
FEATURE_FLAGS = "feature-flags"
MODES = ("workspaces", "pipelineruns", "isolate-pipelinerun", "disabled")


@dataclass(frozen=True)
class Affinity:
    """The affinity assistant's mode (`coschedule`), and where stowage read it.

    Without a feature-flags ConfigMap in the stream: Tekton's default, `workspaces`, as in
    the Tekton Pipelines release the fixtures come from (tektoncd/pipeline@3ee1745ae5b2,
    after v1.9; the default since `coschedule` came in v0.51, and the assistant was on by
    default before it).
    """

    mode: str = "workspaces"
    origin: str = "the default"

    @property
    def per_workspace(self) -> bool:
        """Pods of one run that share a workspace's claim are on one node."""
        return self.mode != "disabled"

    @property
    def per_run(self) -> bool:
        """All pods of one run are on one node."""
        return self.mode in ("pipelineruns", "isolate-pipelinerun")

    @property
    def flag(self) -> str:
        return f"coschedule: {self.mode}, {self.origin}"

    def note(self) -> str:
        """What the assistant does with a run's pods, as the plan says it."""
        assistant = f"Tekton's affinity assistant ({self.flag})"
        if self.mode == "pipelineruns":
            return f"{assistant} puts all the pods of a PipelineRun on one node"
        if self.mode == "isolate-pipelinerun":
            return f"{assistant} puts all the pods of a PipelineRun on one node, one run per node"
        if self.mode == "disabled":
            return (
                f"{assistant} is off: tasks that share a workspace's claim can run on "
                "different nodes unless runAfter or results order them"
            )
        return (
            f"{assistant} puts the pods of a PipelineRun that share a workspace's claim on one node"
        )

    @property
    def apart(self) -> str:
        """Why a run's tasks sharing a claim may be on different nodes ("" when they are not)."""
        return "" if self.per_workspace else f"Tekton's affinity assistant is off ({self.flag})"


DEFAULT = Affinity()
COSCHEDULED = DEFAULT.note()


def affinity(config_maps: Iterable[dict[str, Any]]) -> Affinity:
    """The affinity assistant's mode from ConfigMap tekton-pipelines/feature-flags (the
    first one; a namespace-less one labelled part-of tekton-pipelines counts too).

    `coschedule` is one of :data:`MODES` (an unknown value, which Tekton's controller
    refuses, counts as the default). The older `disable-affinity-assistant: "true"`
    (read up to v0.70, removed in v1.0) follows the migration table of
    affinityassistants.md: it disables the assistant unless `coschedule` is
    `pipelineruns` or `isolate-pipelinerun`.
    """
    for body in config_maps:
        if not _is_feature_flags(body):
            continue
        data = body.get("data")
        data = data if isinstance(data, dict) else {}
        namespace = get_in(body, ("metadata", "namespace")) or SYSTEM_NAMESPACE
        origin = f"ConfigMap {namespace}/{FEATURE_FLAGS}"
        mode = str(data.get("coschedule") or "workspaces").strip()
        mode = mode if mode in MODES else "workspaces"
        disable = str(data.get("disable-affinity-assistant") or "").strip().lower() == "true"
        if disable and mode in ("workspaces", "disabled"):
            return Affinity("disabled", f'disable-affinity-assistant: "true", {origin}')
        return Affinity(mode, origin)
    return DEFAULT


def _is_feature_flags(body: dict[str, Any]) -> bool:
    if body.get("kind") != "ConfigMap" or api_group(body) not in (None, ""):
        return False
    if get_in(body, ("metadata", "name")) != FEATURE_FLAGS:
        return False
    namespace = get_in(body, ("metadata", "namespace"))
    if namespace:
        return bool(namespace == SYSTEM_NAMESPACE)
    # Rendered without a namespace (the release's): Tekton's own labels say it is Tekton's.
    return bool(
        get_in(body, ("metadata", "labels", "app.kubernetes.io/part-of")) == SYSTEM_NAMESPACE
    )


@dataclass(frozen=True)
class Tekton:
    """What the stream says about Tekton: its Pipelines and the affinity assistant."""

    pipelines: Mapping[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    affinity: Affinity = DEFAULT

    @classmethod
    def of(cls, bodies: Iterable[dict[str, Any]]) -> Tekton:
        """From the stream's Pipelines and ConfigMaps (other objects are passed over)."""
        pipelines: dict[tuple[str, str], dict[str, Any]] = {}
        config_maps = []
        for body in bodies:
            if body.get("kind") == "ConfigMap":
                config_maps.append(body)
            elif body.get("kind") == "Pipeline" and api_group(body) == "tekton.dev":
                key = (
                    str(get_in(body, ("metadata", "namespace")) or ""),
                    str(get_in(body, ("metadata", "name")) or ""),
                )
                spec = body.get("spec")
                if isinstance(spec, dict):
                    pipelines.setdefault(key, spec)
        return cls(pipelines, affinity(config_maps))

    def pipeline(self, namespace: str, name: str) -> dict[str, Any] | None:
        """The Pipeline in the run's namespace (a namespace-less one is in the release's)."""
        found = self.pipelines.get((namespace, name))
        if found is None and not namespace:
            found = next((s for (_, n), s in self.pipelines.items() if n == name), None)
        return found if found is not None else self.pipelines.get(("", name))


NONE = Tekton()


@dataclass(frozen=True)
class Binding:
    """A workspace a run binds to a claim: an existing one, or one made from a template."""

    workspace: str
    claim: str | None  # `persistentVolumeClaim.claimName`
    template: dict[str, Any] | None  # `volumeClaimTemplate`
    read_only: bool


def workspace_bindings(body: dict[str, Any]) -> Iterator[Binding]:
    """The workspaces a TaskRun or PipelineRun binds to a claim or a claim template."""
    for binding in list_at(body, ("spec", "workspaces")):
        name = str(get_in(binding, ("name",)) or "")
        claim = get_in(binding, ("persistentVolumeClaim",))
        template = get_in(binding, ("volumeClaimTemplate",))
        if isinstance(claim, dict) and isinstance(claim.get("claimName"), str):
            yield Binding(name, claim["claimName"], None, bool(claim.get("readOnly")))
        elif isinstance(template, dict):
            yield Binding(name, None, template, False)


def workspace_claims(body: dict[str, Any]) -> Iterator[tuple[str, bool]]:
    """(claimName, read-only) for every workspace a TaskRun or PipelineRun binds to a claim."""
    for binding in workspace_bindings(body):
        if binding.claim is not None:
            yield binding.claim, binding.read_only


def pipeline_spec(body: dict[str, Any], tekton: Tekton) -> tuple[dict[str, Any] | None, str]:
    """A PipelineRun's pipeline: its inline `pipelineSpec`, or the Pipeline its `pipelineRef`
    names in the stream; and a note saying where the tasks came from (or why none)."""
    spec = get_in(body, ("spec", "pipelineSpec"))
    if isinstance(spec, dict):
        return spec, ""
    ref = get_in(body, ("spec", "pipelineRef"))
    ref = ref if isinstance(ref, dict) else {}
    name = ref.get("name")
    if ref.get("resolver") or ref.get("bundle"):
        how = f"the {ref['resolver']} resolver" if ref.get("resolver") else "a bundle"
        return None, (
            f"a PipelineRun whose Pipeline comes from {how} at run time: its tasks are not "
            "in the stream, counted as many pods"
        )
    if not isinstance(name, str):
        return None, "a PipelineRun with neither pipelineSpec nor pipelineRef name: many pods"
    namespace = str(get_in(body, ("metadata", "namespace")) or "")
    found = tekton.pipeline(namespace, name)
    if found is None:
        return None, (
            f"a PipelineRun naming Pipeline {name!r} (pipelineRef), which is not in the "
            "stream: its tasks are unknown, counted as many pods"
        )
    return found, f"its tasks come from Pipeline {name!r} (pipelineRef, found in the stream)"


def pipeline_groups(
    body: dict[str, Any], path: Path, tekton: Tekton = NONE
) -> tuple[tuple[Group, ...], dict[str, frozenset[str]] | None, str]:
    """The groups of a PipelineRun's task pods (all at the pod template's ``path``); the
    uses (member labels) of each pipeline workspace, None when the tasks are unknown;
    and a note on where the tasks came from."""
    spec, note = pipeline_spec(body, tekton)
    if spec is None:
        return (Group((Member(path, MANY, note, "pod"),)),), None, note
    tasks = [t for t in list_at(spec, ("tasks",)) if isinstance(t, dict) and "name" in t]
    final = [t for t in list_at(spec, ("finally",)) if isinstance(t, dict) and "name" in t]
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
    members = [Member(path, *_fan_out(task), _label(task)) for task in (*tasks, *final)]
    soft = "{b} starts while {a} runs"  # Tekton has no soft edges: never used
    groups = dag.groups(members, names, "task", soft)
    return groups, _workspace_uses((*tasks, *final)), note


def _label(task: dict[str, Any]) -> str:
    return f"task '{task['name']}'"


def _workspace_uses(tasks: Iterable[dict[str, Any]]) -> dict[str, frozenset[str]]:
    """Pipeline workspace -> the tasks (member labels) that bind it: by a `workspaces`
    mapping ("workspace" names the pipeline's, the task's own name when unset), or, for
    an inline taskSpec, by propagation (its steps use `$(workspaces.<name>.path)`)."""
    uses: dict[str, set[str]] = {}
    for task in tasks:
        mapped = [w for w in list_at(task, ("workspaces",)) if isinstance(w, dict)]
        bound = {str(w.get("workspace") or w.get("name")) for w in mapped}
        inline = task.get("taskSpec")
        if isinstance(inline, dict):  # a name the task maps to another is the task's own
            renamed = {
                str(w.get("name"))
                for w in mapped
                if w.get("workspace") not in (None, w.get("name"))
            }
            bound |= set(_WORKSPACE_REF.findall(json.dumps(inline))) - renamed
        for workspace in bound:
            uses.setdefault(workspace, set()).add(_label(task))
    return {workspace: frozenset(labels) for workspace, labels in uses.items()}


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
