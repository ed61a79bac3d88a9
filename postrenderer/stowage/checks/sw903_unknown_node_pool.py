"""A nodeSelector, tolerations or affinity entry names no node pool.

Why it matters: node settings are kept per node pool and applied to the
workloads whose target uses that pool. An entry under a key that no target
uses (a typo such as `dsak` for `dask`) is silently never applied: the pods
land on any node, GPU or not, tainted or not.

What triggers it: a key of `nodeSelector`, `tolerations` or `affinity` that is
neither a role in `targets` nor a target's `pool`.

How to fix it: rename the key to one of the pools listed in the message, or set
`pool:` on the target that should use it.
"""

from __future__ import annotations

from collections.abc import Iterator

from stowage.checks import CheckContext
from stowage.checks.common import PLAN_REF
from stowage.findings import Finding, Severity

ID = "SW903"
NAME = "unknown-node-pool"
SEVERITY = Severity.WARNING


def check(ctx: CheckContext) -> Iterator[Finding]:
    config = ctx.config
    pools = set(config.targets) | {t.pool for t in config.targets.values() if t.pool}
    known = ", ".join(sorted(pools)) or "none (no targets)"
    for setting, entries in (
        ("nodeSelector", config.nodeSelector),
        ("tolerations", config.tolerations),
        ("affinity", config.affinity),
    ):
        for key in sorted(set(entries) - pools):
            yield Finding(
                ID,
                SEVERITY,
                PLAN_REF,
                f"{setting}.{key} names no node pool, so it is applied to nothing "
                f"(node pools: {known})",
                f"rename {setting}.{key} to one of the node pools, or set `pool: {key}` "
                "on the target that should use it",
            )
