"""A Deployment with a RollingUpdate strategy mounts a ReadWriteOnce claim.

Why it matters: a rolling update starts the new pod before the old one stops.
If the new pod lands on another node, it waits in ContainerCreating for the
volume the old pod still holds (Multi-Attach error), and the old pod keeps
running: the rollout stalls until someone deletes the old pod by hand. A
Deployment without a `strategy` uses RollingUpdate.

What triggers it: a Deployment (any replica count) whose pods mount a
ReadWriteOnce or ReadWriteOncePod claim, with strategy RollingUpdate (explicit
or by default) and a `maxSurge` above 0, not pinned to one node. Pinning that
counts is the same as for SW101: `nodeName`, a nodeSelector or required node
affinity on `kubernetes.io/hostname` with one value, or required pod affinity
with topologyKey `kubernetes.io/hostname` toward another pod that mounts the
claim (Owl's API next to its scheduler). `rollingUpdate.maxSurge: 0` stops the
old pod first, like Recreate. A claim already reported by SW101 (or SW102) is
not reported again. With `cluster.singleNode: true` a ReadWriteOnce claim
passes: on one node the new pod shares the volume. A ReadWriteOncePod claim
admits one pod even on one node, so neither pinning nor a single node helps it.
A Deployment gets one finding, listing each claim it mounts this way.

How to fix it: set `strategy: {type: Recreate}` (what zero-to-jupyterhub's hub
and stowage's scheduler do) or `rollingUpdate: {maxSurge: 0}`, pin the pod to
one node, or use ReadWriteMany.
"""

from __future__ import annotations

from collections.abc import Iterator

from stowage.checks import CheckContext
from stowage.checks.claims import ClaimUsage, on_one_node, pinned
from stowage.findings import Finding, ResourceRef, Severity

ID = "SW103"
NAME = "rwo-rolling-update"
SEVERITY = Severity.ERROR


def check(ctx: CheckContext) -> Iterator[Finding]:
    seen: set[tuple[str, ResourceRef]] = set()  # a namespace-less workload joins every namespace
    for finding in _findings(ctx):
        key = (finding.message, finding.resource)
        if key not in seen:
            seen.add(key)
            yield finding


def _findings(ctx: CheckContext) -> Iterator[Finding]:
    for usage in ctx.claim_usages:
        modes = usage.modes.modes or ()
        if modes == ("ReadWriteOncePod",):
            if usage.pods <= 1:  # more pods: SW102 already says it
                yield from _rolling_mounts(usage, one_pod=True)
            continue
        if "ReadWriteMany" in modes or "ReadWriteOnce" not in modes:
            continue
        if ctx.config.cluster.singleNode or (usage.pods > 1 and not on_one_node(usage)):
            continue  # one node: the new pod shares the volume; else SW101 already says it
        yield from _rolling_mounts(usage, one_pod=False)


def _rolling_mounts(usage: ClaimUsage, one_pod: bool) -> Iterator[Finding]:
    """One finding per Deployment and claim; run_all makes one per Deployment of them,
    listing its claims (the fix is on the Deployment)."""
    if one_pod:
        mode, wait = "ReadWriteOncePod", "a rollout's new pod waits for the volume"
        cause = "RollingUpdate strategy with ReadWriteOncePod storage, so a rollout stalls"
    else:
        mode = "ReadWriteOnce"
        wait = (
            "when a rollout starts the new pod on another node, it waits for the volume "
            "(Multi-Attach error)"
        )
        cause = (
            "RollingUpdate strategy with ReadWriteOnce storage, so a rollout can stall on a "
            "Multi-Attach error"
        )
    for mount in usage.mounts:
        if not mount.placement.rolling or (not one_pod and pinned(mount, usage)):
            continue
        yield Finding(
            ID,
            SEVERITY,
            mount.workload.ref,
            f"{mount.workload.label} mounts {mode} claim {usage.name!r} with a RollingUpdate "
            f"strategy: {wait} while the old pod keeps running, and the rollout stalls",
            "set spec.strategy.type: Recreate (or rollingUpdate.maxSurge: 0), "
            + ("" if one_pod else "pin the pod to one node, ")
            + "or use ReadWriteMany storage",
            cause=cause,
            subjects=(usage.subject,),
        )
