"""Access-mode analysis: for every claim pod specs mount, its access modes and where its pods run.

Pure functions over the stream, the workloads and the config. The SW1xx rules
read :func:`claim_usages`, computed once per run (``CheckContext.claim_usages``);
the storage graph reads :func:`access_modes` and :func:`placement_of`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from stowage.findings import ResourceRef
from stowage.plan.automount import AutoMountError, resolve
from stowage.plan.configdata import Config, VolumeSpec
from stowage.pods import tekton
from stowage.pods.concurrency import Autoscale, Concurrency, ObjectKey, flow_order, model
from stowage.pods.groups import MANY, TooManyError, cliques, count_text
from stowage.pods.podspecs import (
    AUTOSCALER_KINDS,
    AUTOSCALERS,
    KindRule,
    api_group,
    claim_names,
    containers,
    expand_wild,
    get_in,
    kind_rule,
)
from stowage.pods.workloads import (
    Workload,
    declared_kinds,
    job_volume_claims,
    uri_claims,
)
from stowage.read.manifests import Stream, parse_count

HOSTNAME = "kubernetes.io/hostname"


@dataclass(frozen=True)
class AccessModes:
    modes: tuple[str, ...] | None  # None: unknown
    origin: str  # "PersistentVolumeClaim x", "PersistentVolume y", "declared in config", "unknown"
    nfs: bool = False  # bound to an NFS PersistentVolume

    @property
    def known(self) -> bool:
        return self.modes is not None


@dataclass(frozen=True)
class Placement:
    """How many pods of one workload can run at once, and what keeps them on one node."""

    pods: int
    why: str  # "3 replicas", "HPA maxReplicas 10", "a DaemonSet: one pod per node", ...
    hostname: str | None  # pinned to this node by nodeName / nodeSelector / node affinity
    follows: tuple[dict[str, str], ...]  # required pod affinity (hostname) label selectors
    rolling: bool  # a Deployment whose rollout starts a new pod before the old one stops

    @property
    def count_text(self) -> str:
        return count_text(self.pods)


@dataclass
class Mount:
    index: int  # in ctx.workloads
    workload: Workload
    placement: Placement
    read_only: bool
    concurrency: Concurrency | None = None  # of its object (None: a carried pod template)
    coscheduled: bool = False  # a PipelineRun's claim its affinity assistant keeps on one node
    uses: frozenset[str] | None = None  # the uses of the pod spec that mount it (None: all)
    apart: str = ""  # why the operator does not keep these pods together (said with why)


@dataclass(frozen=True)
class Share:
    """One object's part of a claim's pods: the most live at once, and why."""

    mounts: tuple[Mount, ...]
    pods: int
    why: str


@dataclass
class ClaimUsage:
    name: str
    namespace: str
    modes: AccessModes
    mounts: list[Mount] = field(default_factory=list)
    apart: frozenset[frozenset[ObjectKey]] = frozenset()  # objects whose pods never overlap

    @cached_property
    def shares(self) -> list[Share]:
        """Per object, its pods that mount the claim and can be live at once.

        Objects are counted as running at the same time; within one object the
        concurrency model says which of its pod specs overlap (steps in sequence do not).
        """
        objects: dict[int, list[Mount]] = {}
        for mount in self.mounts:
            key = id(mount) if mount.concurrency is None else id(mount.workload.manifest)
            objects.setdefault(key, []).append(mount)
        return [_share(mounts) for mounts in objects.values()]

    @property
    def pods(self) -> int:
        """The most pods live at once: objects overlap unless a flow runs them in order."""
        shares = self.shares
        keys = [_key(share) for share in shares]
        if not self.apart:
            return min(sum(share.pods for share in shares), MANY)

        def overlap(a: int, b: int) -> bool:
            return frozenset({keys[a], keys[b]}) not in self.apart

        try:
            groups = cliques(len(shares), overlap)
        except TooManyError:
            groups = [tuple(range(len(shares)))]
        return min(max((sum(shares[i].pods for i in g) for g in groups), default=0), MANY)

    @property
    def ref(self) -> ResourceRef:
        return ResourceRef("PersistentVolumeClaim", self.namespace, self.name)

    @property
    def count_text(self) -> str:
        return count_text(self.pods)

    @property
    def workload_refs(self) -> tuple[ResourceRef, ...]:
        return tuple(dict.fromkeys(m.workload.ref for m in self.mounts))

    @property
    def workloads_text(self) -> str:
        return ", ".join(self.affected)

    @property
    def affected(self) -> tuple[str, ...]:
        """The workloads that mount the claim, each named once, with why their pods run at
        once: one entry per object (``Deployment/x (3 replicas)``)."""
        named: set[str] = set()
        entries = []
        for share in self.shares:
            labels = [m.workload.label for m in share.mounts if m.workload.label not in named]
            if labels:
                named.update(labels)
                entries.append(f"{', '.join(dict.fromkeys(labels))} ({share.why})")
        return tuple(entries)

    @property
    def subject(self) -> str:
        """The claim and its access modes, with where they were read."""
        if self.modes.modes is None:
            return f"claim {self.name!r}: access modes unknown (no manifest or plan declares them)"
        return f"claim {self.name!r}: {', '.join(self.modes.modes)} ({self.modes.origin})"


def _key(share: Share) -> ObjectKey:
    ref = share.mounts[0].workload.ref if share.mounts else None
    return (ref.kind, ref.namespace, ref.name) if ref else ("", "", "")


def _share(mounts: list[Mount]) -> Share:
    concurrency = mounts[0].concurrency
    if concurrency is None:
        return Share(tuple(mounts), mounts[0].placement.pods, mounts[0].placement.why)
    paths = {m.workload.site.path for m in mounts}
    uses = _uses(mounts)
    pods, group = concurrency.peak(paths, uses)
    if group is None:
        return Share(tuple(mounts), 0, "never runs: no step or task uses it")
    live = {group.members[i].path for i in group.chosen(paths, uses)}
    why = "; ".join(dict.fromkeys([group.why(paths, uses), *(m.apart for m in mounts if m.apart)]))
    return Share(tuple(m for m in mounts if m.workload.site.path in live), pods, why)


def _uses(mounts: list[Mount]) -> frozenset[str] | None:
    """The uses that mount the claim: every use when one mount reaches them all."""
    if any(m.uses is None for m in mounts):
        return None
    return frozenset().union(*(m.uses or () for m in mounts))


def claim_usages(stream: Stream, workloads: list[Workload], config: Config) -> list[ClaimUsage]:
    """Every claim mounted by a pod spec (templated names like `x-${USER}` left out).

    One usage per claim, covering all its pods. A manifest with no namespace
    lands in the release's namespace, which may be any explicit one: its mounts
    count toward the claim of that name in every namespace the stream names.
    """
    scalers = autoscaling(stream)
    models = Models(scalers, declared_kinds(config), tekton_of(stream, workloads))
    affinity = models.tekton.affinity
    by_name: dict[str, dict[str, list[Mount]]] = {}
    operator: dict[tuple[str, str, str], ClaimUsage] = {}
    for index, workload in enumerate(workloads):
        placement = placement_of(workload, scalers, models)
        concurrency = None if workload.is_template else models.of(workload)
        for name, volume_ro in mounted_claims(workload):
            if "${" in name:
                continue
            read_only = volume_ro or _mounts_read_only(workload.pod_spec, name)
            namespaces = by_name.setdefault(name, {})
            mounts = namespaces.setdefault(workload.ref.namespace, [])
            together = workload.kind == "PipelineRun" and affinity.per_run
            mounts.append(Mount(index, workload, placement, read_only, concurrency, together))
        for binding, mount in _workspace_mounts(index, workload, placement, concurrency, affinity):
            if binding.claim is not None:
                by_name.setdefault(binding.claim, {}).setdefault(workload.ref.namespace, [])
                by_name[binding.claim][workload.ref.namespace].append(mount)
            else:
                _add_workspace_template(operator, binding, mount)
        _add_operator_claims(operator, index, workload, placement, concurrency)
    apart = frozenset(flow_order(o.body for o in stream.objects({"JobFlow"})))
    usages = [
        ClaimUsage(name, namespace, access_modes(stream, config, name, namespace), mounts, apart)
        for name, namespaces in by_name.items()
        for namespace, mounts in _by_namespace(namespaces)
    ]
    return sorted([*usages, *operator.values()], key=lambda u: (u.namespace, u.name))


def tekton_of(stream: Stream, workloads: list[Workload]) -> tekton.Tekton:
    """The stream's Pipelines and Tekton feature flags, when a PipelineRun needs them."""
    if not any(w.kind == "PipelineRun" for w in workloads):
        return tekton.NONE
    return tekton.Tekton.of(o.body for o in stream.objects({"Pipeline", "ConfigMap"}))


