"""Owl's own pipeline Job (built by Owl's code, the oracle, from the release in the cluster)
is accepted by the API server under strict validation, and the pod the real Job controller
creates from it carries the storage stowage attached."""

from __future__ import annotations

from pathlib import Path

from e2e.kube import ClusterHelm, Kube, values
from e2e.owl import job_pods, launch, owl_objects
from owl_oracle import requires_owl_oracle

pytestmark = requires_owl_oracle


def test_owls_pipeline_job_pod_carries_the_storage(
    khelm: ClusterHelm, kube: Kube, namespace: str, tmp_path: Path
) -> None:
    release = f"owl{khelm.major}"
    token = "owl-e2e-" + "k" * 32
    kube.run(
        "create",
        "secret",
        "generic",
        "owl-api-token",
        f"--from-literal=token={token}",
        "-n",
        namespace,
    )
    khelm.release("install", release, namespace, *values("owl.yaml"))
    built = owl_objects(
        khelm.manifest(release, namespace), "joe", tmp_path, namespace=namespace, token=token
    )
    created = launch(kube, namespace, built)
    (job,) = created["job"]
    (pod,) = job_pods(kube, namespace, job["metadata"]["name"])
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in pod["spec"]["containers"][0]["volumeMounts"]}
    outputs = volumes[mounts["/outputs"]]["persistentVolumeClaim"]["claimName"]
    assert outputs == f"{release}-stowage-outputs-outputs"
    assert kube.bound_claim(namespace, outputs)["spec"]["accessModes"] == ["ReadWriteMany"]
    assert volumes[mounts["/storage/joe"]]["hostPath"]["path"] == "/storage/joe"
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    # The Job controller copied the template: the pod has what Owl's Job asked for.
    template = built["pipelineJob"]["spec"]["template"]["spec"]

    def source(volume: dict[str, object]) -> str:
        return next(k for k in volume if k != "name")

    asked = {v["name"]: source(v) for v in template["volumes"]}
    assert {name: source(volumes[name]) for name in asked} == asked  # + the API token's
