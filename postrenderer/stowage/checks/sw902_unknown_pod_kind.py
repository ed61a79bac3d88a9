"""A resource of a kind stowage does not know carries pod specs a target would select.

Why it matters: stowage attaches storage only where it knows a kind keeps its
pod specs. A custom resource it does not know (an operator's job, cluster or
pipeline kind) passes through untouched, so the pods it starts run without the
data and outputs the target was meant to give them, and its claims are not
checked.

What triggers it: a document whose kind is neither built in (Pod, Deployment,
StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, PodTemplate, the Dask kinds,
the ML operator kinds of KubeRay, Kubeflow training and Trainer v2 runtimes,
Kubeflow Notebook, JobSet, LeaderWorkerSet, Volcano, Argo Workflows and the
Spark operator) nor declared in `kinds`, that holds a pod spec (a mapping with
a `containers` or `initContainers` list, nested ones included), and whose
labels (its own or those beside the pod spec) carry every matchLabels entry of
a target.

How to fix it: declare the kind in the config, like kustomize's configurations:
`kinds: [{group: ..., kind: ..., podSpecs: [{path: ..., replicas: ...}]}]`
(the message gives every pod-spec path found and, where a count field sits near
one — `replicas`, `maxReplicas`, `parallelism`, `instances`, `size`,
`numNodes` — its `replicas:` path), or narrow the target's matchLabels.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from stowage.checks import CheckContext
from stowage.findings import Finding, Severity
from stowage.pods.podspecs import Path, api_group, get_in, sites
from stowage.pods.workloads import declared_kinds

ID = "SW902"
NAME = "unknown-pod-kind"
SEVERITY = Severity.WARNING
MAX_DEPTH = 12  # pod specs sit a few levels down; do not walk arbitrary data forever
POD_LISTS = ("containers", "initContainers")


def check(ctx: CheckContext) -> Iterator[Finding]:
    targets = {r: t for r, t in ctx.config.targets.items() if t.matchLabels}
    if not targets:
        return
    declared = declared_kinds(ctx.config)
    # the objects whose pod specs were found (a List's items count on their own)
    known = {(workload.doc.index, workload.object.item) for workload in ctx.workloads}
    for obj in ctx.stream.objects():
        body = obj.body
        if (obj.doc.index, obj.item) in known or obj.kind == "ConfigMap":
            continue
        if next(sites(body, declared), None):
            continue
        paths = list(_pod_spec_paths(body, (), 0))
        matched = sorted(
            role
            for role, target in targets.items()
            if any(_selects(target.matchLabels, _labels(body, path)) for path in paths)
        )
        if matched:
            yield _finding(obj.ref, body, paths, matched)


def _finding(ref: Any, body: dict[str, Any], paths: list[Path], roles: list[str]) -> Finding:
    shown = sorted({_path_text(p) for p in paths})
    replicas = {_path_text(p): _replicas_path(body, p) for p in paths}
    group = api_group(body) or ""
    group_text = group or '""'
    spec_list = ", ".join(
        f"{{path: {p}, replicas: {replicas[p]}}}" if replicas[p] else f"{{path: {p}}}"
        for p in shown
    )
    return Finding(
        ID,
        SEVERITY,
        ref,
        f"{ref.kind}/{ref.name} (group {group or 'core'!r}) is a kind stowage does not know, "
        f"but it carries pod specs at {', '.join(shown)} that target(s) "
        f"{', '.join(roles)} would select: they get no storage and are not checked",
        f"declare the kind in the config: kinds: [{{group: {group_text}, kind: {ref.kind}, "
        f"podSpecs: [{spec_list}]}}] (check each `replicas:` path, and add one where none "
        "is given, so the access-mode checks count its pods)",
    )


# Fields that say how many pods a pod spec runs, nearest first (KServe's maxReplicas sits
# beside its containers; a template's replicas one or two levels above it).
REPLICA_FIELDS = ("replicas", "maxReplicas", "parallelism", "instances", "size", "numNodes")


def _replicas_path(body: dict[str, Any], path: Path) -> str:
    """The path of the field that counts the pod spec's pods, when one is near it."""
    for up in range(4):
        holder = path[: len(path) - up] if up else path
        node = get_in(body, holder) if holder else body
        if not isinstance(node, dict) or (up and holder == ()):
            continue
        for name in REPLICA_FIELDS:
            value = node.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                return _path_text((*holder, name))
    return ""


def _pod_spec_paths(node: Any, path: Path, depth: int) -> Iterator[Path]:
    """Every mapping with a `containers` or `initContainers` list, nested ones too (a
    KServe predictor holds its containers and a `workerSpec` with its own)."""
    if depth > MAX_DEPTH:
        return
    if isinstance(node, dict):
        if any(isinstance(node.get(k), list) for k in POD_LISTS):
            yield path
        for key, value in node.items():
            if key != "metadata" and key not in POD_LISTS:
                yield from _pod_spec_paths(value, (*path, str(key)), depth + 1)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _pod_spec_paths(item, (*path, index), depth + 1)


def _labels(body: dict[str, Any], path: Path) -> dict[str, str]:
    labels: dict[str, str] = {}
    for where in (("metadata", "labels"), (*path[:-1], "metadata", "labels")):
        found = get_in(body, where)
        if isinstance(found, dict):
            labels.update({str(k): str(v) for k, v in found.items()})
    return labels


def _selects(match: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in match.items())


def _path_text(path: Path) -> str:
    return "".join("[*]" if isinstance(k, int) else f".{k}" for k in path).lstrip(".")
