"""Cases the mutation run (make mutate) found untested in the checks: each fails when the
rule's logic is changed in the way named."""

from __future__ import annotations

from typing import Any

from checkhelpers import claim_volume, context, findings, mounting, pod, pvc

RWO = pvc("db", "ReadWriteOnce")
MOUNT = [{"name": "data", "mountPath": "/data"}]


def sw101(*docs: dict[str, Any]) -> list[str]:
    return [f.message for f in findings(context(*docs), "SW101")]


def _node_affinity(term: dict[str, Any]) -> dict[str, Any]:
    required = {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}
    return {"affinity": {"nodeAffinity": required}}


def test_pinning_by_node_name_field_counts_like_the_hostname_label() -> None:
    # matchFields on metadata.name is how the DaemonSet controller pins pods to a node.
    by_name = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}
    assert not sw101(RWO, mounting("w", "db", replicas=3, pod_extra=_node_affinity(by_name)))
    two = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1", "n2"]}]}
    assert sw101(RWO, mounting("w", "db", replicas=3, pod_extra=_node_affinity(two)))


def _dask_cluster(worker: dict[str, Any], scheduler: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "kubernetes.dask.org/v1",
        "kind": "DaskCluster",
        "metadata": {"name": "dask"},
        "spec": {"worker": worker, "scheduler": scheduler},
    }


def test_the_dask_scheduler_is_one_pod_whatever_the_workers() -> None:
    scheduler = {"spec": pod([claim_volume("db")], MOUNT)}
    assert not sw101(RWO, _dask_cluster({"replicas": 5, "spec": pod()}, scheduler))


def test_dask_workers_without_replicas_are_one_worker() -> None:
    worker = {"spec": pod([claim_volume("db")], MOUNT)}
    assert not sw101(RWO, _dask_cluster(worker, {"spec": pod()}))
    (message,) = sw101(RWO, _dask_cluster({**worker, "replicas": 2}, {"spec": pod()}))
    assert "2 Dask workers" in message