def _workspace_mounts(
    index: int,
    workload: Workload,
    placement: Placement,
    concurrency: Concurrency | None,
    affinity: tekton.Affinity,
) -> Iterator[tuple[tekton.Binding, Mount]]:
    """A Tekton run's workspaces bound to claims: each reaches the tasks that bind it, and
    the affinity assistant (unless off) keeps one PipelineRun's pods sharing it on one node."""
    if workload.site.view not in ("tekton", "tekton-v1"):
        return
    run = workload.kind == "PipelineRun"
    for binding in tekton.workspace_bindings(workload.manifest):
        uses = concurrency.workspace_uses(binding.workspace) if run and concurrency else None
        together = run and affinity.per_workspace
        apart = affinity.apart if run else ""
        mount = Mount(
            index, workload, placement, binding.read_only, concurrency, together, uses, apart
        )
        yield binding, mount


def _add_workspace_template(
    usages: dict[tuple[str, str, str], ClaimUsage], binding: tekton.Binding, mount: Mount
) -> None:
    """A workspace's volumeClaimTemplate: Tekton makes one claim per run from it."""
    ref = mount.workload.ref
    name = f"{ref.name} workspace {binding.workspace}"
    modes = get_in(binding.template, ("spec", "accessModes"))
    known = tuple(str(m) for m in modes) if isinstance(modes, list) and modes else None
    origin = f"created per run by {ref.kind}/{ref.name} from its volumeClaimTemplate"
    key = (ref.namespace, name, str(ref))
    usages.setdefault(key, ClaimUsage(name, ref.namespace, AccessModes(known, origin)))
    usages[key].mounts.append(mount)


