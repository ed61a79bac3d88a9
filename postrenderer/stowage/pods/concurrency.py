"""Who runs at once: for each object, the groups of its pods that can be live together.

The one concurrency model behind every access-mode verdict. For one manifest it
says which of its pod specs can have pods live at the same time (a
:class:`Group`), how many pods each contributes (a :class:`Member`), and why,
following each operator's documented semantics: a Deployment's replicas, a
Job's parallelism capped by its completions, a CronJob's concurrencyPolicy, an
Argo workflow's step groups, DAG dependencies, fan-out, parallelism and daemons,
a JobSet's `dependsOn`, and so on. Groups are maximal: pods in no common group
provably never overlap, so they may share a ReadWriteOnce claim.

Pure functions over a manifest body; nothing here reads the stream. The checks
(SW101-SW104), the plan view and admission policies read it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from stowage.pods import argo, tekton
from stowage.pods.groups import MANY, Dag, Group, Member, count_text, plural
from stowage.pods.podspecs import (
    CORE_GROUPS,
    POD_SPEC_PATHS,
    KindRule,
    Path,
    PodSite,
    SpecRule,
    api_group,
    bind,
    dict_at,
    get_in,
    kind_rule,
    list_at,
    sites,
)


@dataclass(frozen=True)
class Autoscale:
    """The most replicas an autoscaler may give a workload, and how messages say it."""

    most: int
    why: str  # "HPA maxReplicas 10"


@dataclass(frozen=True)
class Concurrency:
    """The groups of one object's pods that can be live together."""

    kind: str
    groups: tuple[Group, ...] = ()
    notes: tuple[str, ...] = ()  # what the model could not see, said once
    # Tekton: the uses (member labels) that bind each workspace; None: not known (every use)
    workspaces: tuple[tuple[str, frozenset[str]], ...] | None = None

    def peak(
        self, paths: Collection[Path] | None = None, uses: Collection[str] | None = None
    ) -> tuple[int, Group | None]:
        """The most pods (of the pod specs at ``paths``, of the ``uses`` when given) live
        at once, and the group."""
        best: tuple[int, Group | None] = (0, None)
        for group in self.groups:
            pods = group.pods(paths, uses)
            if pods > best[0] or (best[1] is None and group.chosen(paths, uses)):
                best = (pods, group)  # a group of 0 pods (replicas: 0) still says why
        return best

    def workspace_uses(self, workspace: str) -> frozenset[str] | None:
        """The uses that bind a Tekton workspace (none when no task does); None: unknown."""
        if self.workspaces is None:
            return None
        return dict(self.workspaces).get(workspace, frozenset())

    def pods_of(self, path: Path) -> tuple[int, str]:
        """The most pods of one pod spec live at once, and why."""
        pods, group = self.peak({path})
        if group is None:
            return 0, "never runs: no step or task uses it"
        return pods, group.why({path})


def model(
    body: dict[str, Any],
    declared: tuple[KindRule, ...] = (),
    scale: Autoscale | None = None,
    tekton_objects: tekton.Tekton = tekton.NONE,
) -> Concurrency:
    """The concurrency of one manifest. ``scale``: the autoscaler scaling it (an HPA);
    ``tekton_objects``: the Pipelines and Tekton feature flags the stream holds."""
    kind = str(body.get("kind"))
    group = api_group(body)
    if kind in POD_SPEC_PATHS and group in (None, CORE_GROUPS.get(kind)):
        return _builtin(body, kind, scale)
    rule = kind_rule(group, kind, declared)
    if rule is None:
        return Concurrency(kind)
    special = _SPECIAL.get((rule.group, rule.kind))
    if (rule.group, rule.kind) == ("tekton.dev", "PipelineRun"):
        special = _pipeline_run(tekton_objects)
    found = list(sites(body, declared))
    if special is not None and rule not in declared:
        return special(body, found)
    return _together(kind, [_member(body, site) for site in found])


