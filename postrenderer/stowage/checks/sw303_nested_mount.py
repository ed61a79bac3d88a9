"""A mount nested inside a stowage data or outputs mount.

Why it matters: the inner mount hides that part of the outer volume, so files
written there do not land in the data or outputs store people look in.

What triggers it: in one container, a mountPath below (not equal to) the mount
path of a stowage data, outputs or auto-mount volume. A warning.

How to fix it: mount the other volume outside the data and outputs paths.
"""

from __future__ import annotations

from collections.abc import Iterator

from stowage.checks import CheckContext
from stowage.findings import Finding, Severity
from stowage.pods.podspecs import containers

ID = "SW303"
NAME = "nested-mount"
SEVERITY = Severity.WARNING


def check(ctx: CheckContext) -> Iterator[Finding]:
    plan = {**ctx.config.persistence.data, **ctx.config.persistence.outputs}
    for workload in ctx.workloads:
        for container in containers(workload.pod_spec):
            mounts = container.get("volumeMounts") or []
            outer = {
                str(m.get("mountPath")).rstrip("/"): str(m.get("name"))
                for m in mounts
                if m.get("name") in plan and plan[m.get("name")].mountPath == m.get("mountPath")
            }
            for mount in mounts:
                path = str(mount.get("mountPath"))
                for root, name in sorted(outer.items()):
                    if path.startswith(root + "/") and mount.get("name") != name:
                        yield Finding(
                            ID,
                            SEVERITY,
                            workload.ref,
                            f"{workload.label} container {container.get('name')!r} mounts "
                            f"{mount.get('name')!r} at {path}, inside stowage volume {name!r} "
                            f"at {root}",
                            f"mount {mount.get('name')!r} outside {root}",
                        )
