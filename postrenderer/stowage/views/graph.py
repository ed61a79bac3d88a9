"""The storage map: which workloads mount which storage, where they run, and what is wrong.

Pure functions from an engine :class:`~stowage.engine.Outcome` to text:
Graphviz DOT (laid out by Graphviz's ``dot`` into SVG or PNG; cli.py runs it),
a Mermaid flowchart (renders on GitHub and in docs), or a self-contained SVG
with a simple two-column layout for machines without Graphviz.

Workloads are drawn with their pod count and node pool, storage with its
source (claim, NFS, hostPath, cloud bucket; per-user and auto-mount marked);
every mount is its own edge labelled with its path and ro/rw. A node a finding
applies to is drawn red (error) or amber (warning) and carries the rule ID and
a short text. Helm hooks and test pods are left out unless asked for.
"""

from __future__ import annotations

import html
import inspect
import re
import textwrap
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from stowage.checks import find_rule
from stowage.checks.claims import Autoscalers, access_modes, autoscaling, placement_of
from stowage.engine import Outcome
from stowage.findings import Finding, ResourceRef
from stowage.plan.automount import AutoMountError, resolve
from stowage.plan.configdata import Config, VolumeSpec
from stowage.plan.plan import store_env_name
from stowage.pods.podspecs import containers
from stowage.pods.sources import source_of
from stowage.pods.workloads import Workload
from stowage.read.manifests import sniff_name

NOT_STORAGE = {"configMap", "secret", "projected", "downwardAPI", "emptyDir", "serviceAccountToken"}
COLORS = {
    "error": ("#fdd9d7", "#c62828"),
    "warning": ("#fff1d6", "#e08a00"),
    "workload": ("#e8f0fe", "#3b6fd8"),
    "storage": ("#eef7ee", "#3c8d40"),
}
# Store kind -> (Graphviz shape, what the legend calls it).
SHAPES = {
    "claim": ("cylinder", "PersistentVolumeClaim"),
    "nfs": ("folder", "NFS export"),
    "hostPath": ("box3d", "hostPath (one node's directory)"),
    "bucket": ("tab", "cloud bucket (s3, gcs, azure)"),
    "other": ("octagon", "other volume source"),
}
# Edges to one storage share a colour, so a path is matched to its storage at a glance.
EDGE_COLORS = ("#1f5fbf", "#b8860b", "#2e7d32", "#8e24aa", "#00838f", "#5d4037", "#d84315",
               "#37474f")  # fmt: skip
WRAP = 44  # characters per line inside a box


@dataclass
class Node:
    key: str
    title: str  # the full name, never clipped
    detail: str
    kind: str  # "workload" or a store kind of SHAPES
    severity: str = ""  # "", "warning" or "error"
    findings: list[tuple[str, str]] = field(default_factory=list)  # (severity, "SW101 text")
    messages: list[str] = field(default_factory=list)  # the full finding messages (tooltip)
    tags: list[str] = field(default_factory=list)  # "per-user", "auto-mount"

    @property
    def style(self) -> str:
        """The colour class: the finding severity, else workload or storage."""
        return self.severity or ("workload" if self.kind == "workload" else "storage")


@dataclass
class Edge:
    workload: str
    storage: str
    label: str  # one mount: "/data (ro)", or "env STOWAGE_STORE_X" for a bucket


@dataclass
class Graph:
    workloads: list[Node] = field(default_factory=list)
    storage: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    hidden_hooks: list[str] = field(default_factory=list)  # labels of the hooks left out


@dataclass(frozen=True)
class _Source:
    """One storage a workload uses, before it gets its short key."""

    key: str
    title: str
    detail: str
    kind: str
    claim: ResourceRef | None = None
    names: tuple[str, ...] = ()  # how findings may quote it: volume name, claim name


