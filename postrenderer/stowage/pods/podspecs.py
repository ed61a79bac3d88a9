"""Where a pod spec lives in each kind: the one table every other module uses.

Like kustomize's and Kyverno's lists of pod-spec locations: the built-in kinds,
the ML operators' kinds (matched by API group and kind, each with how many pods
it runs at once), and the kinds a config declares. A kind that is in none of
them carries no pod spec stowage knows of and passes through untouched (rule
SW902 warns when it looks like it does). Pod templates carried in ConfigMap data
are found through the config's `templates` (see :mod:`stowage.pods.templates`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

Path = tuple[str | int, ...]

# kind -> ((component, path to the PodSpec), ...)
POD_SPEC_PATHS: dict[str, tuple[tuple[str, Path], ...]] = {
    "Pod": (("pod", ("spec",)),),
    "Deployment": (("pod", ("spec", "template", "spec")),),
    "StatefulSet": (("pod", ("spec", "template", "spec")),),
    "DaemonSet": (("pod", ("spec", "template", "spec")),),
    "ReplicaSet": (("pod", ("spec", "template", "spec")),),
    "Job": (("pod", ("spec", "template", "spec")),),
    "CronJob": (("pod", ("spec", "jobTemplate", "spec", "template", "spec")),),
    "DaskCluster": (
        ("scheduler", ("spec", "scheduler", "spec")),
        ("worker", ("spec", "worker", "spec")),
    ),
    "DaskWorkerGroup": (("worker", ("spec", "worker", "spec")),),
    "DaskJob": (
        ("job", ("spec", "job", "spec")),
        ("scheduler", ("spec", "cluster", "spec", "scheduler", "spec")),
        ("worker", ("spec", "cluster", "spec", "worker", "spec")),
    ),
}
TEMPLATE_LABEL = "stowage.io/pod-template"
ROLE_LABEL = "stowage.io/role"
USER_LABEL = "stowage.io/user"
PLAN_LABEL = "stowage.io/plan"
DATA_REFS_ANNOTATION = "stowage.io/data-refs"
AUTO_MOUNT_ANNOTATION = "stowage.io/auto-mount"
# The seccomp profile stowage gives a pod that sets none, at render and at admission time.
SECCOMP = {"type": "RuntimeDefault"}
SKIP_ANNOTATION = "stowage.io/skip"


WILD = "*"  # in a rule's path: every list item (or every value of a mapping)

# API group of each built-in kind: a kind of another group (Volcano's batch.volcano.sh
# Job) is not the built-in one.
CORE_GROUPS: dict[str, str] = {
    "Pod": "", "Deployment": "apps", "StatefulSet": "apps", "DaemonSet": "apps",
    "ReplicaSet": "apps", "Job": "batch", "CronJob": "batch",
    "DaskCluster": "kubernetes.dask.org", "DaskWorkerGroup": "kubernetes.dask.org",
    "DaskJob": "kubernetes.dask.org",
}  # fmt: skip


@dataclass(frozen=True)
class SpecRule:
    """Where one kind keeps one (set of) pod spec(s), and how many pods each runs at once.

    ``path`` may hold :data:`WILD`; ``factors`` multiply, each the largest int found at
    its alternative paths (their wildcards bound to the site's), 1 when none is set.
    ``view`` says how the spec is shaped: ``pod`` (a PodSpec), ``fragment`` (Owl's
    volumes/volumeMounts/securityContext side by side), ``argo`` (an Argo template),
    ``spark`` (a SparkApplication driver or executor), ``flink-overlay`` (a PodSpec that
    its operator lays over the kind's shared one: a Flink job or task manager's own),
    ``created`` (a missing PodSpec stowage writes, from ``created``: see :func:`rule_sites`).
    """

    component: str  # fixed name; "{key}" takes the wildcard's mapping key or item name
    path: Path
    factors: tuple[tuple[Path, ...], ...] = ()
    unit: str = "pod"  # how messages count them: "Ray worker", "Volcano task pod", ...
    view: str = "pod"
    many: str = ""  # non-empty: runs as many pods at once as its users start (the reason)
    claim_templates: tuple[Path, ...] = ()  # claims the operator creates, mounted by name
    shared_claims: bool = True  # its claim templates are shared by its pods (not per pod/run)
    job_volumes: Path = ()  # Volcano's job-level volumes, mounted into every pod of the job
    uri_claims: tuple[Path, ...] = ()  # `pvc://claim/path` model URIs its pods mount (KServe)
    inline: bool = False  # PodSpec fields among others (KServe): a pod spec only with containers
    versions: tuple[str, ...] = ()  # the apiVersions it applies to (Tekton v1 vs v1beta1); all
    # Non-empty: the operator runs pods from nothing when the kind holds no pod spec at all
    # (Flink's image), and this one, missing, is written with a main container of this name.
    created: str = ""


@dataclass(frozen=True)
class KindRule:
    group: str
    kind: str
    specs: tuple[SpecRule, ...]


def _ray(prefix: Path) -> tuple[SpecRule, ...]:
    workers = (*prefix, "workerGroupSpecs", WILD)
    return (
        SpecRule("head", (*prefix, "headGroupSpec", "template", "spec"), unit="Ray head"),
        SpecRule(
            "worker",
            (*workers, "template", "spec"),
            (((*workers, "replicas"), (*workers, "maxReplicas")), ((*workers, "numOfHosts"),)),
            unit="Ray worker",
        ),
    )


# Kubeflow training operator kinds and the field of their replica specs (the admission
# policy judges the same kinds from this table).
KUBEFLOW_REPLICA_SPECS = {
    "PyTorchJob": "pytorchReplicaSpecs",
    "TFJob": "tfReplicaSpecs",
    "MPIJob": "mpiReplicaSpecs",
    "XGBoostJob": "xgbReplicaSpecs",
    "PaddleJob": "paddleReplicaSpecs",
    "JAXJob": "jaxReplicaSpecs",
}


def _kubeflow(kind: str, field: str) -> KindRule:
    role = ("spec", field, WILD)
    return KindRule(
        "kubeflow.org",
        kind,
        (SpecRule("{key}", (*role, "template", "spec"), (((*role, "replicas"),),), f"{kind} pod"),),
    )


def _argo(kind: str, workflow: Path) -> KindRule:
    # A Workflow runs once: each template is one pod per step that uses it (steps in
    # sequence may share a ReadWriteOnce claim, as Argo's volumes-pvc example does).
    # A template or schedule is run again and again, and its runs overlap.
    many = "" if kind == "Workflow" else f"an Argo {kind}: every run launches its own pods"
    return KindRule(
        "argoproj.io",
        kind,
        (
            SpecRule(
                "{key}",
                (*workflow, "templates", WILD),
                unit="Argo step pod",
                view="argo",
                many=many,
                claim_templates=((*workflow, "volumeClaimTemplates", WILD),),
                shared_claims=False,  # one claim per run, its steps usually in sequence
            ),
        ),
    )


def _spark(spec: Path) -> tuple[SpecRule, ...]:
    executors = ((*spec, "executor", "instances"), (*spec, "dynamicAllocation", "maxExecutors"))
    return (
        SpecRule("driver", (*spec, "driver"), unit="Spark driver", view="spark"),
        SpecRule("executor", (*spec, "executor"), (executors,), "Spark executor", "spark"),
    )


APPWRAPPER = ("workload.codeflare.dev", "AppWrapper")
_POD_TEMPLATE = SpecRule(
    "pod", ("template", "spec"), many="a PodTemplate: whatever uses it starts its pods"
)


def _flink() -> KindRule:
    """Flink's FlinkDeployment: a pod template for both, then the job manager's and the
    task managers' own, which the operator lays over it (read as that merge: see
    stowage.pods.flink); counts in stowage.pods.concurrency."""
    return KindRule(
        "flink.apache.org",
        "FlinkDeployment",
        (
            SpecRule(
                "pod",
                ("spec", "podTemplate", "spec"),
                unit="Flink pod",
                created="flink-main-container",  # the name Flink merges its own container with
            ),
            SpecRule(
                "jobmanager",
                ("spec", "jobManager", "podTemplate", "spec"),
                unit="job manager",
                view="flink-overlay",
            ),
            SpecRule(
                "taskmanager",
                ("spec", "taskManager", "podTemplate", "spec"),
                unit="task manager",
                view="flink-overlay",
            ),
        ),
    )


def _kserve() -> tuple[KindRule, ...]:
    """KServe: an InferenceService's components (each a PodSpec with its own fields), a
    multi-node predictor's workerSpec, the serving runtimes, LLMInferenceService pools."""
    group = "serving.kserve.io"
    model_uris = (("spec", "predictor", "model", "storageUri"), ("spec", "predictor", "storageUri"))
    components = tuple(
        SpecRule(
            name,
            ("spec", name),
            ((("spec", name, "maxReplicas"), ("spec", name, "minReplicas")),),
            unit=f"{name} pod",
            uri_claims=model_uris if name == "predictor" else (),
            inline=True,
        )
        for name in ("predictor", "transformer", "explainer")
    )
    # A predictor given `model:`: the model object is a container, beside the predictor's own
    # `containers` when it has them (a transformer collocated in the same pod).
    model = SpecRule(
        "predictor",
        ("spec", "predictor"),
        ((("spec", "predictor", "maxReplicas"), ("spec", "predictor", "minReplicas")),),
        unit="predictor pod",
        view="kserve-model",
        uri_claims=model_uris,
    )
    worker = SpecRule(
        "worker",
        ("spec", "predictor", "workerSpec"),
        ((("spec", "predictor", "maxReplicas"), ("spec", "predictor", "minReplicas")),
         (("spec", "predictor", "workerSpec", "pipelineParallelSize"),)),
        unit="predictor worker pod",
        uri_claims=model_uris,
        inline=True,
    )  # fmt: skip
    llm_uri = (("spec", "model", "uri"),)
    llm = tuple(
        SpecRule(
            component,
            path,
            ((replicas,),),
            unit=f"{component} pod",
            uri_claims=llm_uri,
            inline=True,
        )
        for component, path, replicas in (
            ("decode", ("spec", "template"), ("spec", "replicas")),
            ("decode-worker", ("spec", "worker"), ("spec", "replicas")),
            ("prefill", ("spec", "prefill", "template"), ("spec", "prefill", "replicas")),
            ("prefill-worker", ("spec", "prefill", "worker"), ("spec", "prefill", "replicas")),
        )
    )
    return (
        KindRule(group, "InferenceService", (*components, model, worker)),
        _serving_runtime(group, "ServingRuntime"),
        _serving_runtime(group, "ClusterServingRuntime"),
        KindRule(group, "LLMInferenceService", llm),
    )


