"""SW101 on operator kinds at admission: the pods each operator runs at once, in CEL.

Render time's model (`pods/concurrency.py`, the counts of `pods/podspecs.py`) for the
kinds CEL can follow, every pod spec of one object running at the same time:

- Kubeflow PyTorchJob, TFJob, MPIJob, XGBoostJob, PaddleJob and JAXJob: every replica
  spec, `replicas` pods each (a PyTorchJob's workers up to `elasticPolicy.maxReplicas`);
- RayCluster, and the cluster of a RayJob (`rayClusterSpec`, with its submitter pod)
  and of a RayService (`rayClusterConfig`): the head and every worker group, a group's
  pods the larger of `replicas` and `maxReplicas`, times `numOfHosts`;
- LeaderWorkerSet: `replicas` leaders and `replicas` x `size` group pods;
- Volcano Job: every task, `replicas` pods each; the job's own `spec.volumes` that name
  an existing claim (`volumeClaimName`) reach every pod of the job;
- SparkApplication: the driver and the larger of `executor.instances` and
  `dynamicAllocation.maxExecutors` executors; a ScheduledSparkApplication's template
  twice over when its runs may overlap (`concurrencyPolicy` Allow, the default). A
  Spark pod counts a claim of the application's `volumes` when it mounts it;
- DaskCluster, DaskWorkerGroup and DaskJob: the job and scheduler pods and
  `worker.replicas` workers;
- FlinkDeployment: the job manager(s) and task managers (replicas, else the job's
  parallelism over each one's task slots, else many: a session cluster); a manager's own
  template is read merged over the shared one by position, and a claim in both counts
  the managers once (the operator's `cap`);
- KServe InferenceService: its components together, each the larger of min and
  maxReplicas (many when serverless without maxReplicas), a multi-node predictor's
  workers times `pipelineParallelSize`; a `pvc://` model URI is a claim;
- KServe ServingRuntime and ClusterServingRuntime: many (every InferenceService that
  uses one runs its pods); LLMInferenceService: decode and prefill templates and their
  workers, `replicas` each;
- SparkConnect: the server pod and `executor.instances` executors;
- a kind the config declares (`kinds:`): every pod spec its paths reach, the int at
  its `replicas` path each (else 1), matched under its likely plurals (:func:`plurals`);
- JobSet: replicated jobs together, each `replicas` x its Job's parallelism (capped by
  completions). `dependsOn` with `status: Complete` serialises jobs; CEL cannot list
  the cliques of that graph, so a JobSet with such a dependency is judged by its
  largest replicated job alone: never a refusal render time would not make, but two
  jobs that overlap beside a dependency may be left to render time.

A claim counts for the pods whose template mounts it, or whose template a target
selects to have it attached. Templates pinned to one node, or held beside another pod
by required pod affinity on the hostname, leave the claim unjudged (render time may
find them on one node). The message is render time's: the object's components that
mount the claim and why their pods run together (a Kubeflow job's replica specs in
the order of their names: the API server keeps no order of a mapping's keys).

Not judged at admission (the policy does not match them, so it never refuses one),
because what render time follows lives outside the one object CEL is given, or is a
graph CEL cannot walk within its cost budget: Argo Workflows and their templates (step
groups, DAGs, fan-out), Tekton runs (the Pipeline's and Tasks' objects), Kubeflow
Trainer's TrainJob and runtimes (the runtime is another object; a runtime runs once per
TrainJob), Volcano CronJob, JobFlow and JobTemplate (a flow orders other objects),
AppWrapper (its pod sets name paths into the wrapped objects). A Notebook runs one pod.
PodTemplate is not judged (many pods: whatever uses it starts them, from other objects).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from stowage.admission import cel
from stowage.checks import sw101_rwo_multi_node as sw101
from stowage.plan.configdata import KindSpec
from stowage.pods.groups import MANY
from stowage.pods.podspecs import (
    CORE_GROUPS,
    KUBEFLOW_REPLICA_SPECS,
    WILD,
    Path,
    parse_path,
)

Claim = tuple[str, str]  # name, where its access modes come from
Added = Callable[[str], str]  # a template's metadata -> the claims the mutation attaches
Pinned = Callable[[str], str]  # a pod spec -> whether it is held on one node
HOSTNAME = "kubernetes.io/hostname"


@dataclass(frozen=True)
class Operator:
    """One operator kind: where the API serves it, and its pod templates as CEL."""

    kind: str
    group: str
    resource: str
    templates: str  # CEL: a list of :func:`_entry` maps
    also: tuple[str, ...] = ()  # other names its resource may have (a declared kind's plural)
    cap: str = ""  # CEL: the most pods of one claim, whichever templates mount it (Flink)
    cap_why: str = ""  # CEL: why, said after the count when the cap bites


def _count_text(pods: str) -> str:
    return f"({pods} >= {MANY} ? 'many' : string({pods}))"


def _plural(pods: str, noun: str) -> str:
    """CEL for render time's `plural(pods, noun)`; ``pods`` is an identifier."""
    return f"{_count_text(pods)} + {cel.string(' ' + noun)} + ({pods} == 1 ? '' : 's')"


