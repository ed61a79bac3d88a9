"""One MutatingAdmissionPolicy per target: what attach gives the target's workloads,
given to its pods at CREATE, with attach's merge rules.

Every item is added only where the pod lacks it, so a pod that already has the storage
(rendered through stowage, or met again on reinvocation) is left as it is, and a value
the pod sets itself is never overwritten:

- a volume by name (the pod's own volume of that name wins; when its source differs,
  stowage's mounts and env for it are left out, as at render time);
- a mount by mountPath, env by name, nodeSelector by key, affinity by top-level key,
  a toleration when no equal one is there, securityContext by field, `ALL` in
  capabilities.drop when missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from stowage.admission import cel, select
from stowage.plan.configdata import Config, Target
from stowage.plan.plan import Plan, PlannedVolume
from stowage.plan.variables import RUNTIME_VARS, SAFE_VALUE
from stowage.pods.podspecs import (
    AUTO_MOUNT_ANNOTATION,
    DATA_REFS_ANNOTATION,
    SECCOMP,
    SKIP_ANNOTATION,
)

ADMITTED_ANNOTATION = "stowage.io/admitted-by"
PROBLEM_ANNOTATION = "stowage.io/admission-problem"
CONTAINER = "Object.spec.containers"
TOLERATION_KEYS = ("key", "operator", "value", "effect", "tolerationSeconds")


@dataclass(frozen=True)
class RolePlan:
    """What one target's pods get: its volumes (config vars expanded) and pool."""

    role: str
    target: Target
    data: tuple[PlannedVolume, ...]  # every data volume of the plan, by name
    others: tuple[PlannedVolume, ...]  # outputs, then the auto-mount, when the target takes them
    auto: str | None  # the auto-mount volume's name, when the target may take it
    pool: str

    @property
    def volumes(self) -> tuple[PlannedVolume, ...]:
        return (*self.data, *self.others)


def role_plan(plan: Plan, role: str) -> RolePlan:
    config, target = plan.config, plan.config.targets[role]
    keep = RUNTIME_VARS
    data = tuple(v.expanded(config.vars, keep) for v in plan.data.values())
    others = (
        [v.expanded(config.vars, keep) for v in plan.outputs.values()] if target.outputs else []
    )
    auto = None
    if plan.auto is not None and target.autoMount:
        others.append(plan.auto.expanded(config.vars, keep))
        auto = plan.auto.name
    return RolePlan(role, target, data, tuple(others), auto, target.pool or role)


def policy(
    plan: Plan, role: str, name: str, api_version: str, failure_policy: str
) -> dict[str, Any]:
    config = plan.config
    rp = role_plan(plan, role)
    skip = cel.annotation(select.POD, SKIP_ANNOTATION)
    return {
        "apiVersion": f"admissionregistration.k8s.io/{api_version}",
        "kind": "MutatingAdmissionPolicy",
        "metadata": {"name": name, "labels": {"stowage.io/role": role}},
        "spec": {
            "failurePolicy": failure_policy,
            "reinvocationPolicy": "IfNeeded",
            "matchConstraints": {
                "resourceRules": [
                    {
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "operations": ["CREATE"],
                        "resources": ["pods"],
                    }
                ]
            },
            "matchConditions": [
                {"name": "selected-by-target", "expression": select.selection(config, role)},
                {
                    "name": "not-skipped",
                    "expression": f'{skip}.lowerAscii() != "true"',
                },
            ],
            "variables": [{"name": n, "expression": e} for n, e in _variables(config, rp)],
            "mutations": [
                {
                    "patchType": "ApplyConfiguration",
                    "applyConfiguration": {"expression": _apply(config, rp, name)},
                },
                *(
                    [{"patchType": "JSONPatch", "jsonPatch": {"expression": patches}}]
                    if (patches := _patches(config, rp)) != "[]"
                    else []
                ),
            ],
        },
    }


