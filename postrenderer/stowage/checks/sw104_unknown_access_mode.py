"""A claim of unknown access mode is mounted by more than one pod.

Why it matters: stowage cannot tell whether the claim can be shared. If it is
ReadWriteOnce, the pods that land on other nodes never start.

What triggers it: a claim that is neither in the manifests nor declared with
`accessModes` in the plan (`existingClaim` + `accessModes`, or
`autoMount.accessModes` for the auto-mounted claim), mounted by two or more
pods at once on possibly different nodes. A warning; an error with `--strict`.

How to fix it: declare the claim's access modes next to its `existingClaim`
in the chart values or config (for an `autoMount: pvc` claim, in
`autoMount.accessModes`), so stowage can check them.
"""

from __future__ import annotations

from collections.abc import Iterator

from stowage.checks import CheckContext
from stowage.checks.claims import on_one_node
from stowage.findings import Finding, Severity

ID = "SW104"
NAME = "unknown-access-mode"
SEVERITY = Severity.WARNING


def check(ctx: CheckContext) -> Iterator[Finding]:
    if ctx.config.cluster.singleNode:
        return
    for usage in ctx.claim_usages:
        if usage.modes.known or usage.pods <= 1 or on_one_node(usage):
            continue
        yield Finding(
            ID,
            SEVERITY,
            usage.ref,
            f"claim {usage.name!r} has unknown access modes and is mounted by "
            f"{usage.count_text} pods: {usage.workloads_text}",
            "declare its access modes (existingClaim + accessModes; autoMount.accessModes for "
            "the auto-mounted claim) so stowage can check them",
            usage.workload_refs,
            cause=f"claim of unknown access modes mounted by {usage.count_text} pods that can "
            "run on different nodes",
            subjects=(usage.subject,),
            affected=usage.affected,
        )