def _serving_runtime(group: str, kind: str) -> KindRule:
    many = f"a {kind}: every InferenceService that uses it runs these pods"
    return KindRule(group, kind, (SpecRule("runtime", ("spec",), unit="pod", many=many),))


def _volcano(group: str, kind: str, job: Path) -> KindRule:
    """A Volcano Job's tasks (also a CronJob's job template and a JobFlow's JobTemplate)."""
    task = (*job, "tasks", WILD)
    return KindRule(
        group,
        kind,
        (
            SpecRule(
                "{key}",
                (*task, "template", "spec"),
                (((*task, "replicas"),),),
                unit="Volcano task pod",
                job_volumes=(*job, "volumes"),
            ),
        ),
    )


def _training_runtime(kind: str) -> KindRule:
    """Kubeflow Trainer v2: a runtime's JobSet template, run by every TrainJob naming it."""
    job = ("spec", "template", "spec", "replicatedJobs", WILD)
    return KindRule(
        "trainer.kubeflow.org",
        kind,
        (
            SpecRule(
                "{key}",
                (*job, "template", "spec", "template", "spec"),
                unit=f"{kind} pod",
                many=f"a {kind}: every TrainJob that names it runs these pods",
            ),
        ),
    )


def _tekton() -> tuple[KindRule, ...]:
    """Tekton: a run's pod template (no containers: the Tasks' steps are elsewhere) takes
    pod-level settings only; a PipelineRun's sits under `taskRunTemplate` in v1."""
    return (
        KindRule(
            "tekton.dev",
            "TaskRun",
            (SpecRule("pod", ("spec",), unit="TaskRun pod", view="tekton"),),
        ),
        KindRule(
            "tekton.dev",
            "PipelineRun",
            (
                SpecRule(
                    "pod",
                    ("spec",),
                    unit="task pod",
                    view="tekton-v1",
                    versions=("tekton.dev/v1",),
                ),
                SpecRule(
                    "pod",
                    ("spec",),
                    unit="task pod",
                    view="tekton",
                    versions=("tekton.dev/v1beta1", "tekton.dev/v1alpha1"),
                ),
            ),
        ),
    )


