"""A cloud store without its credentials.

Why it matters: Polyaxon reads store credentials from one Secret key per store;
without `secret` and `secretKey` the runs start and then fail to reach the
bucket.

What triggers it: a data or outputs volume with `store: s3|gcs|azure` that lacks
`secret` or `secretKey`.

How to fix it: name the Secret and the key that hold the credentials.
"""

from __future__ import annotations

from collections.abc import Iterator

from stowage.checks import CheckContext
from stowage.checks.common import PLAN_REF, plan_volumes
from stowage.findings import Finding, Severity

ID = "SW501"
NAME = "store-credentials"
SEVERITY = Severity.ERROR


def check(ctx: CheckContext) -> Iterator[Finding]:
    for group, name, spec in plan_volumes(ctx):
        if spec.store is None:
            continue
        missing = [k for k in ("secret", "secretKey") if not getattr(spec, k)]
        if missing:
            yield Finding(
                ID,
                SEVERITY,
                PLAN_REF,
                f"persistence.{group}.{name} ({spec.store} store {spec.bucket}) has no "
                f"{' and no '.join(missing)}",
                f"set {', '.join(missing)}: the Secret and key holding the {spec.store} "
                "credentials",
            )
