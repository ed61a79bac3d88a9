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
    """`opParts`: one list of strings per pod template, `#<pods>` first, then the claims
    it mounts or gets, then `!` when it is pinned to one node (CEL has no tuples, and
    this keeps the per-template expressions out of the per-claim ones); `op<N>`: pods at
    once on the Nth claim (0 when unjudged); `opOver`: the claims over one pod."""
    yield "opTemplates", _templates()
    yield "opParts", f"variables.opTemplates.map(x, {_entry('x.t', 'x.pods', added, pinned)})"
    yield "opSerialised", f"object.kind == 'JobSet' && {SERIALISED}"
    for index, (name, _) in enumerate(claims):
        yield f"op{index}", _count(cel.string(name))
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


def _count(claim: str) -> str:
    """CEL: the pods at once of the templates that mount ``claim``; 0 when one of them
    is pinned to one node (left to render time)."""
    mounting = f"variables.opParts.filter(part, {claim} in part)"
    each = f"{mounting}.map(part, int(part[0].substring(1)))"
    total = f"({mounting}.size() == 0 ? 0 : variables.opSerialised ? {each}.max() : {each}.sum())"
    return f"{mounting}.exists(part, '!' in part) ? 0 : {total}"


def _entry(template: str, pods: str, added: Added, pinned: Pinned) -> str:
    """CEL: one template's list: `#<pods>`, its claims, `!` when pinned."""
    own = (
        f"{template}.spec.?volumes.orValue([])"
        ".filter(vol, vol.?persistentVolumeClaim.claimName.hasValue())"
        ".map(vol, vol.persistentVolumeClaim.claimName)"
    )
    return (
        f"['#' + string({pods})] + {own} + ({added(f'{template}.metadata')}) + "
        f"({pinned(f'{template}.spec')} ? ['!'] : [])"
    )


def _positive(value: str) -> str:
    return f"({value} > 0 ? {value} : 1)"


def _pair(template: str, pods: str) -> str:
    """CEL: a pod template with its pods at once (dyn: CEL literals are homogeneous)."""
    return f'{{"pods": dyn({pods}), "t": dyn({template})}}'


def _templates() -> str:
    """CEL: the operator's pod templates, each with its pods at once."""
    branches = {
        "PyTorchJob": _pytorch(),
        "RayCluster": _ray(),
        "JobSet": _jobset(),
        "LeaderWorkerSet": _lws(),
    }
    result = "[]"
    for kind, expression in reversed(branches.items()):
        result = f"object.kind == {cel.string(kind)} ? ({expression}) : {result}"
    return result


def _pytorch() -> str:
    specs = "object.spec.?pytorchReplicaSpecs.orValue({})"
    replicas = _positive(f"{specs}[rs].?replicas.orValue(0)")
    most = "object.spec.?elasticPolicy.?maxReplicas.orValue(0)"
    pods = f"(rs.lowerAscii() == 'worker' && {most} > {replicas} ? {most} : {replicas})"
    return f"{specs}.map(rs, {_pair(f'{specs}[rs].template', pods)})"


def _ray() -> str:
    head = "object.spec.headGroupSpec.template"
    has_head = "object.spec.?headGroupSpec.?template.hasValue()"
    groups = "object.spec.?workerGroupSpecs.orValue([])"
    replicas = "wg.?replicas.orValue(0)"
    # KubeRay's CRD defaults maxReplicas to the largest int32: that default is no
    # maxReplicas written, which render time (reading the manifest) never sees.
    most = f"(wg.?maxReplicas.orValue(0) == {RAY_DEFAULT_MAX} ? 0 : wg.?maxReplicas.orValue(0))"
    larger = f"({most} > {replicas} ? {most} : {replicas})"
    pods = f"{_positive(larger)} * {_positive('wg.?numOfHosts.orValue(0)')}"
    workers = f"{groups}.map(wg, {_pair('wg.template', pods)})"
    return f"({has_head} ? [{_pair(head, '1')}] : []) + {workers}"


def _job_pods(spec: str) -> str:
    parallelism = f"{spec}.?parallelism.orValue(1)"
    completions = f"{spec}.?completions.orValue(0)"
    return f"({completions} > 0 && {completions} < {parallelism} ? {completions} : {parallelism})"


RAY_DEFAULT_MAX = 2147483647
SERIALISED = (
    "object.spec.?replicatedJobs.orValue([]).exists(rj, rj.?dependsOn.orValue([])"
    ".exists(d, d.?status.orValue('Complete') != 'Ready'))"
)


def _jobset() -> str:
    pods = f"rj.?replicas.orValue(1) * {_job_pods('rj.template.spec')}"
    entry = _pair("rj.template.spec.template", pods)
    return f"object.spec.?replicatedJobs.orValue([]).map(rj, {entry})"


def _lws() -> str:
    lws = "object.spec.leaderWorkerTemplate"
    replicas = _positive("object.spec.?replicas.orValue(0)")
    size = _positive("object.spec.?leaderWorkerTemplate.?size.orValue(0)")
    has_leader = "object.spec.?leaderWorkerTemplate.?leaderTemplate.hasValue()"
    leader = _pair(f"{lws}.leaderTemplate", replicas)
    worker = _pair(f"{lws}.workerTemplate", f"{replicas} * {size}")
    return f"({has_leader} ? [{leader}] : []) + [{worker}]"


def _why() -> str:
    return (
        "object.kind == 'PyTorchJob' ? 'its replica specs run together' : "
        "object.kind == 'RayCluster' ? 'the head and worker groups run together' : "
        f"object.kind == 'JobSet' ? ({SERIALISED} ? "
        "'its largest replicated job; dependsOn Complete serialises the others' : "
        "'its replicated jobs run together') : "
        "'replicas x size group pods'"
    )
