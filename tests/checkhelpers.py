"""Build a CheckContext from manifests, as the engine does, for rule tests."""

from __future__ import annotations

from typing import Any

import yaml

from stowage.checks import CheckContext, Conflict, run_all
from stowage.findings import Finding
from stowage.plan.plan import validate
from stowage.pods.reading import carried_loader, read
from stowage.pods.workloads import collect
from stowage.read.yamlload import Limits


def context(
    *docs: dict[str, Any],
    config: dict[str, Any] | None = None,
    targeted: tuple[str, ...] = (),
    variables: dict[str, str] | None = None,
    conflicts: list[Conflict] | None = None,
) -> CheckContext:
    """``targeted`` names the workloads (metadata.name) stowage attached storage to."""
    text = "".join("---\n" + yaml.safe_dump(d, sort_keys=False) for d in docs)
    limits = Limits()
    stream = read(text, limits)
    # parse deferred kinds too: rules see what the engine gives them
    stream.read([doc for doc in stream.documents if not doc.parsed])
    workloads = list(collect(stream, carried_loader(limits)))
    roles = {i: "role" for i, w in enumerate(workloads) if w.ref.name in targeted}
    return CheckContext(
        stream,
        workloads,
        validate(config or {}, "test config"),
        roles,
        dict(variables or {}),
        list(conflicts or []),
    )


def findings(ctx: CheckContext, rule: str, strict: bool = False) -> list[Finding]:
    return [f for f in run_all(ctx, strict=strict) if f.rule == rule]


def pod(
    volumes: list[dict[str, Any]] | None = None,
    mounts: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "main", "image": "busybox"}
    if mounts is not None:
        container["volumeMounts"] = mounts
    spec: dict[str, Any] = {"containers": [container], **extra}
    if volumes is not None:
        spec["volumes"] = volumes
    return spec


def workload(
    name: str,
    *,
    kind: str = "Deployment",
    replicas: int | None = 1,
    spec: dict[str, Any] | None = None,
    labels: dict[str, str] | None = None,
    strategy: str | None = "Recreate",
    **top: Any,
) -> dict[str, Any]:
    labels = labels or {"app": name}
    template = {"metadata": {"labels": labels}, "spec": spec or pod()}
    body: dict[str, Any] = {"selector": {"matchLabels": labels}, "template": template}
    if replicas is not None and kind in ("Deployment", "StatefulSet", "ReplicaSet"):
        body["replicas"] = replicas
    if strategy and kind == "Deployment":
        body["strategy"] = {"type": strategy}
    if kind == "DaemonSet":
        body.pop("replicas", None)
    if kind == "Job":
        body = {"template": template, **top}
    api = "batch/v1" if kind == "Job" else "apps/v1"
    return {
        "apiVersion": api,
        "kind": kind,
        "metadata": {"name": name, "labels": labels},
        "spec": body,
    }


def claim_volume(claim: str, name: str = "data", read_only: bool = False) -> dict[str, Any]:
    source: dict[str, Any] = {"claimName": claim}
    if read_only:
        source["readOnly"] = True
    return {"name": name, "persistentVolumeClaim": source}


def pvc(name: str, *modes: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name},
        "spec": {"accessModes": list(modes), "resources": {"requests": {"storage": "1Gi"}}, **spec},
    }


def mounting(name: str, claim: str, **kwargs: Any) -> dict[str, Any]:
    spec = pod([claim_volume(claim)], [{"name": "data", "mountPath": "/data"}])
    spec.update(kwargs.pop("pod_extra", {}))
    return workload(name, spec=spec, **kwargs)
