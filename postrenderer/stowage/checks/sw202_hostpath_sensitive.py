"""A hostPath volume exposes a sensitive location of the node.

Why it matters: mounting `/`, `/etc`, `/proc`, `/sys`, `/dev`, `/boot`,
`/root`, `/var/lib/kubelet` or a container runtime socket hands the pod the
node: read its secrets, change its configuration, start containers outside
Kubernetes.

What triggers it: any hostPath volume (in any workload of the stream, and in
PersistentVolumes stowage reads) at or under one of those paths, after
normalisation (`//etc/`, `/etc/../etc` and trailing slashes count). `/` itself
matches only exactly. Paths listed in `hostPathAllow` (exact or as a prefix)
are allowed.

How to fix it: mount a dedicated data directory instead, or, if the pod truly
needs it (a node agent), list the path in `hostPathAllow`.
"""

from __future__ import annotations

from collections.abc import Iterator

from stowage.checks import CheckContext
from stowage.checks.common import normalize_host_path, volumes
from stowage.findings import Finding, ResourceRef, Severity
from stowage.pods.podspecs import get_in

ID = "SW202"
NAME = "hostpath-sensitive"
SEVERITY = Severity.ERROR
SENSITIVE = (
    "/etc",
    "/proc",
    "/sys",
    "/dev",
    "/boot",
    "/root",
    "/var/lib/kubelet",
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/containerd",
    "/var/run/containerd",
    "/var/run/crio",
    "/run/crio",
    "/var/run/cri-dockerd.sock",
    "/run/cri-dockerd.sock",
    "/var/lib/docker",
    "/var/lib/containerd",
)


def sensitive(path: str, allow: list[str]) -> str | None:
    """The sensitive location ``path`` falls in, or None (also when allowed)."""
    normal = normalize_host_path(path)
    allowed = [normalize_host_path(a) for a in allow]
    if any(normal == a or normal.startswith(a.rstrip("/") + "/") for a in allowed):
        return None
    if normal == "/":
        return "/"
    for root in SENSITIVE:
        if normal == root or normal.startswith(root + "/"):
            return root
    return None


def check(ctx: CheckContext) -> Iterator[Finding]:
    allow = list(ctx.config.hostPathAllow)
    for workload in ctx.workloads:
        for volume in volumes(workload.pod_spec):
            path = get_in(volume, ("hostPath", "path"))
            root = sensitive(path, allow) if isinstance(path, str) else None
            if root:
                yield _finding(
                    workload.ref, f"{workload.label} volume {volume.get('name')!r}", path, root
                )
    for doc in ctx.stream.objects({"PersistentVolume"}):
        path = (
            get_in(doc.body, ("spec", "hostPath", "path"))
            if doc.kind == "PersistentVolume"
            else None
        )
        if not isinstance(path, str):
            continue
        root = sensitive(path, allow)
        if root:
            yield _finding(doc.ref, f"PersistentVolume/{doc.ref.name}", path, root)


def _finding(ref: ResourceRef, what: str, path: str, root: str) -> Finding:
    return Finding(
        ID,
        SEVERITY,
        ref,
        f"{what} mounts hostPath {path!r}, inside the sensitive node location {root}",
        "mount a dedicated data directory instead, or list the path in hostPathAllow "
        "if the pod truly needs it",
    )
