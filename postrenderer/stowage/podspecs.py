"""Where a pod spec lives in each kind: the one table every other module uses.

Like kustomize's and Kyverno's lists of pod-spec locations. A kind that is not
here carries no pod spec stowage knows of and passes through untouched. The
pipeline pod template that our chart carries in a ConfigMap is found by its
`stowage.io/pod-template` label; its data keys hold whole manifests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

Path = tuple[str | int, ...]

# kind -> ((component, path to the PodSpec), ...)
POD_SPEC_PATHS: dict[str, tuple[tuple[str, Path], ...]] = {
    "Pod": (("pod", ("spec",)),),
    "Deployment": (("pod", ("spec", "template", "spec")),),
    "StatefulSet": (("pod", ("spec", "template", "spec")),),
    "DaemonSet": (("pod", ("spec", "template", "spec")),),
    "ReplicaSet": (("pod", ("spec", "template", "spec")),),
    "Job": (("pod", ("spec", "template", "spec")),),
    "CronJob": (("pod", ("spec", "jobTemplate", "spec", "template", "spec")),),
    "DaskCluster": (
        ("scheduler", ("spec", "scheduler", "spec")),
        ("worker", ("spec", "worker", "spec")),
    ),
    "DaskWorkerGroup": (("worker", ("spec", "worker", "spec")),),
    "DaskJob": (
        ("job", ("spec", "job", "spec")),
        ("scheduler", ("spec", "cluster", "spec", "scheduler", "spec")),
        ("worker", ("spec", "cluster", "spec", "worker", "spec")),
    ),
}
POD_KINDS = frozenset(POD_SPEC_PATHS)
TEMPLATE_LABEL = "stowage.io/pod-template"
ROLE_LABEL = "stowage.io/role"
USER_LABEL = "stowage.io/user"
PLAN_LABEL = "stowage.io/plan"
DATA_REFS_ANNOTATION = "stowage.io/data-refs"
AUTO_MOUNT_ANNOTATION = "stowage.io/auto-mount"
SKIP_ANNOTATION = "stowage.io/skip"


@dataclass(frozen=True)
class PodSite:
    """One pod spec inside one manifest (or inside a manifest a ConfigMap carries)."""

    kind: str  # kind of the manifest holding the pod spec
    component: str  # "pod", or "scheduler"/"worker"/"job" for the Dask kinds
    path: Path  # from the manifest root to the PodSpec
    template_key: str | None = None  # ConfigMap data key, for a carried pod template

    @property
    def metadata_path(self) -> Path:
        """Where the pod's own metadata sits (beside the PodSpec)."""
        return (*self.path[:-1], "metadata")


def get_in(body: Any, path: Path) -> Any:
    node = body
    for key in path:
        if isinstance(key, int):
            if not isinstance(node, list) or key >= len(node):
                return None
        elif not isinstance(node, dict):
            return None
        node = node[key] if isinstance(key, int) else node.get(key)
    return node


def containers(pod: dict[str, Any], include_init: bool = True) -> Iterator[dict[str, Any]]:
    """The containers of a pod spec, then (by default) its init containers."""
    keys = ("containers", "initContainers") if include_init else ("containers",)
    for key in keys:
        for container in pod.get(key) or []:
            if isinstance(container, dict):
                yield container


def claim_names(pod: dict[str, Any]) -> Iterator[tuple[str, bool]]:
    """(claimName, volume is read-only) for every PVC volume of a pod spec."""
    for volume in pod.get("volumes") or []:
        claim = volume.get("persistentVolumeClaim") if isinstance(volume, dict) else None
        if isinstance(claim, dict) and isinstance(claim.get("claimName"), str):
            yield claim["claimName"], bool(claim.get("readOnly"))


def is_list_kind(kind: str) -> bool:
    """`List` or a typed list (`DeploymentList`, `PersistentVolumeClaimList`, ...)."""
    return kind == "List" or (kind.endswith("List") and kind[:1].isupper())


def list_items(body: Any) -> list[Any] | None:
    """The items of a `kind: List` or `*List` manifest (None for any other manifest)."""
    kind = str(body.get("kind") or "") if isinstance(body, dict) else ""
    if not is_list_kind(kind):
        return None
    items = body.get("items")
    if isinstance(items, list):
        return items
    return [] if kind == "List" else None  # a CRD kind that merely ends in "List"


def sites(body: Any) -> Iterator[PodSite]:
    """Every pod spec in one object (the items of a List are objects of their own)."""
    if not isinstance(body, dict):
        return
    kind = body.get("kind")
    for component, path in POD_SPEC_PATHS.get(str(kind), ()):
        if isinstance(get_in(body, path), dict):
            yield PodSite(str(kind), component, path)


def is_pod_template_carrier(body: Any) -> bool:
    if not isinstance(body, dict) or body.get("kind") != "ConfigMap":
        return False
    labels = get_in(body, ("metadata", "labels")) or {}
    return str(labels.get(TEMPLATE_LABEL, "")).lower() == "true"


def carried_templates(
    body: dict[str, Any], load: Callable[[str, str], Any]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(data key, manifest) for every pod-bearing manifest a template ConfigMap carries.

    ``load(key, text)`` parses a data value (with the stream's limits) and raises on
    bad YAML, naming the key.
    """
    data = body.get("data") or {}
    for key in sorted(data):
        text = data[key]
        if not isinstance(text, str) or "kind:" not in text:
            continue
        manifest = load(str(key), text)
        if isinstance(manifest, dict) and manifest.get("kind") in POD_KINDS:
            yield key, manifest


def looks_pod_bearing(body: Any) -> bool:
    """A document with no kind that still carries a pod spec (refused: we cannot place it)."""
    return isinstance(body, dict) and (
        isinstance(get_in(body, ("spec", "containers")), list)
        or isinstance(get_in(body, ("spec", "template", "spec")), dict)
    )
