"""More than one outputs store.

Why it matters: runs get one outputs path; with several stores it is undefined
where artifacts go (Polyaxon's community edition allows exactly one too).

What triggers it: `persistence.outputs` with more than one entry after all
values files and configs are merged.

How to fix it: keep one outputs store; move the others to `persistence.data`.
"""

from __future__ import annotations

from collections.abc import Iterator

from stowage.checks import CheckContext
from stowage.checks.common import PLAN_REF
from stowage.findings import Finding, Severity

ID = "SW504"
NAME = "outputs-count"
SEVERITY = Severity.ERROR


def check(ctx: CheckContext) -> Iterator[Finding]:
    outputs = sorted(ctx.config.persistence.outputs)
    if len(outputs) > 1:
        yield Finding(
            ID,
            SEVERITY,
            PLAN_REF,
            f"persistence.outputs has {len(outputs)} stores ({', '.join(outputs)}); "
            "exactly one is allowed",
            "keep one outputs store and move the others to persistence.data",
        )
