"""The control plane itself (cluster/kcluster.py) is what the other e2e tests assume:
Kubernetes v1.37.2 with RBAC and strict field validation, four Ready nodes in two pools
(experiments tainted), a default StorageClass that binds, and pods whose deletion finishes."""

from __future__ import annotations

import json

from e2e.kube import CORE_NODES, EXPERIMENTS_NODES, Kube, dump, wait_for


def test_version(kube: Kube) -> None:
    version = json.loads(kube.run("version", "-o", "json").stdout)
    assert version["serverVersion"]["gitVersion"] == "v1.37.2"


def test_nodes_in_their_pools_ready_experiments_tainted(kube: Kube) -> None:
    nodes = {n["metadata"]["name"]: n for n in kube.items("nodes")}
    assert set(nodes) == CORE_NODES | EXPERIMENTS_NODES
    for name, node in nodes.items():
        pool = "core" if name in CORE_NODES else "experiments"
        assert node["metadata"]["labels"]["node-pool"] == pool
        ready = {c["type"]: c["status"] for c in node["status"]["conditions"]}["Ready"]
        assert ready == "True"
        taints = [(t["key"], t.get("value"), t["effect"]) for t in node["spec"].get("taints", [])]
        assert taints == (
            [("dedicated", "experiments", "NoSchedule")] if pool == "experiments" else []
        )


def test_rbac_is_enforced(kube: Kube, namespace: str) -> None:
    who = f"--as=system:serviceaccount:{namespace}:default"
    proc = kube.run("auth", "can-i", "list", "secrets", "-n", namespace, who, check=False)
    assert proc.stdout.strip() == "no"
    assert kube.run("auth", "can-i", "list", "secrets", "-n", namespace).stdout.strip() == "yes"


def test_strict_field_validation_refuses_an_unknown_field(kube: Kube, namespace: str) -> None:
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "x"},
        "datta": {"a": "b"},
    }
    refused = kube.apply_strict(dump(config), namespace)
    assert refused.returncode != 0
    assert ".datta: field not declared in schema" in refused.stderr
    assert kube.get("configmap", "x", "-n", namespace) is None


def test_default_storage_class_binds_a_claim(kube: Kube, namespace: str) -> None:
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "c"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    kube.run("create", "-n", namespace, "-f", "-", stdin=dump(claim))
    bound = kube.bound_claim(namespace, "c")
    assert bound["spec"]["storageClassName"] == "standard"


def test_deployment_pods_are_created_scheduled_and_deleted(kube: Kube, namespace: str) -> None:
    kube.run(
        "create",
        "deployment",
        "web",
        "--image=registry.invalid/web:1",
        "--replicas=2",
        "-n",
        namespace,
    )
    pods = kube.scheduled(namespace, "app=web", count=2)
    assert {p["spec"]["nodeName"] for p in pods} <= CORE_NODES  # experiments is tainted
    kube.run("delete", "deployment", "web", "-n", namespace)
    wait_for("the pods to go", lambda: not kube.pods(namespace, "app=web"))
