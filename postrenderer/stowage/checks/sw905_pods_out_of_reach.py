"""Pods that a resource creates at run time from specs stowage cannot see or reach.

Why it matters: stowage attaches storage to pod specs it finds in the rendered
manifests. Some kinds make their pods from specs kept elsewhere: a Kubeflow
TrainJob takes its pods from the TrainingRuntime or ClusterTrainingRuntime it
names, Tekton builds a pod from each Task's steps, a FlinkSessionJob runs its job
in the pods of the FlinkDeployment it names, and an Argo `resource` step creates
an object (a Job, a JobSet, a PyTorchJob) only while the workflow runs. Those pods
start without the data and outputs a target meant to give them, and their claims
are not checked; before this rule they passed without a word. A Tekton run's pod
template (`podTemplate`; a v1 PipelineRun's `taskRunTemplate.podTemplate`) gets
the plan's volumes, node pool and securityContext, but it has no containers: the
volumes are not mounted into the steps, and the data-paths env is not set.

What triggers it, when the config has targets: a TrainJob whose runtime is not in
the stream (with the runtime in the stream, its pods get storage there); a
PipelineRun whose Pipeline (`pipelineRef`) is not in the stream in its namespace, or
comes from a resolver or bundle (its tasks are unknown: their pods are counted as
many at once); a Tekton TaskRun or PipelineRun whose labels a target selects; a
FlinkSessionJob a target selects whose FlinkDeployment (`deploymentName`) is not in
the stream (with it in the stream, its pods get the storage); an Argo template whose
`resource.manifest` creates an object that carries pod specs.

How to fix it: render the TrainingRuntime, the Pipeline or the FlinkDeployment in
the same stream (a Pipeline in the run's namespace, or inline as `pipelineSpec`);
for Tekton, mount through a workspace: bind it to the claim (`workspaces: [{name,
persistentVolumeClaim: {claimName}}]`) and declare it in the Task; for objects
created at run time, have `stowage admission` give them their storage when the API
server admits them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from stowage.checks import CheckContext
from stowage.findings import Finding, ResourceRef, Severity
from stowage.pods.argo import POD_TEMPLATE_KEYS
from stowage.pods.podspecs import api_group, get_in, looks_pod_bearing, sites
from stowage.pods.tekton import Tekton, pipeline_spec
from stowage.read.manifests import Document
from stowage.read.yamlload import Limits, YamlError, load_document

ID = "SW905"
NAME = "pods-out-of-reach"
SEVERITY = Severity.WARNING
ARGO_KINDS: dict[str, tuple[str, ...]] = {
    "Workflow": ("spec",),
    "WorkflowTemplate": ("spec",),
    "ClusterWorkflowTemplate": ("spec",),
    "CronWorkflow": ("spec", "workflowSpec"),
}
RUNTIMES = ("TrainingRuntime", "ClusterTrainingRuntime")
_KIND_LINE = re.compile(r"^kind:[ \t]*([A-Za-z0-9]+)", re.MULTILINE)
_NAME_LINE = re.compile(r"^[ \t]+(?:generateN|n)ame:[ \t]*([-A-Za-z0-9_.]+)", re.MULTILINE)
ADMISSION = "use `stowage admission` so that they get their storage when the API server admits them"


def check(ctx: CheckContext) -> Iterator[Finding]:
    targets = [t.matchLabels for t in ctx.config.targets.values() if t.matchLabels]
    if not ctx.config.targets:
        return
    runtimes = _runtimes(ctx)
    pipelines = Tekton.of(o.body for o in ctx.stream.objects({"Pipeline"}))
    for doc in ctx.stream.parsed():
        body, group = doc.body, api_group(doc.body)
        if group == "trainer.kubeflow.org" and doc.kind == "TrainJob":
            yield from _train_job(doc, body, runtimes)
        elif group == "tekton.dev" and doc.kind in ("TaskRun", "PipelineRun"):
            if doc.kind == "PipelineRun":
                yield from _pipeline_run(doc, body, pipelines)
            if any(_selects(m, _labels(body)) for m in targets):
                yield _tekton(doc)
        elif group == "flink.apache.org" and doc.kind == "FlinkSessionJob":
            if any(_selects(m, _labels(body)) for m in targets):
                yield from _session_job(doc, body, ctx)
        elif group == "argoproj.io" and doc.kind in ARGO_KINDS:
            yield from _resource_steps(doc, body)


def _runtimes(ctx: CheckContext) -> set[tuple[str, str, str]]:
    return {
        (doc.kind, doc.ref.namespace if doc.kind == "TrainingRuntime" else "", doc.ref.name)
        for doc in ctx.stream.parsed()
        if doc.kind in RUNTIMES and api_group(doc.body) == "trainer.kubeflow.org"
    }


def _train_job(
    doc: Document, body: dict[str, Any], runtimes: set[tuple[str, str, str]]
) -> Iterator[Finding]:
    ref = get_in(body, ("spec", "runtimeRef"))
    ref = ref if isinstance(ref, dict) else {}
    kind = str(ref.get("kind") or "ClusterTrainingRuntime")
    name = str(ref.get("name") or "")
    namespace = doc.ref.namespace if kind == "TrainingRuntime" else ""
    if (kind, namespace, name) in runtimes or (kind, "", name) in runtimes:
        return
    yield Finding(
        ID,
        SEVERITY,
        doc.ref,
        f"{doc.ref.kind}/{doc.ref.name} takes its pods from {kind} {name!r}, which is not in "
        "the stream: stowage cannot see those pods, so they get no storage and their claims "
        "are not checked",
        f"render the {kind} in the same stream (its pods then get the storage), or {ADMISSION}",
        (ResourceRef(kind, namespace, name),),
    )


def _pipeline_run(doc: Document, body: dict[str, Any], pipelines: Tekton) -> Iterator[Finding]:
    """A PipelineRun whose Pipeline (pipelineRef) is not in the stream: its tasks are unknown."""
    spec, _ = pipeline_spec(body, pipelines)
    ref = get_in(body, ("spec", "pipelineRef"))
    if spec is not None or not isinstance(ref, dict):
        return
    unknown = "stowage cannot see its tasks, so their pods are counted as many at once"
    inline = "or inline it in the run (`pipelineSpec`)"
    if ref.get("resolver") or ref.get("bundle"):
        how = f"the {ref['resolver']} resolver" if ref.get("resolver") else "a bundle"
        yield Finding(
            ID,
            SEVERITY,
            doc.ref,
            f"{doc.ref.kind}/{_name(body)} takes its Pipeline from {how} at run time, "
            f"which is not in the stream: {unknown}",
            f"render the Pipeline in the same stream and name it (`pipelineRef: {{name: ...}}`), "
            f"{inline}",
        )
        return
    name = str(ref.get("name") or "")
    yield Finding(
        ID,
        SEVERITY,
        doc.ref,
        f"{doc.ref.kind}/{_name(body)} runs the tasks of Pipeline {name!r}, which is not in "
        f"the stream: {unknown}, and their claims are judged from that count",
        f"render the Pipeline in the same stream and namespace as the run (its tasks are then "
        f"counted by their runAfter order), {inline}",
        (ResourceRef("Pipeline", doc.ref.namespace, name),),
    )


def _tekton(doc: Document) -> Finding:
    return Finding(
        ID,
        SEVERITY,
        doc.ref,
        f"{doc.ref.kind}/{doc.ref.name} runs pods that Tekton builds from its Tasks' steps: "
        "its pod template gets the plan's volumes, node pool and securityContext, but a "
        "Tekton pod template has no containers, so the steps do not mount them",
        "mount through a workspace: bind it to the claim (workspaces: [{name: ..., "
        "persistentVolumeClaim: {claimName: ...}}]) and declare it in the Task's "
        f"`workspaces`, or {ADMISSION}",
    )


def _session_job(doc: Document, body: dict[str, Any], ctx: CheckContext) -> Iterator[Finding]:
    """A FlinkSessionJob creates no pods: its job runs in the session cluster's."""
    name = str(get_in(body, ("spec", "deploymentName")) or "")
    for other in ctx.stream.parsed():
        if (
            other.kind == "FlinkDeployment"
            and api_group(other.body) == "flink.apache.org"
            and other.ref.name == name
            and other.ref.namespace in ("", doc.ref.namespace)
        ):
            return  # its pods are that FlinkDeployment's, which get the storage there
    if not name:
        yield Finding(
            ID,
            SEVERITY,
            doc.ref,
            f"{doc.ref.kind}/{doc.ref.name} names no session cluster (spec.deploymentName): "
            "stowage cannot see the pods its job runs in, so they get no storage from the plan "
            "and their claims are not checked",
            "set spec.deploymentName to the session cluster's FlinkDeployment and render it in "
            f"the same stream (its pods then get the storage), or {ADMISSION}",
        )
        return
    yield Finding(
        ID,
        SEVERITY,
        doc.ref,
        f"{doc.ref.kind}/{doc.ref.name} runs its job in FlinkDeployment {name!r}'s pods, "
        "which is not in the stream: stowage cannot see those pods, so they get no storage "
        "from the plan and their claims are not checked",
        f"render the FlinkDeployment in the same stream (its pods then get the storage), "
        f"or {ADMISSION}",
        (ResourceRef("FlinkDeployment", doc.ref.namespace, name),),
    )


