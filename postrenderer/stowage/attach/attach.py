"""Attach the plan to the workloads its targets select.

Merging never duplicates and never silently overwrites: volumes merge by
name (a workload's own volume of the same name wins), mounts by mountPath,
env by name, node selectors by key; a value the chart author set that the
plan would change is recorded as a :class:`~stowage.checks.Conflict`, and
the author's value stays. Running attach on its own output changes nothing.
"""

from __future__ import annotations

import json
import marshal
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from stowage.checks import Conflict
from stowage.errors import UsageError
from stowage.plan.configdata import Target
from stowage.plan.plan import Plan, PlannedVolume, data_paths_json
from stowage.plan.variables import RUNTIME_VARS, expand, workload_variables
from stowage.pods.podspecs import (
    AUTO_MOUNT_ANNOTATION,
    DATA_REFS_ANNOTATION,
    SECCOMP,
    SKIP_ANNOTATION,
    containers,
)
from stowage.pods.sources import describe_source, source_of
from stowage.pods.workloads import TemplateMatch, Workload
from stowage.read.manifests import Document, Stream, copy_body
from stowage.read.yamlload import Limits, YamlError


@dataclass
class PlacedVolume:
    """One plan volume a workload got: its source, where it is mounted, its env."""

    volume: str
    purpose: str  # "data", "outputs" or "auto" (auto-mount)
    source: str  # "claim", "nfs", "hostPath", "store" (a cloud bucket) or another volume kind
    ref: str  # claim name, "server:path", host path, bucket URL ("" when the kind has none)
    mount_path: str | None  # None: a store reached through env only
    read_only: bool
    sub_path: str | None
    env: list[str] = field(default_factory=list)  # names of the env vars it sets

    def as_json(self) -> dict[str, Any]:
        return {
            "volume": self.volume,
            "purpose": self.purpose,
            "source": {"kind": self.source, "ref": self.ref},
            "mountPath": self.mount_path,
            "readOnly": self.read_only,
            "subPath": self.sub_path,
            "env": self.env,
        }


@dataclass
class Placement:
    """What one workload got and why: the data behind `stowage plan` (docs/plan.schema.json)."""

    workload: str
    role: str
    reason: str
    kind: str = ""
    namespace: str = ""
    name: str = ""
    volumes: list[PlacedVolume] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)  # {"volume", "reason"}
    env: list[dict[str, Any]] = field(default_factory=list)  # {"name", "value"|"secretKeyRef"}
    pool: str = ""
    node_selector: dict[str, str] = field(default_factory=dict)
    tolerations: list[dict[str, Any]] = field(default_factory=list)
    affinity: dict[str, Any] = field(default_factory=dict)
    security_context: dict[str, Any] | None = None  # None: the plan does not set one
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The placement as docs/plan.schema.json describes it (Kubernetes field names)."""
        return {
            "workload": self.workload,
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "role": self.role,
            "reason": self.reason,
            "pool": self.pool,
            "volumes": [v.as_json() for v in self.volumes],
            "skipped": self.skipped,
            "env": self.env,
            "nodeSelector": self.node_selector,
            "tolerations": self.tolerations,
            "affinity": self.affinity,
            "securityContext": self.security_context,
            "notes": self.notes,
        }

    def skip(self, volume: str, reason: str) -> None:
        self.skipped.append({"volume": volume, "reason": reason})


@dataclass
class AttachResult:
    roles: dict[int, str] = field(default_factory=dict)  # workload index -> role
    placements: list[Placement] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)


def select_target(workload: Workload, targets: Mapping[str, Target]) -> tuple[str, Target] | None:
    """The first target (by role name) whose selectors all match the workload.

    A template site that names its `target` gets that role (SW901 warns when the
    role is not in `targets`). Helm hooks are never selected: they pass through as rendered.
    """
    if workload.annotations.get(SKIP_ANNOTATION, "").lower() == "true" or workload.is_helm_hook:
        return None
    if workload.role is not None:
        target = targets.get(workload.role)
        return (workload.role, target) if target is not None else None
    labels = workload.labels
    for role in sorted(targets):
        target = targets[role]
        if not target.matchLabels:
            continue
        if any(labels.get(k) != v for k, v in target.matchLabels.items()):
            continue
        if target.kinds is not None and workload.kind not in target.kinds:
            continue
        if target.components is not None and workload.site.component not in target.components:
            continue
        return role, target
    return None


@dataclass
class Attached:
    """What one targeted workload got: its role, its placement, the conflicts met."""

    role: str
    placement: Placement
    conflicts: list[Conflict]


def apply(workloads: list[Workload], plan: Plan, limits: Limits | None = None) -> AttachResult:
    return combine(attach_each(workloads, plan, limits))


def combine(each: list[Attached | None]) -> AttachResult:
    """One result from the workloads' own, in workload order."""
    result = AttachResult()
    for index, attached in enumerate(each):
        if attached is not None:
            result.roles[index] = attached.role
            result.placements.append(attached.placement)
            result.conflicts.extend(attached.conflicts)
    return result


