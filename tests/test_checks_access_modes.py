"""SW101-SW104: the access-mode analysis, each source of pod count and of pinning,
every case with the look-alike that must pass."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from checkhelpers import claim_volume, context, findings, mounting, pod, pvc, workload
from enginehelpers import dump_all, render
from stowage.checks import run_all
from stowage.findings import Severity

RWO = pvc("db", "ReadWriteOnce")
HOSTNAME = "kubernetes.io/hostname"


def sw101(*docs: dict[str, Any], **kwargs: Any) -> list[str]:
    return [f.message for f in findings(context(*docs, **kwargs), "SW101")]


def test_rwo_with_several_replicas_is_rejected_naming_claim_workload_count_and_fix() -> None:
    ctx = context(RWO, mounting("workers", "db", replicas=3))
    (finding,) = findings(ctx, "SW101")
    assert finding.severity is Severity.ERROR
    assert "'db'" in finding.message
    assert "Deployment/workers" in finding.message
    assert "3 pods" in finding.message
    assert "ReadWriteMany" in finding.fix
    assert "StatefulSet" in finding.fix


def test_rwo_with_one_replica_passes_and_rwx_with_many_passes() -> None:
    assert not sw101(RWO, mounting("one", "db", replicas=1))
    assert not sw101(pvc("db", "ReadWriteMany"), mounting("many", "db", replicas=5))


def test_read_only_many_passes_when_every_mount_is_read_only() -> None:
    rox = pvc("db", "ReadOnlyMany")
    spec = pod([claim_volume("db", read_only=True)], [{"name": "data", "mountPath": "/d"}])
    assert not sw101(rox, workload("readers", replicas=4, spec=spec))
    rwo_rox = pvc("db", "ReadWriteOnce", "ReadOnlyMany")
    assert sw101(rwo_rox, mounting("writers", "db", replicas=4))


def test_one_writer_among_read_only_users_makes_a_read_only_many_claim_writable() -> None:
    # Read-only only when *every* user mounts it read-only: one writer is enough to need RWO.
    rwo_rox = pvc("db", "ReadWriteOnce", "ReadOnlyMany")
    spec = pod([claim_volume("db", read_only=True)], [{"name": "data", "mountPath": "/d"}])
    readers = workload("readers", replicas=2, spec=spec)
    (message,) = sw101(rwo_rox, readers, mounting("writer", "db", replicas=2))
    assert "Deployment/writer" in message
    assert "Deployment/readers" in message


def test_several_workloads_sharing_one_rwo_claim() -> None:
    assert sw101(RWO, mounting("a", "db"), mounting("b", "db"))


def _scaler(api: str, kind: str, target: dict[str, str], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": api,
        "kind": kind,
        "metadata": {"name": "scaler"},
        "spec": {"scaleTargetRef": target, **spec},
    }


def test_hpa_max_replicas_counts() -> None:
    target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "a"}
    hpa = _scaler(
        "autoscaling/v2", "HorizontalPodAutoscaler", target, minReplicas=1, maxReplicas=10
    )
    (message,) = sw101(RWO, mounting("a", "db"), hpa)
    assert "HPA maxReplicas 10" in message
    other = {**hpa, "spec": {**hpa["spec"], "scaleTargetRef": {"kind": "Deployment", "name": "x"}}}
    assert not sw101(RWO, mounting("a", "db"), other)


def test_a_keda_scaled_object_scales_its_deployment_to_100_unless_told() -> None:
    """KEDA makes an HPA for a ScaledObject, with maxReplicaCount (100 when unset); its
    scaleTargetRef names a Deployment when it names no kind."""
    scaled = _scaler("keda.sh/v1alpha1", "ScaledObject", {"name": "a"}, minReplicaCount=0)
    (message,) = sw101(RWO, mounting("a", "db"), scaled)
    assert message == (
        "ReadWriteOnce claim 'db' (per its manifest) is mounted by 100 pods that can run on "
        "different nodes: Deployment/a (KEDA ScaledObject maxReplicaCount 100 by default)"
    )
    capped = {**scaled, "spec": {**scaled["spec"], "maxReplicaCount": 4}}
    (message,) = sw101(RWO, mounting("a", "db"), capped)
    assert message.endswith("(KEDA ScaledObject maxReplicaCount 4)")
    one = {**scaled, "spec": {**scaled["spec"], "maxReplicaCount": 1}}
    assert not sw101(RWO, mounting("a", "db"), one)
    sts = {**scaled, "spec": {"scaleTargetRef": {"kind": "StatefulSet", "name": "a"}}}
    assert not sw101(RWO, mounting("a", "db"), sts)  # it scales a StatefulSet called a


def test_a_watermark_pod_autoscaler_scales_its_target_like_an_hpa() -> None:
    target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": "a"}
    wpa = _scaler("datadoghq.com/v1alpha1", "WatermarkPodAutoscaler", target, maxReplicas=6)
    (message,) = sw101(RWO, mounting("a", "db"), wpa)
    assert message.endswith("Deployment/a (WatermarkPodAutoscaler maxReplicas 6)")


def test_an_autoscaler_kind_of_another_group_scales_nothing() -> None:
    target = {"kind": "Deployment", "name": "a"}
    hpa = _scaler("autoscaling/v2", "HorizontalPodAutoscaler", target, maxReplicas=6)
    for api, kind in [
        ("example.com/v1", "ScaledObject"),
        ("example.com/v1", "HorizontalPodAutoscaler"),
    ]:
        foreign = _scaler(api, kind, target, maxReplicas=6, maxReplicaCount=6)
        assert not sw101(RWO, mounting("a", "db"), foreign)
        # and the real one after it still counts
        (message,) = sw101(RWO, mounting("a", "db"), foreign, hpa)
        assert message.endswith("Deployment/a (HPA maxReplicas 6)")


@pytest.mark.parametrize(
    ("scaler_namespace", "workload_namespace", "scaled"),
    [("ml", "ml", True), ("ml", "", True), ("", "ml", True), ("other", "ml", False)],
)
def test_an_autoscaler_scales_only_its_own_namespace_s_workload(
    scaler_namespace: str, workload_namespace: str, scaled: bool
) -> None:
    """A scaleTargetRef names a workload in the autoscaler's namespace; a manifest without
    one lands in the release's, which may be any."""
    target = {"kind": "Deployment", "name": "a"}
    hpa = _scaler("autoscaling/v2", "HorizontalPodAutoscaler", target, maxReplicas=6)
    deployment = mounting("a", "db")
    claim = dict(RWO, metadata={"name": "db"})
    for doc, namespace in ((hpa, scaler_namespace), (deployment, workload_namespace)):
        if namespace:
            doc["metadata"]["namespace"] = namespace
    if workload_namespace:
        claim["metadata"] = {"name": "db", "namespace": workload_namespace}
    found = sw101(claim, deployment, hpa)
    assert [m.endswith("(HPA maxReplicas 6)") for m in found] == ([True] if scaled else [])