def _positive(value: str) -> str:
    return f"({value} > 0 ? {value} : 1)"


def _larger(a: str, b: str) -> str:
    return f"({a} > {b} ? {a} : {b})"


def _entry(
    template: str,
    pods: str,
    label: str,
    why: Callable[[str], str],
    *,
    total: Callable[[str], str] = lambda n: n,
    meta: str = "",
    spec: str = "",
    volumes: str = "",
    claims: str = "[]",
) -> str:
    """CEL: one pod template with its pods at once (``pods``, bound once as `n`, then
    ``total`` of it), its component (render time's label), why, metadata, pod spec,
    volumes and extra claims (dyn: CEL literals are homogeneous). ``template`` is a pod
    template (`metadata` and `spec`) unless ``meta``, ``spec`` and ``volumes`` say
    otherwise."""
    meta = meta or f"dyn({template}).?metadata.orValue({{}})"
    spec = spec or f"dyn({template}).?spec.orValue({{}})"
    volumes = volumes or f"dyn({template}).?spec.volumes.orValue([])"
    fields = {
        "p": total("n"), "l": label, "w": why("n"), "m": meta, "s": spec, "v": volumes, "c": claims,
    }  # fmt: skip
    body = ", ".join(f'"{k}": dyn({v})' for k, v in fields.items())
    return f"[{pods}].map(n, {{{body}}})[0]"


def _said(why: str) -> Callable[[str], str]:
    """A why that is CEL already, whatever the pods."""
    return lambda _: why


def _fixed(text: str) -> Callable[[str], str]:
    return lambda _: cel.string(text)


def _counted(noun: str) -> Callable[[str], str]:
    return lambda pods: _plural(pods, noun)


def _kubeflow(kind: str, field: str) -> Operator:
    specs = f"object.spec.?{field}.orValue({{}})"
    replicas = _positive(f"{specs}[rs].?replicas.orValue(0)")
    pods, why = replicas, _counted(f"{kind} pod")
    if kind == "PyTorchJob":
        most = "object.spec.?elasticPolicy.?maxReplicas.orValue(0)"
        elastic = f"rs.lowerAscii() == 'worker' && {most} > {replicas}"
        pods = f"({elastic} ? {most} : {replicas})"

        def why(n: str) -> str:
            return (
                f"({elastic} ? 'elasticPolicy.maxReplicas ' + string(n) + ' workers' : "
                f"{_plural(n, 'PyTorchJob pod')})"
            )

    entry = _entry(f"{specs}[rs].template", pods, "rs.lowerAscii()", why)
    keys = f"{specs}.map(rs, rs).sort().filter(rs, {specs}[rs].?template.hasValue())"
    return Operator(kind, "kubeflow.org", f"{kind.lower()}s", f"{keys}.map(rs, {entry})")


def _ray(kind: str, resource: str, cluster: str) -> Operator:
    """A Ray cluster at ``cluster`` (CEL); a RayJob adds its submitter pod."""
    has = f"object.spec.?{cluster}.hasValue()" if cluster else "true"
    base = f"object.spec.{cluster}" if cluster else "object.spec"
    head = f"{base}.headGroupSpec.template"
    has_head = f"{base}.?headGroupSpec.?template.hasValue()"
    replicas = "wg.?replicas.orValue(0)"
    # KubeRay's CRD defaults maxReplicas to the largest int32: that default is no
    # maxReplicas written, which render time (reading the manifest) never sees.
    most = f"(wg.?maxReplicas.orValue(0) == {RAY_DEFAULT_MAX} ? 0 : wg.?maxReplicas.orValue(0))"
    pods = f"{_positive(_larger(most, replicas))} * {_positive('wg.?numOfHosts.orValue(0)')}"
    worker = _entry("wg.template", pods, "'worker'", _counted("Ray worker"))
    workers = f"{base}.?workerGroupSpecs.orValue([]).map(wg, {worker})"
    head_entry = _entry(head, "1", "'head'", _fixed("1 Ray head"))
    heads = f"({has_head} ? [{head_entry}] : [])"
    templates = f"({has} ? {heads} + {workers} : [])"
    if kind == "RayJob":
        submitter = _entry(
            "object.spec.submitterPodTemplate", "1", "'submitter'", _fixed("1 submitter")
        )
        templates += f" + (object.spec.?submitterPodTemplate.hasValue() ? [{submitter}] : [])"
    return Operator(kind, "ray.io", resource, templates)


def _job_pods(spec: str) -> str:
    parallelism = f"{spec}.?parallelism.orValue(1)"
    completions = f"{spec}.?completions.orValue(0)"
    return f"({completions} > 0 && {completions} < {parallelism} ? {completions} : {parallelism})"


RAY_DEFAULT_MAX = 2147483647
SERIALISED = (
    "object.spec.?replicatedJobs.orValue([]).exists(rj, rj.?dependsOn.orValue([])"
    ".exists(d, d.?status.orValue('Complete') != 'Ready'))"
)