def attach_each(
    workloads: list[Workload], plan: Plan, limits: Limits | None = None
) -> list[Attached | None]:
    """Attach the plan to each workload a target selects (None for the others), and
    mark the documents this changed."""
    each: list[Attached | None] = []
    touched_templates: dict[tuple[int, int | None, str], Workload] = {}
    template_before: dict[tuple[int, int | None, str], Any] = {}
    before: dict[int, tuple[Document, Snapshot]] = {}  # doc index -> the body before attach
    for workload in workloads:
        chosen = select_target(workload, plan.config.targets)
        if chosen is None:
            each.append(None)
            continue
        role, target = chosen
        doc = workload.doc
        if doc.index not in before:
            before[doc.index] = (doc, Snapshot.of(doc.body))
        if workload.is_template:
            key = (doc.index, workload.object.item, str(workload.site.template_key))
            template_before.setdefault(key, copy_body(workload.manifest))
            touched_templates[key] = workload
        conflicts: list[Conflict] = []
        placement = _attach_one(workload, role, target, plan, conflicts)
        each.append(Attached(role, placement, conflicts))
        workload.commit()
    if touched_templates:
        _rewrite_templates(touched_templates, template_before, limits or Limits())
    for doc, snapshot in before.values():
        doc.changed = doc.changed or snapshot.differs(doc.body)
    return each


@dataclass(frozen=True)
class Snapshot:
    """A body as it was, to tell whether attach changed it: marshal's bytes, three times
    cheaper to take than a copy. Format 2 writes no back-references, so the bytes
    depend on the data alone, not on which objects hold it (and `1` is not `True`)."""

    data: bytes | None
    copy: Any = None  # for a body marshal cannot write

    @classmethod
    def of(cls, body: Any) -> Snapshot:
        try:
            return cls(marshal.dumps(body, 2))
        except ValueError:
            return cls(None, copy_body(body))

    def differs(self, body: Any) -> bool:
        if self.data is None:
            return bool(body != self.copy)
        try:
            return marshal.dumps(body, 2) != self.data
        except ValueError:
            return True  # attach added something marshal cannot write


def _rewrite_templates(
    touched: dict[tuple[int, int | None, str], Workload],
    before: dict[tuple[int, int | None, str], Any],
    limits: Limits,
) -> None:
    """Write each changed carried template back into its ConfigMap data key."""
    from stowage.attach.yamlpatch import (
        rewrite,  # imports PyYAML: only streams that carry templates
    )

    for key, workload in touched.items():
        if workload.manifest != before[key]:
            data = workload.object.body["data"]
            try:
                data[key[2]] = rewrite(data[key[2]], workload.manifest, limits)
            except YamlError as err:  # read back under the run's --max-* limits
                raise UsageError(
                    f"carried pod template data.{key[2]}, with the plan attached: {err.message}",
                    where=workload.doc.where(),
                ) from None


def _attach_one(
    workload: Workload, role: str, target: Target, plan: Plan, conflicts: list[Conflict]
) -> Placement:
    reason = _reason(workload, target)
    ref = workload.ref
    placement = Placement(workload.label, role, reason, ref.kind, ref.namespace, ref.name)
    pod = workload.pod_spec
    variables = workload_variables(plan.config.vars, workload.labels)
    keep = RUNTIME_VARS if workload.is_template else frozenset()
    chosen = _chosen_volumes(workload, target, plan, placement)
    volumes = [v.expanded(variables, keep) for v in chosen]
    merger = _Merger(workload, pod, conflicts, placement)
    for planned in volumes:
        merger.add_volume(planned, include_init=target.initContainers)
    placed = {v.volume for v in placement.volumes}  # not a volume the workload kept its own of
    data = [v for v in volumes if v.purpose == "data" and v.name in placed]
    if data:
        env = {"name": plan.config.dataPathsEnv, "value": data_paths_json(data)}
        merger.add_env(env, include_init=target.initContainers)
    pool = target.pool or role
    merger.schedule(pool, plan.config)
    if plan.config.securityContext.enabled:
        merger.secure(plan.config)
    # Only text that holds `${` can: the document's own, or what the plan added.
    if "${" in workload.doc.text or any(v.has_variables for v in chosen):
        _expand_variables(pod, variables, keep)
    if keep:
        placement.notes.append("keeps ${USER} for the launcher to fill at run time")
    _note_view_limits(workload, pod, placement)
    return placement