def test_the_largest_of_two_autoscalers_that_may_scale_a_workload_counts() -> None:
    target = {"kind": "Deployment", "name": "a"}
    small = _scaler("autoscaling/v2", "HorizontalPodAutoscaler", target, maxReplicas=3)
    large = _scaler("keda.sh/v1alpha1", "ScaledObject", {"name": "a"}, maxReplicaCount=8)
    small["metadata"]["namespace"] = "ml"
    (message,) = sw101(RWO, mounting("a", "db"), small, large)
    assert message.endswith("Deployment/a (KEDA ScaledObject maxReplicaCount 8)")


@pytest.mark.parametrize("most", [None, "10", True])
def test_an_hpa_without_a_whole_number_maximum_scales_nothing(most: Any) -> None:
    target = {"kind": "Deployment", "name": "a"}
    hpa = _scaler("autoscaling/v2", "HorizontalPodAutoscaler", target, maxReplicas=most)
    assert not sw101(RWO, mounting("a", "db"), hpa)


def test_job_parallelism_and_completions() -> None:
    assert sw101(RWO, mounting("j", "db", kind="Job", parallelism=4))
    assert not sw101(RWO, mounting("j", "db", kind="Job", parallelism=4, completions=1))
    assert not sw101(RWO, mounting("j", "db", kind="Job"))


def _cron(policy: str | None) -> dict[str, Any]:
    job = mounting("c", "db", kind="Job")
    spec: dict[str, Any] = {"schedule": "* * * * *", "jobTemplate": {"spec": job["spec"]}}
    if policy:
        spec["concurrencyPolicy"] = policy
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"}, "spec": spec}


def test_cronjob_concurrency() -> None:
    assert sw101(RWO, _cron(None))
    assert sw101(RWO, _cron("Allow"))
    assert not sw101(RWO, _cron("Forbid"))


