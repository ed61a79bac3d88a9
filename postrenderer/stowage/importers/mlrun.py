"""MLRun storage auto-mount -> stowage chart values.

Accepted shapes (already parsed to a dict at the edge): MLRun's config
(``{storage: {auto_mount_type, auto_mount_params}}``), environment variables
as MLRun reads them (``MLRUN_STORAGE__AUTO_MOUNT_TYPE``,
``MLRUN_STORAGE__AUTO_MOUNT_PARAMS``, ``MLRUN_PVC_MOUNT=<pvc>:<path>``) from an
env file or a map, and a ConfigMap whose ``data`` holds those variables.

Params are read as MLRun reads them: base64 JSON first, else ``k=v`` pairs
split on ``,`` (at the first ``=``, whitespace stripped, items without ``=``
skipped). Valid base64 that is not JSON crashes MLRun; here it is an error.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from stowage.importers.base import (
    Draft,
    Imported,
    ImportInputError,
    expect_map,
    join,
    without_default_storage,
)
from stowage.plan.automount import AutoMountError, base64_problem, resolve
from stowage.plan.configdata import AutoMount

TYPES = ("none", "auto", "v3io_credentials", "v3io_fuse", "pvc", "s3", "env")
NOT_CARRIED = {
    "v3io_credentials": "v3io API credentials exist only on Iguazio; stowage mounts volumes, "
    "it does not inject v3io access keys",
    "v3io_fuse": "the v3io FUSE mount needs Iguazio's v3io driver; stowage has no v3io",
    "s3": "MLRun's s3 auto-mount sets AWS credentials env vars, it mounts no volume; stowage "
    "has no env-only mount (use a persistence store: s3 entry for a bucket)",
    "env": "MLRun's env auto-mount only sets environment variables; stowage mounts volumes",
}
PVC_PARAMS = ("pvc_name", "volume_name", "volume_mount_path")
ENV_TYPE = "MLRUN_STORAGE__AUTO_MOUNT_TYPE"
ENV_PARAMS = "MLRUN_STORAGE__AUTO_MOUNT_PARAMS"
ENV_PVC = "MLRUN_PVC_MOUNT"


@dataclass(frozen=True)
class Setting:
    value: Any
    source: str
    form: str = ""


@dataclass(frozen=True)
class Settings:
    kind: Setting | None
    params: Setting | None
    pvc_mount: Setting | None


def import_mlrun(data: dict[str, Any]) -> Imported:
    draft = Draft("mlrun")
    without_default_storage(draft, "MLRun")
    for key, value in (("dataRefs", []), ("outputs", False)):
        draft.put(("api", key), value, note="MLRun mounts no shared storage into its API server")
    settings = _settings(draft, data)
    kind = settings.kind or Setting("auto", "")
    name = str(kind.value).strip()
    if name not in TYPES:
        raise ImportInputError(
            kind.source, f"{name!r} is not a valid auto-mount type; valid: {', '.join(TYPES)}"
        )
    if name in NOT_CARRIED:
        _not_carried(draft, name, settings)
        return draft.result()
    params = _params(draft, settings.params) if settings.params else {}
    if name == "none":
        _none(draft, kind, settings)
        return draft.result()
    params = _pvc_mount(draft, params, settings.pvc_mount)
    _auto_mount(draft, name, kind, params, settings.params)
    return draft.result()


# --- reading the shapes ---------------------------------------------------------------


def _settings(draft: Draft, data: dict[str, Any]) -> Settings:
    if data.get("kind") == "ConfigMap":
        for key in data:
            if key != "data":
                draft.skip(key, "ConfigMap envelope, not a setting")
        return _env(draft, expect_map(data.get("data"), "data"), "data")
    if any(str(key).startswith("MLRUN_") for key in data):
        return _env(draft, data, "")
    return _config(draft, data)


def _env(draft: Draft, env: dict[str, Any], prefix: str) -> Settings:
    found: dict[str, Setting] = {}
    for key, value in env.items():
        where = join(prefix, key)
        if key in (ENV_TYPE, ENV_PARAMS, ENV_PVC):
            found[key] = Setting(value, where)
        else:
            draft.skip(where, "MLRun setting unrelated to storage auto-mount")
    return Settings(found.get(ENV_TYPE), found.get(ENV_PARAMS), found.get(ENV_PVC))


def _config(draft: Draft, data: dict[str, Any]) -> Settings:
    storage = expect_map(data.get("storage"), "storage")
    for key in data:
        if key != "storage":
            draft.skip(key, "MLRun setting unrelated to storage auto-mount")
    for key in storage:
        if key not in ("auto_mount_type", "auto_mount_params"):
            draft.skip(f"storage.{key}", "MLRun storage setting other than auto-mount")
    kind = storage.get("auto_mount_type")
    params = storage.get("auto_mount_params")
    return Settings(
        Setting(kind, "storage.auto_mount_type") if kind is not None else None,
        Setting(params, "storage.auto_mount_params") if params is not None else None,
        None,
    )


# --- params -------------------------------------------------------------------------------


def _params(draft: Draft, setting: Setting) -> dict[str, Setting]:
    raw = setting.value
    if isinstance(raw, dict):
        return {str(k): Setting(str(v), join(setting.source, str(k))) for k, v in raw.items()}
    if not isinstance(raw, str):
        raise ImportInputError(setting.source, f"expected a string, got {raw!r}")
    text = raw.strip()
    problem = base64_problem(text)
    if problem:
        raise ImportInputError(setting.source, problem)
    decoded = _base64(text)
    if decoded is not None:
        parsed = _json_object(decoded, setting.source)
        return {k: Setting(str(v), setting.source, "base64 JSON") for k, v in parsed.items()}
    return _pairs(draft, text, setting.source)


def _base64(text: str) -> bytes | None:
    if not text:
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _json_object(decoded: bytes, source: str) -> dict[str, Any]:
    try:
        value = json.loads(decoded.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ImportInputError(
            source,
            "is valid base64 but does not decode to JSON (MLRun crashes on this); give "
            '`k=v,k=v` pairs or the base64 of a JSON object such as {"pvc_name": "data"}',
        ) from None
    if not isinstance(value, dict):
        raise ImportInputError(source, "base64 JSON must decode to an object {key: value}")
    return {str(k): v for k, v in value.items()}


def _pairs(draft: Draft, text: str, source: str) -> dict[str, Setting]:
    out: dict[str, Setting] = {}
    for item in text.split(","):
        if "=" not in item:
            if item.strip():
                draft.skip(f"{source} item {item.strip()!r}", "has no '='; MLRun skips it too")
            continue
        key, value = item.split("=", 1)
        out[key.strip()] = Setting(value.strip(), source, "k=v pairs")
    return out


def _pvc_mount(
    draft: Draft, params: dict[str, Setting], pvc_mount: Setting | None
) -> dict[str, Setting]:
    if pvc_mount is None:
        return params
    parts = str(pvc_mount.value).split(":")
    if len(parts) != 2 or not all(parts):
        raise ImportInputError(pvc_mount.source, "expected <pvc-name>:<mount-path>")
    if "pvc_name" in params:
        draft.skip(
            pvc_mount.source,
            "auto_mount_params also names the claim; carried over the params",
        )
        return params
    return {
        **params,
        "pvc_name": Setting(parts[0], pvc_mount.source, "<pvc>:<path>"),
        "volume_mount_path": Setting(parts[1], pvc_mount.source, "<pvc>:<path>"),
    }


# --- mapping -----------------------------------------------------------------------------------


def _not_carried(draft: Draft, name: str, settings: Settings) -> None:
    assert settings.kind is not None  # the default, auto, is carried
    draft.skip(settings.kind.source, f"auto_mount_type {name}: {NOT_CARRIED[name]}")
    for extra in (settings.params, settings.pvc_mount):
        if extra is not None:
            draft.skip(extra.source, f"parameters of auto_mount_type {name}, not carried over")


def _none(draft: Draft, kind: Setting, settings: Settings) -> None:
    draft.put(("autoMount", "type"), "none", *_sources(kind))
    for extra in (settings.params, settings.pvc_mount):
        if extra is not None:
            draft.skip(extra.source, "auto_mount_type none: MLRun ignores the parameters too")


def _sources(setting: Setting) -> tuple[str, ...]:
    return (setting.source,) if setting.source else ()


def _auto_mount(
    draft: Draft,
    name: str,
    kind: Setting,
    params: dict[str, Setting],
    params_setting: Setting | None,
) -> None:
    where = params_setting.source if params_setting else (kind.source or "auto_mount_params")
    unknown = sorted(set(params) - set(PVC_PARAMS))
    if unknown:
        raise ImportInputError(
            where,
            f"unknown parameter(s) {', '.join(unknown)}: MLRun's pvc mount takes "
            f"{', '.join(PVC_PARAMS)}; MLRun 1.12 drops anything else with a warning and "
            "mounts anyway, stowage refuses it (a dropped key is usually a typo, and the "
            "claim would be mounted where the code does not look)",
        )
    if name == "pvc" and "pvc_name" not in params:
        raise ImportInputError(where, f"type pvc needs pvc_name (or {ENV_PVC}=<pvc>:<path>)")
    note = (
        "MLRun's default type"
        if not kind.source
        else "inside Iguazio MLRun's auto applies v3io credentials instead; stowage has no v3io"
        if name == "auto"
        else ""
    )
    draft.put(("autoMount", "type"), name, *_sources(kind), note=note)
    plain = {key: setting.value for key, setting in params.items()}
    draft.put(("autoMount", "params"), plain, note="decoded to a map")
    for key, setting in params.items():
        draft.note(("autoMount", "params", key), setting.source, note=setting.form)
    if name == "auto" and "pvc_name" not in params:
        draft.note(
            ("autoMount", "type"), note="no claim configured: nothing is mounted, as in MLRun"
        )
    else:
        claim = plain["pvc_name"]
        draft.assume(
            ("autoMount", "accessModes"),
            ["ReadWriteMany"],
            "MLRun does not record them; function pods on any node share the claim, which "
            f"needs ReadWriteMany. Check: kubectl get pvc {claim} -o "
            "jsonpath='{.spec.accessModes}'",
        )
    for component in ("scheduler", "api"):
        draft.put(
            (component, "autoMount"),
            False,
            note="MLRun auto-mounts into function pods only, never into its API server",
        )
    try:
        resolve(
            AutoMount(type="auto", params=plain)
            if name == "auto"
            else AutoMount(type="pvc", params=plain)
        )
    except AutoMountError as err:
        raise ImportInputError(
            where, f"{err}; Kubernetes would reject the pods MLRun makes from it too"
        ) from None
