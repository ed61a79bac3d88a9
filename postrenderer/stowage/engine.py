"""The one-way pipeline: read, plan, attach, check. Writing happens at the edge (cli)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from stowage import parallel
from stowage.attach import halves
from stowage.errors import UsageError
from stowage.findings import Finding
from stowage.plan.layers import Layer
from stowage.pods.podspecs import PLAN_LABEL, claim_names, containers, get_in, looks_pod_bearing
from stowage.pods.shapes import manifest_problem
from stowage.read.manifests import (
    READ_KINDS,
    Document,
    Stream,
    needs_reading,
    parse,
    parse_documents,
    parse_mentioning,
    split_input,
)
from stowage.read.yamlload import Limits, YamlError, load_document

PLAN_KEY = "plan.json"
POD_HINT = "containers:"  # a document of an unknown kind with this may carry pod specs


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
    notes: list[str] = field(default_factory=list)
    workloads: list[Any] = field(default_factory=list)  # stowage.pods.workloads.Workload
    config: Any = None  # the merged stowage.plan.configdata.Config, when a plan or config was read

    limits: Limits = field(default_factory=Limits)

    def original(self, doc: Document) -> Any:
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
    stream = split_input(text, options.limits)
    split = _split(stream, options) if halves.worth_trying(stream) else None
    if split is not None:
        outcome = _run_in_halves(stream, split, options)
        if outcome is not None:
            return outcome
        del stream  # the attempt read part of it: start again from the text
        stream = split_input(text, options.limits)
    parse(stream, options.limits)
    _refuse_kindless_pods(stream)
    layers = [*plan_layers(stream), *options.layers]
    outcome = Outcome(stream, limits=options.limits)
    if not any(d.parsed and isinstance(d.body, dict) for d in stream.documents) and not layers:
        outcome.notes.append("no manifests stowage reads: passed through untouched")
        return outcome
    return _plan_attach_check(stream, layers, options, outcome)


def _plan_attach_check(
    stream: Stream, layers: list[Layer], options: Options, outcome: Outcome
) -> Outcome:
    # Imported here so that a pass-through run never pays for planning and checks.
    from stowage.attach import attach
    from stowage.plan import plan
    from stowage.pods.workloads import TemplateMatch, collect

    config = plan.merge_layers(layers, options.variables)
    the_plan = plan.build(config)
    if not layers:
        outcome.notes.append(
            "no plan and no --config: nothing attached, manifests passed through untouched "
            "(the checks still ran)"
        )
    parse_for_config(stream, config, options.limits)
    matches: list[TemplateMatch] = []
    workloads = list(collect(stream, carried_loader(options.limits), config, matches))
    attached = attach.apply(workloads, the_plan, options.limits)
    return _check(
        _Attachment(stream, workloads, attached, matches, the_plan, layers), options, outcome
    )


@dataclass
class _Attachment:
    """What attach left, for the checks."""

    stream: Stream
    workloads: list[Any]  # stowage.pods.workloads.Workload
    attached: Any  # stowage.attach.attach.AttachResult
    matches: list[Any]  # stowage.pods.workloads.TemplateMatch
    plan: Any  # stowage.plan.plan.Plan
    layers: list[Layer]


def _check(done: _Attachment, options: Options, outcome: Outcome) -> Outcome:
    from stowage.attach import attach
    from stowage.checks import CheckContext, run_all
    from stowage.checks.common import PLAN_REF
    from stowage.findings import locate_config_findings
    from stowage.plan.automount import nothing_mounted_note

    stream, workloads, config = done.stream, done.workloads, done.plan.config
    parse_referenced(stream, workloads, config, options.limits)
    attach.add_generated_claims(stream, done.plan)
    ctx = CheckContext(
        stream, workloads, config, done.attached.roles, dict(config.vars), done.attached.conflicts
    )
    ctx.template_matches = done.matches
    findings = run_all(ctx, strict=options.strict)
    if config.admission.enabled:
        outcome.notes.extend(add_admission_policies(stream, done.plan))
    outcome.findings = locate_config_findings(findings, PLAN_REF, done.layers)
    outcome.placements = done.attached.placements
    outcome.notes.extend(_hooks_note(workloads))
    outcome.notes.extend(filter(None, [nothing_mounted_note(config.autoMount)]))
    outcome.workloads = workloads
    outcome.config = config
    return outcome


def _hooks_note(workloads: list[Any]) -> list[str]:
    """Hooks pass through untouched (attach never selects them): say so."""
    hooks = list(dict.fromkeys(w.label for w in workloads if w.is_helm_hook))
    if not hooks:
        return []
    return [
        f"left {len(hooks)} Helm hook(s) untouched ({', '.join(hooks)}): hooks are not platform "
        "workloads, and Helm 3 never hands them to a post-renderer"
    ]


@dataclass
class _Split:
    """The plan, and the documents a second process takes (stowage.attach.halves)."""

    layers: list[Layer]
    plan: Any  # stowage.plan.plan.Plan
    theirs: list[Document]


def _split(stream: Stream, options: Options) -> _Split | None:
    """A :class:`_Split`, or None when a second process would have nothing to take. It
    reads only the documents that may hold a plan, which the one-process run reads
    again alike: declining here costs nothing."""
    from stowage.plan import plan

    try:
        parse_documents([d for d in stream.documents if _may_hold_plan(d)], options.limits)
        layers = [*plan_layers(stream), *options.layers]
        config = plan.merge_layers(layers, options.variables)
        theirs = halves.second_half(stream, config) if layers and config.targets else []
        return _Split(layers, plan.build(config), theirs) if theirs else None
    except UsageError:
        return None  # the one-process run reports it


def _run_in_halves(stream: Stream, split: _Split, options: Options) -> Outcome | None:
    """The run with half of a large stream's workload documents read, attached and
    rendered in a second process (stowage.attach.halves). None when that cannot be used,
    or on any error: the one-process run then starts again and reports it as always."""
    from stowage.attach import attach

    limits, the_plan, theirs = options.limits, split.plan, split.theirs
    child = parallel.in_child(partial(halves.attach_part, theirs, the_plan, limits, stream.newline))
    if child is None:
        return None
    try:
        with child:
            mine = _attach_all_but(stream, {doc.index for doc in theirs}, the_plan, limits)
            part = child.result()
        if part is None:
            return None
        their_workloads = halves.take_in(theirs, part, the_plan.config, carried_loader(limits))
    except UsageError:
        return None
    if their_workloads is None:
        return None
    workloads, each = halves.in_stream_order(mine.workloads, mine.each, their_workloads, part.each)
    attached = attach.combine(each)
    done = _Attachment(stream, workloads, attached, mine.matches, the_plan, split.layers)
    return _check(done, options, Outcome(stream, limits=limits))


def _may_hold_plan(doc: Document) -> bool:
    return doc.sniffed_kind in (None, "ConfigMap") and needs_reading(doc)


@dataclass
class _Half:
    workloads: list[Any]  # stowage.pods.workloads.Workload
    each: list[Any]  # stowage.attach.attach.Attached | None, per workload
    matches: list[Any]  # stowage.pods.workloads.TemplateMatch


def _attach_all_but(stream: Stream, taken: set[int], the_plan: Any, limits: Limits) -> _Half:
    """This process's half: every document the child did not take, rendered when changed."""
    from stowage.attach import attach
    from stowage.pods.workloads import TemplateMatch, collect

    unread = [d for d in stream.documents if d.index not in taken and not d.parsed]
    parse_documents([d for d in unread if needs_reading(d)], limits)
    _refuse_kindless_pods(stream)
    parse_for_config(stream, the_plan.config, limits)
    mine = Stream([doc for doc in stream.documents if doc.index not in taken])
    matches: list[TemplateMatch] = []
    workloads = list(collect(mine, carried_loader(limits), the_plan.config, matches))
    each = attach.attach_each(workloads, the_plan, limits)
    halves.render_changed(mine.documents, stream.newline)
    return _Half(workloads, each, matches)