def _jobset() -> Operator:
    pods = f"rj.?replicas.orValue(1) * {_job_pods('rj.template.spec')}"
    entry = _entry("rj.template.spec.template", pods, "rj.name", _fixed(""))
    templates = f"object.spec.?replicatedJobs.orValue([]).map(rj, {entry})"
    return Operator("JobSet", "jobset.x-k8s.io", "jobsets", templates)


def _lws() -> Operator:
    lws = "object.spec.leaderWorkerTemplate"
    replicas = _positive("object.spec.?replicas.orValue(0)")
    size = _positive("object.spec.?leaderWorkerTemplate.?size.orValue(0)")
    has_leader = "object.spec.?leaderWorkerTemplate.?leaderTemplate.hasValue()"
    leader = _entry(f"{lws}.leaderTemplate", replicas, "'leader'", _counted("leader"))
    worker = _entry(f"{lws}.workerTemplate", f"{replicas} * {size}", "'worker'",
                    _counted("group pod"))  # fmt: skip
    templates = f"({has_leader} ? [{leader}] : []) + [{worker}]"
    return Operator("LeaderWorkerSet", "leaderworkerset.x-k8s.io", "leaderworkersets", templates)


def _volcano() -> Operator:
    """Volcano's `spec.volumes`: "all the volumes are shared by all pods within a Job";
    one that names an existing claim and no claim spec to create it from is one the plan
    may know (one it creates has the template's own access modes: render time's)."""
    job_claims = (
        "object.spec.?volumes.orValue([]).filter(v, v.?volumeClaimName.orValue('') != '' && "
        "!v.?volumeClaim.hasValue()).map(v, v.volumeClaimName)"
    )
    pods = _positive("t.?replicas.orValue(0)")
    entry = _entry("t.template", pods, "t.?name.orValue('')", _counted("Volcano task pod"),
                   claims=job_claims)  # fmt: skip
    templates = (
        f"object.spec.?tasks.orValue([]).filter(t, t.?template.spec.hasValue()).map(t, {entry})"
    )
    return Operator("Job", "batch.volcano.sh", "jobs", templates)


def _spark(kind: str, resource: str, app: str) -> Operator:
    """A Spark application at ``app``: labels, annotations and scheduling sit on the
    driver and executor themselves; a pod gets the application's volumes it mounts."""
    overlap = "object.spec.?concurrencyPolicy.orValue('Allow') == 'Allow'"
    runs = f"a {kind} with concurrencyPolicy Allow: runs overlap"

    def pod(role: str, pods: str, why: Callable[[str], str]) -> str:
        part = f"{app}.{role}"
        mounted = (
            f"dyn({app}).?volumes.orValue([]).filter(v, "
            f"dyn({part}).?volumeMounts.orValue([]).exists(m, m.name == v.name))"
        )
        total, said = (lambda n: n), why
        if kind == "ScheduledSparkApplication":

            def total(n: str) -> str:
                return f"({overlap} ? ({n} * 2 > {MANY} ? {MANY} : {n} * 2) : {n})"

            def said(n: str) -> str:  # render time: a run's count, then why runs overlap
                return f"{why(n)} + ({overlap} ? {cel.string('; ' + runs)} : '')"

        entry = _entry(part, pods, cel.string(role), said, total=total,
                       meta=f"dyn({part})", spec=f"dyn({part})", volumes=mounted)  # fmt: skip
        has = f"{app.replace('object.spec.', 'object.spec.?', 1)}.?{role}.hasValue()"
        return f"({has} ? [{entry}] : [])"

    instances = f"{app}.?executor.?instances.orValue(0)"
    most = f"{app}.?dynamicAllocation.?maxExecutors.orValue(0)"
    executors = _positive(_larger(instances, most))
    templates = (
        f"{pod('driver', '1', _fixed('1 Spark driver'))} + "
        f"{pod('executor', executors, _counted('Spark executor'))}"
    )
    return Operator(kind, "sparkoperator.k8s.io", resource, templates)


def _dask(kind: str, resource: str, parts: tuple[tuple[str, str], ...]) -> Operator:
    """dask-kubernetes: (component, where its pod template sits); a worker group's
    `replicas` beside its template (a Deployment each, render time says)."""
    templates = []
    for component, where in parts:
        optional = where.replace("object.spec.", "object.spec.?", 1)
        pods, why = "1", _fixed("1 pod")
        if component == "worker":
            pods, why = f"{optional}.?replicas.orValue(1)", _dask_workers
        has = f"{optional}.?spec.hasValue()"
        entry = _entry(where, pods, cel.string(component), why)
        templates.append(f"({has} ? [{entry}] : [])")
    return Operator(kind, "kubernetes.dask.org", resource, " + ".join(templates))


def _dask_workers(pods: str) -> str:
    return f"{_plural(pods, 'Dask worker')} + ', one Deployment each'"


KSERVE_RAW = ("RawDeployment", "Standard")
KSERVE_MODE = "serving.kserve.io/deploymentMode"


