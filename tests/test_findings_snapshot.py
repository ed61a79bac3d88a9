"""Every word a user reads in a finding, pinned: the text report's lines (rule, severity,
resource, what is wrong, what it is about, the workloads, the fix), the JSON message and
related resources, for scenarios that trigger the rules. A changed message shows as
a diff of tests/golden/findings.txt; review it, then regenerate with UPDATE_GOLDEN=1."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from checkhelpers import claim_volume, context, mounting, pod, pvc, workload
from enginehelpers import dump_all, render
from stowage.checks import run_all
from stowage.findings import Finding
from stowage.views.report import finding_lines
from test_operator_kinds import CONFIG, LABELS, RWO_CLAIM, SHARED
from test_operator_kinds import pod as operator_pod

GOLDEN = Path(__file__).parent / "golden" / "findings.txt"
HOST_DATA = {"persistence": {"data": {"data": {"mountPath": "/data", "hostPath": "/srv/data"}}}}


def _host(path: str) -> dict[str, Any]:
    spec = pod(
        [{"name": "data", "hostPath": {"path": path}}], [{"name": "data", "mountPath": "/d"}]
    )
    return workload("w", spec=spec)


def _train_job(labels_on_template: bool) -> dict[str, Any]:
    template: dict[str, Any] = {"spec": operator_pod(volumes=SHARED)}
    meta: dict[str, Any] = {"name": "t", "labels": dict(LABELS)}
    if labels_on_template:
        template["metadata"], meta = {"labels": dict(LABELS)}, {"name": "t"}
    return {
        "apiVersion": "example.com/v1",
        "kind": "TrainJob",
        "metadata": meta,
        "spec": {"workers": [{"replicas": 3, "template": template}]},
    }


TRAIN_KIND = {
    "group": "example.com",
    "kind": "TrainJob",
    "podSpecs": [
        {
            "component": "worker",
            "path": "spec.workers[*].template.spec",
            "replicas": "spec.workers[*].replicas",
        }
    ],
}


def _in_context(*docs: dict[str, Any], **kwargs: Any) -> Callable[[], list[Finding]]:
    return lambda: run_all(context(*docs, **kwargs))


def _rendered(*docs: dict[str, Any], config: dict[str, Any]) -> Callable[[], list[Finding]]:
    return lambda: render(dump_all(*docs), copy.deepcopy(config)).findings


def _persistent_volume(path: str) -> dict[str, Any]:
    spec = {"hostPath": {"path": path}, "capacity": {"storage": "1Gi"}, "accessModes": ["RWO"]}
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": "pv"},
        "spec": spec,
    }


def _annotated_refs() -> dict[str, Any]:
    annotated = workload("w")
    annotated["metadata"]["annotations"] = {"stowage.io/data-refs": "data, ghost"}
    return annotated


def _labelled(doc: dict[str, Any]) -> dict[str, Any]:
    doc["metadata"]["labels"] = dict(LABELS)
    doc["spec"]["template"]["metadata"]["labels"] = dict(LABELS)
    return doc


def _two_claims(first: str, second: str) -> dict[str, Any]:
    volumes = [claim_volume(first, "a"), claim_volume(second, "b")]
    return pod(volumes, [{"name": "a", "mountPath": "/a"}, {"name": "b", "mountPath": "/b"}])


def _widget() -> dict[str, Any]:
    """A kind in the core group that stowage does not know, with two pod specs."""
    return {
        "apiVersion": "v1",
        "kind": "Widget",
        "metadata": {"name": "wd", "labels": dict(LABELS)},
        "spec": {
            "a": {"template": {"spec": operator_pod()}},
            "b": {"template": {"spec": operator_pod()}},
        },
    }


SECURE = {"securityContext": {"enabled": True}}


def _nfs_exports(namespace: str, nfs: bool) -> list[dict[str, Any]]:
    """Claim 'exports' in ``namespace``: bound to an NFS PersistentVolume, or not."""
    claim = pvc("exports", "ReadWriteMany", volumeName=f"{namespace}-pv")
    claim["metadata"]["namespace"] = namespace
    source = {"nfs": {"server": "nfs", "path": "/exports"}} if nfs else {"csi": {"driver": "d"}}
    spec = {**source, "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteMany"]}
    meta = {"name": f"{namespace}-pv"}
    return [claim, {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": meta, "spec": spec}]


def _fs_grouped(
    name: str,
    volume: dict[str, Any],
    namespace: str = "ml",
    uids: tuple[int, ...] = (),
    gid: int | None = 2000,
) -> dict[str, Any]:
    """A pod with fsGroup ``gid`` mounting ``volume``; one container per uid in ``uids``."""
    spec = pod([volume], [{"name": volume["name"], "mountPath": "/v"}])
    spec["securityContext"] = {"fsGroup": gid, "runAsNonRoot": True}
    spec["containers"] = [
        {**spec["containers"][0], "name": f"c{uid}", "securityContext": {"runAsUser": uid}}
        for uid in uids
    ] or spec["containers"]
    doc = workload(name, spec=spec)
    doc["metadata"]["namespace"] = namespace
    return doc


def _fs_group_ignored() -> Callable[[], list[Finding]]:
    """A hostPath and an nfs volume of one pod each; claim 'exports', bound to NFS in ml,
    mounted from ml by pods with a uid, without, and with another fsGroup, and from dev
    where it is not NFS. The first pod sets no fsGroup: nothing of it is ignored."""
    host = {"name": "scratch", "hostPath": {"path": "/srv/scratch"}}
    nfs = {"name": "results", "nfs": {"server": "nfs", "path": "/results"}}
    exports = claim_volume("exports", "exports")
    docs = [
        *_nfs_exports("ml", nfs=True),
        *_nfs_exports("dev", nfs=False),
        _fs_grouped("plain", host, uids=(1000,), gid=None),
        _fs_grouped("host", host, uids=(1000,)),
        _fs_grouped("mixed", nfs, uids=(1000, 1001)),  # no one uid: the fix names the gid
        _fs_grouped("reader", exports),
        _fs_grouped("writer", exports, uids=(1000,)),
        _fs_grouped("archiver", exports, uids=(1000,), gid=3000),
        _fs_grouped("dev", exports, namespace="dev", uids=(1000,)),
    ]
    names = ("plain", "host", "mixed", "reader", "writer", "archiver", "dev")
    return _in_context(*docs, config=SECURE, targeted=names)


def _site_configmap() -> dict[str, Any]:
    meta = {"name": "runner"}
    data = {"job.yaml": "containers: [{name: c, image: busybox}]\n"}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


def _sites_matching_nothing(**targets: dict[str, Any]) -> Callable[[], list[Finding]]:
    """Sites of ConfigMap 'runner': the whole key, a path it lacks, a role not in targets."""
    sites = [{"target": "ghost"}, {"path": "spec.template"}]
    missing_key = {"configMap": {"name": "runner"}, "key": "absent.yaml", "sites": [{}]}
    templates = [{"configMap": {"name": "runner"}, "key": "job.yaml", "sites": sites}, missing_key]
    config = {"targets": targets, "templates": templates}
    return _rendered(_site_configmap(), config=config)


def _containers_at(*path: str | int) -> dict[str, Any]:
    """A mapping holding a pod spec at ``path`` (keys, and 0 for a one-item list)."""
    node: Any = operator_pod()
    for key in reversed(path):
        node = [node] if isinstance(key, int) else {key: node}
    return dict(node)


def _gadget() -> dict[str, Any]:
    """A kind stowage does not know: pod specs in a list (its count two levels up), one whose
    count sits too far up to be its own, one 12 levels down (found) and one 13 (not)."""
    deep = ("deep", 0, "a", 0, "b", 0, "c", 0, "d", 0, "e")  # 12 with spec
    spec = {
        "replicas": 2,
        "pods": [operator_pod()],
        **_containers_at("far", "a", "b", "c"),
        **_containers_at(*deep),
        **_containers_at("deeper", *deep[1:], "f"),
    }
    meta = {"name": "g", "labels": dict(LABELS)}
    return {"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": meta, "spec": spec}


def _root_container() -> dict[str, Any]:
    """A non-root pod with one container that runs as root."""
    spec = pod(securityContext={"runAsUser": 1000, "runAsNonRoot": True})
    spec["containers"].append({"name": "debug", "securityContext": {"runAsUser": 0}})
    return spec


def _non_root_containers() -> dict[str, Any]:
    """A pod that sets nothing itself, each of its containers runAsNonRoot."""
    spec = pod()
    spec["containers"].append({"name": "second", "image": "busybox"})
    for container in spec["containers"]:
        container["securityContext"] = {"runAsNonRoot": True}
    return spec


def _stores() -> dict[str, Any]:
    """Data volumes: one without a store, stores lacking a key or both, one complete whose
    Secret is rendered; two outputs stores; a target naming a data volume not there."""
    s3 = {"store": "s3", "mountPath": "/m"}
    data = {
        "aa-local": {"mountPath": "/l", "hostPath": "/srv/l"},
        "b-raw": {**s3, "bucket": "s3://b", "secret": "creds"},
        "c-raw": {**s3, "bucket": "s3://c"},
        "d-ok": {**s3, "bucket": "s3://d", "secret": "present", "secretKey": "k"},
    }
    external = {"secret": "o", "secretKey": "k", "secretExternal": True}
    runs = {**s3, "bucket": "s3://r", **external}
    outputs = {"runs": runs, "logs": {"mountPath": "/logs", "hostPath": "/srv/g"}}
    targets = {"t": {"matchLabels": {"a": "b"}, "dataRefs": ["aa-local", "raw"]}}
    return {"persistence": {"data": data, "outputs": outputs}, "targets": targets}


def _store_docs() -> list[dict[str, Any]]:
    """The Secret 'present'; a ConfigMap named like the absent Secret 'creds' (not it);
    a targeted workload without the data-refs annotation, then one with it."""
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "present"}}
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "creds"}}
    annotated = workload("annotated")
    annotated["metadata"]["annotations"] = {"stowage.io/data-refs": "aa-local, ghost"}
    return [secret, config_map, workload("plain"), annotated]


def _empty(name: str) -> dict[str, Any]:
    return {"name": name, "emptyDir": {}}


def _at(name: str, path: str) -> dict[str, Any]:
    return {"name": name, "mountPath": path}


def _in_namespace(namespace: str, doc: dict[str, Any]) -> dict[str, Any]:
    doc["metadata"]["namespace"] = namespace
    return doc


def _rolling_claims() -> list[dict[str, Any]]:
    """Rolling Deployments on: a ReadWriteOncePod claim two pods share (SW102's), a claim
    that is also ReadWriteMany, a ReadWriteOnce claim two pods share (SW101's); then one
    pod beside a Deployment scaled to zero, and a claim of that name in two namespaces
    mounted by a Deployment without one beside ones scaled to zero in each (it joins both
    namespaces: still one finding). A claim of
    unknown modes that only one pod mounts at a time is no SW104."""
    both = pvc("b-both", "ReadWriteOnce", "ReadWriteMany")
    in_x, in_y = pvc("e-shared", "ReadWriteOnce"), pvc("e-shared", "ReadWriteOnce")
    in_x["metadata"]["namespace"], in_y["metadata"]["namespace"] = "x", "y"
    return [
        pvc("a-solo", "ReadWriteOncePod"),
        both,
        pvc("c-pair", "ReadWriteOnce"),
        pvc("d-db", "ReadWriteOnce"),
        in_x,
        in_y,
        mounting("rwop-pair", "a-solo", replicas=2, strategy="RollingUpdate"),
        mounting("both", "b-both", replicas=1, strategy="RollingUpdate"),
        mounting("pair", "c-pair", replicas=2, strategy="RollingUpdate"),
        mounting("web", "d-db", replicas=1, strategy="RollingUpdate"),
        mounting("idle", "d-db", replicas=0),
        mounting("roamer", "e-shared", replicas=1, strategy="RollingUpdate"),
        _in_namespace("x", mounting("x-idle", "e-shared", replicas=0)),
        _in_namespace("y", mounting("y-idle", "e-shared", replicas=0)),
        # a claim of unknown modes: one pod runs, the other Deployment is scaled to zero
        mounting("lone", "f-unknown", replicas=1),
        mounting("parked", "f-unknown", replicas=0),
    ]


def _pool_settings(with_targets: bool) -> dict[str, Any]:
    """nodeSelector, tolerations and affinity keyed by a pool name, each misspelt."""
    gpu = {"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}
    terms = {"nodeSelectorTerms": [{"matchExpressions": [{"key": "gpu", "operator": "Exists"}]}]}
    targets = {"ml": {"matchLabels": LABELS, "pool": "gpu"}} if with_targets else {}
    return {
        "targets": targets,
        "nodeSelector": {"gpu": {"pool": "gpu"}, "gpus": {"pool": "gpu"}},
        "tolerations": {"gpu": [gpu], "gpus": [gpu]},
        "affinity": {
            "gpus": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": terms}}
        },
    }


SCENARIOS: dict[str, Callable[[], list[Finding]]] = {
    "rwo claim shared": _in_context(
        pvc("db", "ReadWriteOnce"),
        mounting("workers", "db", replicas=3),
        mounting("one", "db", replicas=1),
    ),
    "rwo claim, rolling update": _in_context(
        pvc("db", "ReadWriteOnce"), mounting("web", "db", replicas=1, strategy="RollingUpdate")
    ),
    "one rolling Deployment, two claims; one claim through two volumes": _in_context(
        pvc("db", "ReadWriteOnce"),
        pvc("cache", "ReadWriteOnce"),
        pvc("scratch", "ReadWriteOnce"),
        workload("web", strategy="RollingUpdate", spec=_two_claims("db", "cache")),
        workload("twice", replicas=2, spec=_two_claims("scratch", "scratch")),
    ),
    "rwop shared, claim of unknown modes": _in_context(
        pvc("solo", "ReadWriteOncePod"),
        workload("a", spec=pod([claim_volume("solo")], [{"name": "data", "mountPath": "/s"}])),
        workload("b", spec=pod([claim_volume("solo")], [{"name": "data", "mountPath": "/s"}])),
        mounting("c", "unknown", replicas=2),
    ),
    "sensitive host paths": _in_context(_host("/etc"), _persistent_volume("/proc")),
    "host path data, multi-node": _in_context(
        _host("/srv/data"), config=HOST_DATA, targeted=("w",)
    ),
    "data refs": _in_context(
        _annotated_refs(),
        config={**HOST_DATA, "targets": {"t": {"matchLabels": {"a": "b"}, "dataRefs": ["nope"]}}},
        targeted=("w",),
    ),
    "unknown kind, labels on the object": _rendered(RWO_CLAIM, _train_job(False), config=CONFIG),
    "unknown kind, labels on its pod template": _rendered(
        RWO_CLAIM, _train_job(True), config=CONFIG
    ),
    "declared kind": _rendered(
        RWO_CLAIM, _train_job(False), config=dict(CONFIG, kinds=[TRAIN_KIND])
    ),
    "template sources that match no ConfigMap": _rendered(
        _labelled(workload("w")),
        config=dict(
            CONFIG,
            templates=[
                {"preset": "owl", "configMap": {"name": "absent"}},
                {"preset": "owl", "configMap": {"matchLabels": {"app": "owl"}}},
                {"preset": "owl", "configMap": {"name": "gone", "matchLabels": {"app": "x"}}},
            ],
        ),
    ),
    "unknown core kind, two pod specs": _rendered(
        _widget(),
        config=dict(CONFIG, targets={"ml": {"matchLabels": LABELS}, "b": {"matchLabels": LABELS}}),
    ),
    "auto-mounted claim, host paths at the edges": _in_context(
        mounting("auto", "pipeline-claim", replicas=2),
        _host(""),
        _host("/var/lib/kubelet/plugins/csi"),
        config={
            "autoMount": {
                "type": "pvc",
                "params": {"pvc_name": "pipeline-claim", "volume_mount_path": "/mnt"},
                "accessModes": ["ReadWriteOnce"],
            },
            "hostPathAllow": ["/var/lib/kubelet/plugins/"],
        },
    ),
    "fsGroup ignored: host path, nfs volume, NFS claim by namespace": _fs_group_ignored(),
    "template sites that match nothing, two roles": _sites_matching_nothing(
        ml={"matchLabels": LABELS}, gpu={"matchLabels": {"pool": "gpu"}}
    ),
    "template sites that match nothing, no roles": _sites_matching_nothing(),
    "a role for template sites only, no matchLabels": _in_context(config={"targets": {"all": {}}}),
    "root: by the pod and by a container": _in_context(
        workload("root", spec=pod(securityContext={"runAsUser": 0})),
        workload("sidecar", spec=_root_container()),
        workload("nonroot", spec=_non_root_containers()),  # no finding
        config=SECURE,
        targeted=("root", "sidecar", "nonroot"),
    ),
    "rolling updates: the claims SW103 leaves to others, then two it names": _in_context(
        *_rolling_claims()
    ),
    "object stores: credentials, Secrets, two outputs, data refs": _in_context(
        *_store_docs(), config=_stores(), targeted=("plain", "annotated")
    ),
    "data refs, no data volumes": _in_context(
        config={"targets": {"t": {"matchLabels": {"a": "b"}, "dataRefs": ["raw"]}}}
    ),
    "mounts naming no volume": _in_context(
        workload("two", spec=pod([_empty("a"), _empty("b")], [_at("a", "/a"), _at("ghost", "/g")])),
        workload("none", spec=pod(mounts=[_at("x", "/x")])),
    ),
    "rwop claim shared, after a claim one pod mounts": _in_context(
        pvc("cache", "ReadWriteOnce"),
        pvc("solo", "ReadWriteOncePod"),
        mounting("single", "cache", replicas=1),
        mounting("pair", "solo", replicas=2),
    ),
    "node pool settings naming no pool": _in_context(config=_pool_settings(with_targets=True)),
    "node pool settings, no targets": _in_context(config=_pool_settings(with_targets=False)),
    "unknown kind, pod specs in a list and deep down": _in_context(_gadget(), config=CONFIG),
}


def _pods_out_of_reach() -> Callable[[], list[Finding]]:
    from test_checks_bite import JOB, _train_job, _workflow
    from test_operator_kinds import FLINK_SESSION_JOB

    tekton = {
        "apiVersion": "tekton.dev/v1",
        "kind": "PipelineRun",
        "metadata": {"name": "build", "labels": dict(LABELS)},
        "spec": {"pipelineRef": {"name": "build"}},
    }
    docs = [_train_job(name="torch"), tekton, FLINK_SESSION_JOB, _workflow(JOB)]
    return _rendered(*docs, config=CONFIG)


SCENARIOS["pods out of reach"] = _pods_out_of_reach()


def _pods_out_of_reach_edges() -> Callable[[], list[Finding]]:
    """Runs and jobs whose references name nothing, or a bundle; the resource steps that
    create a kind stowage knows (a nameless PyTorchJob) or only looks like a pod owner.
    A ClusterTrainingRuntime rendered with a namespace is still the TrainJob's runtime."""
    from test_checks_bite import _runtime, _train_job, _workflow
    from test_operator_kinds import FLINK_SESSION_JOB

    def run(name: str, pipeline_ref: dict[str, Any]) -> dict[str, Any]:
        meta = {"name": name, "namespace": "ci"}
        spec = {"pipelineRef": pipeline_ref}
        api = "tekton.dev/v1"
        return {"apiVersion": api, "kind": "PipelineRun", "metadata": meta, "spec": spec}

    labelled = {"name": "build", "namespace": "ci", "labels": dict(LABELS)}
    session = {
        **FLINK_SESSION_JOB,
        "metadata": {"name": "wordcount", "namespace": "stream", "labels": dict(LABELS)},
        "spec": {"job": {"jarURI": "https://x/job.jar"}},  # no deploymentName
    }
    unnamed_runtime = _train_job()
    unnamed_runtime["spec"]["runtimeRef"] = "torch"  # not a mapping: no kind, no name
    pytorch = (
        "apiVersion: kubeflow.org/v1\nkind: PyTorchJob\nspec:\n  pytorchReplicaSpecs:\n"
        "    Master:\n      replicas: 1\n      template:\n        spec:\n"
        "          containers: [{name: c, image: busybox}]\n"
    )
    sandbox = (
        "apiVersion: example.com/v1\nkind: Sandbox\nmetadata:\n  name: box\nspec:\n"
        "  template:\n    spec:\n      containers: [{name: c, image: busybox}]\n"
    )
    docs = [
        run("bundled", {"bundle": "registry.example.com/pipelines:1", "name": "build"}),
        run("unnamed", {}),
        session,
        unnamed_runtime,
        _train_job(name="shared-torch"),
        _runtime("ClusterTrainingRuntime", "shared-torch", namespace="kubeflow"),
        _workflow(pytorch),
        _workflow(sandbox, kind="CronWorkflow"),
        # other Tekton and Argo kinds run nothing of their own: no finding
        {**run("build", {}), "kind": "Pipeline", "metadata": labelled, "spec": {"tasks": []}},
        {**run("app", {}), "apiVersion": "argoproj.io/v1alpha1", "kind": "Application"},
    ]
    return _in_context(*docs, config=CONFIG)


SCENARIOS["pods out of reach: bundles, missing names, what resource steps create"] = (
    _pods_out_of_reach_edges()
)


def _text(finding: Finding) -> str:
    """The finding as the text report prints it, then the JSON report's whole-sentence
    message (where it says more than the first line) and related resources."""
    lines = finding_lines(finding)
    if finding.message != finding.headline:
        lines.append(f"  message: {finding.message}")
    lines += [f"  related: {ref}" for ref in finding.related]
    return "\n".join(lines)


def _snapshot() -> str:
    blocks = []
    for name, scenario in SCENARIOS.items():
        found = "\n".join(_text(f) for f in scenario()) or "(no findings)"
        blocks.append(f"## {name}\n{found}\n")
    return "\n".join(blocks)


def test_findings_read_as_pinned() -> None:
    text = _snapshot()
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert GOLDEN.exists(), f"no {GOLDEN}: run with UPDATE_GOLDEN=1"
    assert text == GOLDEN.read_text(), f"{GOLDEN} differs: review, then UPDATE_GOLDEN=1"


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_each_scenario_finds_something(name: str) -> None:
    assert SCENARIOS[name]()