class Models:
    """The concurrency model of each object, built once per object."""

    def __init__(
        self,
        scalers: Autoscalers,
        declared: tuple[KindRule, ...],
        tekton_objects: tekton.Tekton = tekton.NONE,
    ) -> None:
        self.scalers, self.declared, self.tekton = scalers, declared, tekton_objects
        self._built: dict[int, tuple[dict[str, Any], Concurrency]] = {}

    def of(self, workload: Workload) -> Concurrency:
        manifest = workload.manifest
        found = self._built.get(id(manifest))
        if found is None or found[0] is not manifest:
            ref = workload.ref
            scale = self.scalers.of(workload.kind, ref.namespace, ref.name)
            declared = self.declared
            rule = workload.site.rule
            if not declared and rule is not None and kind_rule(None, workload.kind) is None:
                declared = (KindRule(api_group(manifest) or "", workload.kind, (rule,)),)
            found = (manifest, model(manifest, declared, scale, self.tekton))
            self._built[id(manifest)] = found
        return found[1]


def mounted_claims(workload: Workload) -> Iterator[tuple[str, bool]]:
    """(claimName, volume read-only) for the claims the workload's pods get. An Argo
    workflow's or a SparkApplication's volumes reach only the pods that mount them;
    a Volcano job's own volumes reach every pod of the job."""
    for name, spec in job_volume_claims(workload):
        if spec is None:
            yield name, False
    yield from uri_claims(workload)
    found = claim_names(workload.pod_spec)
    if workload.site.view not in ("argo", "spark"):
        yield from found
        return
    volumes = {
        get_in(v, ("persistentVolumeClaim", "claimName")): v.get("name")
        for v in workload.pod_spec.get("volumes") or []
        if isinstance(v, dict)
    }
    for name, read_only in found:
        if _mounts_named(workload.pod_spec, str(volumes.get(name))):
            yield name, read_only


def _add_operator_claims(
    usages: dict[tuple[str, str, str], ClaimUsage],
    index: int,
    workload: Workload,
    placement: Placement,
    concurrency: Concurrency | None,
) -> None:
    """Claims an operator creates per workload (JobSet's volumeClaimPolicies): one usage each."""
    namespace = workload.ref.namespace
    for name, modes in operator_claims(workload):
        key = (namespace, name, str(workload.ref))
        if key not in usages:
            usages[key] = ClaimUsage(name, namespace, modes)
        mounts = _mounts_named(workload.pod_spec, name)
        read_only = bool(mounts) and all(m.get("readOnly") for m in mounts)
        usages[key].mounts.append(Mount(index, workload, placement, read_only, concurrency))


