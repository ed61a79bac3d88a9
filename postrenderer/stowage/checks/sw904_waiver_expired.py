"""A waiver in the config has expired: the finding it waived counts again.

Why it matters: a waiver with an `expires` date is a promise to revisit a
finding. After that day (UTC) the waiver no longer waives, so the finding
fails `check` or `--strict` as it did before; this warning says which waiver
ran out, so the failure is not a surprise.

What triggers it: an entry of `waivers:` (in a `--config` file or the chart's
`waivers` value) whose `expires` date is before today.

How to fix it: fix what the finding reports and delete the waiver, or, if the
reason still holds, move `expires` to a later date.

Example (warned): `waivers: [{rule: SW201, name: ml-*, reason: "...", expires: 2020-01-31}]`.
"""

from __future__ import annotations

from collections.abc import Iterator

from stowage.checks import CheckContext
from stowage.checks.common import PLAN_REF
from stowage.checks.waivers import expired, today
from stowage.findings import Finding, Severity

ID = "SW904"
NAME = "waiver-expired"
SEVERITY = Severity.WARNING


def check(ctx: CheckContext) -> Iterator[Finding]:
    on = today()
    for index, waiver in enumerate(ctx.config.waivers):
        if expired(waiver, on):
            selector = ", ".join(
                f"{key} {value}"
                for key, value in (
                    ("kind", waiver.kind),
                    ("name", waiver.name),
                    ("namespace", waiver.namespace),
                    ("labels", waiver.matchLabels or None),
                )
                if value is not None
            )
            yield Finding(
                ID,
                SEVERITY,
                PLAN_REF,
                f"waivers[{index}] ({waiver.rule}{', ' + selector if selector else ''}) "
                f"expired on {waiver.expires}: its findings count again",
                f"fix the {waiver.rule} findings and delete the waiver, or move `expires` "
                "to a later date",
            )
