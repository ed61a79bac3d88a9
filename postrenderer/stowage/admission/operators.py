"""SW101 on operator kinds at admission: the pods each operator runs at once, in CEL.

Render time's model (`pods/concurrency.py`) for the kinds CEL can follow:

- Kubeflow PyTorchJob: every replica spec runs together, `replicas` pods each (an
  elastic job's workers up to `elasticPolicy.maxReplicas`);
- RayCluster: the head and every worker group together, a group's pods the larger of
  `replicas` and `maxReplicas`, times `numOfHosts`;
- LeaderWorkerSet: `replicas` leaders and `replicas` x `size` group pods;
- JobSet: replicated jobs together, each `replicas` x its Job's parallelism (capped by
  completions). `dependsOn` with `status: Complete` serialises jobs; CEL cannot list
  the cliques of that graph, so a JobSet with such a dependency is judged by its
  largest replicated job alone: never a refusal render time would not make, but two
  jobs that overlap beside a dependency may be left to render time.

A claim counts for the pods whose template mounts it, or whose template a target
selects to have it attached. Templates pinned to one node leave the claim unjudged.
Argo Workflows, Volcano and the other operator kinds are not judged at admission.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from stowage.admission import cel
from stowage.checks import sw101_rwo_multi_node as sw101

Claim = tuple[str, str]  # name, where its access modes come from
RESOURCES = (
    ("kubeflow.org", "pytorchjobs"),
    ("ray.io", "rayclusters"),
    ("jobset.x-k8s.io", "jobsets"),
    ("leaderworkerset.x-k8s.io", "leaderworkersets"),
)
KINDS = {
    "PyTorchJob": "kubeflow.org/",
    "RayCluster": "ray.io/",
    "JobSet": "jobset.x-k8s.io/",
    "LeaderWorkerSet": "leaderworkerset.x-k8s.io/",
}
IS_OPERATOR = " || ".join(
    f"(object.kind == {cel.string(k)} && object.apiVersion.startsWith({cel.string(g)}))"
    for k, g in KINDS.items()
)
Added = Callable[[str], str]  # a template's metadata -> the claims the mutation attaches
Pinned = Callable[[str], str]  # a pod spec -> whether it is held on one node


def variables(claims: list[Claim], added: Added, pinned: Pinned) -> Iterator[tuple[str, str]]:
    """`op<N>`: pods at once on the Nth claim (0 when unjudged); `opOver`: the claims
    over one pod; `opWhy`: how the operator's pods were counted."""
    for index, (name, _) in enumerate(claims):
        yield f"op{index}", _count(cel.string(name), added, pinned)
    over = " + ".join(
        f"(variables.op{i} > 1 ? {cel.strings([name])} : [])" for i, (name, _) in enumerate(claims)
    )
    yield "opOver", over or "[]"
    yield "opWhy", _why()


def message(claims: list[Claim]) -> str:
    origins = "{" + ", ".join(f"{cel.string(n)}: {cel.string(o)}" for n, o in claims) + "}"
    counts = "{" + ", ".join(f"{cel.string(n)}: variables.op{i}" for i, (n, _) in enumerate(claims))
    counts += "}"
    claim = "variables.opOver[0]"
    return (
        f'"{sw101.ID} " + variables.ref + ": ReadWriteOnce claim \'" + {claim} + '
        f'"\' (" + {origins}[{claim}] + ") is mounted by " + string({counts}[{claim}]) + '
        '" pods that can run on different nodes: " + variables.ref + " (" + variables.opWhy + ")"'
        f" + {cel.string(f'; fix: {sw101.FIX}')}"
    )


def _mounts(template: str, claim: str, added: Added) -> str:
    own = (
        f"{template}.spec.?volumes.orValue([]).exists(vol, "
        f"vol.?persistentVolumeClaim.claimName.orValue('') == {claim})"
    )
    return f"({own} || {claim} in ({added(f'{template}.metadata')}))"


def _positive(value: str) -> str:
    return f"({value} > 0 ? {value} : 1)"


def _count(claim: str, added: Added, pinned: Pinned) -> str:
    """CEL: the pods at once that mount ``claim``, by kind; 0 when a template mounting
    it is pinned to one node (left to render time)."""
    branches = {
        "PyTorchJob": _pytorch(claim, added, pinned),
        "RayCluster": _ray(claim, added, pinned),
        "JobSet": _jobset(claim, added, pinned),
        "LeaderWorkerSet": _lws(claim, added, pinned),
    }
    result = "0"
    for kind, expression in reversed(branches.items()):
        result = f"object.kind == {cel.string(kind)} ? ({expression}) : {result}"
    return result


