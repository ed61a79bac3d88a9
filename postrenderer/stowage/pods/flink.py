"""Flink's pod templates: what a job or task manager's pod really is.

A FlinkDeployment's `spec.podTemplate` is shared; `jobManager.podTemplate` and
`taskManager.podTemplate` are laid over it by the operator (`FlinkUtils.mergePodTemplates`)
before it builds each pod. So a manager's own template may be partial: its init container
mounts a volume the shared template defines, as in the operator's `pod-template.yaml`
example. By default the operator merges lists by position
(`kubernetes.operator.pod-template.merge-arrays-by-name: false`): an object's fields are
merged, item i of a list is merged into item i, items beyond the shared list's end are
appended, and scalars in both lists keep the shared one's.

Hence stowage reads a manager's pod as that merge, and writes the storage into the shared
template when there is one: written into both, the merge by position would lay the
manager's copy of stowage's volumes over the shared template's own volumes (a volume with
both an `emptyDir` and a claim, and the shared one's lost). What the merge takes whole from
the manager's template (an init container only it has) stays the manager's own object in
the merged pod, so attach completes it there, in place. The merge is read after the shared
template got the storage: a manager's list longer than the shared one's then lands on
stowage's items, and the checks see the pod that results (SW304 names the lost volume).
"""

from __future__ import annotations

import copy
from typing import Any

from stowage.pods.podspecs import Path, get_in

SHARED_SPEC: Path = ("spec", "podTemplate", "spec")


def shared_spec(manifest: dict[str, Any]) -> dict[str, Any] | None:
    """The shared pod template's PodSpec, None when the FlinkDeployment has none."""
    spec = get_in(manifest, SHARED_SPEC)
    return spec if isinstance(spec, dict) else None


def merged_pod(shared: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    """A manager's PodSpec as the operator builds it: ``own`` laid over ``shared``, by
    position. Neither template is changed by the merge; the parts taken whole from ``own``
    are its objects, the rest is a copy."""
    merged = copy.deepcopy(shared)
    _merge_into(merged, own)
    return merged


def _merge_into(into: dict[str, Any], source: dict[str, Any]) -> None:
    for key, value in source.items():
        current = into.get(key)
        if isinstance(current, list) and isinstance(value, list):
            _merge_list(current, value)
        elif isinstance(current, dict):
            if isinstance(value, dict):
                _merge_into(current, value)
        else:
            into[key] = value


def _merge_list(into: list[Any], source: list[Any]) -> None:
    for index, item in enumerate(source):
        if index >= len(into):
            into.append(item)
        elif isinstance(into[index], dict) and isinstance(item, dict):
            _merge_into(into[index], item)


__all__ = ["SHARED_SPEC", "merged_pod", "shared_spec"]
