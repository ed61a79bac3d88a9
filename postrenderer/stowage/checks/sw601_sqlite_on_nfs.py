"""The scheduler's SQLite state lives on NFS or a ReadWriteMany volume.

Why it matters: SQLite relies on POSIX file locks that NFS does not honour
reliably; concurrent writers over NFS corrupt the database (SQLite's own
documentation warns against it).

What triggers it: a workload mounts a volume at the plan's `stateMountPath`
(the scheduler's state path) whose source is an inline nfs volume, a claim
bound to an NFS PersistentVolume, or a claim whose access modes include
ReadWriteMany. A warning.

How to fix it: keep the scheduler state on a ReadWriteOnce block volume
(the chart's default) with `strategy: Recreate`.
"""

from __future__ import annotations

from collections.abc import Iterator

from stowage.checks import CheckContext
from stowage.checks.claims import access_modes, is_nfs_claim
from stowage.checks.common import volumes
from stowage.findings import Finding, Severity
from stowage.pods.podspecs import containers, get_in

ID = "SW601"
NAME = "sqlite-on-nfs"
SEVERITY = Severity.WARNING


def check(ctx: CheckContext) -> Iterator[Finding]:
    state = ctx.config.stateMountPath
    if not state:
        return
    for workload in ctx.workloads:
        pod = workload.pod_spec
        names = {
            m.get("name")
            for c in containers(pod)
            for m in c.get("volumeMounts") or []
            if m.get("mountPath") == state
        }
        for volume in volumes(pod):
            if volume.get("name") not in names:
                continue
            why = _shared_source(ctx, workload.ref.namespace, volume)
            if why:
                yield Finding(
                    ID,
                    SEVERITY,
                    workload.ref,
                    f"{workload.label} keeps its SQLite state at {state} on {why}: "
                    "SQLite locking over NFS corrupts databases",
                    "put the state on a ReadWriteOnce block volume (persistence.scheduler) "
                    "with strategy Recreate",
                )


def _shared_source(ctx: CheckContext, namespace: str, volume: dict[str, object]) -> str | None:
    if isinstance(volume.get("nfs"), dict):
        return "an nfs volume"
    claim = get_in(volume, ("persistentVolumeClaim", "claimName"))
    if not isinstance(claim, str):
        return None
    if is_nfs_claim(ctx.stream, claim, namespace):
        return f"claim {claim!r}, bound to an NFS PersistentVolume"
    modes = access_modes(ctx.stream, ctx.config, claim, namespace).modes or ()
    if "ReadWriteMany" in modes:
        return f"ReadWriteMany claim {claim!r}"
    return None
