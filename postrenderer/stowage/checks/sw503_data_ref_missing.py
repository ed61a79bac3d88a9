"""A dataRef names a data volume that does not exist.

Why it matters: the workload would silently run without the data it asked for.
Polyaxon fails such runs with "Volume with name X was defined in
specification, but was not found".

What triggers it: a name in a target's `dataRefs` or in a workload's
`stowage.io/data-refs` annotation that is not a key of `persistence.data`.

How to fix it: correct the name, or add the volume to `persistence.data`.
"""

from __future__ import annotations

from collections.abc import Iterator

from stowage.checks import CheckContext
from stowage.checks.common import PLAN_REF
from stowage.findings import Finding, ResourceRef, Severity
from stowage.pods.podspecs import DATA_REFS_ANNOTATION

ID = "SW503"
NAME = "data-ref-missing"
SEVERITY = Severity.ERROR


def check(ctx: CheckContext) -> Iterator[Finding]:
    defined = set(ctx.config.persistence.data)
    known = ", ".join(sorted(defined)) or "none"
    for role, target in sorted(ctx.config.targets.items()):
        for ref in target.dataRefs or []:
            if ref not in defined:
                yield _finding(PLAN_REF, f"targets.{role}.dataRefs", ref, known)
    for index, workload in enumerate(ctx.workloads):
        annotation = workload.annotations.get(DATA_REFS_ANNOTATION)
        if annotation is None or index not in ctx.roles:
            continue
        for ref in (r.strip() for r in annotation.split(",")):
            if ref and ref not in defined:
                yield _finding(
                    workload.ref, f"{workload.label} annotation {DATA_REFS_ANNOTATION}", ref, known
                )


def _finding(ref: ResourceRef, where: str, name: str, known: str) -> Finding:
    return Finding(
        ID,
        SEVERITY,
        ref,
        f"{where}: volume with name {name!r} was defined in specification, but was not found "
        f"in persistence.data (defined: {known})",
        "correct the name or add the volume to persistence.data",
    )