_JOBSET_JOB = ("spec", "replicatedJobs", WILD)
_LWS = ("spec", "leaderWorkerTemplate")
_LWS_CLAIMS = ((*_LWS, "volumeClaimTemplates", WILD),)

OPERATOR_KINDS: tuple[KindRule, ...] = (
    KindRule("ray.io", "RayCluster", _ray(("spec",))),
    KindRule(
        "ray.io",
        "RayJob",
        (
            *_ray(("spec", "rayClusterSpec")),
            SpecRule("submitter", ("spec", "submitterPodTemplate", "spec"), unit="submitter"),
        ),
    ),
    KindRule("ray.io", "RayService", _ray(("spec", "rayClusterConfig"))),
    *(_kubeflow(kind, field) for kind, field in KUBEFLOW_REPLICA_SPECS.items()),
    KindRule(
        "jobset.x-k8s.io",
        "JobSet",
        (
            SpecRule(
                "{key}",
                (*_JOBSET_JOB, "template", "spec", "template", "spec"),
                (
                    ((*_JOBSET_JOB, "replicas"),),
                    ((*_JOBSET_JOB, "template", "spec", "parallelism"),),
                ),
                unit="JobSet pod",
                claim_templates=(("spec", "volumeClaimPolicies", WILD, "templates", WILD),),
            ),
        ),
    ),
    KindRule(
        "leaderworkerset.x-k8s.io",
        "LeaderWorkerSet",
        (
            SpecRule(
                "leader",
                (*_LWS, "leaderTemplate", "spec"),
                ((("spec", "replicas"),),),
                unit="leader",
                claim_templates=_LWS_CLAIMS,
                shared_claims=False,  # one claim per pod, like a StatefulSet's
            ),
            SpecRule(
                "worker",
                (*_LWS, "workerTemplate", "spec"),
                ((("spec", "replicas"),), ((*_LWS, "size"),)),
                unit="group pod",
                claim_templates=_LWS_CLAIMS,
                shared_claims=False,
            ),
        ),
    ),
    _volcano("batch.volcano.sh", "Job", ("spec",)),
    _volcano("batch.volcano.sh", "CronJob", ("spec", "jobTemplate", "spec")),
    _volcano("flow.volcano.sh", "JobTemplate", ("spec",)),
    _argo("Workflow", ("spec",)),
    _argo("WorkflowTemplate", ("spec",)),
    _argo("ClusterWorkflowTemplate", ("spec",)),
    _argo("CronWorkflow", ("spec", "workflowSpec")),
    KindRule("sparkoperator.k8s.io", "SparkApplication", _spark(("spec",))),
    KindRule("sparkoperator.k8s.io", "ScheduledSparkApplication", _spark(("spec", "template"))),
    _flink(),
    *_kserve(),
    *_tekton(),
    KindRule(
        "sparkoperator.k8s.io",
        "SparkConnect",
        (
            SpecRule("server", ("spec", "server", "template", "spec"), unit="Spark Connect server"),
            SpecRule(
                "executor",
                ("spec", "executor", "template", "spec"),
                ((("spec", "executor", "instances"),),),
                unit="Spark executor",
            ),
        ),
    ),
    _training_runtime("TrainingRuntime"),
    _training_runtime("ClusterTrainingRuntime"),
    KindRule("", "PodTemplate", (_POD_TEMPLATE,)),
    KindRule(*APPWRAPPER, ()),  # its pod specs are where its podSets say: wrapped_sites()
    KindRule(
        "kubeflow.org",
        "Notebook",
        (
            SpecRule("pod", ("spec", "template", "spec"), unit="notebook pod"),
        ),  # a 1-replica StatefulSet
    ),
)
# Kinds that make pods from specs kept elsewhere (rule SW905 says so): read, never attached to.
# A FlinkSessionJob runs a job in an existing FlinkDeployment session cluster's pods.
PODS_ELSEWHERE_KINDS = frozenset({"TrainJob", "FlinkSessionJob"})
# Kinds that order other objects' runs (a Volcano JobFlow runs its JobTemplates in turn).
ORDER_KINDS = frozenset({"JobFlow"})
OPERATOR_KIND_NAMES = (
    frozenset(rule.kind for rule in OPERATOR_KINDS) | PODS_ELSEWHERE_KINDS | ORDER_KINDS
)


