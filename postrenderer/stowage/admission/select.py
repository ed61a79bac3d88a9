"""Which pods a target selects at admission, as CEL over the Pod being created.

Render time selects a workload by its labels (workload and pod template merged), by
kind, by the component of a multi-pod kind, or through a template site that names
the target. A Pod being created carries only its template's labels and annotations,
and knows its owner only by ownerReferences, so at admission:

- `matchLabels` are matched against the pod's own labels;
- `kinds` against the pod's controller: a Deployment's pods are owned by a
  ReplicaSet, a CronJob's by a Job, a bare Pod by nothing;
- a target reached through a preset's template site is matched by what that
  launcher's code puts on the pods it creates (:data:`RECOGNISERS`);
- as at render time the first target by role name wins, and a pod a launcher
  created belongs to that launcher's target before any matchLabels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from stowage.admission import cel
from stowage.plan.configdata import Config, Target
from stowage.pods.podspecs import USER_LABEL

POD = "object.metadata"
# Owl 0.8.3's Job builder (owl_server.k8s.kube_create_job_object) sets no labels: its Job
# is named pipeline-<id>, its one container `jobcontainer` runs `owl-server pipeline` with
# the submitting user in env USER. The Job controller owns the pod.
OWL_PIPELINE = (
    'object.spec.containers.exists(c, c.name == "jobcontainer" && '
    'c.?args.orValue([]) == ["owl-server", "pipeline"]) && '
    "object.metadata.?ownerReferences.orValue([]).exists(r, "
    'r.kind == "Job" && r.name.matches("^pipeline-[0-9]+$"))'
)
OWL_PIPELINE_USER = (
    'object.spec.containers.filter(c, c.name == "jobcontainer")'
    '.map(c, c.?env.orValue([]).filter(e, e.name == "USER" && e.?value.hasValue()))'
    '.exists(l, l.size() > 0) ? object.spec.containers.filter(c, c.name == "jobcontainer")'
    '[0].env.filter(e, e.name == "USER" && e.?value.hasValue())[0].value : ""'
)
# dask-kubernetes' classic KubeCluster (what Owl's pipeline runs) labels its pods
# app=dask, dask.org/cluster-name and dask.org/component (scheduler or worker); Owl's
# own templates add `user`.
DASK_LABELS = (
    f'{POD}.?labels[?"app"] == optional.of("dask") && '
    f'{POD}.?labels[?"dask.org/cluster-name"].hasValue()'
)
DASK_COMPONENT = f'{POD}.?labels[?"dask.org/component"].orValue("")'
OWL_DASK_USER = f'{POD}.?labels[?"user"].orValue("")'
OWNER_KINDS = {"Deployment": "ReplicaSet", "CronJob": "Job"}


@dataclass(frozen=True)
class Recogniser:
    """How one launcher's pods look when they reach the API server."""

    expression: str
    user: str  # CEL for the user it records, "" when it records none
    components: str | None  # CEL for the pod's component, None: the site's only one
    component: str  # that one component


def recognisers(config: Config) -> dict[str, list[Recogniser]]:
    """Role -> the launchers whose pods it gets, from the config's template presets."""
    found: dict[str, list[Recogniser]] = {}
    for source in config.templates:
        if source.preset == "owl":
            found.setdefault("pipeline", []).append(
                Recogniser(OWL_PIPELINE, OWL_PIPELINE_USER, None, "pipeline")
            )
            found.setdefault("dask", []).append(
                Recogniser(DASK_LABELS, OWL_DASK_USER, DASK_COMPONENT, "")
            )
        elif source.preset == "dask-kubernetes":
            found.setdefault("dask", []).append(Recogniser(DASK_LABELS, "", DASK_COMPONENT, ""))
    return {role: _unique(items) for role, items in found.items()}


def _unique(items: list[Recogniser]) -> list[Recogniser]:
    seen: list[Recogniser] = []
    for item in items:
        if item.expression not in [s.expression for s in seen]:
            seen.append(item)
    return seen


def sited_roles(config: Config) -> set[str]:
    """Roles that explicit template sites name: reached at render time only."""
    return {
        site.target
        for source in config.templates
        for site in source.sites
        if site.target is not None
    }


def recognised(recogniser: Recogniser, target: Target) -> str:
    """The recogniser, restricted to the target's `components`."""
    if target.components is None:
        return recogniser.expression
    if recogniser.components is None:
        return recogniser.expression if recogniser.component in target.components else "false"
    wanted = cel.strings(sorted(target.components))
    return f"({recogniser.expression}) && {recogniser.components} in {wanted}"


def by_labels(target: Target, metadata: str = POD, kind: str | None = None) -> str:
    """The target's matchLabels and kinds, on a pod (``kind`` None) or a workload."""
    if not target.matchLabels or target.components is not None:
        return "false"  # components name pods of multi-pod kinds: no pod-level equivalent
    parts = [cel.labels_match(metadata, target.matchLabels)]
    if target.kinds is not None:
        if kind is not None:
            parts.append(f"{kind} in {cel.strings(sorted(target.kinds))}")
        else:
            parts.append(_owned_by(target.kinds))
    return " && ".join(parts)


def _owned_by(kinds: list[str]) -> str:
    owners = sorted({OWNER_KINDS.get(k, k) for k in kinds if k != "Pod"})
    controllers = (
        "object.metadata.?ownerReferences.orValue([]).filter(r, r.?controller.orValue(false))"
    )
    options = []
    if owners:
        options.append(f"{controllers}.exists(r, r.kind in {cel.strings(owners)})")
    if "Pod" in kinds:
        options.append(f"{controllers}.size() == 0")
    return "(" + " || ".join(options or ["false"]) + ")"


def selection(config: Config, role: str) -> str:
    """CEL: the pod being created belongs to ``role`` (the first target that selects it)."""
    found = recognisers(config)
    target = config.targets[role]
    own = [recognised(r, target) for r in found.get(role, [])]
    launched = [r.expression for items in found.values() for r in items]
    earlier = [by_labels(config.targets[r]) for r in sorted(config.targets) if r < role]
    labelled = [by_labels(target), *(f"!({e})" for e in earlier if e != "false")]
    labelled += [f"!({e})" for e in launched]
    options = [f"({e})" for e in own if e != "false"]
    if labelled[0] != "false":
        options.append("(" + " && ".join(labelled) + ")")
    return " || ".join(options) or "false"


def user(config: Config, role: str) -> str:
    """CEL for the user a pod runs for: label stowage.io/user, else what its launcher records."""
    fallback = '""'
    for recogniser in reversed(recognisers(config).get(role, [])):
        if recogniser.user:
            fallback = f"({recogniser.expression}) ? ({recogniser.user}) : {fallback}"
    return f"{POD}.?labels[?{cel.string(USER_LABEL)}].orValue({fallback})"


def label_roles(targets: Mapping[str, Target]) -> list[str]:
    return [role for role in sorted(targets) if by_labels(targets[role]) != "false"]
