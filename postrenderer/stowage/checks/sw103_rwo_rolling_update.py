"""A Deployment with a RollingUpdate strategy mounts a ReadWriteOnce claim.

Why it matters: a rolling update starts the new pod before the old one stops.
If the new pod lands on another node, it waits for the volume the old pod
holds, the old pod waits for the new one to be ready: the rollout deadlocks
(Multi-Attach error). A Deployment without a `strategy` uses RollingUpdate.

What triggers it: a Deployment (any replica count) whose pods mount a
ReadWriteOnce or ReadWriteOncePod claim, with strategy RollingUpdate (explicit
or by default), not pinned to one node. A claim already reported by SW101 is
not reported again.

How to fix it: set `strategy: {type: Recreate}` (what zero-to-jupyterhub's hub
and stowage's scheduler do), pin the pod to one node, or use ReadWriteMany.
"""

from __future__ import annotations

from collections.abc import Iterator

from stowage.analysis.claims import on_one_node
from stowage.checks import CheckContext
from stowage.findings import Finding, Severity

ID = "SW103"
NAME = "rwo-rolling-update"
SEVERITY = Severity.ERROR


def check(ctx: CheckContext) -> Iterator[Finding]:
    for usage in ctx.claim_usages:
        modes = usage.modes.modes or ()
        if "ReadWriteMany" in modes or not {"ReadWriteOnce", "ReadWriteOncePod"} & set(modes):
            continue
        multi_node = usage.pods > 1 and not on_one_node(usage)
        if multi_node and not ctx.config.cluster.singleNode:
            continue  # SW101 already says it
        for mount in usage.mounts:
            if not mount.placement.rolling or mount.placement.hostname is not None:
                continue
            yield Finding(
                ID,
                SEVERITY,
                mount.workload.ref,
                f"{mount.workload.label} mounts ReadWriteOnce claim {usage.name!r} with a "
                "RollingUpdate strategy: a rollout that moves the pod to another node deadlocks "
                "on the volume (Multi-Attach)",
                "set spec.strategy.type: Recreate, pin the pod to one node, "
                "or use ReadWriteMany storage",
            )