def test_daemonset_runs_on_every_node_unless_pinned() -> None:
    assert sw101(RWO, mounting("ds", "db", kind="DaemonSet"))
    pinned = mounting("ds", "db", kind="DaemonSet", pod_extra={"nodeSelector": {HOSTNAME: "n1"}})
    assert not sw101(RWO, pinned)


def _dask(kind: str, replicas: int) -> dict[str, Any]:
    spec = pod([claim_volume("db")], [{"name": "data", "mountPath": "/data"}])
    worker = {"replicas": replicas, "spec": spec}
    body: dict[str, Any] = {"worker": worker}
    if kind == "DaskCluster":
        body["scheduler"] = {"spec": pod()}
    if kind == "DaskJob":
        body = {
            "job": {"spec": pod()},
            "cluster": {"spec": {"worker": worker, "scheduler": {"spec": pod()}}},
        }
    return {
        "apiVersion": "kubernetes.dask.org/v1",
        "kind": kind,
        "metadata": {"name": "dask"},
        "spec": body,
    }


@pytest.mark.parametrize("kind", ["DaskCluster", "DaskWorkerGroup", "DaskJob"])
def test_dask_workers_each_get_a_deployment_so_they_spread(kind: str) -> None:
    (message,) = sw101(RWO, _dask(kind, 3))
    assert "3 Dask workers" in message
    assert not sw101(RWO, _dask(kind, 1))


def test_pipeline_template_means_many_concurrent_pods() -> None:
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "run"},
        "spec": {
            "template": {"spec": pod([claim_volume("db")], [{"name": "data", "mountPath": "/d"}])}
        },
    }
    carrier = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "tpl", "labels": {"stowage.io/pod-template": "true"}},
        "data": {"job.yaml": yaml.safe_dump(job)},
    }
    (message,) = sw101(RWO, carrier)
    assert "many pods" in message
    assert "ConfigMap/tpl" in message


@pytest.mark.parametrize(
    "pinning",
    [
        {"nodeName": "node-1"},
        {"nodeSelector": {HOSTNAME: "node-1"}},
        {
            "affinity": {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {
                                "matchExpressions": [
                                    {"key": HOSTNAME, "operator": "In", "values": ["node-1"]}
                                ]
                            }
                        ]
                    }
                }
            }
        },
    ],
    ids=["nodeName", "nodeSelector", "nodeAffinity"],
)
def test_pinning_to_one_node_makes_rwo_sharing_safe(pinning: dict[str, Any]) -> None:
    assert not sw101(RWO, mounting("w", "db", replicas=3, pod_extra=pinning))


def test_node_affinity_to_two_hosts_is_not_pinning() -> None:
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {
                        "matchExpressions": [
                            {"key": HOSTNAME, "operator": "In", "values": ["n1", "n2"]}
                        ]
                    }
                ]
            }
        }
    }
    assert sw101(RWO, mounting("w", "db", replicas=3, pod_extra={"affinity": affinity}))


SCHEDULER = {"matchLabels": {"app": "owl", "component": "scheduler"}}
ZONE = "topology.kubernetes.io/zone"


def _api_following(*terms: dict[str, Any]) -> list[dict[str, Any]]:
    """The Owl scheduler and an API whose required pod affinity has ``terms`` (none: no
    affinity at all)."""
    scheduler = mounting("owl-scheduler", "db", labels={"app": "owl", "component": "scheduler"})
    required = {"requiredDuringSchedulingIgnoredDuringExecution": list(terms)}
    extra = {"affinity": {"podAffinity": required}} if terms else {}
    api = mounting("owl-api", "db", labels={"app": "owl", "component": "api"}, pod_extra=extra)
    return [RWO, scheduler, api]


def _owl(with_affinity: bool) -> list[dict[str, Any]]:
    same_node = {"labelSelector": SCHEDULER, "topologyKey": HOSTNAME}
    return _api_following(*([same_node] if with_affinity else []))


def test_owl_api_pinned_to_scheduler_by_pod_affinity_passes_and_fails_without() -> None:
    assert not sw101(*_owl(with_affinity=True))
    (message,) = sw101(*_owl(with_affinity=False))
    assert "Deployment/owl-scheduler" in message
    assert "Deployment/owl-api" in message


def test_only_pod_affinity_on_the_hostname_keeps_pods_on_one_node() -> None:
    same_zone = {"labelSelector": SCHEDULER, "topologyKey": ZONE}
    same_node = {"labelSelector": SCHEDULER, "topologyKey": HOSTNAME}
    assert sw101(*_api_following(same_zone))
    assert not sw101(*_api_following(same_zone, same_node))