@dataclass(frozen=True)
class Autoscaler:
    """A kind that sets a workload's replicas up to a maximum (an HPA, and what makes one)."""

    name: str  # how messages name it
    field: str  # the spec field holding the most replicas
    default_most: int | None = None  # when that field is unset
    default_kind: str | None = None  # of the scaleTargetRef that names no kind


# Kinds that raise another object's replicas (read, never attached to), by (group, kind).
# KEDA scales a ScaledObject's target through an HPA it makes with maxReplicaCount (100
# when unset); its scaleTargetRef's kind defaults to Deployment.
AUTOSCALERS = {
    ("autoscaling", "HorizontalPodAutoscaler"): Autoscaler("HPA", "maxReplicas"),
    ("datadoghq.com", "WatermarkPodAutoscaler"): Autoscaler(
        "WatermarkPodAutoscaler", "maxReplicas"
    ),
    ("keda.sh", "ScaledObject"): Autoscaler(
        "KEDA ScaledObject", "maxReplicaCount", default_most=100, default_kind="Deployment"
    ),
}
AUTOSCALER_KINDS = frozenset(kind for _, kind in AUTOSCALERS)


@dataclass(frozen=True)
class PodSite:
    """One pod spec inside one manifest (or inside a template a ConfigMap carries)."""

    kind: str  # kind of the manifest holding the pod spec
    component: str  # "pod", or "scheduler"/"worker"/"job" for the Dask kinds, ...
    path: Path  # from the manifest root to the PodSpec
    template_key: str | None = None  # ConfigMap data key, for a carried pod template
    rule: SpecRule | None = None  # for operator and declared kinds: how to count its pods
    bindings: Path = ()  # the keys the rule's wildcards took for this site
    template_path: str | None = None  # the declared site inside the data key (not a manifest)

    @property
    def metadata_path(self) -> Path | None:
        """Where the pod's own metadata sits (beside the PodSpec; None for a fragment)."""
        view = self.rule.view if self.rule else "pod"
        if view == "argo":
            return (*self.path, "metadata")
        if view == "spark":
            return self.path  # `labels` and `annotations` sit on the driver/executor itself
        if view in ("fragment", "tekton", "tekton-v1", "kserve-model"):
            return None  # the object's own labels (a KServe component has no metadata)
        return (*self.path[:-1], "metadata")

    @property
    def view(self) -> str:
        return self.rule.view if self.rule else "pod"


