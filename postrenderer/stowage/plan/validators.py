"""The checks behind the settings' types, without pydantic: shared by the models of
config.py (as their validators) and by the fast path of configdata.py.

Each check returns the value or raises ValueError with the message users see.
"""

from __future__ import annotations

import re
from typing import Any

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
VAR_REF = re.compile(r"\$\{[^}]*\}")

# The values of config.py's Literal types (tests/test_configdata.py keeps them equal).
ACCESS_MODES = frozenset({"ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"})
STORE_KINDS = frozenset({"s3", "gcs", "azure"})
AUTO_MOUNT_TYPES = frozenset({"auto", "pvc", "hostPath", "none"})
FS_GROUP_CHANGE_POLICIES = frozenset({"OnRootMismatch", "Always"})
SOURCE_FIELDS = ("hostPath", "existingClaim", "nfs", "claim", "store")
SITE_SHAPES = frozenset({"podSpec", "manifest", "fragment"})
PRESETS = frozenset({"owl", "dask-kubernetes", "airflow", "manifests"})
RULE_ID = re.compile(r"^SW[0-9]{3}$")
ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
SITE_PATH = re.compile(r"^([^.\[\]]+|\[(\*|[0-9]+)\])(\.[^.\[\]]+|\[(\*|[0-9]+)\])*$")


def absolute_path(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError(f"must be an absolute path (start with '/'), got {value!r}")
    if any(part == ".." for part in value.split("/")):
        raise ValueError(f"must not contain '..', got {value!r}")
    return value


def volume_name(value: str) -> str:
    if len(value) > 63 or not DNS1123_LABEL.match(value):
        raise ValueError(
            f"{value!r} is not a valid volume name: use at most 63 lowercase letters, "
            "digits and '-', starting and ending with a letter or digit (DNS-1123 label)"
        )
    return value


def claim_name(value: str) -> str:
    # Claim names may carry ${VAR} placeholders that are expanded per user.
    probe = VAR_REF.sub("x", value)
    if len(probe) > 253 or not DNS1123_SUBDOMAIN.match(probe):
        raise ValueError(
            f"{value!r} is not a valid PersistentVolumeClaim name (DNS-1123 subdomain)"
        )
    return value


def user_name(value: str) -> str:
    if len(value) > 63 or not DNS1123_LABEL.match(value):
        raise ValueError(
            f"{value!r} is not a valid user name for per-user storage (DNS-1123 label)"
        )
    return value


def env_name(value: str) -> str:
    if not ENV_NAME.match(value):
        raise ValueError(f"{value!r} is not a valid environment variable name")
    return value


def one_source(spec: Any) -> None:
    """A volume (config.VolumeSpec or configdata.VolumeSpec) names exactly one source."""
    given = [name for name in SOURCE_FIELDS if getattr(spec, name) is not None]
    if len(given) != 1:
        found = ", ".join(given) if given else "none"
        raise ValueError(f"needs exactly one source of {', '.join(SOURCE_FIELDS)} (found: {found})")
    if spec.store is None and spec.mountPath is None:
        raise ValueError("mountPath is required for a volume source")
    if spec.store is not None and not spec.bucket:
        raise ValueError(f"store {spec.store!r} needs a bucket")
    if spec.accessModes is not None and spec.existingClaim is None:
        raise ValueError("accessModes is only declared for an existingClaim")
    if spec.sharedByAllNodes and spec.hostPath is None:
        raise ValueError("sharedByAllNodes is only declared for a hostPath")


def names_unique(persistence: Any) -> None:
    """A Persistence (model or dataclass) never names a volume in both data and outputs."""
    # The outputs count and read-only outputs are rule findings (see checks/),
    # so a merged config names the rule; the schema still limits them for Helm.
    clash = set(persistence.data) & set(persistence.outputs)
    if clash:
        raise ValueError(f"volume name(s) {', '.join(sorted(clash))} used in both data and outputs")


def site_path(value: str) -> str:
    if value and not SITE_PATH.match(value):
        raise ValueError(
            f"{value!r} is not a path: use dotted keys with `[*]` for every list item, "
            "e.g. `spec.workers[*].template.spec`"
        )
    return value


def pod_spec_path(value: str) -> str:
    if not value:
        raise ValueError("path must not be empty")
    return value


def selects_a_config_map(selector: Any) -> None:
    """A ConfigMapSelector (model or dataclass) names a ConfigMap somehow."""
    if selector.name is None and not selector.matchLabels:
        raise ValueError("name a ConfigMap by `name`, `matchLabels` or both")


def has_sites(source: Any) -> None:
    """A TemplateSource (model or dataclass) says where its templates are."""
    if source.preset is None and not source.sites:
        raise ValueError("give a `preset` or at least one site in `sites`")
    if source.preset is None and source.key is None:
        raise ValueError("give the data `key` (only a preset has a default)")


def rule_id(value: str) -> str:
    if not RULE_ID.match(value):
        raise ValueError(
            f"{value!r} is not a rule ID: use one like SW201 (`stowage explain` lists them)"
        )
    return value


def reason_given(value: str) -> str:
    if not value.strip():
        raise ValueError("a waiver needs a reason: say why the finding is accepted")
    return value


def iso_date(value: str) -> str:
    """A calendar date written YYYY-MM-DD."""
    from datetime import date

    try:
        if ISO_DATE.match(value):
            date.fromisoformat(value)
            return value
    except ValueError:
        pass
    raise ValueError(f"{value!r} is not a date: write it YYYY-MM-DD, e.g. 2027-03-31")