@pytest.mark.parametrize(
    ("operator", "values", "pinned"),
    [("In", ["scheduler"], True), ("NotIn", ["scheduler"], False), ("In", ["a", "b"], False)],
)
def test_pod_affinity_by_expression_follows_only_one_exact_label(
    operator: str, values: list[str], pinned: bool
) -> None:
    expression = {"key": "component", "operator": operator, "values": values}
    selector = {"matchExpressions": [expression]}
    found = sw101(*_api_following({"labelSelector": selector, "topologyKey": HOSTNAME}))
    assert not found if pinned else found


@pytest.mark.parametrize(
    "pin",
    [
        lambda node: {"nodeName": node},
        lambda node: {"nodeSelector": {HOSTNAME: node}},
    ],
    ids=["nodeName", "nodeSelector"],
)
def test_pods_pinned_to_two_different_nodes_share_a_claim_across_nodes(
    pin: Callable[[str], dict[str, Any]],
) -> None:
    one = mounting("a", "db", pod_extra=pin("node-1"))
    other = mounting("b", "db", pod_extra=pin("node-2"))
    assert sw101(RWO, one, other)
    assert not sw101(RWO, one, mounting("b", "db", pod_extra=pin("node-1")))


def test_single_node_cluster_makes_multi_node_findings_moot() -> None:
    assert not sw101(RWO, mounting("w", "db", replicas=3), config={"cluster": {"singleNode": True}})


def _claim_bound_to_rwo_pv() -> tuple[dict[str, Any], dict[str, Any]]:
    """Claim `db` with no access modes of its own, bound to a ReadWriteOnce PV `pv-1`."""
    claim = pvc("db", volumeName="pv-1")
    claim["spec"].pop("accessModes")
    pv = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": "pv-1"},
        "spec": {"accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}},
    }
    return claim, pv


def test_access_modes_from_bound_pv_and_from_declared_existing_claim() -> None:
    claim, pv = _claim_bound_to_rwo_pv()
    assert sw101(claim, pv, mounting("w", "db", replicas=2))
    declared = {
        "persistence": {
            "data": {
                "d": {"mountPath": "/d", "existingClaim": "db", "accessModes": ["ReadWriteOnce"]}
            }
        }
    }
    (message,) = sw101(mounting("w", "db", replicas=2), config=declared)
    assert "declared in the storage plan" in message


def test_statefulset_claim_templates_are_per_pod() -> None:
    sts = workload(
        "db",
        kind="StatefulSet",
        replicas=3,
        spec=pod(mounts=[{"name": "data", "mountPath": "/data"}]),
    )
    sts["spec"]["volumeClaimTemplates"] = [pvc("data", "ReadWriteOnce")]
    ctx = context(sts)
    assert not [f for f in run_all(ctx) if f.severity is Severity.ERROR]


def test_rwop_shared_by_two_pods_even_on_one_node() -> None:
    rwop = pvc("db", "ReadWriteOncePod")
    pinned = {"nodeName": "n1"}
    (finding,) = findings(context(rwop, mounting("w", "db", replicas=2, pod_extra=pinned)), "SW102")
    assert "only one may ever mount it" in finding.message
    assert not findings(context(rwop, mounting("w", "db", replicas=1)), "SW102")


def test_rolling_update_with_rwo_stalls_recreate_passes() -> None:
    (finding,) = findings(context(RWO, mounting("w", "db", strategy=None)), "SW103")
    assert "RollingUpdate" in finding.message
    assert "stalls" in finding.message and "old pod keeps running" in finding.message
    assert "Recreate" in finding.fix
    explicit = findings(context(RWO, mounting("w", "db", strategy="RollingUpdate")), "SW103")
    assert explicit
    assert not findings(context(RWO, mounting("w", "db", strategy="Recreate")), "SW103")
    assert not findings(
        context(pvc("db", "ReadWriteMany"), mounting("w", "db", strategy=None)), "SW103"
    )


def test_unknown_access_mode_warns_and_strict_makes_it_an_error() -> None:
    ctx = context(mounting("w", "mystery", replicas=2))
    (warning,) = findings(ctx, "SW104")
    assert warning.severity is Severity.WARNING
    assert "accessModes" in warning.fix
    (error,) = findings(ctx, "SW104", strict=True)
    assert error.severity is Severity.ERROR
    assert not findings(context(mounting("w", "mystery", replicas=1)), "SW104")


