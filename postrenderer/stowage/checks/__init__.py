"""Checks over the whole rendered stream: one module per rule, each with a stable ID.

A rule module (modelled on yamllint's rules) defines:

- ``ID``: the stable code, e.g. ``"SW101"``; ``NAME``: a short slug;
- ``SEVERITY``: the default :class:`~stowage.findings.Severity`;
- a module docstring: the user documentation that ``stowage explain ID`` prints
  and ``docs/checks.md`` lists (first line: the summary);
- ``check(ctx) -> Iterator[Finding]``: a pure function of the :class:`CheckContext`.

Rules see every workload in the stream, not only the ones stowage attached
storage to: a chart we do not own that shares a ReadWriteOnce claim is caught too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from types import ModuleType

from stowage.checks.claims import ClaimUsage, claim_usages
from stowage.findings import Finding, ResourceRef, Severity, group_by_cause
from stowage.plan.configdata import Config
from stowage.plan.variables import mentions_variables
from stowage.pods.workloads import TemplateMatch, Workload
from stowage.read.manifests import Stream


@dataclass(frozen=True)
class Conflict:
    """A value the plan wanted to set where the chart author had set another one."""

    workload: ResourceRef
    label: str  # how to name the workload in messages
    field: str  # e.g. "nodeSelector.pool" or "securityContext.runAsUser"
    existing: object
    wanted: object


@dataclass
class CheckContext:
    """Everything a rule may read. Built once per run, after attach."""

    stream: Stream
    workloads: list[Workload]
    config: Config
    roles: dict[int, str] = field(default_factory=dict)  # index in workloads -> target role
    vars: dict[str, str] = field(default_factory=dict)  # --var and config vars merged
    conflicts: list[Conflict] = field(default_factory=list)
    template_matches: list[TemplateMatch] = field(default_factory=list)  # for SW901

    def role_of(self, index: int) -> str | None:
        return self.roles.get(index)

    @cached_property
    def plan_mentions_variables(self) -> bool:
        """Whether the config holds a `${VAR}` anywhere (attach may have put it in pods)."""
        return mentions_variables(self.config)

    @cached_property
    def claim_usages(self) -> list[ClaimUsage]:
        """Every claim pod specs mount, with its access modes and placements (computed once)."""
        return claim_usages(self.stream, self.workloads, self.config)


CheckFunction = Callable[[CheckContext], Iterator[Finding]]


def rule_modules() -> list[ModuleType]:
    """Every rule module, in ID order."""
    from stowage.checks import registry

    return sorted(registry.MODULES, key=lambda m: str(m.ID))


def find_rule(key: str) -> ModuleType | None:
    """A rule by ID (case-insensitive) or by NAME."""
    wanted = key.strip().lower()
    for module in rule_modules():
        if wanted in (str(module.ID).lower(), str(module.NAME).lower()):
            return module
    return None


def run_all(ctx: CheckContext, strict: bool = False) -> list[Finding]:
    """All findings, waived where a waiver says so and one per cause, in a deterministic
    order: errors first, then warnings, then the waived, each by rule and resource."""
    from stowage.checks import waivers

    modules = rule_modules()
    found = [finding for module in modules for finding in module.check(ctx)]
    known = {str(module.ID) for module in modules}
    waived = waivers.apply(found, ctx.stream, ctx.config.waivers, known)
    findings = group_by_cause(f.escalated(strict) for f in dict.fromkeys(waived))
    order = {Severity.ERROR: 0, Severity.WARNING: 1}
    return sorted(
        findings,
        key=lambda f: (f.waiver is not None, order[f.severity], f.rule, f.resource, f.message),
    )


__all__ = ["CheckContext", "CheckFunction", "Conflict", "find_rule", "rule_modules", "run_all"]