def add_admission_policies(stream: Stream, the_plan: Any) -> list[str]:
    """Append the plan's admission policies and bindings (the plan says admission.enabled),
    so that Helm installs them with the release and removes them on uninstall."""
    from stowage.admission import policies

    built = policies.build(the_plan)
    for body in built.objects:
        doc = Document(len(stream.documents), 0, "---" + stream.newline, "", body, True, True)
        stream.documents.append(doc)
    return [f"admission: {note}" for note in built.notes]


def parse_for_config(stream: Stream, config: Any, limits: Limits) -> None:
    """Parse what the config makes relevant: template ConfigMaps, declared kinds, and
    (when there are targets) documents of unknown kinds that look like they run pods."""
    from stowage.pods.templates import mentions

    parse_mentioning(stream, frozenset({"ConfigMap"}), mentions(config.templates), limits)
    declared = {k.kind for k in config.kinds}
    for doc in stream.documents:
        if doc.parsed or doc.sniffed_kind is None:
            continue
        unknown = doc.sniffed_kind not in READ_KINDS  # known kinds are parsed and checked
        if doc.sniffed_kind in declared or (config.targets and unknown and POD_HINT in doc.text):
            parse_unchecked(doc, limits)


def parse_unchecked(doc: Document, limits: Limits) -> None:
    """Parse a document of a kind stowage does not validate; unparsable ones stay unread."""
    try:
        body = load_document(doc.separator + doc.text, limits)
    except YamlError:
        return  # not ours to judge: it passes through as it came
    if isinstance(body, dict):
        doc.body, doc.parsed = body, True


