"""What a check or the engine reports: a rule, a severity, the resource and a fix."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from stowage.layers import Layer

CONFIG_KIND = "Config"  # a finding on the storage plan: `name` is the file or values it came from


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class ResourceRef:
    """What a finding is about: a manifest, a ConfigMap's data key, or a config source.

    Printed as kubectl prints resources: ``Deployment/x``, ``Deployment/x -n ns``
    with a namespace, ``ConfigMap/t (data.job.yaml)`` for a pod template carried
    in a ConfigMap; a config source prints as the file or values it is.
    """

    kind: str
    namespace: str
    name: str
    key: str = ""  # a ConfigMap data key, or the config key path of a Config ref

    def __str__(self) -> str:
        if self.kind == CONFIG_KIND:
            return self.name
        text = f"{self.kind}/{self.name}"
        if self.namespace:
            text += f" -n {self.namespace}"
        return f"{text} (data.{self.key})" if self.key else text

    def as_json(self) -> dict[str, str | None]:
        return {
            "kind": self.kind,
            "namespace": self.namespace or None,
            "name": self.name,
            "key": self.key or None,
        }


@dataclass(frozen=True)
class Finding:
    rule: str  # stable ID, e.g. "SW101"
    severity: Severity
    resource: ResourceRef
    message: str
    fix: str = ""
    related: tuple[ResourceRef, ...] = field(default=())
    promoted: bool = False  # a warning that --strict made an error

    def escalated(self, strict: bool) -> Finding:
        """Under --strict every warning is an error, marked as promoted so reports say so."""
        if strict and self.severity is Severity.WARNING:
            return replace(self, severity=Severity.ERROR, promoted=True)
        return self

    def as_json(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "promoted": self.promoted,
            "resource": self.resource.as_json(),
            "message": self.message,
            "fix": self.fix,
            "related": [r.as_json() for r in self.related],
        }


_KEY_PATH = re.compile(r"^([A-Za-z][\w-]*(?:\.[\w-]+)+)")


def locate_config_findings(
    findings: Iterable[Finding], plan_ref: ResourceRef, layers: Sequence[Layer]
) -> list[Finding]:
    """Findings on the storage plan name the config file or values that set the key."""
    return [
        replace(f, resource=config_ref(f.message, layers)) if f.resource == plan_ref else f
        for f in findings
    ]


def config_ref(message: str, layers: Sequence[Layer]) -> ResourceRef:
    match = _KEY_PATH.match(message)
    key = match.group(1) if match else ""
    setting = [layer.origin for layer in layers if key and _has_path(layer.data, key)]
    origins = setting[-1:] or [layer.origin for layer in layers] or ["--var"]
    return ResourceRef(CONFIG_KIND, "", " + ".join(origins), key)


def _has_path(data: Mapping[str, Any], dotted: str) -> bool:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False
        node = node[part]
    return True
