"""The plan would change a value the chart author set.

Why it matters: stowage never silently overwrites a chart's own settings. When
the plan wants another node selector, security setting, mount or env value than
the one the chart renders, one of the two is wrong, and only a person can say
which.

What triggers it: while attaching, a nodeSelector key, an affinity section, a
pod or container security setting, a volume name the pod already uses for
another source, a mountPath taken by another volume, a mount's readOnly, or an
env var of the same name already holds a different value. The chart's value is
kept and the render is rejected (for a volume: the plan's is not mounted, and
the data-paths env leaves it out).

How to fix it: make the chart values and the stowage plan agree (remove the
setting from one of them; for a volume, rename the plan's or the chart's).
"""

from __future__ import annotations

from collections.abc import Iterator

from stowage.checks import CheckContext
from stowage.findings import Finding, Severity

ID = "SW801"
NAME = "merge-conflict"
SEVERITY = Severity.ERROR


def check(ctx: CheckContext) -> Iterator[Finding]:
    for conflict in ctx.conflicts:
        yield Finding(
            ID,
            SEVERITY,
            conflict.workload,
            f"{conflict.label}: {conflict.field} is {conflict.existing!r} in the chart, the plan "
            f"wants {conflict.wanted!r}; kept the chart's value",
            f"make the chart and the stowage plan agree on {conflict.field}",
        )
