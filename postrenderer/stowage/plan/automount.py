"""MLRun-style auto-mount: parse its parameters and turn them into one volume.

Parameters come as a map, as ``k=v,k=v`` (split at the first ``=``, items
without ``=`` skipped, whitespace stripped, as MLRun does), or as base64 JSON.
Unlike MLRun, a value that is valid base64 but not a JSON object is an error
that names the form expected, not a crash.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stowage.plan import configdata
from stowage.plan.configdata import AutoMount, VolumeSpec
from stowage.plan.validators import DNS1123_LABEL

if TYPE_CHECKING:
    from pydantic import ValidationError

DEFAULT_VOLUME_NAME = "pipeline"
DEFAULT_MOUNT_PATH = "/mnt/pipeline"
KNOWN_PARAMS = frozenset({"pvc_name", "host_path", "volume_name", "volume_mount_path", "read_only"})
_BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")
# Near-base64 that MLRun cannot read either: line breaks (`base64` wraps at 76
# columns) or the URL-safe alphabet (`-` and `_` for `+` and `/`).
_NEAR_BASE64 = re.compile(r"^[A-Za-z0-9+/_-]+={0,2}$")
# The param each VolumeSpec field comes from, to name it in messages.
_PARAM_OF_FIELD = {
    "mountPath": "volume_mount_path",
    "existingClaim": "pvc_name",
    "hostPath": "host_path",
    "readOnly": "read_only",
}


class AutoMountError(ValueError):
    pass


def parse_params(params: dict[str, str] | str) -> dict[str, str]:
    """Normalise auto-mount params to a map; raise AutoMountError naming the bad form."""
    if isinstance(params, dict):
        parsed = {str(k): str(v) for k, v in params.items()}
    else:
        text = params.strip()
        problem = base64_problem(text)
        if problem:
            raise AutoMountError(f"autoMount.params {problem}")
        parsed = _from_base64_json(text) if _looks_base64(text) else _from_pairs(text)
    unknown = sorted(set(parsed) - KNOWN_PARAMS)
    if unknown:
        raise AutoMountError(_unknown_params(unknown))
    return parsed


def base64_problem(text: str) -> str:
    """Why ``text`` looks like base64 that MLRun cannot decode ("" when it does not)."""
    if "=" in text.rstrip("=") or "," in text or _looks_base64(text):
        return ""
    joined = "".join(text.split())
    if not (_NEAR_BASE64.match(joined) and _decodes_to_json_object(joined)):
        return ""
    reasons = []
    if joined != text:
        reasons.append("is wrapped over several lines (as `base64` wraps at 76 columns)")
    if "-" in joined or "_" in joined:
        reasons.append("uses the URL-safe alphabet (- and _ in place of + and /)")
    if not reasons:
        return ""
    return (
        f"look like base64 JSON but do not decode: the value {' and '.join(reasons)}; MLRun "
        "reads standard base64 on one line: encode with `base64 -w0` (not base64url)"
    )


def _decodes_to_json_object(text: str) -> bool:
    padded = text + "=" * (-len(text) % 4)
    try:
        return base64.urlsafe_b64decode(padded.replace("+", "-").replace("/", "_")).startswith(b"{")
    except (binascii.Error, ValueError):
        return False


def _unknown_params(unknown: list[str]) -> str:
    hints = []
    for key in unknown:
        if key == "accessModes":
            hints.append("accessModes is not a param: set autoMount.accessModes, beside params")
            continue
        close = difflib.get_close_matches(key, sorted(KNOWN_PARAMS), n=1, cutoff=0.6)
        if close:
            hints.append(f"did you mean {close[0]!r} for {key!r}?")
    return (
        f"autoMount.params has unknown key(s) {', '.join(unknown)}; expected some of "
        f"{', '.join(sorted(KNOWN_PARAMS))}" + (f" ({'; '.join(hints)})" if hints else "")
    )


def _looks_base64(text: str) -> bool:
    return "=" not in text.rstrip("=") and "," not in text and bool(_BASE64.match(text))


def _from_base64_json(text: str) -> dict[str, str]:
    try:
        decoded = base64.b64decode(text, validate=True).decode("utf-8")
        value = json.loads(decoded)
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError):
        raise AutoMountError(
            "autoMount.params is neither `k=v,k=v` pairs nor base64-encoded JSON "
            '(e.g. the base64 of {"pvc_name": "data"})'
        ) from None
    if not isinstance(value, dict):
        raise AutoMountError("autoMount.params base64 JSON must decode to an object {key: value}")
    return {str(k): str(v) for k, v in value.items()}


def _from_pairs(text: str) -> dict[str, str]:
    pairs = (item.split("=", 1) for item in text.split(",") if "=" in item)
    return {key.strip(): value.strip() for key, value in pairs}


@dataclass(frozen=True)
class AutoVolume:
    name: str
    spec: VolumeSpec


def pvc_mount(value: str) -> dict[str, str]:
    """MLRUN_PVC_MOUNT's `<pvc-name>:<mount-path>` as params ({} when empty)."""
    if not value:
        return {}
    parts = value.split(":")
    if len(parts) != 2 or not all(parts):
        raise AutoMountError(
            f"autoMount.pvcMount {value!r} is not <pvc-name>:<mount-path> (as MLRUN_PVC_MOUNT; "
            "MLRun refuses it too)"
        )
    return {"pvc_name": parts[0], "volume_mount_path": parts[1]}


