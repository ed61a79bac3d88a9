"""The one-way pipeline: read, plan, attach, check. Writing happens at the edge (cli).

Each stage asks the stream for the documents it needs, and the stream parses
them then (stowage.read.manifests): a run parses the plan's ConfigMaps to
plan, the workloads to attach, and the claims and Secrets they name to check.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from stowage.errors import UsageError
from stowage.findings import Finding
from stowage.layers import Layer
from stowage.pods.podspecs import PLAN_LABEL, get_in
from stowage.pods.reading import drop_fail_closed_guard, plan_documents, read_everything, stream_of
from stowage.read.manifests import Document, Stream
from stowage.read.yamlload import Limits, load_document

if TYPE_CHECKING:  # imported where used: a pass-through run never pays for them
    from stowage.attach.attach import Attachment, Placement
    from stowage.plan.configdata import Config
    from stowage.plan.plan import Plan
    from stowage.pods.workloads import Workload

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
    placements: list[Placement] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    workloads: list[Workload] = field(default_factory=list)
    config: Config | None = None  # the merged config, when a plan or config was read

    limits: Limits = field(default_factory=Limits)

    def original(self, doc: Document) -> object:
        """The document as it came in, or None for one stowage added. Parsed again from
        its text when a report asks: attach keeps no copy of what it changes."""
        if not doc.text.strip(" \t\r\n"):
            return None
        return load_document(doc.separator + doc.text, self.limits)

    @property
    def rejected(self) -> bool:
        return any(f.blocking for f in self.findings)

    @property
    def changed(self) -> list[Document]:
        return [d for d in self.stream.documents if d.changed]


def run(text: str, options: Options) -> Outcome:
    stream = stream_of(text, options.limits)
    drop_fail_closed_guard(stream)
    outcome = Outcome(stream, limits=options.limits)
    layers = _layers(stream, options)
    if not layers and not _reads_anything(stream):
        outcome.notes.append("no manifests stowage reads: passed through untouched")
        return outcome
    the_plan = _plan(stream, layers, options)
    if not layers:
        outcome.notes.append(
            "no plan and no --config: nothing attached, manifests passed through untouched "
            "(the checks still ran)"
        )
    from stowage.attach.stage import attach_stream

    attached = attach_stream(stream, the_plan)
    return _check(outcome, attached, the_plan, layers, options)


def _layers(stream: Stream, options: Options) -> list[Layer]:
    """The chart's plan resources, then the --config files. Only the documents that may
    hold a plan are parsed for it."""
    with _manifest_errors_first(stream):
        return [*plan_layers(stream), *options.layers]


def _reads_anything(stream: Stream) -> bool:
    read_everything(stream)
    return any(doc.parsed and isinstance(doc.body, dict) for doc in stream.documents)


def _plan(stream: Stream, layers: list[Layer], options: Options) -> Plan:
    from stowage.plan import plan

    with _manifest_errors_first(stream):
        return plan.build(plan.merge_layers(layers, options.variables))


@contextmanager
def _manifest_errors_first(stream: Stream) -> Iterator[None]:
    """An unusable manifest is reported before a plan or config error, as when every
    document was read first: on an error, read them all from the start, then re-raise."""
    try:
        yield
    except UsageError:
        stream.forget()
        read_everything(stream)
        raise


def _check(
    outcome: Outcome, attached: Attachment, the_plan: Plan, layers: list[Layer], options: Options
) -> Outcome:
    from stowage.attach.attach import add_generated_claims
    from stowage.checks import CheckContext, run_all
    from stowage.checks.common import PLAN_REF
    from stowage.checks.referenced import read_referenced
    from stowage.findings import locate_config_findings
    from stowage.plan.automount import nothing_mounted_note

    stream, config, result = outcome.stream, the_plan.config, attached.result
    read_referenced(stream, attached.workloads, config)
    add_generated_claims(stream, the_plan)
    ctx = CheckContext(
        stream, attached.workloads, config, result.roles, dict(config.vars), result.conflicts
    )
    ctx.template_matches = attached.matches
    findings = run_all(ctx, strict=options.strict)
    if config.admission.enabled:
        outcome.notes.extend(add_admission_policies(stream, the_plan))
    outcome.findings = locate_config_findings(findings, PLAN_REF, layers)
    outcome.placements = result.placements
    outcome.notes.extend(_hooks_note(attached.workloads))
    outcome.notes.extend(filter(None, [nothing_mounted_note(config.autoMount)]))
    outcome.workloads = attached.workloads
    outcome.config = config
    return outcome


def _hooks_note(workloads: list[Workload]) -> list[str]:
    """Hooks pass through untouched (attach never selects them): say so."""
    hooks = list(dict.fromkeys(w.label for w in workloads if w.is_helm_hook))
    if not hooks:
        return []
    return [
        f"left {len(hooks)} Helm hook(s) untouched ({', '.join(hooks)}): hooks are not platform "
        "workloads, and Helm 3 never hands them to a post-renderer"
    ]


def add_admission_policies(stream: Stream, the_plan: Plan) -> list[str]:
    """Append the plan's admission policies and bindings (the plan says admission.enabled),
    so that Helm installs them with the release and removes them on uninstall."""
    from stowage.admission import policies

    built = policies.build(the_plan)
    for body in built.objects:
        doc = Document(len(stream.documents), 0, "---" + stream.newline, "", body, True, True)
        stream.documents.append(doc)
    return [f"admission: {note}" for note in built.notes]


def plan_layers(stream: Stream) -> list[Layer]:
    """The chart's plan resources (ConfigMaps labelled stowage.io/plan), in stream order."""
    layers = []
    for doc in plan_documents(stream):
        if not isinstance(doc.body, dict):
            continue
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
        layers.append(Layer(f"chart values (plan {doc.ref})", data))
    return layers
