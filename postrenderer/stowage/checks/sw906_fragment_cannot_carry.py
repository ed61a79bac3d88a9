"""A launcher's pod fragment cannot carry the node pool's settings.

Why it matters: Owl builds each pipeline Job itself from the `pipeline` fragment
of owl.yaml (owl-pipeline-server 0.8.3, `kube_create_job`): it takes `volumes`,
`volumeMounts`, `extraEnv` (name and value only) and the pod `securityContext`,
and nothing else. A nodeSelector, tolerations or affinity that the plan gives the
pipeline's node pool never reaches the pods, which then run on any node.
Storage, the data-paths env and the pod securityContext do reach them (`stowage
plan` notes that the container securityContext does not).

What triggers it: a targeted fragment site (the `owl` preset's `pipeline`, or a
`shape: fragment` site) whose node pool has a nodeSelector, tolerations or
affinity. A warning: the pods run, only not where planned.

How to fix it: enforce the pool at admission, where every pod is seen whoever
built it: `stowage admission` (being added) writes admission policies for the
node pools. Or drop the pool's nodeSelector, tolerations and affinity if these
pods may run on any node.
"""

from __future__ import annotations

from collections.abc import Iterator

from stowage.checks import CheckContext
from stowage.checks.common import targeted
from stowage.findings import Finding, Severity

ID = "SW906"
NAME = "fragment-cannot-carry"
SEVERITY = Severity.WARNING

NODE_SETTINGS = ("nodeSelector", "tolerations", "affinity")


def check(ctx: CheckContext) -> Iterator[Finding]:
    for _, workload in targeted(ctx):
        if workload.site.view != "fragment":
            continue
        pod = workload.pod_spec
        lost = [key for key in NODE_SETTINGS if pod.get(key)]
        if not lost:
            continue
        yield Finding(
            ID,
            SEVERITY,
            workload.ref,
            f"{workload.label}: the launcher builds its pods from this fragment, which has no "
            f"place for {', '.join(lost)}: the planned settings never reach those pods",
            "enforce them with admission policies (`stowage admission`), or drop the node "
            "pool's settings if these pods may run on any node",
        )