def build(outcome: Outcome, include_hooks: bool = False) -> Graph:
    config = outcome.config if isinstance(outcome.config, Config) else Config()
    specs = _config_volumes(config)
    scalers = autoscaling(outcome.stream)
    graph = Graph()
    storage: dict[str, Node] = {}
    for workload in outcome.workloads:
        if is_hook(workload) and not include_hooks:
            graph.hidden_hooks.append(workload.label)
            continue
        key = f"w{len(graph.workloads)}"
        node = _workload_node(key, workload, scalers)
        if is_hook(workload):
            node.tags.append("Helm hook")
        _mark(node, _findings_of(outcome.findings, {workload.ref}, ()))
        graph.workloads.append(node)
        for source, label, tags in _sources(outcome, config, specs, workload):
            target = storage.setdefault(source.key, _storage_node(source))
            target.tags.extend(t for t in tags if t not in target.tags)
            refs = {source.claim} if source.claim else set()
            about = _findings_of(outcome.findings, refs, source.names, workload.ref)
            _mark(target, about)
            _add_edge(graph.edges, Edge(key, source.key, label), merge=source.kind == "bucket")
    graph.storage = [storage[k] for k in sorted(storage)]
    short = {node.key: f"s{index}" for index, node in enumerate(graph.storage)}
    graph.edges = [Edge(e.workload, short[e.storage], e.label) for e in graph.edges]
    for node in graph.storage:
        node.key = short[node.key]
    return graph


def _add_edge(edges: list[Edge], edge: Edge, merge: bool) -> None:
    """Add one edge per mount; a bucket's credentials mount and env share one edge."""
    same = [e for e in edges if (e.workload, e.storage) == (edge.workload, edge.storage)]
    if merge and same:
        if edge.label not in same[0].label.split("\n"):
            same[0].label += "\n" + edge.label
    elif edge not in edges:
        edges.append(edge)


def is_hook(workload: Workload) -> bool:
    """A Helm hook or `helm test` pod (annotation helm.sh/hook), on the workload or its carrier."""
    return workload.is_helm_hook


def _config_volumes(config: Config) -> dict[str, tuple[str, VolumeSpec]]:
    """Volume name -> (purpose, spec) for the plan's data, outputs and auto-mount volumes."""
    named: dict[str, tuple[str, VolumeSpec]] = {}
    for purpose, volumes in (
        ("data", config.persistence.data),
        ("outputs", config.persistence.outputs),
    ):
        named.update({name: (purpose, spec) for name, spec in volumes.items()})
    try:
        auto = resolve(config.autoMount)
    except AutoMountError:
        auto = None  # reported when the plan is built
    if auto is not None:
        named[auto.name] = ("auto", auto.spec)
    return named


def _workload_node(key: str, workload: Workload, scalers: Autoscalers) -> Node:
    placement = placement_of(workload, scalers)
    selector = workload.pod_spec.get("nodeSelector") or {}
    pool = ", ".join(f"{k}={v}" for k, v in sorted(selector.items())) or "any node"
    return Node(key, workload.label, f"{placement.why} · {pool}", "workload")


def _storage_node(source: _Source) -> Node:
    return Node(source.key, source.title, source.detail, source.kind)


def _sources(
    outcome: Outcome, config: Config, specs: dict[str, tuple[str, VolumeSpec]], workload: Workload
) -> Iterator[tuple[_Source, str, list[str]]]:
    """Every storage the workload mounts (one item per mount path), then its bucket env."""
    pod = workload.pod_spec
    volumes = {v.get("name"): v for v in pod.get("volumes") or [] if isinstance(v, dict)}
    stores = {n: s for n, (_, s) in specs.items() if s.store}
    for name, path, read_only in _mounts(pod):
        volume = volumes.get(name)
        if volume is None:
            continue
        if name in stores and "secret" in volume:
            source = _bucket(name, stores[name])
            yield source, f"credentials at {path} (ro)", _tags(name, specs, volume)
            continue
        if any(k in volume for k in NOT_STORAGE):
            continue
        source = _volume_source(outcome, config, workload, volume)
        yield source, f"{path} ({'ro' if read_only else 'rw'})", _tags(name, specs, volume)
    by_env = {store_env_name(n): n for n in stores}
    for env_name in _env_names(pod):
        if env_name in by_env:
            name = by_env[env_name]
            yield _bucket(name, stores[name]), f"env {env_name}", _tags(name, specs, {})


