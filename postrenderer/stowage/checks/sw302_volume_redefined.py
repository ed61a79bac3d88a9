"""One volume name defined twice in a pod spec.

Why it matters: volume names must be unique in a pod; the API server rejects
the pod. When the two definitions differ, it is also ambiguous which storage
the mounts get (Kubeflow's PodDefault rejects that case too).

What triggers it: two entries of `volumes` with the same name in one pod spec.

How to fix it: rename one of the volumes (and its mounts), or remove one.
"""

from __future__ import annotations

from collections.abc import Iterator

from stowage.checks import CheckContext
from stowage.checks.common import volumes
from stowage.findings import Finding, Severity

ID = "SW302"
NAME = "volume-redefined"
SEVERITY = Severity.ERROR


def check(ctx: CheckContext) -> Iterator[Finding]:
    for workload in ctx.workloads:
        seen: dict[str, dict[str, object]] = {}
        for volume in volumes(workload.pod_spec):
            name = str(volume.get("name"))
            if name not in seen:
                seen[name] = volume
                continue
            how = "with different sources" if seen[name] != volume else "twice, identically"
            yield Finding(
                ID,
                SEVERITY,
                workload.ref,
                f"{workload.label} defines volume {name!r} {how}",
                "rename one of the volumes (and its mounts) or remove one of them",
            )
