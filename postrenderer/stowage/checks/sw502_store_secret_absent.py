"""A cloud store's credentials Secret is not in the release.

Why it matters: the pods reference the Secret with a required `secretKeyRef`;
if it does not exist when they start, they fail with CreateContainerConfigError.

What triggers it: a store's `secret` names a Secret that is not among the
rendered manifests and is not marked `secretExternal: true`. A warning: the
Secret may well be created another way.

How to fix it: create the Secret in the chart, or mark it `secretExternal: true`
when it is managed elsewhere (sealed secrets, external-secrets, by hand).
"""

from __future__ import annotations

from collections.abc import Iterator

from stowage.checks import CheckContext
from stowage.checks.common import PLAN_REF, plan_volumes
from stowage.findings import Finding, Severity

ID = "SW502"
NAME = "store-secret-absent"
SEVERITY = Severity.WARNING


def check(ctx: CheckContext) -> Iterator[Finding]:
    present = {d.ref.name for d in ctx.stream.objects({"Secret"})}
    for group, name, spec in plan_volumes(ctx):
        if spec.store and spec.secret and not spec.secretExternal and spec.secret not in present:
            yield Finding(
                ID,
                SEVERITY,
                PLAN_REF,
                f"persistence.{group}.{name} reads credentials from Secret {spec.secret!r}, "
                "which is not in the rendered manifests",
                "create the Secret in the release, or set secretExternal: true if it is "
                "managed elsewhere",
            )