def _mounts(pod: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(volume name, mountPath, readOnly) of every container, each once, in a stable order."""
    seen: list[tuple[str, str, bool]] = []
    for container in containers(pod, include_init=True):
        for mount in container.get("volumeMounts") or []:
            if not isinstance(mount, dict):
                continue
            item = (
                str(mount.get("name")),
                str(mount.get("mountPath")),
                bool(mount.get("readOnly")),
            )
            if item not in seen:
                seen.append(item)
    return sorted(seen)


def _env_names(pod: dict[str, Any]) -> list[str]:
    names = {
        str(env.get("name"))
        for container in containers(pod, include_init=True)
        for env in container.get("env") or []
        if isinstance(env, dict)
    }
    return sorted(names)


def _tags(name: str, specs: dict[str, tuple[str, VolumeSpec]], volume: dict[str, Any]) -> list[str]:
    tags = []
    purpose, spec = specs.get(name, ("", None))
    if "${USER}" in str(volume) or (spec is not None and "${USER}" in repr(spec)):
        tags.append("per-user")
    if purpose == "auto":
        tags.append("auto-mount")
    return tags


def _bucket(name: str, spec: VolumeSpec) -> _Source:
    where = spec.bucket or "(no bucket set)"
    secret = f"credentials {spec.secret}/{spec.secretKey}" if spec.secret else "no credentials"
    return _Source(f"bucket:{where}", f"{spec.store} bucket {where}", secret, "bucket",
                   names=(name,))  # fmt: skip


def _volume_source(
    outcome: Outcome, config: Config, workload: Workload, volume: dict[str, Any]
) -> _Source:
    name = str(volume.get("name"))
    kind, ref = source_of(volume)
    if kind == "claim":
        namespace = workload.ref.namespace
        modes = access_modes(outcome.stream, config, ref, namespace).modes
        detail = ", ".join(modes) if modes else "access modes unknown"
        if "${USER}" in ref:
            users = _per_user_claims(outcome, ref)
            detail = "one claim per user: " + (", ".join(users) or "none in this release")
        claim = ResourceRef("PersistentVolumeClaim", namespace, ref)
        return _Source(f"claim:{namespace}/{ref}", f"claim {ref}", detail, "claim", claim,
                       (name, ref))  # fmt: skip
    if kind == "hostPath":
        return _Source(f"host:{ref}", f"hostPath {ref}", "one node's directory", "hostPath",
                       names=(name,))  # fmt: skip
    if kind == "nfs":
        return _Source(f"nfs:{ref}", f"NFS {ref}", "ReadWriteMany", "nfs", names=(name,))
    return _Source(f"{kind}:{workload.ref}/{name}", f"{kind} {name}", f"in {workload.label}",
                   "other", names=(name,))  # fmt: skip


def _per_user_claims(outcome: Outcome, pattern: str) -> list[str]:
    """The release's claims a per-user claim name (with ${USER}) stands for."""
    regex = re.compile("^" + ".+".join(re.escape(part) for part in pattern.split("${USER}")) + "$")
    names = {  # claims are read lazily: their names come from the raw text
        sniff_name(doc.text) or ""
        for doc in outcome.stream.documents
        if doc.sniffed_kind == "PersistentVolumeClaim"
    }
    return sorted(name for name in names if regex.match(name))


def _findings_of(
    findings: Iterable[Finding],
    refs: set[ResourceRef],
    names: tuple[str, ...],
    workload: ResourceRef | None = None,
) -> list[Finding]:
    """The findings naming one of refs, or about `workload` and quoting one of names."""
    hits = []
    for finding in findings:
        named = {finding.resource, *finding.related}
        quoted = any(f"'{n}'" in finding.message for n in names)
        if named & refs or (workload in named and quoted):
            hits.append(finding)
    return hits


def _mark(node: Node, findings: Iterable[Finding]) -> None:
    for finding in findings:
        level = "error" if finding.blocking else "warning"  # a waived error rejects nothing
        if node.severity != "error":
            node.severity = level
        line = (level, f"{finding.rule} {short_text(finding.rule)}")
        if line not in node.findings:
            node.findings.append(line)
            node.messages.append(f"{finding.rule}: {finding.message}")


def short_text(rule: str) -> str:
    """The first sentence of the rule's documentation, without its closing remark in brackets."""
    module = find_rule(rule)
    if module is None:
        return ""
    first = (inspect.getdoc(module) or "").splitlines()[0]
    return first.split(" (")[0].rstrip(".")


def _lines(node: Node) -> list[str]:
    detail = " · ".join([node.detail, *node.tags])
    return textwrap.wrap(detail, WRAP, break_on_hyphens=False) or [""]


def _wrap(text: str) -> list[str]:
    return textwrap.wrap(text, WRAP, break_on_hyphens=False, break_long_words=True) or [""]


# --- Graphviz DOT ---------------------------------------------------------------------


def dot(graph: Graph) -> str:
    lines = [
        "digraph storage {",
        '  graph [rankdir=LR, fontname="Helvetica", fontsize=11, nodesep=0.25, ranksep=1.6,',
        '         bgcolor="white", labelloc=b, labeljust=l, tooltip="stowage storage map"];',
        '  node [fontname="Helvetica", fontsize=11, style=filled, penwidth=2, margin="0.18,0.08"];',
        '  edge [fontname="Helvetica", fontsize=10, color="#6b6b6b", fontcolor="#222222",',
        "        arrowsize=0.7];",
    ]
    for node in [*graph.workloads, *graph.storage]:
        lines.append(f"  {node.key} [{_dot_node(node)}];")
    colors = {node.key: EDGE_COLORS[i % len(EDGE_COLORS)] for i, node in enumerate(graph.storage)}
    for edge in graph.edges:
        color = colors[edge.storage]
        lines.append(
            f'  {edge.workload} -> {edge.storage} [label="{_dot_text(edge.label)}", '
            f'color="{color}", fontcolor="{color}"];'
        )
    lines.append(f"  label=<{_legend(graph)}>;")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_node(node: Node) -> str:
    fill, stroke = COLORS[node.style]
    shape = "box" if node.kind == "workload" else SHAPES[node.kind][0]
    styles = ["filled"] + (["rounded"] if node.kind == "workload" else [])
    if "per-user" in node.tags:
        styles.append("dashed")
    rows = [f"<B>{_html(line)}</B>" for line in _wrap(node.title)]
    rows += [f'<FONT COLOR="#333333">{_html(line)}</FONT>' for line in _lines(node)]
    for level, finding in node.findings:
        color = COLORS[level][1]
        rows += [f'<FONT COLOR="{color}"><B>{_html(line)}</B></FONT>' for line in _wrap(finding)]
    tooltip = "\n".join([node.title, node.detail, *node.messages])
    return (
        f'shape={shape}, style="{",".join(styles)}", fillcolor="{fill}", color="{stroke}", '
        f'label=<{"<BR/>".join(rows)}>, tooltip="{_dot_text(tooltip)}"'
    )


def _legend(graph: Graph) -> str:
    """Only what the map shows: its store kinds and tags, then the two finding colours."""
    kinds = {node.kind for node in graph.storage}
    tags = {tag for node in graph.storage for tag in node.tags}
    marks = [(COLORS["workload"], "box", "workload: pods, why that many, node pool")]
    marks += [(COLORS["storage"], s, t) for k, (s, t) in SHAPES.items() if k in kinds]
    if "per-user" in tags:
        marks.append((COLORS["storage"], "dashed", "per-user storage (one per ${USER})"))
    if "auto-mount" in tags:
        marks.append((COLORS["storage"], "auto-mount", "added to every targeted pod (autoMount)"))
    marks += [
        (COLORS["error"], "red", "error: rule ID and what is wrong"),
        (COLORS["warning"], "amber", "warning: rule ID and what is wrong"),
    ]
    half = (len(marks) + 1) // 2
    rows = []
    for index in range(half):
        pair = marks[index::half]
        rows.append("<TR>" + "".join(_legend_cells(*mark) for mark in pair) + "</TR>")
    notes = ["edge: one mount, its path and ro (read-only) or rw (read-write)"]
    if graph.hidden_hooks:
        count = len(graph.hidden_hooks)
        notes.append(f"left out: {count} Helm hook or test pod(s); --include-hooks draws them")
    rows += [f'<TR><TD COLSPAN="4" ALIGN="LEFT">{_html(note)}</TD></TR>' for note in notes]
    return (
        '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="3" CELLPADDING="2">'
        '<TR><TD COLSPAN="4" ALIGN="LEFT"><B>legend</B></TD></TR>' + "".join(rows) + "</TABLE>"
    )


def _legend_cells(colors: tuple[str, str], mark: str, text: str) -> str:
    fill, stroke = colors
    return (
        f'<TD BGCOLOR="{fill}" COLOR="{stroke}" BORDER="1" WIDTH="64">'
        f'<FONT POINT-SIZE="9">{_html(mark)}</FONT></TD>'
        f'<TD ALIGN="LEFT">{_html(text)}</TD>'
    )


def _html(text: str) -> str:
    return html.escape(text, quote=True)


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


# --- Mermaid ---------------------------------------------------------------------------

MERMAID_SHAPES = {
    "claim": ('[("', '")]'),
    "nfs": ('[/"', '"/]'),
    "hostPath": ('[["', '"]]'),
    "bucket": ('{{"', '"}}'),
    "other": ('("', '")'),
    "workload": ('["', '"]'),
}


def mermaid(graph: Graph) -> str:
    lines = ["flowchart LR"]
    for name, (fill, stroke) in COLORS.items():
        lines.append(f"  classDef {name} fill:{fill},stroke:{stroke},stroke-width:2px")
    for node in [*graph.workloads, *graph.storage]:
        opening, closing = MERMAID_SHAPES[node.kind]
        lines.append(f"  {node.key}{opening}{_mermaid_label(node)}{closing}")
    for edge in graph.edges:
        lines.append(f'  {edge.workload} -- "{_mm(edge.label)}" --> {edge.storage}')
    for node in [*graph.workloads, *graph.storage]:
        lines.append(f"  class {node.key} {node.style}")
    if graph.hidden_hooks:
        lines.append(f"  %% left out: {', '.join(graph.hidden_hooks)} (--include-hooks)")
    return "\n".join(lines) + "\n"


def _mermaid_label(node: Node) -> str:
    parts = [f"<b>{_mm(line)}</b>" for line in _wrap(node.title)]
    parts += [f"<small>{_mm(line)}</small>" for line in _lines(node)]
    for level, finding in node.findings:
        parts += [f"<small>{_mm(line)}</small>" for line in _wrap(f"{level}: {finding}")]
    return "<br/>".join(parts)


def _mm(text: str) -> str:
    """Text safe in a quoted Mermaid label: Mermaid's own entity codes for # and "."""
    return html.escape(text.replace("#", "#35;"), quote=False).replace('"', "#quot;")


# --- built-in SVG (no Graphviz) -----------------------------------------------------------

ROW_GAP, LINE_H, BOX_W, GAP_X, MARGIN, LABEL_W = 16, 15, 330, 320, 24, 170
Place = tuple[int, int, int]  # x, y, height of a box


def svg(graph: Graph) -> str:
    """A two-column drawing with no layout engine: workloads left, storage right.

    Every edge leaves its workload at its own height and runs straight under its
    label first, so each path reads next to its own line before the lines cross.
    """
    out_degree = _degrees(graph.edges, lambda e: e.workload)
    in_degree = _degrees(graph.edges, lambda e: e.storage)
    left, left_bottom = _column(graph.workloads, MARGIN, out_degree)
    right_x = MARGIN + BOX_W + GAP_X
    right, right_bottom = _column(graph.storage, right_x, in_degree)
    width = right_x + BOX_W + MARGIN
    legend_y = max(left_bottom, right_bottom) + ROW_GAP
    height = legend_y + 4 * LINE_H + MARGIN
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{MARGIN}" y="{MARGIN + 8}" font-weight="bold">workloads</text>',
        f'<text x="{right_x}" y="{MARGIN + 8}" font-weight="bold">storage</text>',
    ]
    colors = {node.key: EDGE_COLORS[i % len(EDGE_COLORS)] for i, node in enumerate(graph.storage)}
    seen_out: dict[str, int] = {}
    seen_in: dict[str, int] = {}
    for edge in graph.edges:
        start = _attach(left[edge.workload], seen_out, edge.workload, out_degree)
        end = _attach(right[edge.storage], seen_in, edge.storage, in_degree)
        parts.append(_svg_edge(edge, start, end, colors[edge.storage]))
    for node in graph.workloads:
        parts.append(_svg_box(node, *left[node.key]))
    for node in graph.storage:
        parts.append(_svg_box(node, *right[node.key]))
    parts.extend(_svg_legend(graph, legend_y))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _degrees(edges: list[Edge], end: Callable[[Edge], str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for edge in edges:
        counts[end(edge)] = counts.get(end(edge), 0) + 1
    return counts


def _attach(place: Place, seen: dict[str, int], key: str, degree: dict[str, int]) -> int:
    """The y where the nth edge of a box meets it: spread evenly over the box's height."""
    _, y, height = place
    nth = seen[key] = seen.get(key, 0) + 1
    return y + nth * height // (degree[key] + 1)


def _box_lines(node: Node) -> list[tuple[str, str]]:
    """(text, style) of each line in a box: bold, normal, or the severity of a finding."""
    lines = [(line, "bold") for line in _wrap(node.title)]
    lines += [(line, "normal") for line in _lines(node)]
    lines += [(line, level) for level, finding in node.findings for line in _wrap(finding)]
    return lines


def _column(nodes: list[Node], x: int, degree: dict[str, int]) -> tuple[dict[str, Place], int]:
    """Each node's place, tall enough for its text and its edges, and the y below the last."""
    places: dict[str, Place] = {}
    y = MARGIN + 28
    for node in nodes:
        lines = max(len(_box_lines(node)), degree.get(node.key, 0) * 2)
        height = lines * LINE_H + 14
        places[node.key] = (x, y, height)
        y += height + ROW_GAP
    return places, y


def _svg_edge(edge: Edge, sy: int, ty: int, color: str) -> str:
    sx, tx = MARGIN + BOX_W, MARGIN + BOX_W + GAP_X
    bend = sx + LABEL_W
    labels = "".join(
        f'<text x="{sx + 6}" y="{sy - 3 - index * 11}" fill="{color}" font-size="10">'
        f"{html.escape(line)}</text>"
        for index, line in enumerate(reversed(edge.label.split("\n")))
    )
    return (
        f'<g><path d="M{sx},{sy} H{bend} C{bend + 60},{sy} {tx - 60},{ty} {tx},{ty}" '
        f'fill="none" stroke="{color}" stroke-width="1.3"/>{labels}</g>'
    )


def _svg_box(node: Node, x: int, y: int, height: int) -> str:
    fill, stroke = COLORS[node.style]
    radius = 14 if node.kind != "workload" else 4
    dash = ' stroke-dasharray="6,3"' if "per-user" in node.tags else ""
    tooltip = html.escape("\n".join([node.title, node.detail, *node.messages]))
    parts = [
        f"<g><title>{tooltip}</title>",
        f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{height}" rx="{radius}" '
        f'fill="{fill}" stroke="{stroke}" stroke-width="2"{dash}/>',
    ]
    for index, (text, style) in enumerate(_box_lines(node)):
        color = COLORS[style][1] if style in COLORS else "#222"
        bold = ' font-weight="bold"' if style != "normal" else ""
        parts.append(
            f'<text x="{x + 10}" y="{y + 18 + index * LINE_H}" fill="{color}"{bold}>'
            f"{html.escape(text)}</text>"
        )
    parts.append("</g>")
    return "".join(parts)


def _svg_legend(graph: Graph, y: int) -> list[str]:
    items = [
        ("workload", "workload"),
        ("storage", "storage (dashed: per-user)"),
        ("error", "error finding"),
        ("warning", "warning finding"),
    ]
    parts = [f'<text x="{MARGIN}" y="{y + 10}" font-weight="bold">legend</text>']
    x = MARGIN + 60
    for style, text in items:
        fill, stroke = COLORS[style]
        parts.append(
            f'<rect x="{x}" y="{y}" width="14" height="12" fill="{fill}" stroke="{stroke}"/>'
            f'<text x="{x + 20}" y="{y + 10}">{html.escape(text)}</text>'
        )
        x += 40 + 7 * len(text)
    notes = ["edge: one mount, its path and ro (read-only) or rw (read-write)"]
    if graph.hidden_hooks:
        count = len(graph.hidden_hooks)
        notes.append(f"left out: {count} Helm hook or test pod(s); --include-hooks draws them")
    parts += [
        f'<text x="{MARGIN}" y="{y + 30 + index * LINE_H}" fill="#333">{html.escape(note)}</text>'
        for index, note in enumerate(notes)
    ]
    return parts