def _variables(config: Config, rp: RolePlan) -> Iterator[tuple[str, str]]:
    meta = select.POD
    has_refs = f"{meta}.?annotations[?{cel.string(DATA_REFS_ANNOTATION)}].hasValue()"
    default_refs = (
        rp.target.dataRefs if rp.target.dataRefs is not None else [v.name for v in rp.data]
    )
    yield "user", select.user(config, rp.role)
    yield (
        "userOk",
        (
            "variables.user.size() <= 63 && "
            f"variables.user.matches({cel.string(SAFE_VALUE.pattern)})"
        ),
    )
    yield (
        "refs",
        (
            f"{has_refs} ? {meta}.annotations[{cel.string(DATA_REFS_ANNOTATION)}]"
            f'.split(",").map(r, r.trim()).filter(r, r != "") : {cel.strings(list(default_refs))}'
        ),
    )
    opted_out = f'{cel.annotation(meta, AUTO_MOUNT_ANNOTATION)}.lowerAscii() == "false"'
    yield "auto", f"!({opted_out}) && !({has_refs})" if rp.auto else "false"
    data_names = cel.strings([v.name for v in rp.data])
    chosen = f"{data_names}.filter(n, n in variables.refs)"
    others = [v.name for v in rp.others if v.name != rp.auto]
    chosen += f" + {cel.strings(others)}" if others else ""
    if rp.auto:
        chosen += f" + (variables.auto ? {cel.strings([rp.auto])} : [])"
    yield "chosen", chosen
    per_user = [
        v.name for v in rp.volumes if cel.has_user((v.volume, v.mount, v.env, v.path_value))
    ]
    yield "needsUser", f"{cel.strings(per_user)}.filter(n, n in variables.chosen)"
    yield (
        "wanted",
        (
            "variables.userOk ? variables.chosen : "
            "variables.chosen.filter(n, !(n in variables.needsUser))"
        ),
    )
    yield "podVolumes", "object.spec.?volumes.orValue([])"
    yield (
        "attached",
        (
            "variables.wanted.filter(n, !variables.podVolumes.exists(v, v.name == n) || "
            f"variables.podVolumes.exists(v, v.name == n && ({_same_source(rp)})))"
        ),
    )
    fragments = [f"[{cel.string(v.name)}, {cel.text(_json_pair(v))}]" for v in rp.data]
    yield (
        "dataPaths",
        (f"[{', '.join(fragments)}].filter(p, p[0] in variables.wanted).map(p, p[1])"),
    )


def _json_pair(planned: PlannedVolume) -> str:
    import json

    return json.dumps(planned.name) + ":" + json.dumps(planned.path_value)


def _same_source(rp: RolePlan) -> str:
    """CEL over `v` (the pod's volume named `n`): it has the source stowage would add."""
    options = []
    for planned in rp.volumes:
        if planned.volume is None:
            continue
        source = {k: v for k, v in planned.volume.items() if k != "name"}
        ((kind, fields),) = source.items()
        keys = [k for k in ("claimName", "path", "server", "secretName") if k in fields]
        checks = [f"v.?{kind}.{k} == optional.of({cel.text(str(fields[k]))})" for k in keys]
        options.append(
            f"(n == {cel.string(planned.name)} && " + " && ".join(checks or ["true"]) + ")"
        )
    return " || ".join(options) or "false"


def _apply(config: Config, rp: RolePlan, name: str) -> str:
    """The ApplyConfiguration: mounts merge by mountPath, the pod securityContext by
    field; and the annotations that say what happened."""
    spec = [f"containers: {_containers(config, rp, 'containers')}"]
    if rp.target.initContainers:
        init = _containers(config, rp, "initContainers")
        spec.append(
            "?initContainers: object.spec.?initContainers.orValue([]).size() > 0 ? "
            f"optional.of({init}) : optional.none()"
        )
    if config.securityContext.enabled:
        spec.append(f"?securityContext: {_pod_security(config)}")
    admitted = f"{cel.string(ADMITTED_ANNOTATION)}: {cel.string(name)}"
    annotations = (
        f"variables.userOk || variables.needsUser.size() == 0 ? {{{admitted}}} : "
        f"{{{admitted}, {cel.string(PROBLEM_ANNOTATION)}: {_user_problem(rp.role)}}}"
    )
    return (
        f"Object{{metadata: Object.metadata{{annotations: {annotations}}}, "
        f"spec: Object.spec{{{', '.join(spec)}}}}}"
    )


def _patches(config: Config, rp: RolePlan) -> str:
    """The JSONPatch operations for what server-side apply treats as atomic (volumes'
    sources, env's secretKeyRef, nodeSelector, tolerations, affinity's terms,
    capabilities.drop): added only where missing."""
    parts = [*_volume_patches(rp), *_env_patches(config, rp, "containers")]
    if rp.target.initContainers:
        parts.extend(_env_patches(config, rp, "initContainers"))
    parts.extend(_scheduling(config, rp.pool))
    if config.securityContext.enabled:
        parts.extend(_container_security("containers"))
        parts.extend(_container_security("initContainers"))
    return " + ".join(f"({part})" for part in parts) or "[]"


