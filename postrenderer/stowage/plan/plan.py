"""The plan: merged configuration turned into the concrete volumes, mounts and env to attach.

Pure functions. Inputs are plain dicts (the chart's plan resource, then each
``--config`` file, then ``--var``); layering follows Helm values: maps merge,
everything else (lists included) is replaced by the later value, ``null``
removes a key.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from types import UnionType
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, get_args, get_origin

from stowage.errors import UsageError
from stowage.layers import Layer
from stowage.plan import configdata
from stowage.plan.automount import AutoMountError, AutoVolume, resolve
from stowage.plan.configdata import Config, VolumeSpec
from stowage.plan.variables import expand, mentions_variables

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

Purpose = Literal["data", "outputs", "auto"]


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def merge_layers(layers: Iterable[Layer], variables: Mapping[str, str]) -> Config:
    layers = list(layers)
    merged: dict[str, Any] = {}
    origins = []
    for layer in layers:
        merged = deep_merge(merged, layer.data)
        origins.append(layer.origin)
    if variables:
        merged = deep_merge(merged, {"vars": dict(variables)})
    where = " + ".join(origins) or "--var"
    config = validate(merged, where, layers)
    try:
        resolve(config.autoMount)  # params are free text: check them where their origin is known
    except AutoMountError as err:
        raise UsageError(str(err), where=where) from None
    return config


def validate(data: dict[str, Any], where: str, layers: Iterable[Layer] = ()) -> Config:
    """The Config for ``data``: the fast path when it is plainly valid, else pydantic's
    verdict (which may still accept it, coercing, or words the error, naming the one
    layer of ``layers`` that set every key in error, when there is one)."""
    return configdata.parse(data) or _validate_with_pydantic(data, where, list(layers))


def _validate_with_pydantic(data: dict[str, Any], where: str, layers: list[Layer]) -> Config:
    from pydantic import ValidationError

    from stowage.plan.config import Config as ConfigModel

    try:
        model = ConfigModel.model_validate(data)
    except ValidationError as err:
        raise UsageError(_validation_message(err), where=_origin(err, layers) or where) from None
    return configdata.from_validated(model.model_dump())


def _validation_message(err: ValidationError) -> str:
    lines = []
    for problem in err.errors():
        loc = tuple(problem["loc"])
        key = ".".join(str(p) for p in loc) or "(top level)"
        lines.append(f"{key}: {_plain(problem, loc)}")
    if len(lines) == 1:
        return f"invalid configuration: {lines[0]}"
    return "invalid configuration:" + "".join(f"\n  - {line}" for line in lines)


def _origin(err: ValidationError, layers: Iterable[Layer]) -> str:
    """The one layer that set every key in error, when there is one."""
    origins = set()
    for problem in err.errors():
        setting = [layer.origin for layer in layers if _has_path(layer.data, tuple(problem["loc"]))]
        if not setting:
            return ""
        origins.add(setting[-1])
    return origins.pop() if len(origins) == 1 else ""


def _has_path(data: Any, loc: tuple[Any, ...]) -> bool:
    for part in loc:
        if not isinstance(data, Mapping) or str(part) not in data:
            return False
        data = data[str(part)]
    return True


def _plain(problem: Any, loc: tuple[Any, ...]) -> str:
    """pydantic's message in the user's words: unknown keys get the nearest known one."""
    kind = problem["type"]
    if kind == "extra_forbidden":
        from stowage.plan.config import Config as ConfigModel

        allowed = keys_at(ConfigModel, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        known = f" (known here: {', '.join(allowed)})" if allowed and not close else ""
        return f"unknown key{hint}{known}"
    if kind == "missing":
        return "is required"
    return str(problem["msg"]).removeprefix("Value error, ")


def keys_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys a config mapping at ``loc`` accepts (empty when it takes any key)."""
    from pydantic import BaseModel

    current: Any = model
    for part in loc:
        current = _model_or_map(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return []
            current = field.annotation
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        else:
            return []
    current = _model_or_map(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _model_or_map(annotation: Any) -> Any:
    """Unwrap Optional, unions and Annotated down to a model or a dict type."""
    from pydantic import BaseModel

    if get_origin(annotation) is Annotated:
        return _model_or_map(get_args(annotation)[0])
    if get_origin(annotation) in (Union, UnionType):
        for arg in get_args(annotation):
            inner = _model_or_map(arg)
            if get_origin(inner) is dict or (
                isinstance(inner, type) and issubclass(inner, BaseModel)
            ):
                return inner
    return annotation


@dataclass(frozen=True)
class PlannedVolume:
    """One volume of the plan, ready to attach."""

    name: str
    purpose: Purpose
    spec: VolumeSpec
    volume: dict[str, Any] | None  # the pod volume (None: a store with env-only credentials)
    mount: dict[str, Any] | None
    env: tuple[dict[str, Any], ...] = ()
    path_value: str = ""  # what the data-paths env maps the name to

    @cached_property
    def has_variables(self) -> bool:
        """Whether any of it holds a `${VAR}` to expand per workload."""
        return mentions_variables((self.volume, self.mount, self.env, self.path_value))

    def expanded(self, variables: Mapping[str, str], keep: frozenset[str]) -> PlannedVolume:
        """This volume with ``variables`` expanded in its volume, mount, env and data path
        (names in ``keep`` stay as written): what one workload, or one pod at admission,
        gets. A pod that already has `/data/ml` (stowage's own output, run again) then
        matches `/data/${TEAM}` instead of getting a second mount there."""
        if not self.has_variables:
            return self
        return replace(
            self,
            volume=expand(self.volume, variables, keep).value,
            mount=expand(self.mount, variables, keep).value,
            env=tuple(expand(list(self.env), variables, keep).value),
            path_value=str(expand(self.path_value, variables, keep).value),
        )


@dataclass(frozen=True)
class Plan:
    config: Config
    data: dict[str, PlannedVolume]
    outputs: dict[str, PlannedVolume]
    auto: PlannedVolume | None
    generated_claims: tuple[dict[str, Any], ...] = field(default=())

    @property
    def is_empty(self) -> bool:
        return self.config.is_empty and self.auto is None


def build(config: Config) -> Plan:
    data = {n: plan_volume(n, "data", s) for n, s in sorted(config.persistence.data.items())}
    outputs = {
        n: plan_volume(n, "outputs", s) for n, s in sorted(config.persistence.outputs.items())
    }
    try:
        auto: AutoVolume | None = resolve(config.autoMount)
    except AutoMountError as err:
        raise UsageError(str(err), where="autoMount") from None
    auto_planned = plan_volume(auto.name, "auto", auto.spec) if auto else None
    claims = tuple(
        generated_claim(p) for p in (*data.values(), *outputs.values()) if p.spec.claim is not None
    )
    return Plan(config, data, outputs, auto_planned, claims)


def claim_name_for(volume_name: str) -> str:
    return f"stowage-{volume_name}"


def plan_volume(name: str, purpose: Purpose, spec: VolumeSpec) -> PlannedVolume:
    source = _volume_source(name, spec)
    mount = _mount(name, spec) if source is not None and spec.mountPath else None
    env = _store_env(name, spec) if spec.store else ()
    path_value = spec.bucket or "" if spec.store else spec.mountPath or ""
    volume = {"name": name, **source} if source is not None else None
    return PlannedVolume(name, purpose, spec, volume, mount, env, path_value)


def _volume_source(name: str, spec: VolumeSpec) -> dict[str, Any] | None:
    read_only = {"readOnly": True} if spec.readOnly else {}
    if spec.hostPath is not None:
        return {"hostPath": {"path": spec.hostPath, "type": "DirectoryOrCreate"}}
    if spec.existingClaim is not None:
        return {"persistentVolumeClaim": {"claimName": spec.existingClaim, **read_only}}
    if spec.claim is not None:
        return {"persistentVolumeClaim": {"claimName": claim_name_for(name), **read_only}}
    if spec.nfs is not None:
        return {"nfs": {"server": spec.nfs.server, "path": spec.nfs.path, **read_only}}
    if spec.store is not None and spec.mountPath and spec.secret and spec.secretKey:
        items = [{"key": spec.secretKey, "path": spec.secretKey}]
        return {"secret": {"secretName": spec.secret, "items": items}}
    return None


def _mount(name: str, spec: VolumeSpec) -> dict[str, Any]:
    mount: dict[str, Any] = {"name": name, "mountPath": spec.mountPath}
    if spec.readOnly or spec.store:
        mount["readOnly"] = True
    if spec.subPath:
        mount["subPath"] = spec.subPath
    return mount


def store_env_name(volume_name: str) -> str:
    return "STOWAGE_STORE_" + re.sub(r"[^A-Za-z0-9]", "_", volume_name).upper()


def _store_env(name: str, spec: VolumeSpec) -> tuple[dict[str, Any], ...]:
    if not (spec.secret and spec.secretKey):
        return ()  # reported by the cloud-store rule; nothing valid to attach
    ref = {"secretKeyRef": {"name": spec.secret, "key": spec.secretKey}}
    return ({"name": store_env_name(name), "valueFrom": ref},)


def generated_claim(planned: PlannedVolume) -> dict[str, Any]:
    """A PVC for a `claim` source given in a --config (our chart renders its own)."""
    claim = planned.spec.claim
    assert claim is not None
    spec: dict[str, Any] = {
        "accessModes": list(claim.accessModes),
        "resources": {"requests": {"storage": claim.size}},
    }
    if claim.storageClassName:
        spec["storageClassName"] = claim.storageClassName
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": claim_name_for(planned.name),
            "labels": {"app.kubernetes.io/managed-by": "stowage"},
            "annotations": {"helm.sh/resource-policy": "keep"},
        },
        "spec": spec,
    }


def data_paths_json(volumes: Iterable[PlannedVolume]) -> str:
    return _paths_json(tuple((v.name, v.path_value) for v in volumes))


@lru_cache(maxsize=1024)  # the same few data sets recur across thousands of workloads
def _paths_json(paths: tuple[tuple[str, str], ...]) -> str:
    return json.dumps(dict(paths), sort_keys=True, separators=(",", ":"))
