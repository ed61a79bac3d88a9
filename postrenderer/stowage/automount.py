"""MLRun-style auto-mount: parse its parameters and turn them into one volume.

Parameters come as a map, as ``k=v,k=v`` (split at the first ``=``, items
without ``=`` skipped, whitespace stripped, as MLRun does), or as base64 JSON.
Unlike MLRun, a value that is valid base64 but not a JSON object is an error
that names the form expected, not a crash.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass

from stowage import configdata
from stowage.configdata import AutoMount, VolumeSpec
from stowage.validators import DNS1123_LABEL

DEFAULT_VOLUME_NAME = "pipeline"
DEFAULT_MOUNT_PATH = "/mnt/pipeline"
KNOWN_PARAMS = frozenset({"pvc_name", "host_path", "volume_name", "volume_mount_path", "read_only"})
_BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")


class AutoMountError(ValueError):
    pass


def parse_params(params: dict[str, str] | str) -> dict[str, str]:
    """Normalise auto-mount params to a map; raise AutoMountError naming the bad form."""
    if isinstance(params, dict):
        parsed = {str(k): str(v) for k, v in params.items()}
    else:
        text = params.strip()
        parsed = _from_base64_json(text) if _looks_base64(text) else _from_pairs(text)
    unknown = sorted(set(parsed) - KNOWN_PARAMS)
    if unknown:
        raise AutoMountError(
            f"autoMount.params has unknown key(s) {', '.join(unknown)}; "
            f"expected some of {', '.join(sorted(KNOWN_PARAMS))}"
        )
    return parsed


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


def resolve(auto: AutoMount) -> AutoVolume | None:
    """The volume auto-mount adds, or None (type none, or auto with nothing to mount)."""
    if auto.type == "none":
        return None
    params = parse_params(auto.params)
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
    source = (
        {"existingClaim": params[source_key]} if kind == "pvc" else {"hostPath": params[source_key]}
    )
    data = {"mountPath": mount_path, "readOnly": read_only, **source}
    return AutoVolume(name, configdata.parse_volume(data) or _volume_or_error(data))


def _volume_or_error(data: dict[str, object]) -> VolumeSpec:
    """pydantic's verdict on a volume the fast path did not accept (it words the error)."""
    from stowage.config import VolumeSpec as VolumeModel

    try:
        model = VolumeModel.model_validate(data)
    except ValueError as err:
        raise AutoMountError(f"autoMount params do not make a valid volume: {err}") from None
    return configdata.volume_from_validated(model.model_dump())
