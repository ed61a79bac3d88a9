"""The shape of every field stowage reads, checked once when a document is read.

The API server refuses a manifest whose fields have the wrong type (a
`containers` mapping instead of a list, a numeric `mountPath`), so stowage
refuses it too, with the field's path, instead of guessing later. Only the
fields stowage reads are described; everything else is left to the API server.
A null is always accepted: Kubernetes reads it as unset.

A shape is one of: a Python type (``str``, ``bool``); :data:`ANY`; a dict of
field name to shape (a mapping whose other fields are not checked); a one-item
list ``[shape]`` (a list of that shape); or :class:`MapOf` (a mapping whose
every value has that shape).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from stowage.pods.podspecs import (
    CORE_GROUPS,
    OPERATOR_KINDS,
    POD_SPEC_PATHS,
    WILD,
    KindRule,
    Path,
    api_group,
    kind_rule,
)
from stowage.read.manifests import list_items


@dataclass(frozen=True)
class MapOf:
    value: Any


@dataclass(frozen=True)
class ItemsOf:
    """A list, or a mapping, of that shape: what a `[*]` in a pod-spec rule runs over."""

    value: Any


ANY = object()
SCALAR = (str, int, float, bool)  # label values: YAML may type them; stowage reads str()
MAP = MapOf(ANY)
STRINGS = [str]

METADATA = {
    "name": str,
    "namespace": str,
    "labels": MapOf(SCALAR),
    "annotations": MapOf(SCALAR),
}
SELECTOR = {
    "matchLabels": MapOf(SCALAR),
    "matchExpressions": [{"key": str, "operator": str, "values": STRINGS}],
}
NODE_SELECTOR_TERM = {
    "matchExpressions": [{"key": str, "operator": str, "values": STRINGS}],
    "matchFields": [{"key": str, "operator": str, "values": STRINGS}],
}
POD_AFFINITY_TERM = {"labelSelector": SELECTOR, "topologyKey": str}
AFFINITY = {
    "nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [NODE_SELECTOR_TERM]
        },
        "preferredDuringSchedulingIgnoredDuringExecution": [MAP],
    },
    "podAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [POD_AFFINITY_TERM],
        "preferredDuringSchedulingIgnoredDuringExecution": [MAP],
    },
    "podAntiAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [MAP],
        "preferredDuringSchedulingIgnoredDuringExecution": [MAP],
    },
}
SECRET_KEY_REF = {"secretKeyRef": {"name": str, "key": str}}
CONTAINER: dict[str, Any] = {
    "name": str,
    "volumeMounts": [{"name": str, "mountPath": str, "subPath": str, "readOnly": bool}],
    "env": [
        {
            "name": str,
            "value": str,
            "valueFrom": SECRET_KEY_REF,
        }
    ],
    "envFrom": [MAP],
    "securityContext": {
        "runAsUser": int,
        "runAsGroup": int,
        "runAsNonRoot": bool,
        "allowPrivilegeEscalation": bool,
        "capabilities": {"add": STRINGS, "drop": STRINGS},
        "seccompProfile": MAP,
    },
}
VOLUME = {
    "name": str,
    "hostPath": {"path": str, "type": str},
    "persistentVolumeClaim": {"claimName": str, "readOnly": bool},
    "nfs": {"server": str, "path": str, "readOnly": bool},
    "secret": {"secretName": str},
}
POD_SPEC = {
    "containers": [CONTAINER],
    "initContainers": [CONTAINER],
    "ephemeralContainers": [CONTAINER],
    "volumes": [VOLUME],
    "nodeName": str,
    "nodeSelector": MapOf(SCALAR),
    "tolerations": [MAP],
    "affinity": AFFINITY,
    "securityContext": {
        "runAsUser": int,
        "runAsGroup": int,
        "fsGroup": int,
        "runAsNonRoot": bool,
        "fsGroupChangePolicy": str,
        "seccompProfile": MAP,
    },
}
ACCESS_MODES = STRINGS
CLAIM = {
    "metadata": METADATA,
    "spec": {"accessModes": ACCESS_MODES, "volumeName": str, "selector": SELECTOR},
}
OTHER_KINDS: dict[str, dict[str, Any]] = {
    "PersistentVolumeClaim": CLAIM,
    "PersistentVolume": {
        "metadata": METADATA,
        "spec": {"accessModes": ACCESS_MODES, "claimRef": MAP, "nfs": MAP, "hostPath": MAP},
    },
    "HorizontalPodAutoscaler": {
        "metadata": METADATA,
        "spec": {"scaleTargetRef": {"kind": str, "name": str}},
    },
    "ConfigMap": {"metadata": METADATA, "data": MapOf(str)},
    "Secret": {"metadata": METADATA, "data": MAP, "stringData": MAP},
}
WORKLOAD_EXTRAS: dict[str, dict[str, Any]] = {
    "StatefulSet": {"spec": {"volumeClaimTemplates": [CLAIM]}},
}


def _nest(shape: dict[str, Any], path: Path, leaf: dict[str, Any]) -> None:
    """Merge ``leaf`` into ``shape`` at ``path`` (string keys only)."""
    node = shape
    for key in path:
        node = node.setdefault(str(key), {})
    node.update(leaf)


def _workload_shape(kind: str) -> dict[str, Any]:
    shape: dict[str, Any] = {"metadata": METADATA}
    for extra_key, extra in WORKLOAD_EXTRAS.get(kind, {}).items():
        shape[extra_key] = dict(extra)
    for _, path in POD_SPEC_PATHS[kind]:
        _nest(shape, path[:-1], {"metadata": METADATA})
        _nest(shape, path, POD_SPEC)
    return shape


KIND_SHAPES: dict[str, dict[str, Any]] = {
    **OTHER_KINDS,
    **{kind: _workload_shape(kind) for kind in POD_SPEC_PATHS},
}

# The shape of a pod spec that is not a PodSpec, by view (see stowage.pods.workloads.POD_SLOTS).
ARGO_TEMPLATE = {
    "metadata": METADATA,
    "container": CONTAINER,
    "script": CONTAINER,
    "containerSet": {"containers": [CONTAINER]},
    "initContainers": [CONTAINER],
    "nodeSelector": POD_SPEC["nodeSelector"],
    "tolerations": POD_SPEC["tolerations"],
    "affinity": AFFINITY,
    "securityContext": POD_SPEC["securityContext"],
}
SPARK_POD = {
    "labels": MapOf(SCALAR),
    "annotations": MapOf(SCALAR),
    "volumeMounts": CONTAINER["volumeMounts"],
    "env": CONTAINER["env"],
    "securityContext": CONTAINER["securityContext"],
    "podSecurityContext": POD_SPEC["securityContext"],
    "nodeSelector": POD_SPEC["nodeSelector"],
    "tolerations": POD_SPEC["tolerations"],
    "affinity": AFFINITY,
}
FRAGMENT = {
    "volumes": POD_SPEC["volumes"],
    "volumeMounts": CONTAINER["volumeMounts"],
    "extraEnv": [{"name": str, "value": SCALAR}],
    "securityContext": POD_SPEC["securityContext"],
}
TEKTON_POD_TEMPLATE = {
    key: POD_SPEC[key]
    for key in ("volumes", "securityContext", "nodeSelector", "tolerations", "affinity")
}
VIEW_SHAPES: dict[str, dict[str, Any]] = {
    "pod": POD_SPEC,
    "argo": ARGO_TEMPLATE,
    "spark": SPARK_POD,
    "fragment": FRAGMENT,
    "tekton": {"podTemplate": TEKTON_POD_TEMPLATE},
    "tekton-v1": {"taskRunTemplate": {"podTemplate": TEKTON_POD_TEMPLATE}},
    "kserve-model": {**POD_SPEC, "model": CONTAINER},
    "flink-overlay": POD_SPEC,
    "created": POD_SPEC,
}
# A pod template in config data is read by its launcher, which converts env values
# (Owl's dask templates set `value: 1`): stowage does not read them, so any scalar goes.
_TEMPLATE_CONTAINER = {
    **CONTAINER,
    "env": [{"name": str, "value": SCALAR, "valueFrom": SECRET_KEY_REF}],
}
TEMPLATE_SHAPES: dict[str, dict[str, Any]] = {
    "pod": {
        **POD_SPEC,
        "containers": [_TEMPLATE_CONTAINER],
        "initContainers": [_TEMPLATE_CONTAINER],
    },
    "fragment": FRAGMENT,
}


def _nest_wild(shape: dict[str, Any], path: Path, leaf: dict[str, Any]) -> None:
    """Like :func:`_nest`, with `[*]` as a list or mapping of items (shared by paths)."""
    if not path:
        shape.update(leaf)
        return
    key, rest = str(path[0]), path[1:]
    if rest and rest[0] == WILD:
        items = shape.get(key)
        if not isinstance(items, ItemsOf):
            items = shape[key] = ItemsOf({})
        _nest_wild(items.value, rest[1:], leaf)
        return
    _nest_wild(shape.setdefault(key, {}), rest, leaf)


def rule_shape(rule: KindRule) -> dict[str, Any]:
    """The shape of an operator's or declared kind's manifest: its pod specs and claims."""
    shape: dict[str, Any] = {"metadata": METADATA}
    for spec in rule.specs:
        for claims in spec.claim_templates:
            _nest_wild(shape, claims, CLAIM)
        _nest_wild(shape, spec.path, VIEW_SHAPES[spec.view])
        if spec.view in ("pod", "flink-overlay"):
            _nest_wild(shape, (*spec.path[:-1], "metadata"), METADATA)
        if spec.view in ("argo", "spark"):
            volumes = (*spec.path[: -2 if spec.view == "argo" else -1], "volumes")
            _nest_wild(shape, volumes[:-1], {"volumes": POD_SPEC["volumes"]})
    return shape


OPERATOR_SHAPES: dict[tuple[str, str], dict[str, Any]] = {
    (rule.group, rule.kind): rule_shape(rule) for rule in OPERATOR_KINDS
}


def _shape_of(body: dict[str, Any]) -> dict[str, Any] | None:
    kind, group = str(body.get("kind")), api_group(body)
    if kind in POD_SPEC_PATHS and group in (None, CORE_GROUPS.get(kind)):
        return KIND_SHAPES[kind]
    rule = kind_rule(group, kind)
    if rule is not None:
        return OPERATOR_SHAPES[(rule.group, rule.kind)]
    return KIND_SHAPES.get(kind)


def manifest_problem(body: Any) -> str | None:
    """The first field of a manifest stowage reads that has the wrong type, described.

    A `kind: List` (or `DeploymentList`, ...) is checked item by item; kinds stowage
    does not read pass.
    """
    if not isinstance(body, dict):
        return None
    if body.get("kind") == "List" or list_items(body) is not None:
        problem = problem_in(body.get("items"), [MAP], "items")
        if problem:
            return problem
        for index, item in enumerate(body.get("items") or []):
            problem = manifest_problem(item)
            if problem:
                return f"items[{index}].{problem}"
        return None
    shape = _shape_of(body)
    if shape is None or fits(body, shape):
        return None
    return problem_in(body, shape, "")


def fits(value: Any, shape: Any) -> bool:
    """Whether :func:`problem_in` would find nothing: the same rules without building
    a path for every field, since nearly every manifest fits (a parse checks each)."""
    if value is None or shape is ANY:
        return True
    kind = type(shape)
    if kind is dict:
        return isinstance(value, dict) and _fields_fit(value, shape)
    if kind is MapOf or (kind is ItemsOf and isinstance(value, dict)):
        return isinstance(value, dict) and _all_fit(value.values(), shape.value, True)
    if kind is list or kind is ItemsOf:
        item_shape = shape[0] if kind is list else shape.value
        return isinstance(value, list) and _all_fit(value, item_shape, item_shape is ANY)
    return _scalar_problem(value, shape, "") is None


def _fields_fit(value: dict[str, Any], fields: dict[str, Any]) -> bool:
    for key, field_shape in fields.items():  # noqa: SIM110 - a loop costs less than all() here
        if not fits(value.get(key), field_shape):
            return False
    return True


def _all_fit(items: Iterable[Any], item_shape: Any, nulls: bool) -> bool:
    for item in items:  # noqa: SIM110 - a loop costs less than all() here
        if (item is None and not nulls) or not fits(item, item_shape):
            return False
    return True


def problem_in(value: Any, shape: Any, path: str) -> str | None:
    if value is None or shape is ANY:
        return None
    if isinstance(shape, dict):
        return _fields_problem(value, shape, path)
    if isinstance(shape, list):
        return _list_problem(value, shape[0], path)
    if isinstance(shape, MapOf):
        return _map_of_problem(value, shape.value, path)
    if isinstance(shape, ItemsOf):
        if isinstance(value, dict):
            return _map_of_problem(value, shape.value, path)
        return _list_problem(value, shape.value, path)
    return _scalar_problem(value, shape, path)


def _fields_problem(value: Any, fields: dict[str, Any], path: str) -> str | None:
    if not isinstance(value, dict):
        return _wrong(path, "a mapping", value)
    for key, field_shape in fields.items():
        problem = problem_in(value.get(key), field_shape, _join(path, key))
        if problem:
            return problem
    return None


def _list_problem(value: Any, item_shape: Any, path: str) -> str | None:
    if not isinstance(value, list):
        return _wrong(path, "a list", value)
    for index, item in enumerate(value):
        if item is None and item_shape is not ANY:
            return f"{path}[{index}] must not be null"
        problem = problem_in(item, item_shape, f"{path}[{index}]")
        if problem:
            return problem
    return None


def _map_of_problem(value: Any, value_shape: Any, path: str) -> str | None:
    if not isinstance(value, dict):
        return _wrong(path, "a mapping", value)
    for key, item in value.items():
        problem = problem_in(item, value_shape, _join(path, str(key)))
        if problem:
            return problem
    return None


def _scalar_problem(value: Any, shape: Any, path: str) -> str | None:
    allowed = shape if isinstance(shape, tuple) else (shape,)
    # bool is an int to Python, not to the API server: `runAsUser: true` is refused.
    fits = isinstance(value, allowed) and (bool in allowed or not isinstance(value, bool))
    return None if fits else _wrong(path, _type_word(allowed), value)


def _type_word(allowed: tuple[type, ...]) -> str:
    if allowed == (str,):
        return "a string"
    if allowed == (bool,):
        return "true or false"
    if allowed == (int,):
        return "an integer"
    return "a string or number"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _wrong(path: str, expected: str, value: Any) -> str:
    # Name the type, never the value: it may be a Secret's.
    return f"{path} must be {expected}, got {type_name(value)}"


def type_name(value: Any) -> str:
    """How messages name a value's type (never the value: it may be a Secret's)."""
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    return "a number" if isinstance(value, int | float) else type(value).__name__