def _kserve() -> Operator:
    """InferenceService (render time's `_kserve`): its components together, each the
    larger of `maxReplicas` and `minReplicas` (1); serverless (the default deployment
    mode) without `maxReplicas` scales one without a limit (many). A multi-node
    predictor's `workerSpec` runs its pods times `pipelineParallelSize`. A predictor's
    `pvc://` model URI is a claim its pods (and workers) mount. Targets select by the
    object's labels: KServe's components carry none of their own."""
    spec = "object.spec"
    mode = cel.annotation("object.metadata", KSERVE_MODE)
    uris = [f"{spec}.?predictor.?model.?storageUri.orValue('')",
            f"{spec}.?predictor.?storageUri.orValue('')"]  # fmt: skip
    model_claims = (
        f"[{', '.join(uris)}].filter(u, u.startsWith('pvc://'))"
        ".map(u, u.substring(6).split('/')[0]).filter(c, c != '')"
    )

    def replicas(component: str) -> str:
        most = f"{spec}.?{component}.?maxReplicas.orValue(0)"
        least = f"{spec}.?{component}.?minReplicas.orValue(0)"
        return f"({most} > 0 || {least} > 0 ? {_larger(most, least)} : 1)"

    def unbounded(component: str) -> str:
        return f"!({mode} in {cel.strings(list(KSERVE_RAW))}) && " + (
            f"{spec}.?{component}.?maxReplicas.orValue(0) <= 0"
        )

    def entry(label: str, at: str, pods: str, unit: str, *, claims: str) -> str:
        """A component at ``at`` (under `spec`), scaled as the predictor when a worker."""
        limit = "predictor" if label == "worker" else label

        def why(n: str) -> str:
            scaled = cel.string("; no maxReplicas: KServe scales it without a limit")
            return f"{_plural(n, unit)} + ({unbounded(limit)} ? {scaled} : '')"

        total = f"({unbounded(limit)} ? {MANY} : {pods})"
        where = f"dyn({spec}.{at})"
        return _entry("", pods, cel.string(label), why, meta="object.metadata", spec=where,
                      volumes=f"{where}.?volumes.orValue([])", claims=claims,
                      total=lambda _: total)  # fmt: skip

    def inline(at: str) -> str:
        optional = f"{spec}.?" + at.replace(".", ".?")
        return f"{optional}.?containers.hasValue() && !{optional}.?model.hasValue()"

    entries = []
    for name in ("predictor", "transformer", "explainer"):
        claims = model_claims if name == "predictor" else "[]"
        built = entry(name, name, replicas(name), f"{name} pod", claims=claims)
        entries.append(f"({inline(name)} ? [{built}] : [])")
    model = entry("predictor", "predictor", replicas("predictor"), "predictor pod",
                  claims=model_claims)  # fmt: skip
    entries.append(f"({spec}.?predictor.?model.hasValue() ? [{model}] : [])")
    hosts = _positive(f"{spec}.?predictor.?workerSpec.?pipelineParallelSize.orValue(0)")
    worker = entry("worker", "predictor.workerSpec", f"{replicas('predictor')} * {hosts}",
                   "predictor worker pod", claims=model_claims)  # fmt: skip
    entries.append(f"({inline('predictor.workerSpec')} ? [{worker}] : [])")
    return Operator("InferenceService", "serving.kserve.io", "inferenceservices",
                    " + ".join(entries))  # fmt: skip


def _serving_runtime(kind: str, resource: str) -> Operator:
    """ServingRuntime, ClusterServingRuntime (render time's `many`): its pod spec is
    `spec` itself, run by every InferenceService that uses it, so as many pods as they
    start; the runtime's own labels select it."""
    why = f"a {kind}: every InferenceService that uses it runs these pods"
    volumes = "dyn(object.spec).?volumes.orValue([])"
    entry = _entry("", str(MANY), "'runtime'", _fixed(why), meta="object.metadata",
                   spec="dyn(object.spec)", volumes=volumes)  # fmt: skip
    templates = f"(object.?spec.hasValue() ? [{entry}] : [])"
    return Operator(kind, "serving.kserve.io", resource, templates)


def _llm_inference_service() -> Operator:
    """LLMInferenceService: the decode template and its workers (`replicas`), the prefill
    template and its workers (`prefill.replicas`), all at once; `model.uri` a `pvc://`
    claim each mounts. Its pod specs carry no labels: the object's select it."""
    uri = "object.spec.?model.?uri.orValue('')"
    claims = (
        f"[{uri}].filter(u, u.startsWith('pvc://'))"
        ".map(u, u.substring(6).split('/')[0]).filter(c, c != '')"
    )
    entries = []
    for label, at, replicas in (
        ("decode", "template", "replicas"),
        ("decode-worker", "worker", "replicas"),
        ("prefill", "prefill.template", "prefill.replicas"),
        ("prefill-worker", "prefill.worker", "prefill.replicas"),
    ):
        optional = "object.spec.?" + at.replace(".", ".?")
        pods = _positive(f"object.spec.?{replicas.replace('.', '.?')}.orValue(0)")
        where = f"dyn(object.spec.{at})"
        entry = _entry("", pods, cel.string(label), _counted(f"{label} pod"),
                       meta="object.metadata", spec=where,
                       volumes=f"{where}.?volumes.orValue([])", claims=claims)  # fmt: skip
        inline = f"{optional}.?containers.hasValue() && !{optional}.?model.hasValue()"
        entries.append(f"({inline} ? [{entry}] : [])")
    return Operator("LLMInferenceService", "serving.kserve.io", "llminferenceservices",
                    " + ".join(entries))  # fmt: skip