def _reason(workload: Workload, target: Target) -> str:
    if workload.role is not None:
        return f"template site with target {workload.role}"
    return "matchLabels " + ", ".join(f"{k}={v}" for k, v in sorted(target.matchLabels.items()))


def _note_view_limits(workload: Workload, pod: dict[str, Any], placement: Placement) -> None:
    """Keep a fragment to what its launcher reads, and the placement (what `stowage plan`
    reports) to what the fragment really holds. Owl's Job builder takes `volumes`,
    `volumeMounts`, `extraEnv` (name and value only) and the pod securityContext; what
    it cannot carry is SW906's to report."""
    if workload.site.view != "fragment":
        return
    if any(c.get("securityContext") for c in containers(pod)):
        placement.notes.append(
            "the fragment has no place for the container securityContext (only the pod's)"
        )
    kept: dict[str, Any] = {}
    for container in containers(pod):
        env = container.get("env")
        if isinstance(env, list):
            container["env"] = _fragment_env(env, placement)
            for entry in container["env"]:
                if isinstance(entry, dict):
                    kept.setdefault(str(entry.get("name")), entry)
    placement.env = [_env_entry(kept[e["name"]]) for e in placement.env if e["name"] in kept]
    placement.node_selector = {}
    placement.tolerations, placement.affinity = [], {}
    for placed in placement.volumes:
        placed.env = [name for name in placed.env if name in kept]


def _fragment_env(env: list[Any], placement: Placement) -> list[Any]:
    """The env a fragment's launcher can take: name/value pairs (Owl reads `d["value"]`), and
    no value it would fill in per run: Owl 0.8.3 copies `extraEnv` before it expands
    ${USER} for the run, so such a value would name the previous run's user."""
    added = {e["name"] for e in placement.env}
    out: list[Any] = []
    for entry in env:
        if not isinstance(entry, dict) or entry.get("name") not in added:
            out.append(entry)  # the chart's own: as it wrote it
            continue
        if "valueFrom" in entry:
            placement.notes.append(
                f"left out {entry.get('name')}: it is read from a Secret, and the fragment's "
                "extraEnv takes only values"
            )
            continue
        value = entry.get("value")
        if isinstance(value, str) and "${" in value:
            fixed, dropped = _without_run_time_paths(value)
            if dropped:
                placement.notes.append(
                    f"left out of {entry.get('name')}: {', '.join(dropped)} (Owl reads "
                    "extraEnv before it fills in the run's variables)"
                )
            if fixed is not None:
                out.append({**entry, "value": fixed})
            continue
        out.append(entry)
    return out


def _without_run_time_paths(value: str) -> tuple[str | None, list[str]]:
    """A data-paths JSON value without the entries that hold `${`; None when none is left
    or the value is not such a JSON object."""
    try:
        paths = json.loads(value)
    except ValueError:
        return None, []
    if not isinstance(paths, dict):
        return None, []
    kept = {k: v for k, v in paths.items() if "${" not in str(v)}
    dropped = sorted(set(paths) - set(kept))
    if not kept:
        return None, dropped
    return json.dumps(kept, separators=(",", ":")), dropped


def _chosen_volumes(
    workload: Workload, target: Target, plan: Plan, placement: Placement
) -> list[PlannedVolume]:
    refs_annotation = workload.annotations.get(DATA_REFS_ANNOTATION)
    if refs_annotation is not None:
        refs = [r.strip() for r in refs_annotation.split(",") if r.strip()]
        placement.reason += f"; dataRefs from annotation {DATA_REFS_ANNOTATION}"
    elif target.dataRefs is not None:
        refs = list(target.dataRefs)
        placement.reason += f"; dataRefs of target {placement.role}"
    else:
        refs = list(plan.data)
    chosen = [plan.data[r] for r in refs if r in plan.data]  # unknown refs: rule SW5xx
    for ref in refs:
        if ref not in plan.data:
            placement.skip(ref, "no data volume of that name in the plan (rule SW503)")
    if target.outputs:
        chosen.extend(plan.outputs.values())
    if plan.auto is not None and _wants_auto_mount(workload, target, refs_annotation):
        chosen.append(plan.auto)
        placement.reason += "; auto-mount"
    elif plan.auto is not None:
        placement.skip(plan.auto.name, _why_no_auto_mount(workload, target, placement.role))
    return chosen