def _by_namespace(namespaces: dict[str, list[Mount]]) -> Iterator[tuple[str, list[Mount]]]:
    """(namespace, mounts) per claim: the namespace-less mounts join every explicit one."""
    unplaced = namespaces.get("", [])
    explicit = sorted(ns for ns in namespaces if ns)
    if not explicit:
        yield "", unplaced
    for namespace in explicit:
        yield namespace, sorted([*namespaces[namespace], *unplaced], key=lambda m: m.index)


def operator_claims(workload: Workload) -> Iterator[tuple[str, AccessModes]]:
    """Claims an operator creates from the workload's claim templates (JobSet's
    volumeClaimPolicies, a Volcano job's volumes) that its pods mount, with the
    template's access modes."""
    for name, spec in job_volume_claims(workload):
        if spec is not None:
            modes = spec.get("accessModes")
            known = tuple(str(m) for m in modes) if isinstance(modes, list) and modes else None
            origin = f"created by {workload.kind}/{workload.ref.name} from its spec.volumes"
            yield name, AccessModes(known, origin)
    rule = workload.site.rule
    pod = workload.pod_spec
    own = {v.get("name") for v in pod.get("volumes") or [] if isinstance(v, dict)}
    for path in rule.claim_templates if rule and rule.shared_claims else ():
        for template_path, _ in expand_wild(workload.manifest, path):
            template = get_in(workload.manifest, template_path) or {}
            name = get_in(template, ("metadata", "name"))
            modes = get_in(template, ("spec", "accessModes"))
            if not isinstance(name, str) or name in own or not _mounts_named(pod, name):
                continue
            origin = f"a claim template of {workload.kind}/{workload.ref.name}"
            known = tuple(str(m) for m in modes) if isinstance(modes, list) and modes else None
            yield name, AccessModes(known, origin)


def _mounts_named(pod: dict[str, Any], volume: str) -> list[dict[str, Any]]:
    return [
        m for c in containers(pod) for m in c.get("volumeMounts") or [] if m.get("name") == volume
    ]


def _mounts_read_only(pod: dict[str, Any], claim: str) -> bool:
    names = {
        v.get("name")
        for v in pod.get("volumes") or []
        if get_in(v, ("persistentVolumeClaim", "claimName")) == claim
    }
    mounts = [
        m for c in containers(pod) for m in c.get("volumeMounts") or [] if m.get("name") in names
    ]
    return bool(mounts) and all(m.get("readOnly") for m in mounts)


def _same_namespace(a: str, b: str) -> bool:
    return not a or not b or a == b


def access_modes(stream: Stream, config: Config, name: str, namespace: str) -> AccessModes:
    for spec, pv in claim_index(stream).claims_named(name, namespace):
        modes = spec.get("accessModes") or get_in(pv, ("spec", "accessModes"))
        if modes:
            # The finding already names the claim: say where the modes were read, once.
            origin = "per its manifest" if spec.get("accessModes") else "per its PersistentVolume"
            return AccessModes(tuple(str(m) for m in modes), origin, _on_nfs(pv))
    for volume in [*config.persistence.data.values(), *config.persistence.outputs.values()]:
        if volume.existingClaim == name and volume.accessModes:
            return AccessModes(tuple(volume.accessModes), "declared in the storage plan")
    auto = _auto_mount_spec(config)
    if auto is not None and auto.existingClaim == name and auto.accessModes:
        return AccessModes(tuple(auto.accessModes), "declared in autoMount.accessModes")
    return AccessModes(None, "unknown")


def _auto_mount_spec(config: Config) -> VolumeSpec | None:
    try:
        auto = resolve(config.autoMount)
    except AutoMountError:
        return None  # refused with its message when the plan was built
    return auto.spec if auto else None


def is_nfs_claim(stream: Stream, name: str, namespace: str) -> bool:
    claims = claim_index(stream).claims_named(name, namespace)
    return next((_on_nfs(pv) for _, pv in claims), False)


def _on_nfs(pv: dict[str, Any] | None) -> bool:
    return isinstance(get_in(pv, ("spec", "nfs")), dict)


