"""The claims, volumes and Secrets the checks look at: read when something names them.

A chart with thousands of per-user claims pays nothing for the ones no pod
mounts: the stream parses a deferred kind (stowage.pods.reading.DEFERRED_KINDS)
only when a workload or the plan refers to it by name.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from stowage.plan.configdata import Config, VolumeSpec
from stowage.pods.podspecs import claim_names, containers, get_in
from stowage.pods.tekton import FEATURE_FLAGS
from stowage.pods.workloads import Workload, referenced_claims
from stowage.read.manifests import Stream


def read_referenced(stream: Stream, workloads: list[Workload], config: Config) -> None:
    """Parse the claims, volumes and Secrets that workloads or the plan refer to
    (looking for their names only when the stream holds such documents unread)."""
    unread = {doc.sniffed_kind for doc in stream.documents if not doc.parsed}
    if unread & {"PersistentVolumeClaim", "PersistentVolume"}:
        _read_claims_and_volumes(stream, workloads, config)
    if "Secret" in unread:
        secrets = {s.secret for s in _volume_specs(config) if s.secret}
        secrets |= {name for w in workloads for name in _secret_names(w.pod_spec)}
        stream.read_named("Secret", _literal(secrets))
    runs = [w.manifest for w in workloads if w.kind == "PipelineRun"]
    if runs:
        _read_tekton(stream, runs)


def _read_tekton(stream: Stream, runs: list[dict[str, Any]]) -> None:
    """The Pipelines PipelineRuns name and Tekton's feature flags (the affinity assistant's
    mode): a Pipeline is not stowage's to judge, so one that does not parse stays unread."""
    stream.read_mentioning(frozenset({"ConfigMap"}), {FEATURE_FLAGS})
    refs = (get_in(run, ("spec", "pipelineRef", "name")) for run in runs)
    names = {name for name in refs if isinstance(name, str) and name}
    for doc in stream.named("Pipeline", names):
        if not doc.parsed:
            stream.read_unchecked(doc)


def _read_claims_and_volumes(stream: Stream, workloads: list[Workload], config: Config) -> None:
    claims = {name for w in workloads for name, _ in claim_names(w.pod_spec)}
    claims |= {name for w in workloads for name in referenced_claims(w)}
    claims |= {s.existingClaim for s in _volume_specs(config) if s.existingClaim}
    stream.read_named("PersistentVolumeClaim", _literal(claims))
    bound = set(claims)
    for doc in stream.objects({"PersistentVolumeClaim"}):
        spec = doc.body.get("spec") or {}
        bound.add(str(spec.get("volumeName") or ""))
        bound.update(str(v) for v in (get_in(spec, ("selector", "matchLabels")) or {}).values())
    stream.read_mentioning(frozenset({"PersistentVolume"}), _literal(bound))


def _literal(names: set[str]) -> set[str]:
    return {n for n in names if n and "${" not in n}


def _volume_specs(config: Config) -> list[VolumeSpec]:
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
