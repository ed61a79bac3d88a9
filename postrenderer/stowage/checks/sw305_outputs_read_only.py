"""The outputs store is mounted read-only.

Why it matters: outputs are where runs write their artifacts; a read-only
mount makes every run fail when it saves.

What triggers it: a mount of the outputs volume (from `persistence.outputs`)
with `readOnly: true`, or the outputs claim volume marked read-only.

How to fix it: drop `readOnly` from that mount; keep read-only for data volumes.
"""

from __future__ import annotations

from collections.abc import Iterator

from stowage.checks import CheckContext
from stowage.checks.common import volumes
from stowage.findings import Finding, Severity
from stowage.pods.podspecs import containers, get_in

ID = "SW305"
NAME = "outputs-read-only"
SEVERITY = Severity.ERROR


def check(ctx: CheckContext) -> Iterator[Finding]:
    outputs = set(ctx.config.persistence.outputs)
    for workload in ctx.workloads:
        pod = workload.pod_spec
        read_only_volumes = {
            str(v.get("name"))
            for v in volumes(pod)
            if get_in(v, ("persistentVolumeClaim", "readOnly"))
        }
        for container in containers(pod):
            for mount in container.get("volumeMounts") or []:
                name = str(mount.get("name"))
                if name in outputs and (mount.get("readOnly") or name in read_only_volumes):
                    yield Finding(
                        ID,
                        SEVERITY,
                        workload.ref,
                        f"{workload.label} container {container.get('name')!r} mounts the "
                        f"outputs store {name!r} read-only at {mount.get('mountPath')}",
                        "remove readOnly from the outputs mount; outputs must be writable",
                    )