def parse_referenced(stream: Stream, workloads: list[Any], config: Any, limits: Limits) -> None:
    """Parse the claims, volumes and Secrets that workloads or the plan refer to
    (looking for their names only when the stream holds such documents unread)."""
    unread = {doc.sniffed_kind for doc in stream.documents if not doc.parsed}
    if unread & {"PersistentVolumeClaim", "PersistentVolume"}:
        _parse_claims_and_volumes(stream, workloads, config, limits)
    if "Secret" in unread:
        secrets = {s.secret for s in _volume_specs(config) if s.secret}
        secrets |= {name for w in workloads for name in _secret_names(w.pod_spec)}
        parse_mentioning(stream, frozenset({"Secret"}), _literal(secrets), limits)


def _parse_claims_and_volumes(
    stream: Stream, workloads: list[Any], config: Any, limits: Limits
) -> None:
    from stowage.pods.workloads import referenced_claims

    claims = {name for w in workloads for name, _ in claim_names(w.pod_spec)}
    claims |= {name for w in workloads for name in referenced_claims(w)}
    claims |= {s.existingClaim for s in _volume_specs(config) if s.existingClaim}
    parse_mentioning(stream, frozenset({"PersistentVolumeClaim"}), _literal(claims), limits)
    bound = set(claims)
    for doc in stream.objects({"PersistentVolumeClaim"}):
        spec = doc.body.get("spec") or {}
        bound.add(str(spec.get("volumeName") or ""))
        bound.update(str(v) for v in (get_in(spec, ("selector", "matchLabels")) or {}).values())
    parse_mentioning(stream, frozenset({"PersistentVolume"}), _literal(bound), limits)


def _literal(names: set[str]) -> set[str]:
    return {n for n in names if n and "${" not in n}


def _volume_specs(config: Any) -> list[Any]:
    return [*config.persistence.data.values(), *config.persistence.outputs.values()]


def _secret_names(pod: dict[str, Any]) -> Iterator[str]:
    for volume in pod.get("volumes") or []:
        name = get_in(volume, ("secret", "secretName"))
        if isinstance(name, str):
            yield name
    for container in containers(pod):
        for env in container.get("env") or []:
            name = get_in(env, ("valueFrom", "secretKeyRef", "name"))
            if isinstance(name, str):
                yield name


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
        layers.append(Layer(f"chart values (plan {doc.ref})", data))
    return layers


def carried_loader(limits: Limits) -> Callable[[Document, str, str], Any]:
    """Parse a pod template carried in a ConfigMap; errors name the ConfigMap and data key."""

    def load(carrier: Document, key: str, text: str) -> Any:
        try:
            manifest = load_document(text, limits)
        except YamlError as err:
            line = f" line {err.line}" if err.line else ""
            raise UsageError(
                f"carried pod template data.{key}{line}: {err.message}", where=carrier.where()
            ) from None
        problem = manifest_problem(manifest)
        if problem:
            raise UsageError(
                f"carried pod template data.{key}: {problem} (the API server would refuse it too)",
                where=carrier.where(),
            )
        return manifest

    return load


def _refuse_kindless_pods(stream: Stream) -> None:
    for doc in stream.parsed():
        if not doc.kind and looks_pod_bearing(doc.body):
            raise UsageError(
                "has no kind but carries a pod spec; stowage cannot tell where its "
                "storage goes. Add `kind:` (and apiVersion)",
                where=doc.where(),
            )
