"""A targeted pod may run as root although the plan asks for non-root.

Why it matters: with `securityContext.enabled` the platform promises non-root
pods whose group owns the mounted volumes; a pod or container that runs as UID
0 breaks that promise (and the restricted Pod Security Standard).

What triggers it: in a workload stowage targeted, with `securityContext.enabled`,
`runAsUser: 0` in the pod or a container, or `runAsNonRoot` not true for the
pod (and not for every container) — typically because the chart author set a
conflicting value stowage would not overwrite.

How to fix it: remove the chart's root settings, or make them agree with
`securityContext.user` / `group`.
"""

from __future__ import annotations

from collections.abc import Iterator

from stowage.checks import CheckContext
from stowage.checks.common import targeted
from stowage.findings import Finding, Severity
from stowage.pods.podspecs import containers

ID = "SW701"
NAME = "runs-as-root"
SEVERITY = Severity.ERROR


def check(ctx: CheckContext) -> Iterator[Finding]:
    if not ctx.config.securityContext.enabled:
        return
    for _, workload in targeted(ctx):
        pod = workload.pod_spec
        pod_sc = pod.get("securityContext") or {}
        all_containers = list(containers(pod))
        problems = []
        if pod_sc.get("runAsUser") == 0:
            problems.append("the pod sets runAsUser 0")
        problems += [
            f"container {c.get('name')!r} sets runAsUser 0"
            for c in all_containers
            if (c.get("securityContext") or {}).get("runAsUser") == 0
        ]
        every_container = all(
            (c.get("securityContext") or {}).get("runAsNonRoot") is True for c in all_containers
        )
        if pod_sc.get("runAsNonRoot") is not True and not every_container:
            problems.append("runAsNonRoot is not true")
        if problems:
            yield Finding(
                ID,
                SEVERITY,
                workload.ref,
                f"{workload.label} may run as root: {'; '.join(problems)}",
                "remove the root settings from the chart, or make them agree with "
                "securityContext.user and securityContext.group",
            )