def bind(path: Path, bindings: Path) -> Path:
    """``path`` with its wildcards replaced, in order, by ``bindings``."""
    keys = iter(bindings)
    return tuple(next(keys, WILD) if key == WILD else key for key in path)


def expand_wild(body: Any, path: Path) -> Iterator[tuple[Path, Path]]:
    """(concrete path, wildcard bindings) for every place ``path`` reaches in ``body``."""
    yield from _expand(body, path, (), ())


def _expand(node: Any, rest: Path, done: Path, bound: Path) -> Iterator[tuple[Path, Path]]:
    if not rest:
        yield done, bound
        return
    key, tail = rest[0], rest[1:]
    if key == WILD:
        items: list[tuple[str | int, Any]] = []
        if isinstance(node, list):
            items = list(enumerate(node))
        elif isinstance(node, dict):
            items = [(k, v) for k, v in node.items() if isinstance(k, str)]
        for concrete, child in items:
            yield from _expand(child, tail, (*done, concrete), (*bound, concrete))
        return
    child = get_in(node, (key,))
    if child is not None:
        yield from _expand(child, tail, (*done, key), bound)


def api_group(body: dict[str, Any]) -> str | None:
    """The API group of a manifest ("" for the core group), None when it has no apiVersion."""
    version = body.get("apiVersion")
    if not isinstance(version, str):
        return None
    return version.split("/", 1)[0] if "/" in version else ""


