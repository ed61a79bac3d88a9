"""Waivers: findings accepted on purpose, still reported but never failing a run.

Two places say a finding is accepted, as kube-linter's ignore annotations and
Kyverno's PolicyExceptions do:

- the annotation ``waive.stowage.io/<RULE>: "<reason>"`` on a resource;
- an entry of the config's ``waivers:`` list: the rule, a selector (``kind``,
  ``name``, ``namespace`` as globs, ``matchLabels``), a reason and an optional
  ``expires`` date, after which it no longer waives (SW904 warns).

Either waives a finding of its rule when it is on (or selects) the resource the
finding names, or every workload the finding lists. A reason is required and
the rule must exist: anything else ends the run (exit 2) naming the resource.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any

from stowage.errors import UsageError
from stowage.findings import Finding, ResourceRef, Waiver
from stowage.plan import configdata
from stowage.read.manifests import Stream

ANNOTATION_PREFIX = "waive.stowage.io/"

Identity = tuple[str, str, str]  # kind, namespace, name: a ConfigMap data key is the ConfigMap


@dataclass(frozen=True)
class Resource:
    """What a waiver can select a resource by."""

    labels: Mapping[str, str]
    waived: Mapping[str, str]  # rule -> reason, from its annotations


def today() -> str:
    """The date (UTC) an `expires` is compared with, as YYYY-MM-DD."""
    return datetime.now(UTC).date().isoformat()


def expired(waiver: configdata.Waiver, on: str) -> bool:
    return waiver.expires is not None and waiver.expires < on


def apply(
    findings: Iterable[Finding], stream: Stream, waivers: list[configdata.Waiver], known: set[str]
) -> list[Finding]:
    """The findings, each waived when an annotation or a live config waiver covers it."""
    check_rules(waivers, known)
    resources = resources_of(stream, known)
    live = [(i, w) for i, w in enumerate(waivers) if not expired(w, today())]
    return [_waived(f, resources, live) for f in findings]


def check_rules(waivers: list[configdata.Waiver], known: set[str]) -> None:
    for index, waiver in enumerate(waivers):
        if waiver.rule not in known:
            raise UsageError(
                f"waivers[{index}] names rule {waiver.rule!r}, which does not exist; "
                f"use one of {', '.join(sorted(known))} (`stowage explain` lists them)",
                where="config",
            )


def resources_of(stream: Stream, known: set[str]) -> dict[Identity, Resource]:
    """Labels and waiver annotations of every read resource; bad annotations end the run."""
    found: dict[Identity, Resource] = {}
    for doc in stream.parsed():
        if not isinstance(doc.body, dict):
            continue
        metadata = doc.body.get("metadata")
        metadata = metadata if isinstance(metadata, dict) else {}
        waived = _annotated(metadata.get("annotations"), known, doc.where())
        found[_identity(doc.ref)] = Resource(_strings(metadata.get("labels")), waived)
    return found


def _annotated(annotations: Any, known: set[str], where: str) -> dict[str, str]:
    waived: dict[str, str] = {}
    for key, value in _strings(annotations).items():
        if not key.startswith(ANNOTATION_PREFIX):
            continue
        rule = key.removeprefix(ANNOTATION_PREFIX)
        if rule not in known:
            raise UsageError(
                f"annotation {key} names no rule; use one of {', '.join(sorted(known))}",
                where=where,
            )
        if not value.strip():
            raise UsageError(
                f"annotation {key} has no reason; a waiver says why the finding is "
                f'accepted, e.g. {key}: "every node mounts the same NFS share here"',
                where=where,
            )
        waived[rule] = value.strip()
    return waived


def _strings(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


def _identity(ref: ResourceRef) -> Identity:
    return (ref.kind, ref.namespace, ref.name)


def _waived(
    finding: Finding,
    resources: dict[Identity, Resource],
    live: list[tuple[int, configdata.Waiver]],
) -> Finding:
    waiver = _by_annotation(finding, resources) or _by_config(finding, resources, live)
    return replace(finding, waiver=waiver) if waiver else finding


def _covered_refs(finding: Finding) -> list[list[ResourceRef]]:
    """The alternatives a waiver must cover: the named resource, or every listed workload."""
    options = [[finding.resource]]
    if finding.related:
        options.append(list(dict.fromkeys(finding.related)))
    return options


def _by_annotation(finding: Finding, resources: dict[Identity, Resource]) -> Waiver | None:
    for refs in _covered_refs(finding):
        reasons = [resources.get(_identity(r), _NOTHING).waived.get(finding.rule) for r in refs]
        if all(reasons):
            where = ", ".join(_short(r) for r in refs)
            reason = "; ".join(dict.fromkeys(r for r in reasons if r))
            origin = f"annotation {ANNOTATION_PREFIX}{finding.rule} on {where}"
            return Waiver(reason, "annotation", origin)
    return None


def _by_config(
    finding: Finding,
    resources: dict[Identity, Resource],
    live: list[tuple[int, configdata.Waiver]],
) -> Waiver | None:
    for index, waiver in live:
        if waiver.rule != finding.rule:
            continue
        for refs in _covered_refs(finding):
            if all(selects(waiver, r, resources.get(_identity(r), _NOTHING)) for r in refs):
                return Waiver(waiver.reason, "config", f"waivers[{index}]", waiver.expires or "")
    return None


def selects(waiver: configdata.Waiver, ref: ResourceRef, resource: Resource) -> bool:
    """Whether the waiver's selector takes this resource (unset parts take any)."""
    globs = ((waiver.kind, ref.kind), (waiver.name, ref.name), (waiver.namespace, ref.namespace))
    if any(pattern is not None and not fnmatchcase(value, pattern) for pattern, value in globs):
        return False
    return all(resource.labels.get(k) == v for k, v in waiver.matchLabels.items())


def _short(ref: ResourceRef) -> str:
    return str(ResourceRef(ref.kind, ref.namespace, ref.name))


_NOTHING = Resource({}, {})