def _resource_steps(doc: Document, body: dict[str, Any]) -> Iterator[Finding]:
    workflow = get_in(body, ARGO_KINDS[doc.kind])
    for template in get_in(workflow, ("templates",)) or []:
        if not isinstance(template, dict) or any(k in template for k in POD_TEMPLATE_KEYS):
            continue
        text = get_in(template, ("resource", "manifest"))
        created = _created(text) if isinstance(text, str) else None
        if created is None:
            continue
        what = f"{created.get('kind')}/{_name(created)}"
        yield Finding(
            ID,
            SEVERITY,
            doc.ref,
            f"{doc.ref.kind}/{_name(body)} template {template.get('name')!r} creates {what} "
            "at run time (a resource step): its pods are not in the rendered manifests, so "
            "they get storage only when they are admitted",
            ADMISSION,
        )


def _created(text: str) -> dict[str, Any] | None:
    """The object a resource step creates, when it carries pod specs. Its text may hold
    Argo's `{{...}}`, YAML only once Argo fills it: then its kind line and a
    `containers:` key tell."""
    try:
        body = load_document(text, Limits())
    except YamlError:
        kind = _KIND_LINE.search(text)
        if kind is None or "containers:" not in text:
            return None
        name = _NAME_LINE.search(text)
        return {"kind": kind.group(1), "metadata": {"name": name.group(1) if name else "?"}}
    if not isinstance(body, dict):
        return None
    return body if next(sites(body), None) or looks_pod_bearing(body) else None


def _name(body: dict[str, Any]) -> str:
    """metadata.name, or generateName (Argo workflows and the Jobs they create often)."""
    meta = body.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    return str(meta.get("name") or meta.get("generateName") or "?")


def _labels(body: dict[str, Any]) -> dict[str, str]:
    labels = get_in(body, ("metadata", "labels"))
    return {str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {}


def _selects(match: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in match.items())