def _why_no_auto_mount(workload: Workload, target: Target, role: str) -> str:
    if not target.autoMount:
        return f"auto-mount: target {role} has autoMount false"
    if workload.annotations.get(AUTO_MOUNT_ANNOTATION, "").lower() == "false":
        return f"auto-mount: the workload opts out (annotation {AUTO_MOUNT_ANNOTATION})"
    return f"auto-mount: the workload chose its own data (annotation {DATA_REFS_ANNOTATION})"


def _wants_auto_mount(workload: Workload, target: Target, refs_annotation: str | None) -> bool:
    opted_out = workload.annotations.get(AUTO_MOUNT_ANNOTATION, "").lower() == "false"
    # Like MLRun: a workload that chose its own storage is not auto-mounted on top.
    return target.autoMount and not opted_out and refs_annotation is None


class _Merger:
    """Merges plan items into one pod spec, recording conflicts instead of overwriting."""

    def __init__(
        self,
        workload: Workload,
        pod: dict[str, Any],
        conflicts: list[Conflict],
        placement: Placement,
    ) -> None:
        self.workload, self.pod, self.conflicts, self.placement = (
            workload,
            pod,
            conflicts,
            placement,
        )

    def conflict(self, where: str, existing: object, wanted: object) -> None:
        self.conflicts.append(
            Conflict(self.workload.ref, self.workload.label, where, existing, wanted)
        )

    def add_volume(self, planned: PlannedVolume, include_init: bool) -> None:
        if planned.volume is not None:
            volumes = _slot(self.pod, "volumes", [])
            own = next((v for v in volumes if v.get("name") == planned.name), None)
            if own is None:
                volumes.append(copy_body(planned.volume))
            elif own != planned.volume:
                self.placement.skip(
                    planned.name,
                    f"kept the workload's own volume {planned.name!r}; stowage's is not mounted",
                )
                where = f"volumes[{planned.name}]"
                self.conflict(where, describe_source(own), describe_source(planned.volume))
                return
        for container in containers(self.pod, include_init):
            if planned.mount is not None:
                self._add_mount(container, planned.mount)
            for env in planned.env:
                self._add_env_to(container, env)
        self.placement.volumes.append(_placed(planned))
        self.placement.env.extend(_env_entry(e) for e in planned.env)

    def _add_mount(self, container: dict[str, Any], mount: dict[str, Any]) -> None:
        mounts = _slot(container, "volumeMounts", [])
        same_path = next((m for m in mounts if m.get("mountPath") == mount["mountPath"]), None)
        where = f"containers[{container.get('name')}].volumeMounts[{mount['mountPath']}]"
        if same_path is None:
            mounts.append(dict(mount))
        elif same_path.get("name") != mount["name"]:
            self.conflict(where, same_path.get("name"), mount["name"])
        elif bool(same_path.get("readOnly")) != bool(mount.get("readOnly")):
            # Polyaxon's chart once dropped readOnly silently; never let that pass.
            self.conflict(
                f"{where}.readOnly", bool(same_path.get("readOnly")), bool(mount.get("readOnly"))
            )

    def add_env(self, env: dict[str, Any], include_init: bool) -> None:
        for container in containers(self.pod, include_init):
            self._add_env_to(container, env)
        self.placement.env.append(_env_entry(env))

    def _add_env_to(self, container: dict[str, Any], env: dict[str, Any]) -> None:
        entries = _slot(container, "env", [])
        own = next((e for e in entries if e.get("name") == env["name"]), None)
        if own is None:
            entries.append(copy_body(env))
        elif own != env:
            where = f"containers[{container.get('name')}].env[{env['name']}]"
            self.conflict(where, own.get("value", own.get("valueFrom")), env.get("value"))

    def schedule(self, pool: str, config: Any) -> None:
        self.placement.pool = pool
        selector = config.nodeSelector.get(pool) or {}
        if selector:
            own = _slot(self.pod, "nodeSelector", {})
            for key, value in sorted(selector.items()):
                self._set_key(own, key, value, f"nodeSelector.{key}")
            self.placement.node_selector = dict(sorted(selector.items()))
        tolerations = config.tolerations.get(pool) or []
        if tolerations:
            own_tolerations = _slot(self.pod, "tolerations", [])
            for toleration in tolerations:
                if toleration not in own_tolerations:
                    own_tolerations.append(copy_body(toleration))
            self.placement.tolerations = copy_body(list(tolerations))
        affinity = config.affinity.get(pool) or {}
        if affinity:
            own_affinity = _slot(self.pod, "affinity", {})
            for key, value in sorted(affinity.items()):
                self._set_key(own_affinity, key, copy_body(value), f"affinity.{key}")
            self.placement.affinity = copy_body(dict(sorted(affinity.items())))

    def _set_key(self, target: dict[str, Any], key: str, value: object, where: str) -> None:
        if key not in target:
            target[key] = value
        elif target[key] != value:
            self.conflict(where, target[key], value)

    def secure(self, config: Any) -> None:
        sc = config.securityContext
        pod_sc = _slot(self.pod, "securityContext", {})
        wanted: dict[str, object] = {
            "runAsUser": sc.user,
            "runAsGroup": sc.group,
            "fsGroup": sc.group,
            "runAsNonRoot": True,
            "fsGroupChangePolicy": sc.fsGroupChangePolicy,
            "seccompProfile": dict(SECCOMP),
        }
        for key, value in wanted.items():
            self._set_key(pod_sc, key, value, f"securityContext.{key}")
        for container in containers(self.pod, include_init=True):
            self._secure_container(container)
        self.placement.security_context = copy_body(wanted)

    def _secure_container(self, container: dict[str, Any]) -> None:
        csc = _slot(container, "securityContext", {})
        name = container.get("name")
        self._set_key(
            csc,
            "allowPrivilegeEscalation",
            False,
            f"containers[{name}].securityContext.allowPrivilegeEscalation",
        )
        capabilities = _slot(csc, "capabilities", {})
        drop = _slot(capabilities, "drop", [])
        if "ALL" not in drop:
            drop.append("ALL")


