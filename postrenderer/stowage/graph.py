"""The storage map: which workloads mount which storage, where they run, and what is wrong.

Pure functions from an engine :class:`~stowage.engine.Outcome` to text: a
Mermaid flowchart (renders on GitHub and in docs) or a self-contained SVG
(no graphviz needed). Workloads sit on the left with their pod count and node
pool, storage on the right with its access modes; every edge is a mount path.
A node named by an error finding is drawn red (a ReadWriteOnce claim shared
across nodes above all), by a warning amber.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from stowage.analysis.claims import access_modes, hpa_max_replicas, placement_of
from stowage.configdata import Config
from stowage.engine import Outcome
from stowage.findings import Finding, ResourceRef, Severity
from stowage.podspecs import containers
from stowage.workloads import Workload

NOT_STORAGE = {"configMap", "secret", "projected", "downwardAPI", "emptyDir", "serviceAccountToken"}
COLORS = {
    "error": ("#fdd9d7", "#c62828"),
    "warning": ("#fff1d6", "#e08a00"),
    "workload": ("#e8f0fe", "#3b6fd8"),
    "storage": ("#eef7ee", "#3c8d40"),
}


@dataclass
class Node:
    key: str
    title: str
    detail: str
    kind: str  # "workload" or "storage"
    severity: str = ""  # "", "warning" or "error"


@dataclass
class Graph:
    workloads: list[Node] = field(default_factory=list)
    storage: list[Node] = field(default_factory=list)
    edges: list[tuple[str, str, str]] = field(default_factory=list)  # workload, storage, label


def build(outcome: Outcome) -> Graph:
    config = outcome.config if isinstance(outcome.config, Config) else Config()
    severity = _severities(outcome.findings)
    graph = Graph()
    storage: dict[str, Node] = {}
    hpas = hpa_max_replicas(outcome.stream)
    for index, workload in enumerate(outcome.workloads):
        key = f"w{index}"
        graph.workloads.append(_workload_node(key, workload, hpas, severity))
        for volume_key, node, label in _mounts(outcome, config, workload, severity):
            storage.setdefault(volume_key, node)
            graph.edges.append((key, volume_key, label))
    graph.storage = [storage[k] for k in sorted(storage)]
    short = {node.key: f"s{index}" for index, node in enumerate(graph.storage)}
    graph.edges = [(w, short[s], label) for w, s, label in graph.edges]
    for node in graph.storage:
        node.key = short[node.key]
    return graph


def _severities(findings: Iterable[Finding]) -> dict[ResourceRef, str]:
    marks: dict[ResourceRef, str] = {}
    for finding in findings:
        level = "error" if finding.severity is Severity.ERROR else "warning"
        for ref in (finding.resource, *finding.related):
            if marks.get(ref) != "error":
                marks[ref] = level
    return marks


def _workload_node(
    key: str, workload: Workload, hpas: dict[tuple[str, str], int], marks: dict[ResourceRef, str]
) -> Node:
    placement = placement_of(workload, hpas)
    selector = workload.pod_spec.get("nodeSelector") or {}
    pool = ", ".join(f"{k}={v}" for k, v in sorted(selector.items())) or "any node"
    detail = f"{placement.why} · {pool}"
    return Node(key, workload.label, detail, "workload", marks.get(workload.ref, ""))


def _mounts(
    outcome: Outcome, config: Config, workload: Workload, marks: dict[ResourceRef, str]
) -> Iterable[tuple[str, Node, str]]:
    pod = workload.pod_spec
    volumes = {v.get("name"): v for v in pod.get("volumes") or [] if isinstance(v, dict)}
    paths: dict[str, list[str]] = {}
    for container in containers(pod):
        for mount in container.get("volumeMounts") or []:
            text = str(mount.get("mountPath")) + (" (ro)" if mount.get("readOnly") else "")
            seen = paths.setdefault(str(mount.get("name")), [])
            if text not in seen:
                seen.append(text)
    for name in sorted(paths):
        volume = volumes.get(name)
        if volume is None or any(k in volume for k in NOT_STORAGE):
            continue
        node = _storage_node(outcome, config, workload, volume, marks)
        if node is not None:
            yield node.key, node, ", ".join(paths[name])


def _storage_node(
    outcome: Outcome,
    config: Config,
    workload: Workload,
    volume: dict[str, Any],
    marks: dict[ResourceRef, str],
) -> Node | None:
    if "persistentVolumeClaim" in volume:
        claim = str(volume["persistentVolumeClaim"].get("claimName"))
        namespace = workload.ref.namespace
        modes = access_modes(outcome.stream, config, claim, namespace).modes
        detail = ", ".join(modes) if modes else "access modes unknown"
        ref = ResourceRef("PersistentVolumeClaim", namespace, claim)
        return Node(f"claim:{claim}", f"claim {claim}", detail, "storage", marks.get(ref, ""))
    if "hostPath" in volume:
        path = str(volume["hostPath"].get("path"))
        return Node(f"host:{path}", f"hostPath {path}", "one node's directory", "storage")
    if "nfs" in volume:
        nfs = volume["nfs"]
        where = f"{nfs.get('server')}:{nfs.get('path')}"
        return Node(f"nfs:{where}", f"nfs {where}", "ReadWriteMany", "storage")
    source = next((k for k in volume if k != "name"), "volume")
    return Node(f"{source}:{volume.get('name')}", str(volume.get("name")), source, "storage")


def mermaid(graph: Graph) -> str:
    lines = ["flowchart LR"]
    for name, (fill, stroke) in COLORS.items():
        lines.append(f"  classDef {name} fill:{fill},stroke:{stroke},stroke-width:2px")
    for node in graph.workloads:
        lines.append(f'  {node.key}["{_mm(node.title)}<br/><small>{_mm(node.detail)}</small>"]')
    for node in graph.storage:
        lines.append(f'  {node.key}[("{_mm(node.title)}<br/><small>{_mm(node.detail)}</small>")]')
    for workload, storage, label in graph.edges:
        lines.append(f'  {workload} -- "{_mm(label)}" --> {storage}')
    for node in [*graph.workloads, *graph.storage]:
        lines.append(f"  class {node.key} {node.severity or node.kind}")
    return "\n".join(lines) + "\n"


def _mm(text: str) -> str:
    return html.escape(text, quote=True).replace("#", "&#35;")


ROW, BOX_H, BOX_W, GAP_X, MARGIN = 64, 48, 360, 260, 24


def svg(graph: Graph) -> str:
    rows = max(len(graph.workloads), len(graph.storage), 1)
    width = MARGIN * 2 + BOX_W * 2 + GAP_X
    height = MARGIN * 2 + rows * ROW + 28
    left = {n.key: (MARGIN, MARGIN + 28 + i * ROW) for i, n in enumerate(graph.workloads)}
    right_x = MARGIN + BOX_W + GAP_X
    right = {n.key: (right_x, MARGIN + 28 + i * ROW) for i, n in enumerate(graph.storage)}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{MARGIN}" y="{MARGIN + 8}" font-weight="bold">workloads</text>',
        f'<text x="{right_x}" y="{MARGIN + 8}" font-weight="bold">storage</text>',
    ]
    per_source: dict[str, int] = {}
    for workload, storage, label in graph.edges:
        (x1, y1), (x2, y2) = left[workload], right[storage]
        nth = per_source[workload] = per_source.get(workload, -1) + 1
        sy, ty = y1 + BOX_H // 2, y2 + BOX_H // 2
        parts.append(
            f'<path d="M{x1 + BOX_W},{sy} C{x1 + BOX_W + GAP_X // 2},{sy} '
            f'{x2 - GAP_X // 2},{ty} {x2},{ty}" fill="none" stroke="#888" stroke-width="1.2"/>'
        )
        parts.append(
            f'<text x="{x1 + BOX_W + 6}" y="{y1 + 12 + nth * 12}" fill="#555" font-size="10">'
            f"{html.escape(label)}</text>"
        )
    for node in graph.workloads:
        parts.append(_box(node, *left[node.key]))
    for node in graph.storage:
        parts.append(_box(node, *right[node.key]))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _box(node: Node, x: int, y: int) -> str:
    fill, stroke = COLORS[node.severity or node.kind]
    radius = 14 if node.kind == "storage" else 4
    return (
        f'<g><rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="{radius}" '
        f'fill="{fill}" stroke="{stroke}" stroke-width="2"/>'
        f'<text x="{x + 10}" y="{y + 19}" font-weight="bold">{html.escape(_clip(node.title))}'
        f'</text><text x="{x + 10}" y="{y + 37}" fill="#333">{html.escape(_clip(node.detail))}'
        "</text></g>"
    )


def _clip(text: str, limit: int = 52) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
