"""Workloads: every pod spec in the stream, with what targeting and checks need to know.

Pure: built from a parsed :class:`~stowage.read.manifests.Stream`. Pod templates kept
in ConfigMap data (the config's `templates`) appear as workloads of their own,
over the parsed data key (``template_key`` set). A pod spec that is not shaped
as a PodSpec (Owl's pipeline fragment, an Argo template, a SparkApplication's
driver or executor) is seen through a :class:`PodView`: a PodSpec-shaped dict
whose parts are the manifest's own objects, written back by :meth:`Workload.commit`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from stowage.errors import UsageError
from stowage.findings import ResourceRef
from stowage.plan.configdata import Config, TemplateSite
from stowage.pods import flink, tekton
from stowage.pods.podspecs import (
    WILD,
    KindRule,
    Path,
    PodSite,
    SpecRule,
    api_group,
    declared_rule,
    expand_wild,
    get_in,
    kind_rule,
    parse_path,
    sites,
)
from stowage.pods.shapes import TEMPLATE_SHAPES, problem_in, rule_shape
from stowage.pods.templates import Source, keys_of, selects
from stowage.pods.templates import sources as template_sources
from stowage.read.manifests import Document, Object, Stream

# Helm hooks (`helm test` pods, pre-install Jobs) are not platform workloads: stowage leaves
# them as rendered, so Helm 4 (which post-renders hooks) and Helm 3 (which does not) agree.
HOOK_ANNOTATION = "helm.sh/hook"
# pod-spec key -> where it sits, relative to the site, for each non-PodSpec view;
# "^" steps up one level (Argo's and Spark's volumes are the workflow's/application's).
_POD_LEVEL = ("volumes", "securityContext", "nodeSelector", "tolerations", "affinity")
POD_SLOTS: dict[str, dict[str, Path]] = {
    "fragment": {"volumes": ("volumes",), "securityContext": ("securityContext",)},
    "argo": {
        "volumes": ("^", "^", "volumes"),
        "securityContext": ("securityContext",),
        "nodeSelector": ("nodeSelector",),
        "tolerations": ("tolerations",),
        "affinity": ("affinity",),
    },
    "spark": {
        "volumes": ("^", "volumes"),
        "securityContext": ("podSecurityContext",),
        "nodeSelector": ("nodeSelector",),
        "tolerations": ("tolerations",),
        "affinity": ("affinity",),
    },
    # Tekton's pod template has no containers: pod-level settings only (SW905 says so).
    "tekton": {key: ("podTemplate", key) for key in _POD_LEVEL},
    "tekton-v1": {key: ("taskRunTemplate", "podTemplate", key) for key in _POD_LEVEL},
    # A KServe predictor given `model:`: pod fields inline, the model is a container.
    "kserve-model": {key: (key,) for key in _POD_LEVEL},
}
# container key -> where it sits, for views whose container is not a Container object
CONTAINER_SLOTS: dict[str, dict[str, Path]] = {
    # Owl 0.8.3 reads `pipeline.extraEnv` as name/value pairs (daemon/scheduler.py)
    "fragment": {"volumeMounts": ("volumeMounts",), "env": ("extraEnv",)},
    "spark": {
        "volumeMounts": ("volumeMounts",),
        "env": ("env",),
        "securityContext": ("securityContext",),
    },
    "kserve-model": {
        "volumeMounts": ("model", "volumeMounts"),
        "env": ("model", "env"),
        "securityContext": ("model", "securityContext"),
    },
}


def _resolve(site: Path, relative: Path) -> Path:
    path = list(site)
    for key in relative:
        if key == "^":
            path.pop()
        else:
            path.append(key)
    return tuple(path)


@dataclass
class PodView:
    """A PodSpec-shaped dict over the parts of a pod spec stored elsewhere."""

    pod: dict[str, Any]
    slots: list[tuple[dict[str, Any], str, Path]]  # (dict in the view, key, manifest path)


@dataclass
class Workload:
    """One pod spec in one manifest (or in a ConfigMap data key).

    Its names, labels and annotations are read once: attach changes only the
    pod spec, and checks ask for them many times.
    """

    object: Object  # the object in the stream (for a carried template: the ConfigMap)
    manifest: dict[str, Any]  # the manifest holding the pod spec (the carried one for templates)
    site: PodSite
    role: str | None = None  # the template site's `target`: its role, whatever the labels
    _view: PodView | None = field(default=None, repr=False, compare=False)
    _spec: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    @property
    def doc(self) -> Document:
        """The stream document holding it (a List's, for a List item)."""
        return self.object.doc

    @property
    def kind(self) -> str:
        return self.site.kind

    @property
    def in_data(self) -> bool:
        """A declared site inside a ConfigMap data key (not a whole carried manifest)."""
        return self.site.template_path is not None

    @cached_property
    def ref(self) -> ResourceRef:
        """What exists in the cluster: for a carried template, its ConfigMap and data key."""
        if self.site.template_key is not None:
            carrier = self.object.ref
            return ResourceRef(
                carrier.kind, carrier.namespace, carrier.name, self.site.template_key
            )
        meta = self.manifest.get("metadata") or {}
        # Argo workflows are often named by generateName only.
        name = meta.get("name") or meta.get("generateName") or self.object.ref.name
        return ResourceRef(
            self.kind, str(meta.get("namespace") or self.object.ref.namespace or ""), str(name)
        )

    @cached_property
    def label(self) -> str:
        """How messages name it: Kind/name, plus the component of a multi-pod kind."""
        if self.in_data:
            where = f"data.{self.site.template_key}: {self.site.template_path or '(whole)'}"
            return f"{self.site.component} template in ConfigMap/{self.object.ref.name} {where}"
        suffix = "" if self.site.component == "pod" else f" ({self.site.component})"
        carried = f" in ConfigMap/{self.object.ref.name}" if self.is_template else ""
        meta = self.manifest.get("metadata") or {}
        name = meta.get("name") or meta.get("generateName") or self.object.ref.name
        return f"{self.kind}/{name}{suffix}{carried}"

    @property
    def is_template(self) -> bool:
        """A pod template launched at run time (e.g. one pipeline Job per run)."""
        return self.site.template_key is not None

    @property
    def pod_spec(self) -> dict[str, Any]:
        if self._spec is not None:  # checks ask tens of thousands of times
            return self._spec
        if self.site.view == "pod" or self._overlay_alone:
            spec = get_in(self.manifest, self.site.path)
            if not isinstance(spec, dict):
                return {}
            self._spec = spec  # edited in place from here on, never replaced
            return spec
        if self._view is None:
            self._view = _build_view(self.manifest, self.site)
        return self._view.pod

    @property
    def _overlay_alone(self) -> bool:
        """A Flink manager's own template with no shared one to lay it over: the pod itself."""
        return self.site.view == "flink-overlay" and flink.shared_spec(self.manifest) is None

    def commit(self) -> None:
        """Write what attach added to a view's new parts back into the manifest."""
        if self.site.view == "flink-overlay":
            self._view = None  # read the merge again: only the manager's own parts were kept
        if self._view is None:
            return
        if self.site.view == "created":
            if self._view.pod != _created_stub(self.site):
                _set_in(self.manifest, self.site.path, self._view.pod)
            return
        for holder, key, path in self._view.slots:
            value = holder.get(key)
            if value is not None and get_in(self.manifest, path) is not value:
                _set_in(self.manifest, path, value)

    @property
    def claim_template_names(self) -> set[str]:
        """Volumes the controller adds from claim templates (a StatefulSet's
        volumeClaimTemplates, JobSet's volumeClaimPolicies, Argo's and LWS's)."""
        paths: tuple[Path, ...] = self.site.rule.claim_templates if self.site.rule else ()
        if self.kind == "StatefulSet" and not self.is_template:
            paths = (("spec", "volumeClaimTemplates", WILD),)
        names = set()
        for path in paths:
            for found, _ in expand_wild(self.manifest, path):
                name = get_in(self.manifest, (*found, "metadata", "name"))
                if isinstance(name, str):
                    names.add(name)
        return names

    @cached_property
    def labels(self) -> dict[str, str]:
        """Workload labels overlaid with pod template labels."""
        return self._merged("labels")

    @cached_property
    def annotations(self) -> dict[str, str]:
        return self._merged("annotations")

    @property
    def is_helm_hook(self) -> bool:
        """A Helm hook or `helm test` pod (annotation helm.sh/hook), on it or its carrier."""
        body = self.doc.body
        carrier = (body.get("metadata") or {}) if isinstance(body, dict) else {}
        return HOOK_ANNOTATION in self.annotations or HOOK_ANNOTATION in (
            carrier.get("annotations") or {}
        )

    def _merged(self, field_name: str) -> dict[str, str]:
        merged: dict[str, str] = {}
        paths: list[Path] = [] if self.in_data else [("metadata", field_name)]
        if self.site.metadata_path is not None:
            paths.append((*self.site.metadata_path, field_name))
        for path in paths:
            value = get_in(self.manifest, path)
            if isinstance(value, dict):
                merged.update({str(k): str(v) for k, v in value.items()})
        return merged


def _created_stub(site: PodSite) -> dict[str, Any]:
    """A PodSpec the kind lacks: its main container, by the name its operator merges."""
    return {"containers": [{"name": site.rule.created if site.rule else site.component}]}


def _build_view(manifest: dict[str, Any], site: PodSite) -> PodView:
    if site.view == "created":
        return PodView(_created_stub(site), [])  # written whole by commit, once it holds more
    if site.view == "flink-overlay":
        # The pod the operator builds; attach writes nothing back (no slots): the shared
        # template, attached before it, carries the storage into this pod.
        own = get_in(manifest, site.path)
        shared = flink.shared_spec(manifest)
        return PodView(flink.merged_pod(shared or {}, own if isinstance(own, dict) else {}), [])
    pod: dict[str, Any] = {}
    slots: list[tuple[dict[str, Any], str, Path]] = []
    for key, relative in POD_SLOTS.get(site.view, {}).items():
        path = _resolve(site.path, relative)
        _bind_slot(manifest, pod, key, path, slots)
    if site.view == "argo":
        node = get_in(manifest, site.path) or {}
        own = [node.get("container"), node.get("script")]
        own += list(get_in(node, ("containerSet", "containers")) or [])
        pod["containers"] = [c for c in own if isinstance(c, dict)]
        if isinstance(node.get("initContainers"), list):
            pod["initContainers"] = node["initContainers"]
    else:
        container: dict[str, Any] = {"name": site.component}
        for key, relative in CONTAINER_SLOTS.get(site.view, {}).items():
            _bind_slot(manifest, container, key, _resolve(site.path, relative), slots)
        pod["containers"] = [container]
    if site.view == "kserve-model":  # the model, then the predictor's own containers
        node = get_in(manifest, site.path) or {}
        pod["containers"] += [c for c in node.get("containers") or [] if isinstance(c, dict)]
        if isinstance(node.get("initContainers"), list):
            pod["initContainers"] = node["initContainers"]
    return PodView(pod, slots)


def _bind_slot(
    manifest: dict[str, Any],
    holder: dict[str, Any],
    key: str,
    path: Path,
    slots: list[tuple[dict[str, Any], str, Path]],
) -> None:
    value = get_in(manifest, path)
    if value is not None:
        holder[key] = value
    slots.append((holder, key, path))


def _set_in(body: dict[str, Any], path: Path, value: Any) -> None:
    node: Any = body
    for key in path[:-1]:
        if isinstance(node, dict) and node.get(key) is None:
            node[key] = {}  # only where nothing is: an Argo workflow's `templates` is a list
        node = node[key]
    node[path[-1]] = value


def uri_claims(workload: Workload) -> Iterator[tuple[str, bool]]:
    """Claims a model URI names (`pvc://claim/path`): KServe mounts them read-only."""
    rule = workload.site.rule
    for path in rule.uri_claims if rule else ():
        uri = get_in(workload.manifest, path)
        if isinstance(uri, str) and uri.startswith("pvc://"):
            name = uri[len("pvc://") :].split("/", 1)[0]
            if name:
                yield name, True


def job_volume_claims(workload: Workload) -> Iterator[tuple[str, dict[str, Any] | None]]:
    """A Volcano job's `spec.volumes`: (claim name, the claim spec Volcano creates it from,
    None for an existing claim). "All the volumes are shared by all pods within a Job"."""
    rule = workload.site.rule
    if rule is None or not rule.job_volumes:
        return
    volumes = get_in(workload.manifest, rule.job_volumes)
    for index, volume in enumerate(volumes if isinstance(volumes, list) else []):
        if not isinstance(volume, dict):
            continue
        name, spec = volume.get("volumeClaimName"), volume.get("volumeClaim")
        spec = spec if isinstance(spec, dict) else None
        if isinstance(name, str) and name:
            yield name, spec
        elif spec is not None:
            yield f"{workload.ref.name} spec.volumes[{index}]", spec


def referenced_claims(workload: Workload) -> set[str]:
    """Claims an operator mounts into the workload's pods from outside its pod spec."""
    return (
        {name for name, _ in job_volume_claims(workload)}
        | {name for name, _ in uri_claims(workload)}
        | {name for name, _ in workspace_claims(workload)}
    )


def workspace_claims(workload: Workload) -> Iterator[tuple[str, bool]]:
    """The claims a Tekton TaskRun's or PipelineRun's workspaces bind (found at its pod
    template's site: the claims belong to the run, which has no other)."""
    if workload.site.view in ("tekton", "tekton-v1"):
        yield from tekton.workspace_claims(workload.manifest)


# Parses a carried template: (the ConfigMap's document, its data key, the text).
Loader = Callable[[Document, str, str], Any]


@dataclass
class TemplateMatch:
    """What one template source or site reached, for the warnings on what matched nothing."""

    source: Source
    configmaps: int = 0
    sites: dict[int, int] = field(default_factory=dict)  # site index -> pod specs found


def declared_kinds(config: Config | None) -> tuple[KindRule, ...]:
    if config is None:
        return ()
    return tuple(
        declared_rule(k.group, k.kind, [(p.component, p.path, p.replicas) for p in k.podSpecs])
        for k in config.kinds
    )


def collect(
    stream: Stream,
    load_template: Loader,
    config: Config | None = None,
    matches: list[TemplateMatch] | None = None,
) -> Iterator[Workload]:
    """Every workload in stream order; template keys are parsed with ``load_template``.

    ``matches``, when given, receives per template source what it reached.
    """
    declared = declared_kinds(config)
    found = [TemplateMatch(s) for s in template_sources(config.templates if config else [])]
    if matches is not None:
        matches.extend(found)
    for obj in stream.objects():
        chosen = [m for m in found if selects(m.source.spec.configMap, obj.body)]
        if chosen:
            yield from _template_workloads(obj, chosen, load_template, declared)
            continue
        _refuse_bad_declared(obj, declared)
        for site in sites(obj.body, declared):
            yield Workload(obj, obj.body, site)


def _refuse_bad_declared(obj: Object, declared: tuple[KindRule, ...]) -> None:
    """A declared kind is read like a built-in one: a field of the wrong type is refused."""
    rule = kind_rule(api_group(obj.body), str(obj.body.get("kind")), declared)
    if rule is None or rule not in declared:
        return
    problem = problem_in(obj.body, rule_shape(rule), "")
    if problem:
        raise UsageError(f"{problem} (the API server would refuse it too)", where=obj.doc.where())


def _template_workloads(
    obj: Object, chosen: list[TemplateMatch], load: Loader, declared: tuple[KindRule, ...]
) -> Iterator[Workload]:
    parsed: dict[str, Any] = {}  # one parsed value per key, shared by every site in it
    for match in chosen:
        match.configmaps += 1
        for key in keys_of(match.source, obj.body):
            if key not in parsed:
                parsed[key] = load(obj.doc, key, obj.body["data"][key])
            root = parsed[key]
            for index, site in enumerate(match.source.sites):
                reached = list(_site_workloads(obj, key, root, site, declared))
                match.sites[index] = match.sites.get(index, 0) + len(reached)
                yield from reached


def _site_workloads(
    obj: Object, key: str, root: Any, site: TemplateSite, declared: tuple[KindRule, ...]
) -> Iterator[Workload]:
    if not isinstance(root, dict):
        return
    base = parse_path(site.path)
    for path, bindings in expand_wild(root, base):
        node = get_in(root, path) if path else root
        if not isinstance(node, dict):
            continue
        if site.shape == "manifest":
            yield from _manifest_workloads(
                obj, key, root, path, node=node, site=site, declared=declared
            )
            continue
        view = "fragment" if site.shape == "fragment" else "pod"
        problem = problem_in(node, TEMPLATE_SHAPES[view], site.path)
        if problem:
            raise UsageError(
                f"pod template in data.{key}: {problem} (the consumer would refuse it)",
                where=obj.doc.where(),
            )
        rule = SpecRule(site.component, base, view=view, many="a pod template: launched per run")
        pod_site = PodSite("Pod", site.component, path, key, rule, bindings, site.path or "(whole)")
        if view == "pod" and not _looks_like_pod_spec(node):
            continue
        yield Workload(obj, root, pod_site, site.target)


def _manifest_workloads(
    obj: Object,
    key: str,
    root: Any,
    path: Path,
    *,
    node: dict[str, Any],
    site: TemplateSite,
    declared: tuple[KindRule, ...],
) -> Iterator[Workload]:
    for inner in sites(node, declared):
        component = inner.component if site.component == "pod" else site.component
        full = (*path, *inner.path)
        carried = PodSite(
            inner.kind,
            component,
            full,
            key,
            inner.rule,
            inner.bindings,
            site.path if path else None,
        )
        manifest = root if path else node
        yield Workload(obj, manifest, carried, site.target)


def _looks_like_pod_spec(node: dict[str, Any]) -> bool:
    return any(k in node for k in ("containers", "volumes", "initContainers"))


__all__ = [
    "Loader",
    "TemplateMatch",
    "Workload",
    "collect",
    "declared_kinds",
    "job_volume_claims",
    "referenced_claims",
    "uri_claims",
]