def _user_problem(role: str) -> str:
    return (
        '"SW401 Pod/" + object.metadata.?name.orValue(object.metadata.?generateName.orValue("")) + '
        f'": target {role}: variable ${{USER}} in volumes " + variables.needsUser.join(", ") + '
        '" has no safe value (label stowage.io/user is " + '
        '(variables.user == "" ? "missing" : "\'" + variables.user + "\'") + '
        '"); fix: label the pod stowage.io/user=NAME with a DNS-1123 label or POSIX user name"'
    )


def _optional_list(items: str) -> str:
    return f"{items}.size() > 0 ? optional.of({items}) : optional.none()"


def _volume_patches(rp: RolePlan) -> Iterator[str]:
    """Volumes by JSONPatch (a Secret volume's items, a projected volume's sources are
    atomic to server-side apply): the whole list for a pod without volumes, else each
    missing volume appended."""
    literals = [
        (v.name, cel.literal(v.volume, "Object.spec.volumes"))
        for v in rp.volumes
        if v.volume is not None
    ]
    if not literals:
        return
    has = "object.spec.?volumes.hasValue()"
    wanted = f"[{', '.join(literal for _, literal in literals)}]"
    wanted += ".filter(v, v.name in variables.attached)"
    yield f"{has} || {wanted}.size() == 0 ? [] : [{_add('/spec/volumes', wanted)}]"
    for name, literal in literals:
        missing = (
            f"{cel.string(name)} in variables.attached && "
            f"!variables.podVolumes.exists(p, p.name == {cel.string(name)})"
        )
        yield f"{has} && {missing} ? [{_add('/spec/volumes/-', literal)}] : []"


def _containers(config: Config, rp: RolePlan, field: str) -> str:
    entries = [
        "name: c.name",
        f"?volumeMounts: {_optional_list(_mounts(rp, field))}",
    ]
    item = f"Object.spec.{field}"
    return f"object.spec.?{field}.orValue([]).map(c, {item}{{{', '.join(entries)}}})"


def _mounts(rp: RolePlan, field: str) -> str:
    literals = [
        cel.literal(v.mount, f"Object.spec.{field}.volumeMounts")
        for v in rp.volumes
        if v.mount is not None
    ]
    return (
        f"[{', '.join(literals)}].filter(m, m.name in variables.attached && "
        "!c.?volumeMounts.orValue([]).exists(o, o.mountPath == m.mountPath))"
    )


def _env_entries(config: Config, rp: RolePlan, field: str) -> list[tuple[str, str, str]]:
    """(name, condition, typed literal) of each env var the target may add: a store's
    credentials when its volume is attached, the data-paths JSON when data is chosen."""
    item = f"Object.spec.{field}.env"
    entries = []
    for planned in rp.volumes:
        for env in planned.env:
            condition = f"{cel.string(planned.name)} in variables.attached"
            entries.append((env["name"], condition, cel.literal(env, item)))
    if rp.data:
        value = '"{" + variables.dataPaths.join(",") + "}"'
        literal = f"{item}{{name: {cel.string(config.dataPathsEnv)}, value: {value}}}"
        entries.append((config.dataPathsEnv, "variables.dataPaths.size() > 0", literal))
    return entries


def _env_patches(config: Config, rp: RolePlan, field: str) -> Iterator[str]:
    """Env by JSONPatch (a secretKeyRef is atomic to server-side apply): the whole list
    for a container without env, else each missing variable appended."""
    entries = _env_entries(config, rp, field)
    if not entries:
        return
    items = f"object.spec.?{field}.orValue([])"
    at = f'"/spec/{field}/" + string({items}.map(x, x.name).indexOf(c.name))'
    wanted = " + ".join(f"({condition} ? [{literal}] : [])" for _, condition, literal in entries)
    yield (
        f"({wanted}).size() == 0 ? [] : {items}.filter(c, !c.?env.hasValue())"
        f'.map(c, JSONPatch{{op: "add", path: {at} + "/env", value: {wanted}}})'
    )
    for name, condition, literal in entries:
        yield (
            f"!({condition}) ? [] : {items}.filter(c, c.?env.hasValue() && "
            f"!c.env.exists(o, o.name == {cel.string(name)}))"
            f'.map(c, JSONPatch{{op: "add", path: {at} + "/env/-", value: {literal}}})'
        )