def get_in(body: Any, path: Path) -> Any:
    """The value at ``path`` (dict keys and list indexes), or None where it is missing."""
    node = body
    for key in path:
        # Most keys are strings: one cheap test skips isinstance (checks call this a lot).
        if key.__class__ is not str and isinstance(key, int):
            if not isinstance(node, list) or key >= len(node):
                return None
            node = node[key]
        elif isinstance(node, dict):
            node = node.get(key)
        else:
            return None
    return node


def list_at(body: Any, path: Path) -> list[Any]:
    """The list at ``path``, or [] when it is missing or of another type (a user's manifest
    may hold anything: a wrong type is the API server's to refuse, never a crash here)."""
    value = get_in(body, path)
    return value if isinstance(value, list) else []


def dict_at(body: Any, path: Path) -> dict[str, Any]:
    """The mapping at ``path``, or {} when it is missing or of another type."""
    value = get_in(body, path)
    return value if isinstance(value, dict) else {}


def containers(pod: dict[str, Any], include_init: bool = True) -> Iterator[dict[str, Any]]:
    """The containers of a pod spec, then (by default) its init containers."""
    keys = ("containers", "initContainers") if include_init else ("containers",)
    for key in keys:
        for container in pod.get(key) or []:
            if isinstance(container, dict):
                yield container


def claim_names(pod: dict[str, Any]) -> Iterator[tuple[str, bool]]:
    """(claimName, volume is read-only) for every PVC volume of a pod spec."""
    for volume in pod.get("volumes") or []:
        claim = volume.get("persistentVolumeClaim") if isinstance(volume, dict) else None
        if isinstance(claim, dict) and isinstance(claim.get("claimName"), str):
            yield claim["claimName"], bool(claim.get("readOnly"))


def sites(body: Any, declared: tuple[KindRule, ...] = ()) -> Iterator[PodSite]:
    """Every pod spec in one object (the items of a List are objects of their own).

    Kinds are matched by API group and kind: the built-in table, the operator
    table, then ``declared`` (the config's `kinds`).
    """
    if not isinstance(body, dict):
        return
    kind = body.get("kind")
    group = api_group(body)
    if str(kind) in POD_SPEC_PATHS and group in (None, CORE_GROUPS.get(str(kind))):
        for component, path in POD_SPEC_PATHS[str(kind)]:
            if isinstance(get_in(body, path), dict):
                yield PodSite(str(kind), component, path)
        return
    rule = kind_rule(group, str(kind), declared)
    if rule is not None and (rule.group, rule.kind) == APPWRAPPER:
        yield from wrapped_sites(body)
    elif rule is not None:
        yield from rule_sites(body, rule)


