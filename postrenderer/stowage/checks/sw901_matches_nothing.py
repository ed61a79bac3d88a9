"""A target, template source or template site matches nothing.

Why it matters: a platform whose pods get no storage fails at run time, far from
the config that was meant to reach them: Owl's pipeline pods start without the
data, Airflow's task pods without the outputs. A selector that matches nothing
is almost always a typo or a chart that names things differently.

What triggers it: a role in `targets` that no workload got (no workload carries
its matchLabels and no template site names it); an entry of `templates` whose
`configMap` (name and labels) matches no ConfigMap in the stream, or whose data
`key` none of them has; a template site (a preset's or an explicit one) that
finds no pod spec at its path; a template site whose `target` is not a role in
`targets`.

How to fix it: compare the selector with the rendered manifests (`helm template`
shows the ConfigMap names, labels and data keys; `stowage plan` shows which
workload got which role), correct it, or remove the entry that is not needed.
"""

from __future__ import annotations

from collections.abc import Iterator

from stowage.checks import CheckContext
from stowage.checks.common import PLAN_REF
from stowage.findings import Finding, Severity
from stowage.pods.workloads import TemplateMatch

ID = "SW901"
NAME = "matches-nothing"
SEVERITY = Severity.WARNING


def check(ctx: CheckContext) -> Iterator[Finding]:
    got = set(ctx.roles.values())
    for role in sorted(set(ctx.config.targets) - got):
        yield _finding(
            f"target {role!r} matches no workload (matchLabels "
            f"{ctx.config.targets[role].matchLabels or '{}'})",
            "correct its matchLabels (see the labels with `helm template`), "
            "or name the role in a template site's `target`",
        )
    for match in ctx.template_matches:
        if match.source.index >= 0:
            yield from _source_findings(ctx, match)


def _source_findings(ctx: CheckContext, match: TemplateMatch) -> Iterator[Finding]:
    source = match.source
    selector = source.spec.configMap
    if match.configmaps == 0:
        wanted = f"name {selector.name!r}" if selector.name else ""
        if selector.matchLabels:
            wanted += f"{' and ' if wanted else ''}labels {selector.matchLabels}"
        yield _finding(
            f"{source.name}: no ConfigMap with {wanted} in the manifests",
            "correct configMap.name / configMap.matchLabels to a ConfigMap the chart renders",
        )
        return
    for index, site in enumerate(source.sites):
        where = f"{source.name} site {site.path or '(whole)'!r} in data key {source.key!r}"
        if match.sites.get(index, 0) == 0:
            yield _finding(
                f"{where} finds no pod spec (is the key there, and the path right?)",
                "correct `key` or the site's `path`",
            )
        if site.target is not None and site.target not in ctx.config.targets:
            known = ", ".join(sorted(ctx.config.targets)) or "none"
            yield _finding(
                f"{where} names target {site.target!r}, which is not in targets (roles: {known})",
                f"add targets.{site.target} or set the site's `target` to a role",
            )


def _finding(message: str, fix: str) -> Finding:
    return Finding(ID, SEVERITY, PLAN_REF, message, fix)