def _summed(
    items: str, var: str, template: str, pods: str, *, claim: str, added: Added, pinned: Pinned
) -> tuple[str, str]:
    """(the pods of ``items`` whose template mounts the claim, any of them pinned)."""
    mounting = f"{items}.filter({var}, {_mounts(template, claim, added)})"
    return (
        f"{mounting}.map({var}, {pods}).sum()",
        f"{mounting}.exists({var}, {pinned(f'{template}.spec')})",
    )


def _guarded(total: str, pinned_any: str) -> str:
    return f"({pinned_any}) ? 0 : {total}"


def _pytorch(claim: str, added: Added, pinned: Pinned) -> str:
    specs = "object.spec.?pytorchReplicaSpecs.orValue({})"
    replicas = _positive(f"{specs}[rs].?replicas.orValue(0)")
    most = "object.spec.?elasticPolicy.?maxReplicas.orValue(0)"
    pods = f"(rs.lowerAscii() == 'worker' && {most} > {replicas} ? {most} : {replicas})"
    total, pinned_any = _summed(
        specs, "rs", f"{specs}[rs].template", pods, claim=claim, added=added, pinned=pinned
    )
    return _guarded(total, pinned_any)


def _ray(claim: str, added: Added, pinned: Pinned) -> str:
    head = "object.spec.headGroupSpec.template"
    groups = "object.spec.?workerGroupSpecs.orValue([])"
    replicas = "wg.?replicas.orValue(0)"
    # KubeRay's CRD defaults maxReplicas to the largest int32: that default is no
    # maxReplicas written, which render time (reading the manifest) never sees.
    most = f"(wg.?maxReplicas.orValue(0) == {RAY_DEFAULT_MAX} ? 0 : wg.?maxReplicas.orValue(0))"
    larger = f"({most} > {replicas} ? {most} : {replicas})"
    pods = f"{_positive(larger)} * {_positive('wg.?numOfHosts.orValue(0)')}"
    workers, pinned_any = _summed(
        groups, "wg", "wg.template", pods, claim=claim, added=added, pinned=pinned
    )
    has_head = "object.spec.?headGroupSpec.?template.hasValue()"
    head_mounts = f"({has_head} ? {_mounts(head, claim, added)} : false)"
    total = f"({head_mounts} ? 1 : 0) + {workers}"
    return _guarded(total, f"({head_mounts} ? {pinned(f'{head}.spec')} : false) || {pinned_any}")


def _job_pods(spec: str) -> str:
    parallelism = f"{spec}.?parallelism.orValue(1)"
    completions = f"{spec}.?completions.orValue(0)"
    return f"({completions} > 0 && {completions} < {parallelism} ? {completions} : {parallelism})"


RAY_DEFAULT_MAX = 2147483647
SERIALISED = (
    "object.spec.?replicatedJobs.orValue([]).exists(rj, rj.?dependsOn.orValue([])"
    ".exists(d, d.?status.orValue('Complete') != 'Ready'))"
)


def _jobset(claim: str, added: Added, pinned: Pinned) -> str:
    jobs = "object.spec.?replicatedJobs.orValue([])"
    pods = f"rj.?replicas.orValue(1) * {_job_pods('rj.template.spec')}"
    template = "rj.template.spec.template"
    mounting = f"{jobs}.filter(rj, {_mounts(template, claim, added)})"
    each = f"{mounting}.map(rj, {pods})"
    total = f"{mounting}.size() == 0 ? 0 : ({SERIALISED} ? {each}.max() : {each}.sum())"
    pinned_any = f"{mounting}.exists(rj, {pinned(f'{template}.spec')})"
    return _guarded(total, pinned_any)


def _lws(claim: str, added: Added, pinned: Pinned) -> str:
    lws = "object.spec.leaderWorkerTemplate"
    replicas = _positive("object.spec.?replicas.orValue(0)")
    size = _positive("object.spec.?leaderWorkerTemplate.?size.orValue(0)")
    leader = f"{lws}.leaderTemplate"
    worker = f"{lws}.workerTemplate"
    has_leader = "object.spec.?leaderWorkerTemplate.?leaderTemplate.hasValue()"
    leader_mounts = f"({has_leader} ? {_mounts(leader, claim, added)} : false)"
    worker_mounts = _mounts(worker, claim, added)
    total = f"({leader_mounts} ? {replicas} : 0) + ({worker_mounts} ? {replicas} * {size} : 0)"
    pinned_any = (
        f"({leader_mounts} ? {pinned(f'{leader}.spec')} : false) || "
        f"({worker_mounts} && {pinned(f'{worker}.spec')})"
    )
    return _guarded(total, pinned_any)


def _why() -> str:
    return (
        "object.kind == 'PyTorchJob' ? 'its replica specs run together' : "
        "object.kind == 'RayCluster' ? 'the head and worker groups run together' : "
        f"object.kind == 'JobSet' ? ({SERIALISED} ? "
        "'its largest replicated job; dependsOn Complete serialises the others' : "
        "'its replicated jobs run together') : "
        "'replicas x size group pods'"
    )