def wrapped_sites(body: dict[str, Any]) -> Iterator[PodSite]:
    """An AppWrapper's pod specs: each component's `podSets[].path` names a pod template
    in the wrapped resource (`template.spec.template` for a Job), with its replicas."""
    components = get_in(body, ("spec", "components"))
    for index, component in enumerate(components if isinstance(components, list) else []):
        wrapped = get_in(component, ("template",))
        if not isinstance(wrapped, dict):
            continue
        name = str(get_in(wrapped, ("metadata", "name")) or wrapped.get("kind") or index)
        pod_sets = component.get("podSets")
        for number, pod_set in enumerate(pod_sets if isinstance(pod_sets, list) else []):
            where = pod_set.get("path") if isinstance(pod_set, dict) else None
            if not isinstance(where, str):
                continue
            path = ("spec", "components", index, *parse_path(where), "spec")
            if not isinstance(get_in(body, path), dict):
                continue
            replicas = ("spec", "components", index, "podSets", number, "replicas")
            unit = f"{wrapped.get('kind') or 'wrapped'} pod"
            rule = SpecRule(name, path, ((replicas,),), unit=unit)
            yield PodSite("AppWrapper", name, path, rule=rule)


def kind_rule(group: str | None, kind: str, declared: tuple[KindRule, ...] = ()) -> KindRule | None:
    """The operator or declared rule for (group, kind); a missing group matches any."""
    for rule in (*declared, *OPERATOR_KINDS):
        if rule.kind == kind and group in (None, rule.group):
            return rule
    return None


def rule_sites(body: dict[str, Any], rule: KindRule) -> Iterator[PodSite]:
    found = False
    for spec in rule.specs:
        if spec.versions and body.get("apiVersion") not in spec.versions:
            continue
        for path, bindings in expand_wild(body, spec.path):
            node = get_in(body, path)
            if _is_pod_like(node, spec.view) and (not spec.inline or _inline_pod(node)):
                component = _component(body, spec, path, bindings)
                found = True
                yield PodSite(rule.kind, component, path, rule=spec, bindings=bindings)
    if found:
        return
    for spec in rule.specs:
        if spec.created and get_in(body, spec.path) is None:
            yield PodSite(rule.kind, spec.component, spec.path, rule=replace(spec, view="created"))


def _is_pod_like(node: Any, view: str) -> bool:
    if not isinstance(node, dict):
        return False
    if view == "argo":
        return any(isinstance(node.get(k), dict) for k in ("container", "script", "containerSet"))
    if view == "kserve-model":
        return isinstance(node.get("model"), dict)
    return True


def _inline_pod(node: dict[str, Any]) -> bool:
    """PodSpec fields among others: a pod spec when it has containers and no `model`
    (a KServe predictor with a model is the kserve-model view, its containers included)."""
    return "containers" in node and not isinstance(node.get("model"), dict)


def _component(body: dict[str, Any], spec: SpecRule, path: Path, bindings: Path) -> str:
    if spec.component != "{key}" or not bindings:
        return spec.component
    last = bindings[-1]
    if isinstance(last, str):
        return last.lower()
    wild_at = max(i for i, key in enumerate(spec.path) if key == WILD)
    item = get_in(body, path[: wild_at + 1])
    name = item.get("name") if isinstance(item, dict) else None
    return str(name) if isinstance(name, str) and name else str(last)


_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\*|[0-9]+)\]")


def parse_path(text: str) -> Path:
    """`spec.workers[*].template.spec` as a path; `[*]` is :data:`WILD`, `[2]` an index."""
    path: list[str | int] = []
    for key, index in _PATH_PART.findall(text):
        if key:
            path.append(key)
        else:
            path.append(WILD if index == "*" else int(index))
    return tuple(path)


def declared_rule(group: str, kind: str, specs: list[tuple[str, str, str | None]]) -> KindRule:
    """A rule for a kind the config declares: (component, pod-spec path, replicas path)."""
    return KindRule(
        group,
        kind,
        tuple(
            SpecRule(
                component,
                parse_path(path),
                ((parse_path(replicas),),) if replicas else (),
                unit=f"{kind} pod",
            )
            for component, path, replicas in specs
        ),
    )


def looks_pod_bearing(body: Any) -> bool:
    """A document with no kind that still carries a pod spec (refused: we cannot place it)."""
    return isinstance(body, dict) and (
        isinstance(get_in(body, ("spec", "containers")), list)
        or isinstance(get_in(body, ("spec", "template", "spec")), dict)
    )