def _spark_connect() -> Operator:
    """SparkConnect: its server pod and `executor.instances` executors (1), together."""
    server = _entry("object.spec.server.template", "1", "'server'",
                    _fixed("1 Spark Connect server"))  # fmt: skip
    executors = _positive("object.spec.?executor.?instances.orValue(0)")
    executor = _entry("object.spec.executor.template", executors, "'executor'",
                      _counted("Spark executor"))  # fmt: skip
    templates = (
        f"(object.spec.?server.?template.?spec.hasValue() ? [{server}] : []) + "
        f"(object.spec.?executor.?template.?spec.hasValue() ? [{executor}] : [])"
    )
    return Operator("SparkConnect", "sparkoperator.k8s.io", "sparkconnects", templates)


FLINK_SLOTS = '"taskmanager.numberOfTaskSlots"'


def _flink() -> Operator:
    """FlinkDeployment (render time's `_flink`): `jobManager.replicas` job managers (1)
    and the task managers (`taskManager.replicas`, else the job's parallelism over each
    one's task slots, else many for a session cluster), all at once. The shared
    `spec.podTemplate` is every manager's pod; a manager's own template is laid over it
    by position (`pods/flink.py`), so its pods mount the merge's claims. A claim in
    both counts the managers once (the cap)."""
    spec = "object.spec"
    managers = f"{spec}.?jobManager.?replicas.orValue(1)"
    replicas = f"{spec}.?taskManager.?replicas.orValue(0)"
    given = f"{spec}.?job.?parallelism.orValue(0)"
    session = f"{given} <= 0 && !{spec}.?job.hasValue()"
    parallelism = f"({given} > 0 ? {given} : 1)"
    raw = f"{spec}.?flinkConfiguration[?{FLINK_SLOTS}]"
    slots = (
        f"({raw}.hasValue() ? [dyn({raw}.value())].map(s, type(s) == int ? (s >= 0 ? s : 1) : "
        "type(s) == string && s.matches('^[0-9]+$') ? int(s) : 1)[0] : 1)"
    )
    per = f"({slots} > 1 ? {slots} : 1)"
    by_slots = f"({parallelism} + {per} - 1) / {per}"
    workers = f"({replicas} > 0 ? {replicas} : {session} ? {MANY} : {by_slots})"
    counted = (
        f"{_plural('f.w', 'task manager')} + ({replicas} > 0 ? '' : "
        f"' (parallelism ' + string({parallelism}) + ', ' + string({slots}) + ' slots each)')"
    )
    workers_why = f"({replicas} <= 0 && {session} ? {cel.string(SESSION)} : {counted})"
    facts = f'{{"m": dyn({managers}), "w": dyn({workers})}}'
    managers_why = _plural("f.m", "job manager")
    both = f"{managers_why} + ' + ' + f.ww"
    shared = f"{spec}.podTemplate"
    has_shared = f"{spec}.?podTemplate.?spec.hasValue()"
    pod = _entry(shared, "f.m + f.w", "'pod'", lambda _: both)
    entries = [f"({has_shared} ? [{pod}] : [])"]
    own_paths = []
    for component, field, pods, why in (
        ("jobmanager", "jobManager", "f.m", managers_why),
        ("taskmanager", "taskManager", "f.w", "f.ww"),
    ):
        own = f"{spec}.{field}.podTemplate"
        has_own = f"{spec}.?{field}.?podTemplate.?spec.hasValue()"
        own_paths.append(has_own)
        entry = _entry("", pods, cel.string(component), _said(why),
                       meta=f"({has_shared} ? dyn({shared}).?metadata.orValue({{}}) : "
                            f"dyn({own}).?metadata.orValue({{}}))",
                       spec=_flink_merged_spec(shared, own, has_shared),
                       volumes=_flink_merged_volumes(shared, own, has_shared))  # fmt: skip
        entries.append(f"({has_own} ? [{entry}] : [])")
    # No template at all: stowage writes the shared one, selected by the object's labels.
    created = _entry("", "f.m + f.w", "'pod'", lambda _: both, meta="object.metadata",
                     spec="{}", volumes="[]")  # fmt: skip
    nothing = " && ".join(f"!{h}" for h in (has_shared, *own_paths))
    entries.append(f"({nothing} ? [{created}] : [])")
    bound = f'[{facts}].map(f, {{"m": f.m, "w": f.w, "ww": dyn({workers_why})}})[0]'
    templates = f"[{bound}].map(f, {' + '.join(entries)})[0]"
    cap = f"[{facts}].map(f, f.m + f.w > {MANY} ? {MANY} : f.m + f.w)[0]"
    cap_why = f"[{bound}].map(f, {both} + ' in all')[0]"
    return Operator("FlinkDeployment", "flink.apache.org", "flinkdeployments", templates,
                    cap=cap, cap_why=cap_why)  # fmt: skip