def _z2jh(third_party: Path, edit: str | None = None) -> list[dict[str, Any]]:
    docs = [d for d in yaml.safe_load_all((third_party / "z2jh.rendered.yaml").read_text()) if d]
    hub = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "hub")
    if edit == "replicas":
        hub["spec"]["replicas"] = 2
    if edit == "rolling":
        hub["spec"]["strategy"] = {"type": "RollingUpdate"}
    return docs


def test_z2jh_hub_passes_and_its_broken_variants_do_not(third_party: Path) -> None:
    ok = [f for f in run_all(context(*_z2jh(third_party))) if f.severity is Severity.ERROR]
    assert ok == []
    assert findings(context(*_z2jh(third_party, "replicas")), "SW101")
    assert findings(context(*_z2jh(third_party, "rolling")), "SW103")


@pytest.mark.parametrize(
    "fixture",
    [
        "dask.rendered.yaml",
        "z2jh.rendered.yaml",
        "dask-operator.rendered.yaml",
        "dask-operator-simplecluster.yaml",
        "dask-operator-simplejob.yaml",
        "dask-operator-simpleworkergroup.yaml",
    ],
)
def test_third_party_fixtures_have_no_errors(third_party: Path, fixture: str) -> None:
    docs = [d for d in yaml.safe_load_all((third_party / fixture).read_text()) if d]
    errors = [f for f in run_all(context(*docs)) if f.severity is Severity.ERROR]
    assert errors == []


def _listed(kind: str, *items: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": kind, "items": list(items)}


def test_list_items_are_checked_like_top_level_documents() -> None:
    workers = mounting("workers", "db", replicas=3)
    (separate,) = sw101(RWO, workers)
    (listed,) = sw101(_listed("List", RWO, workers))
    assert listed == separate
    (typed,) = sw101(_listed("PersistentVolumeClaimList", RWO), _listed("DeploymentList", workers))
    assert typed == separate
    assert "Deployment/workers (3 replicas)" in listed
    assert not sw101(_listed("List", RWO, mounting("workers", "db", replicas=1)))


def test_hpa_and_bound_volume_inside_lists_are_seen() -> None:
    hpa: dict[str, Any] = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "a"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "a"}, "maxReplicas": 4},
    }
    (message,) = sw101(RWO, _listed("List", mounting("a", "db"), hpa))
    assert "HPA maxReplicas 4" in message
    claim, pv = _claim_bound_to_rwo_pv()
    assert sw101(_listed("List", claim, pv), mounting("w", "db", replicas=2))


def _rolling(name: str, **rolling_update: Any) -> dict[str, Any]:
    deployment = mounting(name, "db", strategy="RollingUpdate")
    deployment["spec"]["strategy"]["rollingUpdate"] = rolling_update
    return deployment


@pytest.mark.parametrize("surge", [0, "0", "0%"])
def test_rolling_update_without_surge_stops_the_old_pod_first(surge: int | str) -> None:
    assert not findings(context(RWO, _rolling("w", maxSurge=surge, maxUnavailable=1)), "SW103")
    assert findings(context(RWO, _rolling("w", maxSurge=1, maxUnavailable=0)), "SW103")
    assert findings(context(RWO, _rolling("w", maxSurge="25%")), "SW103")


def test_rolling_follower_pinned_by_pod_affinity_is_not_rejected_but_its_anchor_is() -> None:
    claim, scheduler, api = _owl(with_affinity=True)
    api["spec"]["strategy"] = {"type": "RollingUpdate"}
    assert not findings(context(claim, scheduler, api), "SW103")
    scheduler["spec"]["strategy"] = {"type": "RollingUpdate"}
    (finding,) = findings(context(claim, scheduler, api), "SW103")
    assert finding.resource.name == "owl-scheduler"


def test_single_node_cluster_turns_off_rolling_update_findings() -> None:
    single = {"cluster": {"singleNode": True}}
    assert not findings(context(RWO, mounting("w", "db", strategy=None), config=single), "SW103")
    shared = [RWO, mounting("a", "db", strategy=None), mounting("b", "db", strategy=None)]
    assert not findings(context(*shared, config=single), "SW103")


