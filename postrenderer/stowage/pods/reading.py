"""What the stream reads: the kinds stowage parses, and the ones it parses when named.

stowage.read splits the stream and parses YAML but knows no kind; this module
gives it the :data:`READING` (which documents to parse up front, and which
manifests the API server would refuse) and asks it for the documents a
config makes relevant (:func:`read_for_config`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from stowage.errors import UsageError
from stowage.pods.podspecs import AUTOSCALER_KINDS, OPERATOR_KIND_NAMES, looks_pod_bearing
from stowage.pods.shapes import manifest_problem
from stowage.read.manifests import (
    Document,
    Reading,
    Stream,
    is_list_kind,
    only_comments,
    split_input,
)
from stowage.read.yamlload import Limits, YamlError, load_document

if TYPE_CHECKING:
    from stowage.plan.configdata import Config

# Kinds whose content stowage reads. Everything else passes through unparsed.
READ_KINDS = frozenset(
    {
        "Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob",
        "DaskCluster", "DaskWorkerGroup", "DaskJob", "PersistentVolumeClaim",
        "PersistentVolume", "Secret", "List", "ConfigMap",
        *OPERATOR_KIND_NAMES, *AUTOSCALER_KINDS,
    }
)  # fmt: skip
STOWAGE_MARK = "stowage.io/"
# Read only when a workload or the plan names them (stowage.checks.referenced):
# a chart with thousands of per-user claims pays nothing for the ones no pod mounts.
DEFERRED_KINDS = frozenset({"PersistentVolumeClaim", "PersistentVolume", "Secret"})
# A document of an unknown kind holding one of these may carry pod specs (`initContainers:`
# alone: a pod template with init containers only). Text checks: the common path parses nothing.
POD_HINTS = ("containers:", "initContainers:")


def may_carry_pods(text: str) -> bool:
    return any(hint in text for hint in POD_HINTS)


def needs_reading(doc: Document) -> bool:
    """Whether ``doc`` is parsed up front: a kind stowage reads (not a deferred one), a
    ConfigMap that mentions stowage, or a document whose kind its header does not show."""
    kind = doc.sniffed_kind
    if kind is None:
        return bool(doc.text.strip(" \t\r\n")) and not only_comments(doc.text)
    if is_list_kind(kind) and kind != "List":
        kind = kind[: -len("List")]  # DeploymentList holds Deployments: read them all
        if kind in DEFERRED_KINDS:
            return True
    if kind == "ConfigMap":
        return STOWAGE_MARK in doc.text
    return kind in READ_KINDS and kind not in DEFERRED_KINDS


READING = Reading(wanted=needs_reading, problem=manifest_problem)


def stream_of(text: str, limits: Limits) -> Stream:
    """The stream of ``text``, split and indexed by kind; nothing parsed yet."""
    return split_input(text, limits, READING)


def read(text: str, limits: Limits) -> Stream:
    """The stream of ``text`` with every document stowage reads up front parsed."""
    stream = stream_of(text, limits)
    stream.read_all()
    return stream


# The chart renders one document of this kind, which no cluster serves, so that Helm refuses
# a release rendered without stowage (chart/templates/post-renderer-required.yaml).
GUARD_API_VERSION, GUARD_KIND = "stowage.io/v1", "PostRendererRequired"


def drop_fail_closed_guard(stream: Stream) -> None:
    """Leave the chart's fail-closed guard out of the output: stowage ran."""
    for doc in stream.of_kind((GUARD_KIND,)):
        if isinstance(doc.body, dict) and doc.body.get("apiVersion") == GUARD_API_VERSION:
            doc.dropped = True


def may_hold_plan(doc: Document) -> bool:
    """A ConfigMap stowage reads, or a document whose header does not show its kind."""
    return doc.sniffed_kind in (None, "ConfigMap") and needs_reading(doc)


def plan_documents(stream: Stream) -> list[Document]:
    """The documents that may hold the chart's plan (:func:`may_hold_plan`), in stream
    order, read ahead in one batch (a stream of many kindless documents loads faster
    so than one by one); the first unusable one is refused (exit 2)."""
    docs = [doc for doc in stream.of_kind((None, "ConfigMap")) if may_hold_plan(doc)]
    stream.read(docs)
    return docs


def read_everything(stream: Stream, spread: bool = True) -> None:
    """Parse what stowage reads up front, and refuse a pod spec it cannot place."""
    stream.read_all(spread)
    refuse_kindless_pods(stream)


def refuse_kindless_pods(stream: Stream) -> None:
    for doc in stream.parsed():
        if not doc.kind and looks_pod_bearing(doc.body):
            raise UsageError(
                "has no kind but carries a pod spec; stowage cannot tell where its "
                "storage goes. Add `kind:` (and apiVersion)",
                where=doc.where(),
            )


def read_for_config(stream: Stream, config: Config) -> None:
    """Parse what the config makes relevant: template ConfigMaps, declared kinds, and
    (when there are targets) documents of unknown kinds that look like they run pods."""
    from stowage.pods.templates import mentions

    stream.read_mentioning(frozenset({"ConfigMap"}), mentions(config.templates))
    declared = {k.kind for k in config.kinds}
    for doc in stream.documents:
        if doc.parsed or doc.sniffed_kind is None:
            continue
        unknown = doc.sniffed_kind not in READ_KINDS  # known kinds are parsed and checked
        if doc.sniffed_kind in declared or (
            config.targets and unknown and may_carry_pods(doc.text)
        ):
            stream.read_unchecked(doc)


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