SESSION = "task managers started on demand (a session cluster)"


def _flink_merged_volumes(shared: str, own: str, has_shared: str) -> str:
    """CEL: a manager's volumes as the operator merges them by position: item i is the
    shared template's, unless the manager's own item i names a claim; the manager's
    items past the shared list's end are its own."""
    mine = f"dyn({own}).spec.?volumes.orValue([])"
    theirs = f"({has_shared} ? dyn({shared}).spec.?volumes.orValue([]) : [])"
    size = f"({mine}.size() > {theirs}.size() ? {mine}.size() : {theirs}.size())"
    pick = (
        f"i < {mine}.size() && {mine}[i].?persistentVolumeClaim.?claimName.hasValue() ? "
        f"{mine}[i] : i < {theirs}.size() ? {theirs}[i] : {mine}[i]"
    )
    return f"lists.range({size}).map(i, {pick})"


def _flink_merged_spec(shared: str, own: str, has_shared: str) -> str:
    """CEL: what pins a manager's merged pod: its own `nodeName` and `affinity` over the
    shared template's, and a hostname nodeSelector from either."""
    mine, theirs = f"dyn({own}).spec", f"({has_shared} ? dyn({shared}).spec : {{}})"
    host = cel.string(HOSTNAME)
    selector = f"{mine}.?nodeSelector[?{host}].orValue({theirs}.?nodeSelector[?{host}].orValue(''))"
    return (
        f'{{"nodeName": dyn({mine}.?nodeName.orValue({theirs}.?nodeName.orValue(""))), '
        f'"nodeSelector": dyn({selector} != "" ? {{{host}: {selector}}} : {{}}), '
        f'"affinity": dyn({mine}.?affinity.orValue({theirs}.?affinity.orValue({{}})))}}'
    )


IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# CEL's reserved words: a field of one of these names is read by index, not by `.?`.
RESERVED = frozenset({
    "as", "break", "const", "continue", "else", "false", "for", "function", "if", "import",
    "in", "let", "loop", "package", "namespace", "null", "return", "true", "var", "void",
})  # fmt: skip


def declared_operator(spec: KindSpec) -> Operator | None:
    """A kind the config declares (`kinds:`), judged as render time judges it
    (`declared_rule`, `rule_count`): every pod spec its paths reach, all at once, each
    with the positive int at its `replicas` path (wildcards bound to the pod spec's,
    in order), else 1. None when admission cannot say the same: a core-group or
    built-in kind (render time counts those as built-in), or a component named
    `{key}` (render time names it by the wildcard's key)."""
    if not spec.group or CORE_GROUPS.get(spec.kind) == spec.group:
        return None
    if any(p.component == "{key}" for p in spec.podSpecs):
        return None
    parts = [
        _declared_sites(parse_path(p.path), parse_path(p.replicas) if p.replicas else None,
                        p.component, f"{spec.kind} pod")
        for p in spec.podSpecs
    ]  # fmt: skip
    names = plurals(spec.kind)
    return Operator(spec.kind, spec.group, names[0], " + ".join(parts), names[1:])


def plurals(kind: str) -> tuple[str, ...]:
    """The resource names a kind's CRD is likely served as: the config names no plural,
    so the policy matches both the lowercase kind + `s` and its English plural (what
    kubebuilder and controller-gen derive: `Policy` -> `policies`, `Batch` -> `batches`);
    a rule for a name the API server does not serve matches nothing."""
    lower = kind.lower()
    english = lower + "s"
    if lower.endswith(("s", "x", "z", "ch", "sh")):
        english = lower + "es"
    elif lower.endswith("y") and lower[-2:-1] not in ("", *"aeiou"):
        english = lower[:-1] + "ies"
    return tuple(dict.fromkeys((english, lower + "s")))


def _declared_sites(path: Path, replicas: Path | None, component: str, unit: str) -> str:
    """CEL: the entries of every pod spec ``path`` reaches, `[*]` over list items or
    mapping values (bound to `k0`, `k1`... as render time binds its wildcards)."""

    def walk(node: str, rest: Path, bound: list[str]) -> str:
        if WILD not in rest:
            spec = _optional(node, rest)
            meta = "{}"  # beside a list item, render time finds no metadata
            if rest and isinstance(rest[-1], str):
                meta = f"{_optional(node, rest[:-1])}.?metadata.orValue({{}})"
            pods = _declared_pods(replicas, bound)
            entry = _entry("", pods, cel.string(component), _counted(unit),
                           meta=f"dyn({meta})", spec=f"dyn({spec}.value())",
                           volumes=f"dyn({spec}.value()).?volumes.orValue([])")  # fmt: skip
            return f"({spec}.hasValue() ? [{entry}] : [])"
        at = rest.index(WILD)
        key = f"k{len(bound)}"
        container = f"dyn({_optional(node, rest[:at])}.orValue([]))"
        keys = (
            f"(type({container}) == list ? lists.range({container}.size()) : {container}.map(k, k))"
        )
        inner = walk(f"{container}[{key}]", rest[at + 1 :], [*bound, key])
        return f"{keys}.map({key}, {inner}).flatten()"

    return walk("object", path, [])


