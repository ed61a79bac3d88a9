"""What a check or the engine reports: a rule, a severity, the resource and a fix."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class ResourceRef:
    """Kind/namespace/name of a manifest, as reports print it."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.namespace or '-'}/{self.name}"


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
            "resource": str(self.resource),
            "message": self.message,
            "fix": self.fix,
            "related": [str(r) for r in self.related],
        }