def with_pvc_mount(params: dict[str, str], value: str) -> dict[str, str]:
    """As MLRun's mount_pvc: MLRUN_PVC_MOUNT names the claim and its path when the params
    name no claim (then the params' volume_mount_path gives way to it)."""
    from_env = pvc_mount(value)
    if not from_env or "pvc_name" in params:
        return params
    return {**params, **from_env}


def nothing_mounted_note(auto: AutoMount) -> str:
    """Why an `auto` auto-mount mounts nothing ("" when it mounts something or is off)."""
    if auto.type != "auto":
        return ""
    try:
        if resolve(auto) is not None:
            return ""
    except AutoMountError:
        return ""
    return (
        "autoMount type auto mounts nothing: no pvc_name or host_path in params and no "
        "pvcMount (MLRun's MLRUN_PVC_MOUNT), so, as in MLRun outside Iguazio, no volume is added"
    )


def resolve(auto: AutoMount) -> AutoVolume | None:
    """The volume auto-mount adds, or None (type none, or auto with nothing to mount)."""
    if auto.type == "none":
        return None
    params = with_pvc_mount(parse_params(auto.params), auto.pvcMount)
    kind: str = auto.type
    if kind == "auto":
        kind = "pvc" if "pvc_name" in params else "hostPath" if "host_path" in params else "none"
        if kind == "none":
            return None
    name = params.get("volume_name", DEFAULT_VOLUME_NAME)
    if not DNS1123_LABEL.match(name) or len(name) > 63:
        raise AutoMountError(
            f"autoMount volume_name {name!r} is not a valid volume name "
            "(lowercase letters, digits and '-')"
        )
    mount_path = params.get("volume_mount_path", DEFAULT_MOUNT_PATH)
    read_only = params.get("read_only", "false").lower() in ("1", "true", "yes")
    source_key = "pvc_name" if kind == "pvc" else "host_path"
    if source_key not in params:
        raise AutoMountError(f"autoMount type {kind!r} needs the {source_key!r} parameter")
    if auto.accessModes and kind != "pvc":
        raise AutoMountError(
            "autoMount.accessModes declares a claim's access modes; this auto-mount is a "
            "hostPath, not a claim: remove accessModes"
        )
    source: dict[str, object] = (
        {"existingClaim": params[source_key], "accessModes": auto.accessModes or None}
        if kind == "pvc"
        else {"hostPath": params[source_key]}
    )
    data = {"mountPath": mount_path, "readOnly": read_only, **source}
    return AutoVolume(name, configdata.parse_volume(data) or _volume_or_error(data))


def _volume_or_error(data: dict[str, object]) -> VolumeSpec:
    """pydantic's verdict on a volume the fast path did not accept (it words the error)."""
    from pydantic import ValidationError

    from stowage.plan.config import VolumeSpec as VolumeModel

    try:
        model = VolumeModel.model_validate(data)
    except ValidationError as err:
        raise AutoMountError(_volume_problem(err)) from None
    return configdata.volume_from_validated(model.model_dump())


def _volume_problem(err: ValidationError) -> str:
    """The first problem, named by the auto-mount param it came from; no pydantic text."""
    first = err.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else ""
    where = (
        f"autoMount.params.{_PARAM_OF_FIELD[field]}"
        if field in _PARAM_OF_FIELD
        else (f"autoMount.{field}" if field else "autoMount.params")
    )
    return f"{where}: {str(first['msg']).removeprefix('Value error, ')}"