def _optional(node: str, path: Path, bound: list[str] | None = None) -> str:
    """CEL: the optional value at ``path`` under ``node`` (`get_in`); a wildcard takes
    the next of the ``bound`` keys, one left over is read as a `*` key (as `bind` leaves
    it)."""
    keys = iter(bound or [])
    text = f"optional.of(dyn({node}))"
    for key in path:
        if key == WILD and (name := next(keys, None)) is not None:
            text += f"[?{name}]"
        elif isinstance(key, int):
            text += f"[?{key}]"
        elif IDENTIFIER.match(key) and key not in RESERVED:
            text += f".?{key}"
        else:
            text += f"[?{cel.string(key)}]"
    return text


def _declared_pods(replicas: Path | None, bound: list[str]) -> str:
    """CEL: render time's count of one site: the int at ``replicas`` (its wildcards
    bound in order), when positive, else 1."""
    if replicas is None:
        return "1"
    text = _optional("object", replicas, bound)
    return f"[{text}.orValue(0)].map(r, type(r) == int && r > 0 ? r : 1)[0]"


OPERATORS: tuple[Operator, ...] = (
    *(_kubeflow(kind, field) for kind, field in KUBEFLOW_REPLICA_SPECS.items()),
    _ray("RayCluster", "rayclusters", ""),
    _ray("RayJob", "rayjobs", "rayClusterSpec"),
    _ray("RayService", "rayservices", "rayClusterConfig"),
    _jobset(),
    _lws(),
    _volcano(),
    _spark("SparkApplication", "sparkapplications", "object.spec"),
    _spark("ScheduledSparkApplication", "scheduledsparkapplications", "object.spec.template"),
    _dask("DaskCluster", "daskclusters",
          (("scheduler", "object.spec.scheduler"), ("worker", "object.spec.worker"))),
    _dask("DaskWorkerGroup", "daskworkergroups", (("worker", "object.spec.worker"),)),
    _flink(),
    _kserve(),
    _serving_runtime("ServingRuntime", "servingruntimes"),
    _serving_runtime("ClusterServingRuntime", "clusterservingruntimes"),
    _llm_inference_service(),
    _spark_connect(),
    _dask("DaskJob", "daskjobs", (
        ("job", "object.spec.job"),
        ("scheduler", "object.spec.cluster.spec.scheduler"),
        ("worker", "object.spec.cluster.spec.worker"),
    )),
)  # fmt: skip


def judged(kinds: list[KindSpec]) -> tuple[Operator, ...]:
    """The operator kinds the policy judges for a config: the config's declared kinds
    (`kinds:`) first, in its order, then the built-in ones it does not redeclare (a
    declared kind is counted as declared, at render time too)."""
    declared = tuple(d for k in kinds if (d := declared_operator(k)) is not None)
    mine = {(d.group, d.kind) for d in declared}
    return declared + tuple(o for o in OPERATORS if (o.group, o.kind) not in mine)


def resources(operators: tuple[Operator, ...]) -> tuple[tuple[str, str], ...]:
    """(API group, resource) of every judged kind, each once."""
    return tuple(dict.fromkeys((o.group, r) for o in operators for r in (o.resource, *o.also)))


def _is(operator: Operator) -> str:
    return (
        f"(object.kind == {cel.string(operator.kind)} && "
        f"object.apiVersion.startsWith({cel.string(operator.group + '/')}))"
    )


def is_operator(operators: tuple[Operator, ...]) -> str:
    """CEL: the object is one of ``operators``."""
    return " || ".join(_is(o) for o in operators)


def variables(
    claims: list[Claim], added: Added, pinned: Pinned, operators: tuple[Operator, ...] = OPERATORS
) -> Iterator[tuple[str, str]]:
    """`opParts`: one list of strings per pod template, `#<pods>`, `@<component>` and
    `?<why>` first, then the claims it mounts or gets, then `!` when it is pinned to one
    node (CEL has no tuples, and this keeps the per-template expressions out of the
    per-claim ones); `op<N>`: pods at once on the Nth claim (0 when unjudged); `opOver`:
    the claims over one pod; `opLive` and `opTail`: the first such claim's running
    templates and render time's account of them, for the message."""
    yield "opTemplates", _templates(operators)
    yield "opParts", f"variables.opTemplates.map(x, {_part(added, pinned)})"
    yield "opSerialised", f"object.kind == 'JobSet' && {SERIALISED}"
    capped = [o for o in operators if o.cap]
    yield "opCap", _chain([(o, o.cap) for o in capped], "0")
    yield "opCapWhy", _chain([(o, o.cap_why) for o in capped], "''")
    for index, (name, _) in enumerate(claims):
        yield f"op{index}", _count(cel.string(name))
    over = " + ".join(
        f"(variables.op{i} > 1 ? {cel.strings([name])} : [])" for i, (name, _) in enumerate(claims)
    )
    yield "opOver", over or "[]"
    yield (
        "opLive",
        "variables.opOver.size() == 0 ? [] : variables.opParts.filter(p, "
        "variables.opOver[0] in p && int(p[0].substring(1)) > 0)",
    )
    yield "opTail", _tail()


