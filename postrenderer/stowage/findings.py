"""What a check or the engine reports: a rule, a severity, the resource and a fix.

A finding may say its cause apart from its subject (``cause``: what is wrong,
``subjects``: the volumes or claims it is wrong about, ``affected``: the
workloads concerned): :func:`group_by_cause` then makes one finding of those
that share a rule, a cause and a fix, naming every subject and workload once.
A waived finding (``waiver``) is still reported but never fails a run.
"""

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


@dataclass(frozen=True, order=True)
class Waiver:
    """Why a finding no longer fails a run: the reason someone gave, and where they gave it."""

    reason: str
    source: str  # "annotation" (on the resource) or "config" (the `waivers:` list)
    origin: str  # e.g. "annotation waive.stowage.io/SW201 on Deployment/x", "waivers[0]"
    expires: str = ""  # YYYY-MM-DD, config waivers only

    def as_json(self) -> dict[str, str | None]:
        return {
            "reason": self.reason,
            "source": self.source,
            "origin": self.origin,
            "expires": self.expires or None,
        }


@dataclass(frozen=True)
class Finding:
    rule: str  # stable ID, e.g. "SW101"
    severity: Severity
    resource: ResourceRef
    message: str  # the whole statement, in one sentence
    fix: str = ""
    related: tuple[ResourceRef, ...] = field(default=())
    promoted: bool = False  # a warning that --strict made an error
    cause: str = ""  # what is wrong, without the subject: findings sharing it are grouped
    subjects: tuple[str, ...] = ()  # what it is wrong about, e.g. "volume 'data': hostPath /x"
    affected: tuple[str, ...] = ()  # the workloads concerned, as people name them
    waiver: Waiver | None = None

    @property
    def headline(self) -> str:
        """What is wrong, for a report's first line: the cause, else the message."""
        return self.cause or self.message

    @property
    def blocking(self) -> bool:
        """An error nobody waived: it rejects the run."""
        return self.severity is Severity.ERROR and self.waiver is None

    def escalated(self, strict: bool) -> Finding:
        """Under --strict every warning is an error, marked as promoted so reports say so."""
        if strict and self.severity is Severity.WARNING and self.waiver is None:
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
            "headline": self.headline,
            "subjects": list(self.subjects),
            "affected": list(self.affected),
            "waived": self.waiver.as_json() if self.waiver else None,
        }


def group_by_cause(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per cause: those of one rule, resource, cause, fix and workloads (and
    waiver) become one naming every subject once. Findings without a cause stay as they are."""
    groups: dict[tuple[object, ...], list[Finding]] = {}
    for position, finding in enumerate(findings):
        key: tuple[object, ...] = (position,)
        if finding.cause:
            key = (
                finding.rule,
                finding.severity,
                finding.promoted,
                finding.resource,
                finding.cause,
                finding.fix,
                frozenset(finding.related),
                finding.affected,
                finding.waiver,
            )
        groups.setdefault(key, []).append(finding)
    return [_merged(group) for group in groups.values()]


def _merged(group: list[Finding]) -> Finding:
    if len(group) == 1:
        return group[0]
    first = group[0]
    subjects = tuple(dict.fromkeys(s for f in group for s in f.subjects))
    related = tuple(dict.fromkeys(r for f in group for r in f.related))
    message = f"{first.cause}: {'; '.join(subjects)}"
    if first.affected:
        message += f" (workloads: {', '.join(first.affected)})"
    return replace(first, message=message, subjects=subjects, related=related)


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
