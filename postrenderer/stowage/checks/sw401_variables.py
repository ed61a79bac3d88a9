"""A `${VAR}` in a volume or mount is undefined or not a safe name.

Why it matters: Owl's launcher turns an unset variable into an empty string, so
`/storage/${USER}` becomes `/storage/` and the pod mounts every user's data. A
value with a slash or `..` escapes the intended directory.

What triggers it: a `${NAME}` left in the volumes or volumeMounts of a workload
stowage targeted, because NAME has no value (from `--var`, the config's `vars`,
or the workload's `stowage.io/user` label) or its value is not a safe name (a
DNS-1123 label or POSIX user name: no `/`, `..`, whitespace, at most 63
characters). In a pipeline pod template, `${USER}` is kept on purpose for the
launcher; every other variable must be resolved.

How to fix it: pass the value (`--var USER=joe`, `vars:` in the config, or the
`stowage.io/user` label), or correct it to a safe name.
"""

from __future__ import annotations

from collections.abc import Iterator

from stowage.checks import CheckContext
from stowage.checks.common import volumes
from stowage.findings import Finding, Severity
from stowage.plan.variables import RUNTIME_VARS, references, unsafe_reason, workload_variables
from stowage.pods.podspecs import containers

ID = "SW401"
NAME = "unresolved-variable"
SEVERITY = Severity.ERROR


def check(ctx: CheckContext) -> Iterator[Finding]:
    for index, workload in enumerate(ctx.workloads):
        if index not in ctx.roles and not workload.is_template:
            continue
        if "${" not in workload.doc.text and not ctx.plan_mentions_variables:
            continue  # neither its manifest nor the plan holds a reference
        pod = workload.pod_spec
        mounts = [m for c in containers(pod) for m in c.get("volumeMounts") or []]
        names = sorted(set(references([volumes(pod), mounts])))
        keep = RUNTIME_VARS if workload.is_template else frozenset()
        values = workload_variables(ctx.vars, workload.labels)
        for name in names:
            if name in keep:
                continue
            if name not in values:
                problem = "is not defined (it would expand to an empty string)"
            elif unsafe_reason(values[name]):
                problem = f"has the unsafe value {values[name]!r}: {unsafe_reason(values[name])}"
            else:
                continue
            yield Finding(
                ID,
                SEVERITY,
                workload.ref,
                f"{workload.label}: variable ${{{name}}} in its volumes or mounts {problem}",
                f"pass a safe value: --var {name}=VALUE, vars.{name} in the config, "
                "or the stowage.io/user label for USER",
            )