def message(claims: list[Claim]) -> str:
    origins = "{" + ", ".join(f"{cel.string(n)}: {cel.string(o)}" for n, o in claims) + "}"
    counts = "{" + ", ".join(f"{cel.string(n)}: variables.op{i}" for i, (n, _) in enumerate(claims))
    counts += "}"
    claim = "variables.opOver[0]"
    count = f"{counts}[{claim}]"
    return (
        f'"{sw101.ID} " + variables.ref + ": ReadWriteOnce claim \'" + {claim} + '
        f'"\' (" + {origins}[{claim}] + ") is mounted by " + '
        f'({count} >= {MANY} ? "many" : string({count})) + '
        '" pods that can run on different nodes: " + variables.opTail'
        f" + {cel.string(f'; fix: {sw101.FIX}')}"
    )


def _chain(branches: list[tuple[Operator, str]], otherwise: str) -> str:
    result = otherwise
    for operator, value in reversed(branches):
        result = f"{_is(operator)} ? ({value}) : {result}"
    return result


def _count(claim: str) -> str:
    """CEL: the pods at once of the templates that mount ``claim``, at most the kind's
    cap; 0 when one of them is pinned to one node (left to render time)."""
    mounting = f"variables.opParts.filter(part, {claim} in part)"
    each = f"{mounting}.map(part, int(part[0].substring(1)))"
    total = f"({mounting}.size() == 0 ? 0 : variables.opSerialised ? {each}.max() : {each}.sum())"
    capped = (
        f"[{total}].map(t, variables.opCap > 0 && t > variables.opCap ? variables.opCap : t)[0]"
    )
    return f"{mounting}.exists(part, '!' in part) ? 0 : {capped}"


def _part(added: Added, pinned: Pinned) -> str:
    """CEL: one template's list: `#<pods>`, `@<component>`, `?<why>`, its claims, `!`
    when pinned or held beside another pod."""
    own = (
        "x.v.filter(vol, vol.?persistentVolumeClaim.claimName.hasValue())"
        ".map(vol, vol.persistentVolumeClaim.claimName)"
    )
    required = "requiredDuringSchedulingIgnoredDuringExecution"
    follows = (
        f"x.s.?affinity.podAffinity.{required}.orValue([])"
        f".exists(t, t.?topologyKey.orValue('') == {cel.string(HOSTNAME)})"
    )
    return (
        f"['#' + string(x.p), '@' + x.l, '?' + x.w] + {own} + x.c + ({added('x.m')}) + "
        f"({pinned('x.s')} || {follows} ? ['!'] : [])"
    )


def _templates(operators: tuple[Operator, ...]) -> str:
    """CEL: the operator's pod templates, each with its pods at once."""
    result = "[]"
    for operator in reversed(operators):
        result = f"{_is(operator)} ? ({operator.templates}) : {result}"
    return result


def _tail() -> str:
    """CEL: render time's account of the first shared claim's pods: the components that
    mount it (`Kind/name (component)`) and why they run together (`Group.why`)."""
    live = "variables.opLive"
    name = (
        "object.kind + '/' + object.metadata.?name.orValue("
        "object.metadata.?generateName.orValue(''))"
    )
    # render time names a component other than `pod` after the object
    named = f"{name} + (l == 'pod' ? '' : ' (' + l + ')')"
    labels = f"{live}.map(p, p[1].substring(1)).distinct().map(l, {named}).join(', ')"
    first = f"{live}[0][2].substring(1)"
    same = f"{live}.all(p, p[2] == {live}[0][2])"
    whys = f"{live}.map(p, p[2].substring(1)).join(' + ')"
    why = (
        f"{live}.size() > 1 ? ({same} ? {first} + ', for each of ' + string({live}.size()) : "
        f"{whys}) + ' (they run together)' : {first}"
    )
    jobset = (
        f"variables.ref + ' (' + ({SERIALISED} ? "
        "'its largest replicated job; dependsOn Complete serialises the others' : "
        "'its replicated jobs run together') + ')'"
    )
    pods = f"{live}.map(p, int(p[0].substring(1))).sum()"
    cap = f"(variables.opCap > 0 && {pods} > variables.opCap ? '; ' + variables.opCapWhy : '')"
    return f"object.kind == 'JobSet' ? {jobset} : {labels} + ' (' + ({why}) + {cap} + ')'"
