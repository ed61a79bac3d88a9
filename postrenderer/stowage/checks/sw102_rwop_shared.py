"""A ReadWriteOncePod claim mounted by more than one pod.

Why it matters: ReadWriteOncePod admits exactly one pod cluster-wide; every
other pod that mounts the claim stays Pending, even on the same node.

What triggers it: a claim whose only access mode is ReadWriteOncePod mounted by
two or more pods at once (replicas, HPA, Job parallelism, several workloads).

How to fix it: run one pod, give each pod its own claim, or use ReadWriteMany.
"""

from __future__ import annotations

from collections.abc import Iterator

from stowage.checks import CheckContext
from stowage.findings import Finding, Severity

ID = "SW102"
NAME = "rwop-shared"
SEVERITY = Severity.ERROR


def check(ctx: CheckContext) -> Iterator[Finding]:
    for usage in ctx.claim_usages:
        if usage.modes.modes != ("ReadWriteOncePod",) or usage.pods <= 1:
            continue
        yield Finding(
            ID,
            SEVERITY,
            usage.ref,
            f"ReadWriteOncePod claim {usage.name!r} is mounted by {usage.count_text} pods "
            f"(only one may ever mount it): {usage.workloads_text}",
            "run a single pod, give each pod its own claim, or use ReadWriteMany storage",
            usage.workload_refs,
            cause=f"ReadWriteOncePod claim mounted by {usage.count_text} pods (only one may "
            "ever mount it)",
            subjects=(usage.subject,),
            affected=usage.affected,
        )
