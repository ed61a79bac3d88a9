"""The ValidatingAdmissionPolicy: SW101 on workloads, and what the mutation could not do.

SW101 at admission judges one workload at a time, from what the API server is given:
its pod template's own claims and the claims the plan would attach to its pods (the
target that selects the template, its dataRefs, outputs and auto-mount), the access
modes the plan knows for them, how many pods it runs at once, and what pins them to a
node. It counts pods as render time does: replicas (Deployment, ReplicaSet,
StatefulSet), Job parallelism capped by completions, a CronJob twice its Job's when
runs may overlap (concurrencyPolicy Allow), a DaemonSet as many.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from stowage.admission import cel, operators, select
from stowage.admission.mutating import PROBLEM_ANNOTATION, role_plan
from stowage.checks import sw101_rwo_multi_node as sw101
from stowage.checks import waivers
from stowage.plan import configdata
from stowage.plan.plan import Plan
from stowage.pods.podspecs import AUTO_MOUNT_ANNOTATION, DATA_REFS_ANNOTATION, SKIP_ANNOTATION

WAIVER_PREFIX = "waive.stowage.io/"
HOSTNAME = "kubernetes.io/hostname"
WORKLOADS = (
    ("apps", "deployments"),
    ("apps", "replicasets"),
    ("apps", "statefulsets"),
    ("apps", "daemonsets"),
    ("batch", "jobs"),
    ("batch", "cronjobs"),
)
TPL = "variables.tpl"


@dataclass(frozen=True)
class KnownClaim:
    """A claim whose access modes the plan knows, and where they come from."""

    name: str
    origin: str


def rwo_claims(plan: Plan) -> list[KnownClaim]:
    """The plan's claims that SW101 applies to: ReadWriteOnce without ReadWriteMany or
    ReadOnlyMany (a claim the pods may share read-only is left to render time)."""
    found: dict[str, KnownClaim] = {}
    for planned in (
        *plan.data.values(),
        *plan.outputs.values(),
        *([plan.auto] if plan.auto else []),
    ):
        spec = planned.spec
        claim = ((planned.volume or {}).get("persistentVolumeClaim") or {}).get("claimName")
        if not isinstance(claim, str) or "${" in claim:
            continue  # a per-user claim: each user's own, not judged here
        if spec.claim is not None:
            modes, origin = spec.claim.accessModes, "per its manifest"
        elif planned.purpose == "auto":
            modes, origin = plan.config.autoMount.accessModes, "declared in autoMount.accessModes"
        else:
            modes, origin = spec.accessModes or [], "declared in the storage plan"
        if "ReadWriteOnce" in modes and not {"ReadWriteMany", "ReadOnlyMany"} & set(modes):
            found.setdefault(claim, KnownClaim(claim, origin))
    return [found[name] for name in sorted(found)]


def policy(plan: Plan, name: str, failure_policy: str) -> dict[str, Any]:
    claims = rwo_claims(plan)
    judged = operators.judged(plan.config.kinds)
    validations = [_pod_problem()]
    if claims and not plan.config.cluster.singleNode:
        validations.insert(0, _sw101(claims))
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name},
        "spec": {
            "failurePolicy": failure_policy,
            "matchConstraints": {
                "resourceRules": [
                    {
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "operations": ["CREATE"],
                        "resources": ["pods"],
                    },
                    *(
                        {
                            "apiGroups": [group],
                            "apiVersions": ["v1"],
                            "operations": ["CREATE", "UPDATE"],
                            "resources": [resource],
                        }
                        for group, resource in WORKLOADS
                    ),
                    *(
                        {
                            "apiGroups": [group],
                            "apiVersions": ["*"],
                            "operations": ["CREATE", "UPDATE"],
                            "resources": [resource],
                        }
                        for group, resource in operators.resources(judged)
                    ),
                ]
            },
            "variables": [
                {"name": n, "expression": e} for n, e in _variables(plan, claims, judged)
            ],
            "validations": validations,
            "auditAnnotations": [
                {
                    "key": "sw101-waived",
                    "valueExpression": (
                        "variables.isWorkload && variables.waiver != '' && "
                        "(variables.isOperator ? variables.opOver : variables.sharedRwo)"
                        ".size() > 0 ? variables.waiver : ''"
                    ),
                }
            ],
        },
    }


def _sw101(claims: list[KnownClaim]) -> dict[str, str]:
    return {
        "expression": (
            "!variables.isWorkload || !variables.judged || variables.waiver != '' || "
            "(variables.isOperator ? variables.opOver.size() == 0 : "
            "variables.pods <= 1 || variables.pinned || variables.sharedRwo.size() == 0)"
        ),
        "messageExpression": (
            f"variables.isOperator ? {operators.message(_pairs(claims))} : {_message(claims)}"
        ),
        "reason": "Forbidden",
    }


def _pod_problem() -> dict[str, str]:
    problem = cel.annotation("object.metadata", PROBLEM_ANNOTATION)
    return {
        "expression": f"variables.isWorkload || {problem} == ''",
        "messageExpression": problem,
        "reason": "Invalid",
    }


def _message(claims: list[KnownClaim]) -> str:
    origins = "{" + ", ".join(f"{cel.string(c.name)}: {cel.string(c.origin)}" for c in claims) + "}"
    fix = cel.string(f"; fix: {sw101.FIX}")
    return (
        f'"{sw101.ID} " + variables.ref + ": ReadWriteOnce claim \'" + variables.sharedRwo[0] + '
        f'"\' (" + {origins}[variables.sharedRwo[0]] + ") is mounted by " + '
        '(variables.pods >= 1000000 ? "many" : string(variables.pods)) + '
        '" pods that can run on different nodes: " + variables.ref + " (" + variables.why + ")" + '
        f"{fix}"
    )


def _variables(
    plan: Plan, claims: list[KnownClaim], judged: tuple[operators.Operator, ...]
) -> Iterator[tuple[str, str]]:
    yield "isWorkload", "object.kind != 'Pod'"
    yield "isOperator", operators.is_operator(judged)
    yield (
        "tpl",
        (
            "object.kind == 'Pod' ? object : object.kind == 'CronJob' ? "
            "object.spec.jobTemplate.spec.template : object.spec.template"
        ),
    )
    yield (
        "ref",
        (
            "object.kind + '/' + object.metadata.?name.orValue('') + "
            "(object.metadata.?namespace.orValue('') != '' ? "
            "' -n ' + object.metadata.namespace : '')"
        ),
    )
    waiver = WAIVER_PREFIX + sw101.ID
    yield "annotatedWaiver", f"{cel.annotation('object.metadata', waiver)}.trim()"
    yield "configWaiver", config_waiver(plan.config.waivers, waivers.today())
    # Render time's order: the annotation's reason, else the first config waiver's.
    yield (
        "waiver",
        "variables.annotatedWaiver != '' ? variables.annotatedWaiver : variables.configWaiver",
    )
    # An UPDATE is judged when it changes the spec or the waiver: the controllers' own
    # updates (annotations, finalizers) of a workload admitted before the policy existed
    # are never refused.
    yield (
        "judged",
        (
            "request.operation != 'UPDATE' || object.spec != oldObject.spec || "
            f"variables.annotatedWaiver != {cel.annotation('oldObject.metadata', waiver)}.trim()"
        ),
    )
    yield from _pod_count()
    yield "pinned", _pinned()
    yield (
        "ownClaims",
        (
            f"{TPL}.spec.?volumes.orValue([])"
            ".filter(v, v.?persistentVolumeClaim.claimName.hasValue())"
            ".map(v, v.persistentVolumeClaim.claimName)"
        ),
    )
    yield "addedClaims", _added_claims(plan)
    known = cel.strings([c.name for c in claims])
    yield (
        "sharedRwo",
        (f"{known}.filter(n, n in variables.ownClaims || n in variables.addedClaims)"),
    )
    yield from operators.variables(
        _pairs(claims), lambda meta: _added_claims(plan, meta), _pinned, judged
    )


def _pod_count() -> Iterator[tuple[str, str]]:
    job = "variables.jobSpec"
    yield (
        "jobSpec",
        (
            "object.kind == 'CronJob' ? object.spec.jobTemplate.spec : "
            "object.kind == 'Job' ? object.spec : object.spec"
        ),
    )
    yield (
        "jobPods",
        (
            f"{job}.?completions.orValue(0) > 0 && {job}.?completions.orValue(0) < "
            f"{job}.?parallelism.orValue(1) ? {job}.completions : {job}.?parallelism.orValue(1)"
        ),
    )
    overlap = "object.spec.?concurrencyPolicy.orValue('Allow') == 'Allow'"
    yield (
        "pods",
        (
            "object.kind == 'DaemonSet' ? 1000000 : object.kind == 'Job' ? variables.jobPods : "
            f"object.kind == 'CronJob' ? ({overlap} ? "
            "(variables.jobPods * 2 > 2 ? variables.jobPods * 2 : 2) : variables.jobPods) : "
            "object.kind == 'Pod' ? 1 : object.spec.?replicas.orValue(1)"
        ),
    )
    yield (
        "why",
        (
            "object.kind == 'DaemonSet' ? 'a DaemonSet: one pod per node' : "
            "object.kind == 'Job' ? 'Job parallelism ' + string(variables.jobPods) : "
            f"object.kind == 'CronJob' ? ({overlap} ? "
            "'a CronJob with concurrencyPolicy Allow: runs overlap' : "
            "'Job parallelism ' + string(variables.jobPods)) : "
            "string(variables.pods) + (variables.pods == 1 ? ' replica' : ' replicas')"
        ),
    )


def _pinned(spec: str = f"{TPL}.spec") -> str:
    """Pods held on one node: nodeName, a hostname nodeSelector, or required node affinity
    whose every term names the same single host (render time's pinned_hostname)."""
    required = "requiredDuringSchedulingIgnoredDuringExecution"
    terms = f"{spec}.?affinity.nodeAffinity.{required}.nodeSelectorTerms.orValue([])"
    host_term = (
        "t.?matchExpressions.orValue([]).exists(e, "
        f"(e.key == {cel.string(HOSTNAME)} || e.key == 'metadata.name') && "
        "e.operator == 'In' && e.?values.orValue([]).size() == 1) || "
        "t.?matchFields.orValue([]).exists(e, "
        "e.key == 'metadata.name' && e.operator == 'In' && e.?values.orValue([]).size() == 1)"
    )
    return (
        f"{spec}.?nodeName.orValue('') != '' || "
        f"{spec}.?nodeSelector[?{cel.string(HOSTNAME)}].hasValue() || "
        f"({terms}.size() == 1 && {terms}.all(t, {host_term}))"
    )


def _added_claims(plan: Plan, meta: str = f"{TPL}.metadata") -> str:
    """The claims the mutation will attach to the workload's pods, by the target that
    selects its pod template (matchLabels and kinds, as at render time)."""
    config = plan.config
    has_refs = f"{meta}.?annotations[?{cel.string(DATA_REFS_ANNOTATION)}].hasValue()"
    refs = (
        f"{meta}.annotations[{cel.string(DATA_REFS_ANNOTATION)}]"
        '.split(",").map(r, r.trim()).filter(r, r != "")'
    )
    skipped = (
        f'{cel.annotation(meta, SKIP_ANNOTATION)}.lowerAscii() == "true" || '
        f'{cel.annotation("object.metadata", SKIP_ANNOTATION)}.lowerAscii() == "true"'
    )
    opted_out = f'{cel.annotation(meta, AUTO_MOUNT_ANNOTATION)}.lowerAscii() == "false"'
    branches = []
    for role in select.label_roles(config.targets):
        rp = role_plan(plan, role)
        selected = select.by_labels(rp.target, meta, "object.kind")
        default = (
            rp.target.dataRefs if rp.target.dataRefs is not None else [v.name for v in rp.data]
        )
        data = [(v.name, _claim(v.volume)) for v in rp.data]
        data_claims = [(n, c) for n, c in data if c]
        chosen = (
            f"[{', '.join(f'[{cel.string(n)}, {cel.string(c)}]' for n, c in data_claims)}]"
            f".filter(p, p[0] in ({has_refs} ? {refs} : {cel.strings(list(default))}))"
            ".map(p, p[1])"
        )
        others = [c for v in rp.others if v.name != rp.auto and (c := _claim(v.volume))]
        auto = _claim(next((v.volume for v in rp.others if v.name == rp.auto), None))
        expression = chosen + (f" + {cel.strings(others)}" if others else "")
        if auto:
            expression += f" + (!({opted_out}) && !({has_refs}) ? {cel.strings([auto])} : [])"
        branches.append((selected, expression))
    result = "[]"
    for selected, expression in reversed(branches):
        result = f"({selected}) ? ({expression}) : {result}"
    return f"({skipped}) ? [] : {result}"


def _claim(volume: dict[str, Any] | None) -> str:
    claim = ((volume or {}).get("persistentVolumeClaim") or {}).get("claimName")
    return claim if isinstance(claim, str) and "${" not in claim else ""


def config_waiver(entries: list[configdata.Waiver], today: str) -> str:
    """The reason of the first config waiver of SW101 that selects the workload, or "".

    Selection is render time's (`checks/waivers.selects`): kind, name and namespace as
    globs, matchLabels on the workload's labels. Expiry is judged here, when the
    policies are generated: admission CEL has no clock, so an expired waiver is left
    out of the policy and one that expires later stays in it until the policies are
    generated again (a `helm upgrade` of a release with `admission.enabled`).
    """
    result = '""'
    live = [w for w in entries if w.rule == sw101.ID and not waivers.expired(w, today)]
    for waiver in reversed(live):
        reason = cel.string(f"{waiver.reason} (waivers[{entries.index(waiver)}])")
        result = f"({_selects(waiver)}) ? {reason} : {result}"
    return result


def _selects(waiver: configdata.Waiver) -> str:
    meta = "object.metadata"
    fields = (
        (waiver.kind, "object.kind"),
        (waiver.name, f"{meta}.?name.orValue('')"),
        (waiver.namespace, f"{meta}.?namespace.orValue('')"),
    )
    checks = [f"{value}.matches({cel.string(glob_regex(glob))})" for glob, value in fields if glob]
    if waiver.matchLabels:
        checks.append(cel.labels_match(meta, waiver.matchLabels))
    return " && ".join(checks) or "true"


def glob_regex(glob: str) -> str:
    """An RE2 pattern that matches what `fnmatch.fnmatchcase(value, glob)` matches."""
    out: list[str] = []
    i = 0
    while i < len(glob):
        char, i = glob[i], i + 1
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif char == "[" and (end := _set_end(glob, i)) > 0:
            body, i = glob[i:end], end + 1
            negate = body.startswith("!")
            members = "".join(_escape(c) if c != "-" else c for c in body[negate:])
            out.append("[" + ("^" if negate else "") + members + "]")
        else:
            out.append(_escape(char))
    return "^(?s:" + "".join(out) + ")$"


def _set_end(glob: str, start: int) -> int:
    """Where the set opened just before ``start`` closes (fnmatch's rules), or -1."""
    i = start + (glob[start : start + 1] == "!")
    i += glob[i : i + 1] == "]"
    return glob.find("]", i)


def _escape(char: str) -> str:
    return "\\" + char if char in RE2_SPECIAL else char


RE2_SPECIAL = frozenset("\\.+*?()|[]{}^$")


def _pairs(claims: list[KnownClaim]) -> list[tuple[str, str]]:
    return [(c.name, c.origin) for c in claims]