# --- built-in kinds ---------------------------------------------------------------------------


def _builtin(body: dict[str, Any], kind: str, scale: Autoscale | None) -> Concurrency:
    members = [
        Member(path, *_builtin_count(body, kind, component, scale), label=component)
        for component, path in POD_SPEC_PATHS[kind]
        if isinstance(get_in(body, path), dict)
    ]
    if kind.startswith("Dask"):
        return _together(kind, members)
    return Concurrency(kind, tuple(Group((m,)) for m in members))


def _builtin_count(
    body: dict[str, Any], kind: str, component: str, scale: Autoscale | None
) -> tuple[int, str]:
    if kind == "DaemonSet":
        return MANY, "a DaemonSet: one pod per node"
    if kind in ("Deployment", "StatefulSet", "ReplicaSet"):
        replicas = as_int(get_in(body, ("spec", "replicas")), 1)
        if scale is not None and scale.most > replicas:
            return scale.most, scale.why
        return replicas, plural(replicas, "replica")
    if kind == "Job":
        return job_pods(dict_at(body, ("spec",)))
    if kind == "CronJob":
        pods, why = job_pods(dict_at(body, ("spec", "jobTemplate", "spec")))
        if get_in(body, ("spec", "concurrencyPolicy")) in (None, "Allow"):
            return max(pods * 2, 2), "a CronJob with concurrencyPolicy Allow: runs overlap"
        return pods, why
    if kind.startswith("Dask") and component == "worker":
        path = ("spec", "cluster", "spec", "worker", "replicas") if kind == "DaskJob" else (
            "spec", "worker", "replicas")  # fmt: skip
        replicas = as_int(get_in(body, path), 1)
        return replicas, f"{plural(replicas, 'Dask worker')}, one Deployment each"
    return 1, "1 pod"


def job_pods(spec: dict[str, Any]) -> tuple[int, str]:
    """A batch/v1 Job's pods at once: parallelism, capped by completions."""
    parallelism = as_int(spec.get("parallelism"), 1)
    completions = spec.get("completions")
    if isinstance(completions, int) and 0 < completions < parallelism:
        return completions, f"Job parallelism {parallelism} capped by completions {completions}"
    return parallelism, f"Job parallelism {parallelism}"


def as_int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


# --- operator and declared kinds --------------------------------------------------------------


def _together(kind: str, members: list[Member]) -> Concurrency:
    """Every pod spec of the object runs at the same time (an operator starts them together)."""
    live = [m for m in members if m.pods > 0]
    return Concurrency(kind, (Group(tuple(live)),) if live else ())


def _member(body: dict[str, Any], site: PodSite) -> Member:
    rule = site.rule
    if rule is None:
        return Member(site.path, 1, "1 pod", site.component)
    pods, why = rule_count(body, rule, site.bindings)
    return Member(site.path, pods, why, site.component)


def rule_count(body: dict[str, Any], rule: SpecRule, bindings: Path) -> tuple[int, str]:
    """An operator or declared kind: the product of its factors (each the largest set value)."""
    if rule.many:
        return MANY, rule.many
    pods = 1
    for alternatives in rule.factors:
        found = [as_int(get_in(body, bind(path, bindings)), 0) for path in alternatives]
        pods *= max([n for n in found if n > 0] or [1])
    return pods, plural(pods, rule.unit)


def _pytorch(body: dict[str, Any], found: list[PodSite]) -> Concurrency:
    """PyTorchJob: an elastic job scales its workers up to elasticPolicy.maxReplicas."""
    most = as_int(get_in(body, ("spec", "elasticPolicy", "maxReplicas")), 0)
    members = []
    for site in found:
        member = _member(body, site)
        if site.component == "worker" and most > member.pods:
            member = replace(member, pods=most, why=f"elasticPolicy.maxReplicas {most} workers")
        members.append(member)
    return _together("PyTorchJob", members)


