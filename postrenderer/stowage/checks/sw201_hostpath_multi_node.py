"""Data or outputs on a hostPath in a multi-node cluster, with nothing pinning the pods.

Why it matters: a hostPath is a directory on whichever node the pod lands on.
Pods on different nodes see different data, and outputs written on one node are
lost with it. Polyaxon's and stowage's out-of-the-box default is such a host
path: fine for a single-node trial, wrong for production.

What triggers it: a targeted workload mounts a stowage data, outputs or
auto-mount volume from a hostPath, `cluster.singleNode` is false, the volume is
not declared `sharedByAllNodes`, and the pod is not pinned to one node
(`nodeName`, hostname nodeSelector or node affinity). A warning: the chart still
installs.

How to fix it: use shared storage (nfs, a ReadWriteMany claim, a cloud store),
set `cluster.singleNode: true` if the cluster really has one node, or, when
every node mounts the same share at that path (Owl's option 1), say so with
`sharedByAllNodes: true` beside the volume's `hostPath` (`userStorage.sharedByAllNodes`
for per-user storage in the chart).
"""

from __future__ import annotations

from collections.abc import Iterator

from stowage.checks import CheckContext
from stowage.checks.claims import pinned_hostname
from stowage.checks.common import plan_volume_names, targeted, volumes
from stowage.findings import Finding, Severity
from stowage.plan.automount import resolve
from stowage.pods.workloads import Workload

ID = "SW201"
NAME = "hostpath-multi-node"
SEVERITY = Severity.WARNING


def check(ctx: CheckContext) -> Iterator[Finding]:
    if ctx.config.cluster.singleNode:
        return
    auto = resolve(ctx.config.autoMount)
    names = plan_volume_names(ctx) - _shared_by_all_nodes(ctx) | ({auto.name} if auto else set())
    users: dict[tuple[str, str], list[Workload]] = {}
    for _, workload in targeted(ctx):
        pod = workload.pod_spec
        if pinned_hostname(pod) is not None:
            continue
        for volume in volumes(pod):
            path = (volume.get("hostPath") or {}).get("path")
            if path is not None and volume.get("name") in names:
                users.setdefault((str(volume.get("name")), str(path)), []).append(workload)
    for (name, path), workloads in sorted(users.items()):
        labels = tuple(dict.fromkeys(w.label for w in workloads))
        yield Finding(
            ID,
            SEVERITY,
            workloads[0].ref,
            f"volume {name!r} is hostPath {path} on whichever node each pod lands (single-node "
            f"only), mounted by {', '.join(labels)}",
            "use nfs, a ReadWriteMany claim or a cloud store, set cluster.singleNode: true, or "
            "declare sharedByAllNodes: true if every node mounts the same share at this path",
            tuple(w.ref for w in workloads),
            cause="hostPath volumes are a different directory on each node pods land on "
            "(single-node only)",
            subjects=(f"volume {name!r}: hostPath {path}",),
            affected=labels,
        )


def _shared_by_all_nodes(ctx: CheckContext) -> set[str]:
    """The plan's hostPath volumes that every node mounts from the same share."""
    persistence = ctx.config.persistence
    specs = {**persistence.data, **persistence.outputs}
    return {name for name, spec in specs.items() if spec.sharedByAllNodes}