def _container_security(field: str) -> Iterator[str]:
    """allowPrivilegeEscalation false and `ALL` in capabilities.drop, on every container
    that lacks them (the first patch makes the securityContext the second extends)."""
    kind = f"Object.spec.{field}.securityContext"
    items = f"object.spec.?{field}.orValue([])"
    at = f'"/spec/{field}/" + string({items}.map(x, x.name).indexOf(c.name))'
    ape = "c.?securityContext.allowPrivilegeEscalation.hasValue()"
    yield (
        f"{items}.filter(c, !{ape}).map(c, c.?securityContext.hasValue() ? "
        f'JSONPatch{{op: "add", path: {at} + "/securityContext/allowPrivilegeEscalation", '
        "value: false} : "
        f'JSONPatch{{op: "add", path: {at} + "/securityContext", '
        f"value: {kind}{{allowPrivilegeEscalation: false}}}})"
    )
    drop = "c.?securityContext.capabilities.drop"
    yield (
        f'{items}.filter(c, !("ALL" in {drop}.orValue([]))).map(c, '
        f'{drop}.hasValue() ? JSONPatch{{op: "add", path: {at} + '
        '"/securityContext/capabilities/drop/-", value: "ALL"} : '
        "c.?securityContext.capabilities.hasValue() ? "
        f'JSONPatch{{op: "add", path: {at} + "/securityContext/capabilities/drop", '
        'value: ["ALL"]} : '
        f'JSONPatch{{op: "add", path: {at} + "/securityContext/capabilities", '
        f'value: {kind}.capabilities{{drop: ["ALL"]}}}})'
    )


def _pod_security(config: Config) -> str:
    sc = config.securityContext
    wanted: dict[str, Any] = {
        "runAsUser": sc.user,
        "runAsGroup": sc.group,
        "fsGroup": sc.group,
        "runAsNonRoot": True,
        "fsGroupChangePolicy": sc.fsGroupChangePolicy,
        "seccompProfile": dict(SECCOMP),
    }
    kind = "Object.spec.securityContext"
    fields = []
    present = []
    for key, value in wanted.items():
        has = f"object.spec.?securityContext.{key}.hasValue()"
        present.append(has)
        literal = cel.literal(value, f"{kind}.{key}")
        fields.append(f"?{key}: {has} ? optional.none() : optional.of({literal})")
    body = f"{kind}{{{', '.join(fields)}}}"
    return f"{' && '.join(present)} ? optional.none() : optional.of({body})"


def _add(path: str, value: str) -> str:
    return f'JSONPatch{{op: "add", path: {cel.string(path)}, value: {value}}}'


def _pointer(*parts: str) -> str:
    return "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _scheduling(config: Config, pool: str) -> Iterator[str]:
    selector = config.nodeSelector.get(pool) or {}
    if selector:
        yield _map_patches("nodeSelector", selector, lambda k, v: cel.string(v))
    tolerations = config.tolerations.get(pool) or []
    if tolerations:
        yield _toleration_patches(tolerations)
    affinity = config.affinity.get(pool) or {}
    if affinity:
        typed = "Object.spec.affinity"
        yield _map_patches("affinity", affinity, lambda k, v: cel.literal(v, f"{typed}.{k}"))


def _map_patches(field: str, wanted: dict[str, Any], value: Any) -> str:
    """Add the keys the pod's `field` lacks (the whole field when it has none)."""
    own = f"object.spec.?{field}"
    whole = (
        "{" + ", ".join(f"{cel.string(k)}: {value(k, v)}" for k, v in sorted(wanted.items())) + "}"
    )
    typed_whole = (
        "Object.spec.affinity{"
        + ", ".join(f"{k}: {value(k, v)}" for k, v in sorted(wanted.items()))
        + "}"
        if field == "affinity"
        else whole
    )

    def has(key: str) -> str:
        return (
            f"{own}.{key}.hasValue()"
            if field == "affinity"
            else f"{own}[?{cel.string(key)}].hasValue()"
        )

    keys = " + ".join(
        f"({has(k)} ? [] : [{_add(_pointer('spec', field, k), value(k, v))}])"
        for k, v in sorted(wanted.items())
    )
    return f"({own}.hasValue() ? {keys} : [{_add(_pointer('spec', field), typed_whole)}])"


def _toleration_patches(tolerations: list[dict[str, Any]]) -> str:
    kind = "Object.spec.tolerations"
    missing = []
    for toleration in tolerations:
        same = " && ".join(
            f"o.?{k} == optional.of({cel.literal(toleration[k], kind)})"
            if k in toleration
            else f"!o.?{k}.hasValue()"
            for k in TOLERATION_KEYS
        )
        literal = cel.literal(toleration, kind)
        missing.append(
            f"(object.spec.?tolerations.orValue([]).exists(o, {same}) ? [] : [{literal}])"
        )
    added = "(" + " + ".join(missing) + ")"
    return (
        f"(object.spec.?tolerations.hasValue() ? {added}.map(t, "
        'JSONPatch{op: "add", path: "/spec/tolerations/-", value: t}) : '
        f"{added}.size() > 0 ? [{_add('/spec/tolerations', added)}] : [])"
    )
