"""Polyaxon (0.x chart values and polyaxonfiles) -> stowage chart values.

Values: ``persistence.data`` / ``persistence.outputs`` carry over one to one
(stowage's persistence model is Polyaxon's), node scheduling keyed by
``core, experiments, jobs, builds, tensorboards`` maps to stowage's node pools
(core -> core; experiments, else jobs -> pipeline and dask), and the security
context keeps Polyaxon's rule that ids apply only when both are set.
A polyaxonfile's ``environment.data_refs`` becomes ``pipeline.dataRefs`` and
``dask.dataRefs``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from stowage.importers.base import (
    Draft,
    Imported,
    ImportInputError,
    expect_list,
    expect_map,
    join,
)
from stowage.plan.config import VolumeSpec
from stowage.plan.validators import DNS1123_LABEL
from stowage.pods.shapes import type_name

VOLUME_KEYS = (
    "mountPath",
    "hostPath",
    "existingClaim",
    "readOnly",
    "subPath",
    "store",
    "bucket",
    "secret",
    "secretKey",
)
ROLES = ("core", "experiments", "jobs", "builds", "tensorboards")
SCHEDULING = {
    "nodeSelector": "nodeSelector",
    "nodeSelectors": "nodeSelector",
    "tolerations": "tolerations",
    "affinity": "affinity",
}
WORKLOAD_POOLS = ("pipeline", "dask")
DATA_PATHS_ENV = "POLYAXON_RUN_DATA_PATHS"
POLYAXONFILE = "polyaxonfile"
PLATFORM_STORES = {
    "logs": "Polyaxon's own log store",
    "repos": "Polyaxon's code-repository store",
    "upload": "Polyaxon's upload scratch space",
}
POLYAXONFILE_KEYS = frozenset({"version", "kind", "environment", "run", "build", "declarations"})


@dataclass(frozen=True)
class Known:
    """Volume names a values file defined (None: no values file given)."""

    data: frozenset[str] | None = None
    outputs: frozenset[str] = frozenset()


def is_polyaxonfile(data: dict[str, Any]) -> bool:
    return "persistence" not in data and bool(POLYAXONFILE_KEYS & set(data))


def import_polyaxon(
    values: dict[str, Any] | None, polyaxonfile: dict[str, Any] | None = None
) -> Imported:
    draft = Draft("polyaxon")
    known = _values(draft, values) if values is not None else Known()
    if polyaxonfile is not None:
        try:
            _polyaxonfile(draft, polyaxonfile, known)
        except ImportInputError as err:
            raise ImportInputError(err.key, err.message, POLYAXONFILE) from None
    return draft.result()


# --- values -----------------------------------------------------------------


def _values(draft: Draft, data: dict[str, Any]) -> Known:
    persistence = expect_map(data.get("persistence"), "persistence")
    data_names = _data(draft, expect_map(persistence.get("data"), "persistence.data"))
    outputs = _outputs(draft, expect_map(persistence.get("outputs"), "persistence.outputs"))
    for key in persistence:
        if key not in ("data", "outputs"):
            what = PLATFORM_STORES.get(key, "a Polyaxon platform store")
            draft.skip(
                join("persistence", key),
                f"{what}: stowage attaches data and outputs only; keep it in Polyaxon "
                "or mount it through an extraVolumes entry",
            )
    if data_names or outputs:
        draft.put(
            ("dataPathsEnv",),
            DATA_PATHS_ENV,
            note="Polyaxon runs read {name: path} from this variable; keeps their code working",
        )
    for key in SCHEDULING:
        if key in data:
            _scheduling(draft, key, data[key])
    if "securityContext" in data:
        _security(draft, data["securityContext"])
    for key in data:
        if key not in {"persistence", "securityContext", *SCHEDULING}:
            draft.skip(key, "Polyaxon platform setting, not storage or scheduling")
    return Known(frozenset(data_names), frozenset(outputs))


def _data(draft: Draft, volumes: dict[str, Any]) -> list[str]:
    for name, spec in volumes.items():
        _volume(draft, "data", name, spec)
    return list(volumes)


def _outputs(draft: Draft, volumes: dict[str, Any]) -> list[str]:
    names = list(volumes)
    for index, name in enumerate(names):
        if index == 0:
            _volume(draft, "outputs", name, volumes[name])
        else:
            draft.skip(
                f"persistence.outputs.{name}",
                f"stowage has one outputs store (as Polyaxon's community edition, whose "
                f"runs used the first one); carried over: {names[0]}",
            )
    return names[:1]


def _volume(draft: Draft, group: str, name: str, raw: Any) -> None:
    key = f"persistence.{group}.{name}"
    if len(name) > 63 or not DNS1123_LABEL.match(name):
        raise ImportInputError(
            key,
            f"{name!r} is not a valid Kubernetes volume name (lowercase letters, digits and "
            "'-', at most 63); Polyaxon never checked it; rename the key here and in "
            "data_refs and the code reading POLYAXON_RUN_DATA_PATHS",
        )
    spec: dict[str, Any] = {}
    for field, value in expect_map(raw, key).items():
        if field in VOLUME_KEYS:
            spec[field] = value
        else:
            draft.skip(join(key, field), f"not a Polyaxon volume key ({', '.join(VOLUME_KEYS)})")
    try:
        VolumeSpec.model_validate(spec)
    except ValidationError as err:
        first = err.errors()[0]
        where = join(key, str(first["loc"][0])) if first["loc"] else key
        raise ImportInputError(where, str(first["msg"]).removeprefix("Value error, ")) from None
    draft.put(("persistence", group, name), spec, key)
    if "existingClaim" in spec:
        _claim_modes(draft, group, name, spec)


def _claim_modes(draft: Draft, group: str, name: str, spec: dict[str, Any]) -> None:
    claim = spec["existingClaim"]
    mode = "ReadOnlyMany" if spec.get("readOnly") else "ReadWriteMany"
    draft.assume(
        ("persistence", group, name, "accessModes"),
        [mode],
        f"Polyaxon does not record them; runs on any node share the claim, which needs {mode}. "
        f"Check: kubectl get pvc {claim} -o jsonpath='{{.spec.accessModes}}'",
    )


# --- node scheduling ----------------------------------------------------------


def _scheduling(draft: Draft, key: str, raw: Any) -> None:
    field = SCHEDULING[key]
    if isinstance(raw, dict) and raw and set(raw) <= set(ROLES):
        _per_role(draft, key, field, raw)
    else:
        _global(draft, key, field, raw)


def _check_shape(field: str, value: Any, where: str) -> Any:
    if field == "tolerations":
        if not isinstance(value, list):
            raise ImportInputError(
                where,
                f"tolerations must be a list, got {type_name(value)} (got map, expected array)",
            )
        return value
    return expect_map(value, where)


def _per_role(draft: Draft, key: str, field: str, raw: dict[str, Any]) -> None:
    roles = {role: _check_shape(field, raw[role], f"{key}.{role}") for role in raw}
    if "core" in roles:
        draft.put((field, "core"), roles["core"], f"{key}.core")
    workload = "experiments" if "experiments" in roles else "jobs" if "jobs" in roles else None
    if workload is not None:
        for pool in WORKLOAD_POOLS:
            draft.put((field, pool), roles[workload], f"{key}.{workload}")
    for role in ("jobs", "builds", "tensorboards"):
        if role in roles and role != workload:
            _extra_role(draft, key, field, role, roles=roles, workload=workload)


def _extra_role(
    draft: Draft,
    key: str,
    field: str,
    role: str,
    *,
    roles: dict[str, Any],
    workload: str | None,
) -> None:
    source = f"{key}.{role}"
    if workload is not None and roles[role] == roles[workload]:
        draft.note((field, "pipeline"), source, note=f"{role} identical to {workload}")
        return
    if role == "jobs":
        reason = (
            "differs from experiments; stowage runs experiments and jobs in one pipeline "
            "pool (carried over: experiments)"
        )
    else:
        reason = (
            f"stowage has no {role} workloads (no image builds or TensorBoards); carried "
            f"over only when identical to {workload or 'experiments'}"
        )
    draft.skip(source, reason)


def _global(draft: Draft, key: str, field: str, raw: Any) -> None:
    value = _check_shape(field, raw, key)
    if not value:
        draft.empty(key)
        return
    for pool in ("core", *WORKLOAD_POOLS):
        if draft.has((field, pool)):
            draft.skip(key, f"{field} is also set per role; the per-role value wins")
            return
    for pool in ("core", *WORKLOAD_POOLS):
        draft.put(
            (field, pool), value, key, note="Polyaxon applies a global value to every component"
        )


# --- security context ----------------------------------------------------------


def _security(draft: Draft, raw: Any) -> None:
    sc = expect_map(raw, "securityContext")
    enabled = sc.get("enabled", False)
    if not isinstance(enabled, bool):
        raise ImportInputError(
            "securityContext.enabled", f"expected true or false, got {enabled!r}"
        )
    user, group = sc.get("user"), sc.get("group")
    for extra in sorted(set(sc) - {"enabled", "user", "group"}):
        draft.skip(f"securityContext.{extra}", "not part of Polyaxon's {enabled, user, group}")
    if enabled and user is not None and group is not None:
        draft.put(("securityContext", "enabled"), True, "securityContext.enabled")
        draft.put(("securityContext", "user"), user, "securityContext.user")
        draft.put(
            ("securityContext", "group"),
            group,
            "securityContext.group",
            note="also fsGroup: mounted volumes belong to it, as in Polyaxon",
        )
        return
    note = (
        "Polyaxon sets the ids only when both user and group are set, so its pods ran as "
        "the image's user"
        if enabled
        else "stowage's chart default is true (1000:1000); enable it once volume ownership fits"
    )
    draft.put(("securityContext", "enabled"), False, "securityContext.enabled", note=note)
    for name, value in (("user", user), ("group", group)):
        if value is None:
            continue
        if enabled:
            draft.skip(f"securityContext.{name}", "Polyaxon ignored it without the other id")
        else:
            draft.put(("securityContext", name), value, f"securityContext.{name}")


# --- polyaxonfile ---------------------------------------------------------------


def _polyaxonfile(draft: Draft, data: dict[str, Any], known: Known) -> None:
    env = expect_map(data.get("environment"), "environment")
    persistence = expect_map(env.get("persistence"), "environment.persistence")
    refs: list[str] = []
    sources: list[str] = []
    for where, raw in (
        ("environment.data_refs", env.get("data_refs")),
        ("environment.persistence.data", persistence.get("data")),
    ):
        if raw is not None:
            refs += [r for r in _refs(where, raw, known) if r not in refs]
            sources.append(where)
    if sources:
        for component in WORKLOAD_POOLS:
            draft.put(
                (component, "dataRefs"),
                refs,
                *sources,
                note="polyaxonfile; Dask does the pipeline's work, so it gets the same subset",
            )
    if "outputs" in persistence:
        _run_outputs(draft, persistence["outputs"], known)
    for key in env:
        if key not in ("data_refs", "persistence"):
            draft.skip(
                f"environment.{key}",
                "a setting of one run; it stays in the polyaxonfile, not in the chart",
            )
    for key in persistence:
        if key not in ("data", "outputs"):
            draft.skip(f"environment.persistence.{key}", "not data or outputs")
    _rest_of_polyaxonfile(draft, data)


def _refs(where: str, raw: Any, known: Known) -> list[str]:
    refs = [raw] if isinstance(raw, str) else expect_list(raw, where)
    for index, ref in enumerate(refs):
        if not isinstance(ref, str):
            raise ImportInputError(join(where, index), f"expected a volume name, got {ref!r}")
        if known.data is not None and ref not in known.data:
            raise ImportInputError(
                join(where, index),
                f"Volume with name {ref} was defined in specification, but was not found "
                f"in persistence.data (defined: {', '.join(sorted(known.data)) or 'none'})",
            )
    return [str(r) for r in refs]


def _run_outputs(draft: Draft, raw: Any, known: Known) -> None:
    where = "environment.persistence.outputs"
    if isinstance(raw, str) and raw in known.outputs:
        draft.note((), where, note=f"names the one outputs store, {raw}")
        return
    draft.skip(where, "stowage attaches its one outputs store to every run; no per-run choice")


def _rest_of_polyaxonfile(draft: Draft, data: dict[str, Any]) -> None:
    run = data.get("run")
    if isinstance(run, dict) and "connections" in run:
        draft.skip(
            "run.connections",
            "Polyaxon 1.x connections are defined in the agent's connections catalog, which "
            "this importer does not read; declare them under persistence.data and set dataRefs",
        )
    for key in data:
        if key == "environment":
            continue
        if key == "run" and isinstance(run, dict):
            for sub in run:
                if sub != "connections":
                    draft.skip(f"run.{sub}", "part of the run spec, not storage configuration")
            continue
        draft.skip(key, "part of the run spec, not storage configuration")