def _jobset(body: dict[str, Any], found: list[PodSite]) -> Concurrency:
    """JobSet: replicated jobs start together, unless `dependsOn` makes one wait.

    `status: Complete` starts the job after the other completes (they never overlap);
    `status: Ready` starts it once the other's pods are ready (they overlap).
    """
    return _replicated_jobs("JobSet", body, ("spec",), found)


def _training_runtime(kind: str) -> Special:
    """Kubeflow Trainer v2: a runtime's JobSet template, run by every TrainJob that names it."""

    def build(body: dict[str, Any], found: list[PodSite]) -> Concurrency:
        jobset = _replicated_jobs(kind, body, ("spec", "template", "spec"), found)
        why = f"a {kind}: every TrainJob that names it runs these pods"
        groups = tuple(
            replace(
                g, members=tuple(replace(m, pods=MANY, why=f"{m.why}; {why}") for m in g.members)
            )
            for g in jobset.groups
        )
        return Concurrency(kind, groups)

    return build


def _replicated_jobs(
    kind: str, body: dict[str, Any], spec: Path, found: list[PodSite]
) -> Concurrency:
    jobs = get_in(body, (*spec, "replicatedJobs"))
    jobs = jobs if isinstance(jobs, list) else []
    names = {index: str(job.get("name")) for index, job in enumerate(jobs) if isinstance(job, dict)}
    dag = Dag()
    for index, name in names.items():
        dag.add(name)
        for need in list_at(jobs[index], ("dependsOn",)):
            if isinstance(need, dict) and need.get("name") in names.values():
                dag.need(name, str(need["name"]), serialises=need.get("status") != "Ready")
    members, tasks = [], []
    for site in found:
        bound = site.bindings[0] if site.bindings else -1
        index = bound if isinstance(bound, int) else -1
        job = jobs[index] if 0 <= index < len(jobs) else {}
        pods, why = _jobset_pods(job)
        tasks.append(names.get(index, "?"))
        members.append(Member(site.path, pods, why, site.component))
    soft = "{b} dependsOn {a} with status Ready: it starts while {a} runs"
    return Concurrency(kind, dag.groups(members, tasks, "replicated job", soft))


def _jobset_pods(job: Any) -> tuple[int, str]:
    replicas = as_int(get_in(job, ("replicas",)), 1)
    pods, why = job_pods(dict_at(job, ("template", "spec")))
    if replicas == 1:
        return pods, why
    return replicas * pods, f"{replicas} Jobs x {why}"


def _argo(kind: str, workflow: Path) -> Special:
    def build(body: dict[str, Any], _: list[PodSite]) -> Concurrency:
        found = argo.expand(body, workflow, kind)
        return Concurrency(kind, tuple(found.groups), tuple(found.notes))

    return build


def _scheduled(kind: str) -> Special:
    """A schedule of runs: with concurrencyPolicy Allow (the default) runs overlap."""

    def build(body: dict[str, Any], found: list[PodSite]) -> Concurrency:
        members = [_member(body, site) for site in found]
        if get_in(body, ("spec", "concurrencyPolicy")) in (None, "Allow"):
            why = f"a {kind} with concurrencyPolicy Allow: runs overlap"
            members = [
                replace(m, pods=min(2 * m.pods, MANY), why=f"{m.why}; {why}") for m in members
            ]
        return _together(kind, members)

    return build


