"""fsGroup is set but a mounted volume ignores it (hostPath, NFS).

Why it matters: the kubelet changes ownership to fsGroup only for volume types
that support it. hostPath and NFS keep the owner they have on the node or the
export, so a non-root pod may not be able to write ("permission denied",
Polyaxon's "failed to create subPath directory").

What triggers it: a targeted pod with `securityContext.fsGroup` that mounts a
hostPath volume, an inline nfs volume, or a claim bound to an NFS
PersistentVolume. A warning.

How to fix it: make the host directory or the NFS export owned (or writable) by
the pod's uid/gid, e.g. `chown 1000:1000 /exports/outputs` on the server.
"""

from __future__ import annotations

from collections.abc import Iterator

from stowage.analysis.claims import is_nfs_claim
from stowage.checks import CheckContext
from stowage.checks.common import targeted, volumes
from stowage.findings import Finding, Severity
from stowage.podspecs import get_in
from stowage.workloads import Workload

ID = "SW702"
NAME = "fsgroup-ignored"
SEVERITY = Severity.WARNING


def check(ctx: CheckContext) -> Iterator[Finding]:
    users: dict[tuple[str, str, object, object], list[Workload]] = {}
    for _, workload in targeted(ctx):
        pod = workload.pod_spec
        pod_sc = pod.get("securityContext") or {}
        if pod_sc.get("fsGroup") is None:
            continue
        for volume in volumes(pod):
            kind = _ignoring_kind(ctx, workload.ref.namespace, volume)
            if kind is not None:
                key = (
                    str(volume.get("name")),
                    kind,
                    pod_sc.get("runAsUser", "?"),
                    pod_sc["fsGroup"],
                )
                users.setdefault(key, []).append(workload)
    for (name, kind, uid, gid), workloads in sorted(users.items(), key=lambda i: i[0][:2]):
        yield Finding(
            ID,
            SEVERITY,
            workloads[0].ref,
            f"volume {name!r} is {kind}, which ignores fsGroup {gid}: the directory keeps its "
            f"owner on the node or server (mounted by {', '.join(w.label for w in workloads)})",
            f"make the directory or export owned or writable by uid {uid} / gid {gid} "
            f"(e.g. chown {uid}:{gid})",
            tuple(w.ref for w in workloads),
        )


def _ignoring_kind(ctx: CheckContext, namespace: str, volume: dict[str, object]) -> str | None:
    if isinstance(volume.get("hostPath"), dict):
        return f"a hostPath ({get_in(volume, ('hostPath', 'path'))})"
    if isinstance(volume.get("nfs"), dict):
        return "an nfs volume"
    claim = get_in(volume, ("persistentVolumeClaim", "claimName"))
    if isinstance(claim, str) and is_nfs_claim(ctx.stream, claim, namespace):
        return f"claim {claim!r} on an NFS PersistentVolume"
    return None