def test_rwop_rolling_update_stalls_even_pinned_on_a_single_node() -> None:
    rwop = pvc("db", "ReadWriteOncePod")
    pinned = mounting("w", "db", strategy=None, pod_extra={"nodeName": "n1"})
    single = {"cluster": {"singleNode": True}}
    (finding,) = findings(context(rwop, pinned, config=single), "SW103")
    assert "ReadWriteOncePod claim 'db'" in finding.message
    assert "pin the pod" not in finding.fix
    assert not findings(context(rwop, _rolling("w", maxSurge=0, maxUnavailable=1)), "SW103")


def _in_namespace(doc: dict[str, Any], namespace: str) -> dict[str, Any]:
    doc["metadata"]["namespace"] = namespace
    return doc


def test_no_namespace_and_an_explicit_one_share_the_claim() -> None:
    listed = mounting("a", "db")
    explicit = _in_namespace(mounting("b", "db"), "default")
    (message,) = sw101(RWO, listed, explicit)
    assert "2 pods" in message
    assert "Deployment/a" in message and "Deployment/b" in message
    assert not sw101(RWO, listed, _in_namespace(mounting("b", "other"), "default"))


def test_a_shared_claim_gives_one_finding_covering_all_its_pods() -> None:
    four = mounting("a", "db", replicas=4)
    three = _in_namespace(mounting("b", "db", replicas=3), "default")
    (message,) = sw101(RWO, four, three)
    assert "7 pods" in message
    two_namespaces = [_in_namespace(mounting("c", "db"), "team"), four, three]
    ctx = context(RWO, *two_namespaces)
    found = findings(ctx, "SW101")
    assert [f.resource.namespace for f in found] == ["default", "team"]
    assert ["Deployment/a" in f.message for f in found] == [True, True]


def test_rolling_workload_without_namespace_is_reported_once() -> None:
    follow = {
        "affinity": {
            "podAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": [
                    {"labelSelector": {"matchLabels": {"app": "a"}}, "topologyKey": HOSTNAME}
                ]
            }
        }
    }
    anchor = mounting("a", "db", strategy=None)
    team = _in_namespace(mounting("t", "db", pod_extra=follow), "team")
    other = _in_namespace(mounting("o", "db", pod_extra=follow), "other")
    assert not sw101(RWO, anchor, team, other)
    found = findings(context(RWO, anchor, team, other), "SW103")
    assert [f.resource.name for f in found] == ["a"]


def test_a_workflow_template_no_step_uses_is_named_as_never_running() -> None:
    """Its pods never start, so they add none to the count, but the message still says the
    workflow mounts the claim, and why it does not count."""
    shared = {"name": "s", "persistentVolumeClaim": {"claimName": "db"}}
    dep = mounting("d", "db", replicas=2)
    unused = {"image": "busybox", "volumeMounts": [{"name": "s", "mountPath": "/s"}]}
    workflow = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "w"},
        "spec": {
            "entrypoint": "main",
            "volumes": [shared],
            "templates": [
                {"name": "main", "steps": [[{"name": "one", "template": "plain"}]]},
                {"name": "plain", "container": {"image": "busybox"}},
                {"name": "unused", "container": unused},
            ],
        },
    }
    (finding,) = render(dump_all(RWO, dep, workflow)).findings
    assert finding.message == (
        "ReadWriteOnce claim 'db' (per its manifest) is mounted by 2 pods that can run on "
        "different nodes: Deployment/d (2 replicas), Workflow/w (unused) (never runs: no step "
        "or task uses it)"
    )


def test_a_claim_name_filled_in_per_run_is_left_out_and_the_claims_after_it_judged() -> None:
    """`x-${USER}` names a claim per user, made at run time: nothing to judge here."""
    per_user = claim_volume("x-${USER}", name="mine")
    spec = pod(
        [per_user, claim_volume("db")],
        [{"name": "mine", "mountPath": "/mine"}, {"name": "data", "mountPath": "/data"}],
    )
    ctx = context(RWO, workload("workers", spec=spec, replicas=2))
    found = [(f.rule, f.resource.name) for f in run_all(ctx) if f.rule.startswith("SW10")]
    assert found == [("SW101", "db")]


def test_a_claim_s_access_modes_are_read_in_its_own_namespace() -> None:
    shared = pvc("db", "ReadWriteMany")
    shared["metadata"]["namespace"] = "team-a"
    single = pvc("db", "ReadWriteOnce")
    single["metadata"]["namespace"] = "team-b"
    for namespace, rejected in (("team-a", False), ("team-b", True)):
        workers = mounting("workers", "db", replicas=2)
        workers["metadata"]["namespace"] = namespace
        assert bool(sw101(shared, single, workers)) is rejected
