"""The one-way pipeline: read, plan, attach, check. Writing happens at the edge (cli)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from stowage.errors import UsageError
from stowage.findings import Finding, Severity
from stowage.layers import Layer
from stowage.manifests import Document, Stream, read
from stowage.podspecs import PLAN_LABEL, get_in, looks_pod_bearing
from stowage.yamlload import Limits, YamlError, load_document

PLAN_KEY = "plan.json"


@dataclass
class Options:
    layers: Sequence[Layer] = ()
    variables: dict[str, str] = field(default_factory=dict)
    strict: bool = False
    limits: Limits = field(default_factory=Limits)


@dataclass
class Outcome:
    stream: Stream
    findings: list[Finding] = field(default_factory=list)
    placements: list[Any] = field(default_factory=list)
    originals: dict[int, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def rejected(self) -> bool:
        return any(f.severity is Severity.ERROR for f in self.findings)

    @property
    def changed(self) -> list[Document]:
        return [d for d in self.stream.documents if d.changed]


def run(text: str, options: Options) -> Outcome:
    stream = read(text, options.limits)
    _refuse_kindless_pods(stream)
    layers = [*plan_layers(stream), *options.layers]
    outcome = Outcome(stream)
    if not any(d.parsed and isinstance(d.body, dict) for d in stream.documents) and not layers:
        outcome.notes.append("no manifests stowage reads: passed through untouched")
        return outcome
    return _plan_attach_check(stream, layers, options, outcome)


def _plan_attach_check(
    stream: Stream, layers: list[Layer], options: Options, outcome: Outcome
) -> Outcome:
    # Imported here so that a pass-through run never pays for pydantic.
    from stowage import attach, plan
    from stowage.checks import CheckContext, run_all
    from stowage.workloads import collect

    config = plan.merge_layers(layers, options.variables)
    the_plan = plan.build(config)
    if not layers:
        outcome.notes.append("no plan and no --config: manifests passed through untouched")
    workloads = list(collect(stream, lambda t: _load_carried(t, options.limits)))
    attached = attach.apply(stream, workloads, the_plan)
    ctx = CheckContext(
        stream, workloads, config, attached.roles, dict(config.vars), attached.conflicts
    )
    outcome.findings = run_all(ctx, strict=options.strict)
    outcome.placements = attached.placements
    outcome.originals = attached.originals
    return outcome


def plan_layers(stream: Stream) -> list[Layer]:
    """The chart's plan resources (ConfigMaps labelled stowage.io/plan), in stream order."""
    layers = []
    for doc in stream.parsed():
        labels = get_in(doc.body, ("metadata", "labels")) or {}
        if doc.kind != "ConfigMap" or str(labels.get(PLAN_LABEL, "")).lower() != "true":
            continue
        raw = get_in(doc.body, ("data", PLAN_KEY))
        try:
            data = json.loads(raw) if isinstance(raw, str) else None
        except json.JSONDecodeError as err:
            raise UsageError(f"data.{PLAN_KEY} is not JSON: {err.msg}", where=doc.where()) from None
        if not isinstance(data, dict):
            raise UsageError(f"data.{PLAN_KEY} must hold a JSON object", where=doc.where())
        layers.append(Layer(f"plan {doc.ref}", data))
    return layers


def _load_carried(text: str, limits: Limits) -> Any:
    try:
        return load_document(text, limits)
    except YamlError as err:
        raise UsageError(f"pod template: {err.message}", where=f"line {err.line}") from None


def _refuse_kindless_pods(stream: Stream) -> None:
    for doc in stream.parsed():
        if not doc.kind and looks_pod_bearing(doc.body):
            raise UsageError(
                "has no kind but carries a pod spec; stowage cannot tell where its "
                "storage goes. Add `kind:` (and apiVersion)",
                where=doc.where(),
            )