def _flink(body: dict[str, Any], found: list[PodSite]) -> Concurrency:
    """FlinkDeployment: the job manager(s) and the task managers run together. Task
    managers: `taskManager.replicas`, else the job's parallelism over the task slots
    each offers; a session cluster with neither starts them on demand."""
    managers = as_int(get_in(body, ("spec", "jobManager", "replicas")), 1)
    workers, why = _task_managers(body)
    managers_why = plural(managers, "job manager")
    counts = {
        "pod": (managers + workers, f"{managers_why} + {why}"),
        "jobmanager": (managers, managers_why),
        "taskmanager": (workers, why),
    }
    # The shared pod template's pods are the job and task managers themselves: a cap
    # keeps a claim in both the shared and a manager's own template from counting twice.
    members = [Member(s.path, *counts[s.component], s.component, "flink") for s in found]
    if not members:
        return Concurrency("FlinkDeployment")
    total = min(managers + workers, MANY)
    cap = ("flink", total, f"{managers_why} + {why} in all")
    return Concurrency("FlinkDeployment", (Group(tuple(members), caps=(cap,)),))


def _task_managers(body: dict[str, Any]) -> tuple[int, str]:
    replicas = as_int(get_in(body, ("spec", "taskManager", "replicas")), 0)
    if replicas > 0:
        return replicas, plural(replicas, "task manager")
    parallelism = as_int(get_in(body, ("spec", "job", "parallelism")), 0)
    if parallelism <= 0:
        if get_in(body, ("spec", "job")) is None:
            return MANY, "task managers started on demand (a session cluster)"
        parallelism = 1
    slots = get_in(body, ("spec", "flinkConfiguration", "taskmanager.numberOfTaskSlots"))
    per = int(slots) if isinstance(slots, int | str) and str(slots).isdigit() else 1
    count = -(-parallelism // max(per, 1))
    return count, f"{plural(count, 'task manager')} (parallelism {parallelism}, {per} slots each)"


def _kserve(body: dict[str, Any], found: list[PodSite]) -> Concurrency:
    """InferenceService: serverless (Knative, the default) without maxReplicas scales a
    component without a limit; a raw Deployment without it runs minReplicas (1)."""
    mode = get_in(body, ("metadata", "annotations", "serving.kserve.io/deploymentMode"))
    raw = mode in ("RawDeployment", "Standard")
    members = []
    for site in found:
        member = _member(body, site)
        component = "predictor" if site.component == "worker" else site.component
        if not raw and as_int(get_in(body, ("spec", component, "maxReplicas")), 0) <= 0:
            why = f"{member.why}; no maxReplicas: KServe scales it without a limit"
            member = replace(member, pods=MANY, why=why)
        members.append(member)
    return _together("InferenceService", members)


def _pipeline_run(objects: tekton.Tekton) -> Special:
    """PipelineRun: its tasks' pods by the Pipeline's DAG (stowage.pods.tekton)."""

    def build(body: dict[str, Any], found: list[PodSite]) -> Concurrency:
        if not found:
            return Concurrency("PipelineRun")
        groups, uses, note = tekton.pipeline_groups(body, found[0].path, objects)
        notes = [note] if note else []
        bindings = list(tekton.workspace_bindings(body))
        if bindings or objects.affinity.per_run:
            notes.append(objects.affinity.note())
        for binding in bindings:
            bound = None if uses is None else sorted(uses.get(binding.workspace, ()))
            if bound is not None:
                notes.append(_workspace_note(binding, bound))
        workspaces = None if uses is None else tuple(sorted(uses.items()))
        return Concurrency("PipelineRun", groups, tuple(notes), workspaces)

    return build


def _workspace_note(binding: tekton.Binding, tasks: list[str]) -> str:
    """Which tasks a workspace's claim reaches, as the plan says it."""
    source = f"claim {binding.claim!r}" if binding.claim else "a volumeClaimTemplate"
    head = f"workspace {binding.workspace!r} ({source})"
    if not tasks:
        return f"{head} is bound by no task: no task pod mounts it"
    return f"{head} reaches the tasks that bind it: {', '.join(tasks)}"


Special = Callable[[dict[str, Any], list[PodSite]], Concurrency]
_SPECIAL: dict[tuple[str, str], Special] = {
    ("kubeflow.org", "PyTorchJob"): _pytorch,
    ("jobset.x-k8s.io", "JobSet"): _jobset,
    ("trainer.kubeflow.org", "TrainingRuntime"): _training_runtime("TrainingRuntime"),
    ("trainer.kubeflow.org", "ClusterTrainingRuntime"): _training_runtime("ClusterTrainingRuntime"),
    ("sparkoperator.k8s.io", "ScheduledSparkApplication"): _scheduled("ScheduledSparkApplication"),
    ("batch.volcano.sh", "CronJob"): _scheduled("Volcano CronJob"),
    ("flink.apache.org", "FlinkDeployment"): _flink,
    ("serving.kserve.io", "InferenceService"): _kserve,
    ("argoproj.io", "Workflow"): _argo("Workflow", ("spec",)),
    ("argoproj.io", "WorkflowTemplate"): _argo("WorkflowTemplate", ("spec",)),
    ("argoproj.io", "ClusterWorkflowTemplate"): _argo("ClusterWorkflowTemplate", ("spec",)),
    ("argoproj.io", "CronWorkflow"): _argo("CronWorkflow", ("spec", "workflowSpec")),
}


ObjectKey = tuple[str, str, str]  # (kind, namespace, name)


def flow_order(bodies: Iterable[dict[str, Any]]) -> set[frozenset[ObjectKey]]:
    """Pairs of objects whose pods never overlap: JobTemplates a Volcano JobFlow runs one
    after the other (`dependsOn.targets`: a job starts once those jobs completed, unless
    a `probe` or `strategy: any` starts it sooner). A template that more than one JobFlow
    names is left out: two flows may run it at once."""
    flows = [b for b in bodies if b.get("kind") == "JobFlow" and api_group(b) == "flow.volcano.sh"]
    named: dict[ObjectKey, int] = {}
    dags: list[tuple[str, Dag]] = []
    for flow in flows:
        namespace = str(get_in(flow, ("metadata", "namespace")) or "")
        dag = Dag()
        for step in list_at(flow, ("spec", "flows")):
            if not isinstance(step, dict) or not isinstance(step.get("name"), str):
                continue
            dag.add(step["name"])
            needs = get_in(step, ("dependsOn",))
            needs = needs if isinstance(needs, dict) else {}
            # A probe (a task running) or strategy `any` starts it before all complete.
            serial = needs.get("probe") is None and needs.get("strategy") in (None, "all")
            for target in list_at(needs, ("targets",)):
                dag.need(step["name"], str(target), serialises=serial)
        for name in dag.needs:
            key = ("JobTemplate", namespace, name)
            named[key] = named.get(key, 0) + 1
        dags.append((namespace, dag))
    apart: set[frozenset[ObjectKey]] = set()
    for namespace, dag in dags:
        for a in dag.needs:
            for b in dag.needs:
                key_a, key_b = ("JobTemplate", namespace, a), ("JobTemplate", namespace, b)
                if a < b and not dag.concurrent(a, b) and named[key_a] == named[key_b] == 1:
                    apart.add(frozenset({key_a, key_b}))
    return apart


def describe(concurrency: Concurrency, labels: dict[Path, str]) -> Iterator[dict[str, Any]]:
    """The groups as plain data (the plan view's JSON); ``labels`` name each pod spec."""
    for group in concurrency.groups:
        members = []
        for member in group.members:
            workload = labels.get(member.path, path_text(member.path))
            own = member.label == "pod" or workload.endswith(f"({member.label})")
            use = "" if own else member.label  # an Argo step or task: which use of the template
            members.append(
                {"workload": workload, "use": use, "pods": member.pods, "why": member.why}
            )
        yield {"pods": group.pods(), "why": group.why(), "members": members}


def path_text(path: Iterable[str | int]) -> str:
    return "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in path).lstrip(".")


__all__ = [
    "MANY",
    "Concurrency",
    "Group",
    "Member",
    "count_text",
    "describe",
    "flow_order",
    "job_pods",
    "model",
    "plural",
    "rule_count",
]
