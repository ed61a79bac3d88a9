"""A ReadWriteOnce claim mounted by pods that can run on different nodes.

Why it matters: a ReadWriteOnce volume attaches to one node at a time. When a
second pod that mounts it is scheduled on another node, that pod hangs in
ContainerCreating with a Multi-Attach error — in production, not at install.

What triggers it: one PersistentVolumeClaim whose access modes (from the claim
in the manifests, the volume it binds to, or `accessModes` declared for an
`existingClaim`) are ReadWriteOnce, mounted by more than one pod at once —
replicas, an autoscaler's maximum (an HPA's maxReplicas, a KEDA ScaledObject's
maxReplicaCount, 100 when unset, a WatermarkPodAutoscaler's maxReplicas), Job
parallelism (capped by completions), an
overlapping CronJob, a DaemonSet, Dask workers (the operator makes one
Deployment per worker), a pipeline template launched per run, an operator's
pods that run together, or several workloads sharing the claim — where nothing
keeps them on one node. Which pods run at once comes from each operator's
documented semantics (`stowage plan` lists the groups): Argo steps in one step
group, DAG tasks with no dependency path between them, `withItems`/`withParam`/
`withSequence` fan-out, daemoned steps, capped by `parallelism`; JobSet jobs
unless `dependsOn` waits for `Complete`. Pods that never overlap may share the
claim: Argo steps in sequence, JobSet jobs that wait for the other to complete.
The message says why the pods overlap. Pinning that counts: `nodeName`, a
nodeSelector or required node affinity on `kubernetes.io/hostname` with one
value, or required pod affinity with topologyKey `kubernetes.io/hostname`
toward the one pod that mounts the claim (Owl's API pod does this to share the
scheduler's claim). A workload with no namespace lands in the release's
namespace, so it shares the claim with workloads that name any namespace; each
claim gets one finding covering all its pods. `cluster.singleNode: true` turns
this rule off.

How to fix it: use ReadWriteMany storage (NFS, CephFS, a cloud file store);
give each pod its own claim (a StatefulSet's volumeClaimTemplates); pin the
pods to one node; or run one pod.

Example (rejected): a ReadWriteOnce `claim` data volume attached to a Dask
worker Deployment with `replicas: 3`.
"""

from __future__ import annotations

from collections.abc import Iterator

from stowage.checks import CheckContext
from stowage.checks.claims import on_one_node
from stowage.findings import Finding, Severity

ID = "SW101"
NAME = "rwo-multi-node"
SEVERITY = Severity.ERROR
FIX = (
    "use ReadWriteMany storage (e.g. nfs), give each pod its own claim (a StatefulSet's "
    "volumeClaimTemplates), pin the pods to one node, or run a single pod"
)


def check(ctx: CheckContext) -> Iterator[Finding]:
    if ctx.config.cluster.singleNode:
        return
    for usage in ctx.claim_usages:
        modes = usage.modes.modes or ()
        if "ReadWriteOnce" not in modes or "ReadWriteMany" in modes:
            continue
        if "ReadOnlyMany" in modes and all(m.read_only for m in usage.mounts):
            continue
        if usage.pods <= 1 or on_one_node(usage):
            continue
        yield Finding(
            ID,
            SEVERITY,
            usage.ref,
            f"ReadWriteOnce claim {usage.name!r} ({usage.modes.origin}) is mounted by "
            f"{usage.count_text} pods that can run on different nodes: {usage.workloads_text}",
            FIX,
            usage.workload_refs,
            cause=f"ReadWriteOnce claim mounted by {usage.count_text} pods that can run on "
            "different nodes",
            subjects=(usage.subject,),
            affected=usage.affected,
        )
