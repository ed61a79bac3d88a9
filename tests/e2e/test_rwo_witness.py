"""The ReadWriteOnce witness. rejected-rwo-dask-workers.yaml is rejected by SW101: every
run's Dask workers mount one ReadWriteOnce claim and nothing keeps them on one node. With
the check switched off (`cluster.singleNode: true`, the documented switch), the release
installs, and the real scheduler puts the workers Owl launches on two or more nodes while
they share that one claim: exactly the condition SW101 names. On a real cluster the second
node's pods would hang in ContainerCreating with a Multi-Attach error."""

from __future__ import annotations

from pathlib import Path

from e2e.kube import ClusterHelm, Kube, values
from e2e.owl import launch, owl_objects, token_of
from owl_oracle import requires_owl_oracle

pytestmark = requires_owl_oracle
EXAMPLE = values("rejected-rwo-dask-workers.yaml")


def test_sw101_rejects_the_example(khelm: ClusterHelm) -> None:
    proc = khelm.template(*EXAMPLE, check=False)
    assert proc.returncode != 0
    if khelm.major == 3:  # Helm 4 does not show a plugin's messages
        assert "SW101" in proc.stderr


def test_with_sw101_off_the_workers_share_one_rwo_claim_across_nodes(
    khelm: ClusterHelm, kube: Kube, namespace: str, tmp_path: Path
) -> None:
    release = f"rwo{khelm.major}"
    khelm.release("install", release, namespace, *EXAMPLE, "--set", "cluster.singleNode=true")
    claim = kube.bound_claim(namespace, f"{release}-stowage-data-features")
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert kube.get("pv", claim["spec"]["volumeName"])["spec"]["accessModes"] == ["ReadWriteOnce"]

    token = token_of(kube, namespace, f"{release}-stowage-owl-token")
    built = owl_objects(
        khelm.manifest(release, namespace),
        "joe",
        tmp_path,
        namespace=namespace,
        token=token,
        workers=3,
    )
    launch(kube, namespace, built)
    workers = kube.scheduled(namespace, "app=dask,dask.org/component=worker", count=3)
    for pod in workers:
        claims = [v["persistentVolumeClaim"]["claimName"] for v in pod["spec"]["volumes"]
                  if "persistentVolumeClaim" in v]  # fmt: skip
        assert claims == [claim["metadata"]["name"]], pod["metadata"]["name"]
    nodes = {p["spec"]["nodeName"] for p in workers}
    assert len(nodes) >= 2, f"all workers on {nodes}"