class ClaimIndex:
    """The stream's claims by name and volumes by name and label, built in one pass.

    Every lookup used to scan the whole stream, which made a run quadratic in the
    number of workloads mounting claims; lookups now cost the matches only.
    Results keep stream order, as a scan would find them.
    """

    def __init__(self, stream: Stream) -> None:
        self._claims: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        self._volumes_by_name: dict[str, tuple[int, dict[str, Any]]] = {}
        self._volumes_by_label: dict[tuple[str, Any], list[tuple[int, dict[str, Any]]]] = {}
        self._volumes: list[tuple[int, dict[str, Any]]] = []
        for position, doc in enumerate(
            stream.objects({"PersistentVolumeClaim", "PersistentVolume"})
        ):
            if doc.kind == "PersistentVolumeClaim":
                spec = doc.body.get("spec") or {}
                self._claims.setdefault(doc.ref.name, []).append((doc.ref.namespace, spec))
            elif doc.kind == "PersistentVolume":
                self._add_volume(position, doc.ref.name, doc.body)

    def _add_volume(self, position: int, name: str, body: dict[str, Any]) -> None:
        self._volumes.append((position, body))
        self._volumes_by_name.setdefault(name, (position, body))
        for pair in _labels(body).items():
            if _hashable(pair[1]):
                self._volumes_by_label.setdefault(pair, []).append((position, body))

    def claims_named(
        self, name: str, namespace: str
    ) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
        """(claim spec, the PersistentVolume it binds to) for claims of that name."""
        for claim_namespace, spec in self._claims.get(name, ()):
            if _same_namespace(claim_namespace, namespace):
                yield spec, self.bound_volume(spec)

    def bound_volume(self, claim_spec: dict[str, Any]) -> dict[str, Any] | None:
        """The first volume in the stream named by volumeName or matching the selector."""
        found = [self._by_name(claim_spec.get("volumeName")), self._by_selector(claim_spec)]
        hits = [hit for hit in found if hit is not None]
        return min(hits, key=lambda hit: hit[0])[1] if hits else None

    def _by_name(self, volume_name: Any) -> tuple[int, dict[str, Any]] | None:
        if not volume_name or not isinstance(volume_name, str):
            return None
        return self._volumes_by_name.get(volume_name)

    def _by_selector(self, claim_spec: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        selector = get_in(claim_spec, ("selector", "matchLabels")) or {}
        if not isinstance(selector, dict) or not selector:
            return None
        pairs = list(selector.items())
        hashable = _hashable(pairs[0][1])
        candidates = self._volumes_by_label.get(pairs[0], []) if hashable else self._volumes
        return next(
            (
                (position, body)
                for position, body in candidates
                if all(_labels(body).get(k) == v for k, v in pairs)
            ),
            None,
        )


def _labels(body: dict[str, Any]) -> dict[str, Any]:
    labels = get_in(body, ("metadata", "labels")) or {}
    return labels if isinstance(labels, dict) else {}


def _hashable(value: Any) -> bool:
    return not isinstance(value, dict | list)


_INDEXES: dict[int, tuple[tuple[int, int], Stream, ClaimIndex]] = {}


def claim_index(stream: Stream) -> ClaimIndex:
    """The stream's :class:`ClaimIndex`, rebuilt only when documents were added or parsed."""
    state = (len(stream.documents), parse_count())
    cached = _INDEXES.get(id(stream))
    if cached is not None and cached[0] == state and cached[1] is stream:
        return cached[2]
    index = ClaimIndex(stream)
    _INDEXES.clear()  # one run, one stream: keep memory flat across runs in one process
    _INDEXES[id(stream)] = (state, stream, index)
    return index


@dataclass(frozen=True)
class Autoscalers:
    """The stream's autoscalers, by the (kind, name) of the workload each scales, with the
    autoscaler's namespace (its target is always in its own namespace)."""

    by_target: dict[tuple[str, str], list[tuple[str, Autoscale]]] = field(default_factory=dict)

    def of(self, kind: str, namespace: str, name: str) -> Autoscale | None:
        """The largest maximum among the autoscalers that may scale this workload: a
        manifest with no namespace lands in the release's, which may be any."""
        found = [
            scale
            for where, scale in self.by_target.get((kind, name), ())
            if where == namespace or not where or not namespace
        ]
        return max(found, key=lambda scale: scale.most, default=None)


def autoscaling(stream: Stream) -> Autoscalers:
    """The most replicas each autoscaled workload may get."""
    result = Autoscalers()
    for obj in stream.objects(AUTOSCALER_KINDS):
        scaler = AUTOSCALERS.get((api_group(obj.body) or "", obj.kind))
        target = get_in(obj.body, ("spec", "scaleTargetRef"))
        if scaler is None or not isinstance(target, dict):
            continue
        most = get_in(obj.body, ("spec", scaler.field))
        by_default = most is None and scaler.default_most is not None
        most = scaler.default_most if by_default else most
        if isinstance(most, int) and not isinstance(most, bool):
            why = f"{scaler.name} {scaler.field} {most}" + (" by default" if by_default else "")
            kind = str(target.get("kind") or scaler.default_kind)
            targets = result.by_target.setdefault((kind, str(target.get("name"))), [])
            targets.append((obj.ref.namespace, Autoscale(most, why)))
    return result


def placement_of(
    workload: Workload,
    scalers: Autoscalers,
    models: Models | None = None,
) -> Placement:
    """How many pods of the workload (one pod spec) run at once, and what pins them."""
    if workload.is_template:
        pods, why = MANY, "a pod template launched once per run: many at once"
    else:
        pods, why = (models or Models(scalers, ())).of(workload).pods_of(workload.site.path)
    pod = workload.pod_spec
    return Placement(pods, why, pinned_hostname(pod), _follows(pod), _rolling(workload))


def pinned_hostname(pod: dict[str, Any]) -> str | None:
    if isinstance(pod.get("nodeName"), str):
        return str(pod["nodeName"])
    selector = pod.get("nodeSelector") or {}
    if isinstance(selector, dict) and isinstance(selector.get(HOSTNAME), str):
        return str(selector[HOSTNAME])
    terms = (
        get_in(
            pod,
            (
                "affinity",
                "nodeAffinity",
                "requiredDuringSchedulingIgnoredDuringExecution",
                "nodeSelectorTerms",
            ),
        )
        or []
    )
    hosts = {_term_host(term) for term in terms if isinstance(term, dict)}
    if len(hosts) == 1 and None not in hosts:
        return hosts.pop()
    return None


def _term_host(term: dict[str, Any]) -> str | None:
    for expr in [*(term.get("matchExpressions") or []), *(term.get("matchFields") or [])]:
        key = expr.get("key")
        values = expr.get("values") or []
        if key in (HOSTNAME, "metadata.name") and expr.get("operator") == "In" and len(values) == 1:
            return str(values[0])
    return None


def _follows(pod: dict[str, Any]) -> tuple[dict[str, str], ...]:
    terms = (
        get_in(pod, ("affinity", "podAffinity", "requiredDuringSchedulingIgnoredDuringExecution"))
        or []
    )
    selectors = []
    for term in terms:
        if not isinstance(term, dict) or term.get("topologyKey") != HOSTNAME:
            continue
        selector = dict(get_in(term, ("labelSelector", "matchLabels")) or {})
        for expr in get_in(term, ("labelSelector", "matchExpressions")) or []:
            if expr.get("operator") == "In" and len(expr.get("values") or []) == 1:
                selector[str(expr["key"])] = str(expr["values"][0])
        if selector:
            selectors.append({str(k): str(v) for k, v in selector.items()})
    return tuple(selectors)


def _rolling(workload: Workload) -> bool:
    """Whether a rollout can start the new pod while the old one still runs."""
    if workload.kind != "Deployment" or workload.is_template:
        return False
    strategy = get_in(workload.manifest, ("spec", "strategy"))
    strategy = strategy if isinstance(strategy, dict) else {}
    if strategy.get("type") not in (None, "RollingUpdate"):
        return False
    max_surge = get_in(strategy, ("rollingUpdate", "maxSurge"))
    return max_surge not in (0, "0", "0%")  # no surge: the old pod stops first, like Recreate


def on_one_node(usage: ClaimUsage) -> bool:
    """True when every pod mounting the claim must run on one node."""
    objects = {id(m.workload.manifest) for m in usage.mounts}
    if len(objects) == 1 and all(m.coscheduled for m in usage.mounts):
        return True  # one PipelineRun's workspace: Tekton's affinity assistant
    hosts = {m.placement.hostname for m in usage.mounts}
    if len(hosts) == 1 and None not in hosts:
        return True
    anchors = [m for m in usage.mounts if not _follows_another(m, usage)]
    if len(anchors) != 1:
        return False
    anchor = anchors[0]
    return anchor.placement.pods == 1 or anchor.placement.hostname is not None


def pinned(mount: Mount, usage: ClaimUsage) -> bool:
    """True when the mount's pods are held on one node: by hostname, or by following
    (required pod affinity on the hostname) another pod that mounts the claim."""
    return mount.placement.hostname is not None or _follows_another(mount, usage)


def _follows_another(mount: Mount, usage: ClaimUsage) -> bool:
    for selector in mount.placement.follows:
        for other in usage.mounts:
            if other is mount:
                continue
            labels = other.workload.labels
            if all(labels.get(k) == v for k, v in selector.items()):
                return True
    return False