def _expand_variables(
    pod: dict[str, Any], variables: Mapping[str, str], keep: frozenset[str]
) -> None:
    """Expand `${VAR}` in the pod's volumes and mounts, the workload's own included."""
    if "volumes" in pod:
        pod["volumes"] = expand(pod["volumes"], variables, keep).value
    for container in containers(pod, include_init=True):
        if "volumeMounts" in container:
            container["volumeMounts"] = expand(container["volumeMounts"], variables, keep).value


def add_generated_claims(stream: Stream, plan: Plan) -> None:
    """Append the PVCs for `claim` sources that the stream does not already hold.

    Runs after the claims that workloads mention have been parsed.
    """
    present = {(o.kind, o.ref.name) for o in stream.objects({"PersistentVolumeClaim"})}
    for claim in plan.generated_claims:
        if ("PersistentVolumeClaim", claim["metadata"]["name"]) in present:
            continue
        doc = Document(len(stream.documents), 0, "---" + stream.newline, "", claim, True, True)
        stream.documents.append(doc)


def _placed(planned: PlannedVolume) -> PlacedVolume:
    mount = planned.mount or {}
    if planned.spec.store:
        source, ref = "store", planned.spec.bucket or ""
    else:
        source, ref = source_of(planned.volume or {})
    return PlacedVolume(
        planned.name,
        planned.purpose,
        source,
        ref,
        mount.get("mountPath"),
        bool(mount.get("readOnly")),
        mount.get("subPath"),
        [e["name"] for e in planned.env],
    )


def _env_entry(env: dict[str, Any]) -> dict[str, Any]:
    """An env var as plan data: its value, or the Secret key it is read from."""
    ref = (env.get("valueFrom") or {}).get("secretKeyRef")
    if isinstance(ref, dict):
        return {
            "name": env["name"],
            "secretKeyRef": {"name": str(ref.get("name")), "key": str(ref.get("key"))},
        }
    return {"name": env["name"], "value": str(env.get("value", ""))}


def _slot(parent: dict[str, Any], key: str, empty: Any) -> Any:
    """``parent[key]``, set to ``empty`` when missing or null (YAML `key:` with no value)."""
    if parent.get(key) is None:
        parent[key] = empty
    return parent[key]


@dataclass
class Attachment:
    """What the attach stage leaves for the checks: every workload in stream order, what
    attach did to them, and the template matches SW901 reports on."""

    workloads: list[Workload]
    result: AttachResult
    matches: list[TemplateMatch]
