"""A volumeMount names a volume the pod does not define.

Why it matters: the API server rejects the pod. Owl's documented NFS example
does exactly this: the mount is called `user-storage`, the volume `nfs-storage`.

What triggers it: a mount in any container whose `name` matches no entry of the
pod spec's `volumes` (claim templates count as volumes: a StatefulSet's
volumeClaimTemplates, JobSet's volumeClaimPolicies, Argo's and LeaderWorkerSet's).

How to fix it: give the mount the volume's name (or the volume the mount's).
"""

from __future__ import annotations

from collections.abc import Iterator

from stowage.checks import CheckContext
from stowage.checks.common import volumes
from stowage.findings import Finding, Severity
from stowage.pods.podspecs import containers

ID = "SW304"
NAME = "mount-without-volume"
SEVERITY = Severity.ERROR


def check(ctx: CheckContext) -> Iterator[Finding]:
    for workload in ctx.workloads:
        defined = {str(v.get("name")) for v in volumes(workload.pod_spec)}
        defined |= workload.claim_template_names
        for container in containers(workload.pod_spec):
            for mount in container.get("volumeMounts") or []:
                if str(mount.get("name")) in defined:
                    continue
                known = ", ".join(sorted(defined)) or "none"
                yield Finding(
                    ID,
                    SEVERITY,
                    workload.ref,
                    f"{workload.label} container {container.get('name')!r} mounts "
                    f"{mount.get('name')!r} at {mount.get('mountPath')}, but the pod defines no "
                    f"volume of that name (volumes: {known})",
                    "give the mount the name of the volume it means, or define that volume",
                )
