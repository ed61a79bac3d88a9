"""fsGroup is set but a mounted volume ignores it (hostPath, NFS).

Why it matters: the kubelet changes ownership to fsGroup only for volume types
that support it. hostPath and NFS keep the owner they have on the node or the
export, so a non-root pod may not be able to write ("permission denied",
Polyaxon's "failed to create subPath directory").

What triggers it: with `securityContext.enabled` (stowage sets fsGroup), a
targeted pod with `securityContext.fsGroup` that mounts a hostPath volume, an
inline nfs volume, or a claim bound to an NFS PersistentVolume. A warning, once
per volume, naming every pod that mounts it and the uid (when known) and gid
the directory must serve.

How to fix it: make the host directory or the NFS export owned (or writable) by
the pod's uid/gid, e.g. `chown 1000:1000 /exports/outputs` on the server.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from stowage.checks import CheckContext
from stowage.checks.claims import is_nfs_claim
from stowage.checks.common import targeted, volumes
from stowage.findings import Finding, Severity
from stowage.pods.podspecs import containers, get_in
from stowage.pods.workloads import Workload

ID = "SW702"
NAME = "fsgroup-ignored"
SEVERITY = Severity.WARNING


Owner = tuple[object, object]  # (uid or None when unknown, fsGroup)


def check(ctx: CheckContext) -> Iterator[Finding]:
    if not ctx.config.securityContext.enabled:
        return  # stowage set no fsGroup: nothing it promised is ignored
    users: dict[tuple[str, str], dict[Owner, list[Workload]]] = {}
    for _, workload in targeted(ctx):
        pod = workload.pod_spec
        gid = get_in(pod, ("securityContext", "fsGroup"))
        if gid is None:
            continue
        for volume in volumes(pod):
            kind = _ignoring_kind(ctx, workload.ref.namespace, volume)
            if kind is not None:
                owners = users.setdefault((str(volume.get("name")), kind), {})
                owners.setdefault((_uid(pod), gid), []).append(workload)
    for (name, kind), owners in sorted(users.items()):
        mounted_by = [w for ws in owners.values() for w in ws]
        gids = ", ".join(dict.fromkeys(str(gid) for _, gid in owners))
        labels = tuple(dict.fromkeys(w.label for w in mounted_by))
        yield Finding(
            ID,
            SEVERITY,
            mounted_by[0].ref,
            f"volume {name!r} is {kind}, which ignores fsGroup {gids}: the directory keeps its "
            f"owner on the node or server (mounted by {', '.join(labels)})",
            _fix(list(owners)),
            tuple(w.ref for w in mounted_by),
            cause=f"volumes that ignore fsGroup {gids}: each directory keeps its owner on the "
            "node or server",
            subjects=(f"volume {name!r} is {kind}",),
            affected=labels,
        )


def _uid(pod: dict[str, Any]) -> object:
    """The uid every container runs as, or None when it is not set or differs."""
    default = get_in(pod, ("securityContext", "runAsUser"))
    uids = {get_in(c, ("securityContext", "runAsUser")) or default for c in containers(pod)}
    return uids.pop() if len(uids) == 1 else None


def _fix(owners: list[Owner]) -> str:
    if len(owners) > 1:
        ids = "; ".join(_ids(uid, gid) for uid, gid in owners)
        return f"make the directory or export writable by every pod that mounts it ({ids})"
    ((uid, gid),) = owners
    if uid is None:
        return f"make the directory or export writable by gid {gid} (e.g. chgrp {gid}; chmod g+rwx)"
    return f"make the directory or export owned or writable by uid {uid} / gid {gid} " + (
        f"(e.g. chown {uid}:{gid})"
    )


def _ids(uid: object, gid: object) -> str:
    return f"gid {gid}" if uid is None else f"uid {uid} / gid {gid}"


def _ignoring_kind(ctx: CheckContext, namespace: str, volume: dict[str, object]) -> str | None:
    if isinstance(volume.get("hostPath"), dict):
        return f"a hostPath ({get_in(volume, ('hostPath', 'path'))})"
    if isinstance(volume.get("nfs"), dict):
        return "an nfs volume"
    claim = get_in(volume, ("persistentVolumeClaim", "claimName"))
    if isinstance(claim, str) and is_nfs_claim(ctx.stream, claim, namespace):
        return f"claim {claim!r} on an NFS PersistentVolume"
    return None
