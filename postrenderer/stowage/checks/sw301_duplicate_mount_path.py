"""Two volumeMounts at the same mountPath in one container.

Why it matters: the API server rejects the pod ("must be unique"); MLRun users
hit this when two modifiers mount at one path.

What triggers it: any container of any pod spec in the stream with two mounts
whose mountPath is the same.

How to fix it: mount one of the volumes elsewhere, or drop the duplicate.
"""

from __future__ import annotations

from collections.abc import Iterator

from stowage.checks import CheckContext
from stowage.findings import Finding, Severity
from stowage.pods.podspecs import containers

ID = "SW301"
NAME = "duplicate-mount-path"
SEVERITY = Severity.ERROR


def check(ctx: CheckContext) -> Iterator[Finding]:
    for workload in ctx.workloads:
        for container in containers(workload.pod_spec):
            seen: dict[str, str] = {}
            for mount in container.get("volumeMounts") or []:
                path, name = str(mount.get("mountPath")), str(mount.get("name"))
                if path in seen:
                    yield Finding(
                        ID,
                        SEVERITY,
                        workload.ref,
                        f"{workload.label} container {container.get('name')!r} mounts both "
                        f"{seen[path]!r} and {name!r} at {path}",
                        "mount one of the volumes at another path, or remove the duplicate mount",
                    )
                seen.setdefault(path, name)
