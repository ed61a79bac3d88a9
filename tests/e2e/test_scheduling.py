"""The real scheduler follows stowage's plan: with production.yaml's node pools the Owl
scheduler and API land on core nodes and the Dask pods Owl launches on experiments nodes
(the tainted pool). Owl's pipeline Job reaches its pool only through the admission policies:
Owl's fragment cannot carry a pool (SW906). Where the plan names a pool wrongly, the pods
stay Pending, as the real scheduler says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from e2e.kube import (
    CORE_NODES,
    EXAMPLES,
    EXPERIMENTS_NODES,
    ClusterHelm,
    Kube,
    dump,
    values,
    wait_for,
)
from e2e.owl import job_pods, launch, owl_objects, token_of
from owl_oracle import requires_owl_oracle

pytestmark = requires_owl_oracle

TOKEN = "e2e-token-" + "x" * 30


def _secret(name: str, token: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name},
        "stringData": {"token": token},
    }


def _static_pv(
    name: str, claim: tuple[str, str], size: str, modes: list[str], storage_class: str = ""
) -> dict[str, Any]:
    """A volume an administrator made beforehand, reserved for one claim (NFS: never mounted
    here, there is no kubelet)."""
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name},
        "spec": {
            "capacity": {"storage": size},
            "accessModes": modes,
            "storageClassName": storage_class,
            "persistentVolumeReclaimPolicy": "Retain",
            "claimRef": {"namespace": claim[0], "name": claim[1]},
            "nfs": {"server": "nfs.e2e.invalid", "path": f"/exports/{name}"},
        },
    }


def _production_storage(kube: Kube, namespace: str, release: str) -> None:
    """What production.yaml expects the cluster to have: its StorageClass fast-ssd, the
    claim imagenet, a cephfs volume for its features claim and the token Secret."""
    if kube.get("storageclass", "fast-ssd") is None:
        sc = {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": "fast-ssd"},
            "provisioner": "kubernetes.io/host-path",
        }
        kube.run("create", "-f", "-", stdin=dump(sc))
    imagenet = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "imagenet"},
        "spec": {
            "accessModes": ["ReadOnlyMany"],
            "storageClassName": "",
            "resources": {"requests": {"storage": "1Ti"}},
        },
    }
    features = (namespace, f"{release}-stowage-data-features")
    volumes = [
        _static_pv(f"{namespace}-imagenet", (namespace, "imagenet"), "1Ti", ["ReadOnlyMany"]),
        _static_pv(f"{namespace}-features", features, "500Gi", ["ReadWriteMany"], "cephfs"),
    ]
    kube.run("create", "-f", "-", stdin=dump(*volumes))
    claims = dump(imagenet, _secret("owl-api-token", TOKEN))
    kube.run("create", "-n", namespace, "-f", "-", stdin=claims)


def _nodes(pods: list[dict[str, Any]]) -> set[str]:
    return {p["spec"]["nodeName"] for p in pods}


def _production(
    khelm: ClusterHelm, kube: Kube, namespace: str, workdir: Path, *args: str
) -> tuple[str, dict[str, list[dict[str, Any]]]]:
    """production.yaml installed through stowage (with ``args``), and one run Owl launched
    for joe."""
    release = f"prod{khelm.major}"
    _production_storage(kube, namespace, release)
    khelm.release("install", release, namespace, *values("production.yaml"), *args)
    for claim in (
        "imagenet",
        f"{release}-stowage-data-features",
        f"{release}-stowage-scheduler-state",
    ):
        kube.bound_claim(namespace, claim)
    built = owl_objects(
        khelm.manifest(release, namespace),
        "joe",
        workdir,
        namespace=namespace,
        token=TOKEN,
        workers=3,
    )
    if "admission.enabled=true" in args:
        _wait_for_the_policies(kube, namespace, built["pipelineJob"])
    return release, launch(kube, namespace, built)


def _wait_for_the_policies(kube: Kube, namespace: str, job: dict[str, Any]) -> None:
    """The API server loads new admission policies asynchronously: wait until a server-side
    dry run of the Job's pod (owned by the Job, as the Job controller makes it: the Owl
    preset recognises it by that) comes back with the pipeline pool."""
    template = job["spec"]["template"]
    owner = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "name": job["metadata"]["name"],
        "uid": "00000000-0000-0000-0000-000000000000",  # a dry run: never collected
    }
    metadata = {**template.get("metadata", {}), "name": "probe-pipeline"}
    probe = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {**metadata, "ownerReferences": [owner]},
        "spec": template["spec"],
    }

    def pooled() -> bool:
        proc = kube.run(
            "create", "--dry-run=server", "-o", "json", "-n", namespace, "-f", "-",
            stdin=dump(probe), check=False,
        )  # fmt: skip
        spec = json.loads(proc.stdout)["spec"] if proc.returncode == 0 else {}
        return bool(spec.get("nodeSelector", {}).get("node-pool") == "experiments")

    wait_for("the admission policies to give the pipeline pod its pool", pooled)


def _claims(pod: dict[str, Any]) -> set[str]:
    volumes = pod["spec"]["volumes"]
    return {
        v["persistentVolumeClaim"]["claimName"] for v in volumes if "persistentVolumeClaim" in v
    }


def test_production_core_pool_and_dask_on_experiments(
    khelm: ClusterHelm, kube: Kube, namespace: str, tmp_path: Path
) -> None:
    release, _ = _production(khelm, kube, namespace, tmp_path)
    ours = f"app.kubernetes.io/instance={release}"
    scheduler = kube.scheduled(namespace, f"{ours},stowage.io/role=scheduler")
    api = kube.scheduled(namespace, f"{ours},stowage.io/role=api")
    assert _nodes(scheduler) <= CORE_NODES
    assert _nodes(api) == _nodes(scheduler)  # the API's pod affinity: the same node
    dask = kube.scheduled(namespace, "app=dask", count=4)  # Owl's Dask scheduler + 3 workers
    assert _nodes(dask) <= EXPERIMENTS_NODES
    for pod in dask:
        assert {"imagenet", f"{release}-stowage-outputs-outputs"} <= _claims(pod)


def test_production_pipeline_job_without_admission_misses_its_pool(
    khelm: ClusterHelm, kube: Kube, namespace: str, tmp_path: Path
) -> None:
    """Owl 0.8.3 builds the pipeline Job from owl.yaml's `pipeline` fragment, which holds
    only volumes, volumeMounts, env and the pod securityContext: the pool's nodeSelector and
    toleration never reach it. It gets its storage and lands on an untainted core node,
    which is what SW906 warns of at render time, naming the fix (the admission policies)."""
    report = _stowage_findings(khelm, namespace, values("production.yaml"))
    assert "SW906" in report and "stowage admission" in report
    release, created = _production(khelm, kube, namespace, tmp_path)
    (pod,) = job_pods(kube, namespace, created["job"][0]["metadata"]["name"])
    assert {"imagenet", f"{release}-stowage-outputs-outputs"} <= _claims(pod)
    assert "node-pool" not in pod["spec"].get("nodeSelector", {})
    assert _nodes([pod]) <= CORE_NODES


def test_production_pipeline_job_on_experiments_with_admission(
    khelm: ClusterHelm, kube: Kube, namespace: str, tmp_path: Path
) -> None:
    """With `admission.enabled`, the release's MutatingAdmissionPolicy gives the pod the
    real Job controller creates from Owl's Job the pipeline pool, and the real scheduler
    binds it to an experiments node (the tainted pool: the toleration came too)."""
    release, created = _production(
        khelm, kube, namespace, tmp_path, "--set", "admission.enabled=true"
    )
    (pod,) = job_pods(kube, namespace, created["job"][0]["metadata"]["name"])
    assert {"imagenet", f"{release}-stowage-outputs-outputs"} <= _claims(pod)
    assert _nodes([pod]) <= EXPERIMENTS_NODES


def _pool_values(tmp_path: Path, tolerations_key: str, selector_pool: str) -> list[str]:
    path = tmp_path / "pools.yaml"
    toleration = {
        "key": "dedicated",
        "operator": "Equal",
        "value": "experiments",
        "effect": "NoSchedule",
    }
    path.write_text(yaml.safe_dump({
        "nodeSelector": {"core": {"node-pool": "core"}, "pipeline": {"node-pool": "experiments"},
                         "dask": {"node-pool": selector_pool}},
        "tolerations": {"pipeline": [toleration], tolerations_key: [toleration]},
    }))  # fmt: skip
    return ["-f", str(path)]


UNBOUND_CLAIMS = "unbound immediate PersistentVolumeClaims"


def _unschedulable(kube: Kube, namespace: str, pod: dict[str, Any]) -> str:
    """The real scheduler's reason for not binding pod (it must stay unbound): the message
    of the pod's PodScheduled condition, which the scheduler rewrites after every attempt.

    A pod launched while its claims are still being bound first fails with "unbound
    immediate PersistentVolumeClaims"; the scheduler retries once they bind, so that
    transient reason is not the answer. (Its FailedScheduling events are no oracle: the
    event recorder counts a later failure into the first event's series and keeps the
    first message.)"""
    name = pod["metadata"]["name"]

    def reason() -> str | None:
        current = kube.get("pod", name, "-n", namespace)
        for condition in current.get("status", {}).get("conditions") or []:
            if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
                message = str(condition.get("message") or "")
                return None if not message or UNBOUND_CLAIMS in message else message
        return None

    message = wait_for(f"the scheduler's verdict on {name}", reason)
    assert not kube.get("pod", name, "-n", namespace)["spec"].get("nodeName")
    return message


def _stowage_findings(khelm: ClusterHelm, namespace: str, args: list[str]) -> str:
    """stowage's report on the same render (helm template, then `stowage check`)."""
    import subprocess

    from e2e.kube import CHART, STOWAGE

    raw = khelm.run("template", "ml", str(CHART), "-n", namespace, *args).stdout
    proc = subprocess.run(
        [str(STOWAGE), "check"], input=raw, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr  # a warning: the render is accepted
    return proc.stderr


def test_sw903_a_toleration_under_no_pool_is_never_applied_so_dask_stays_pending(
    khelm: ClusterHelm, kube: Kube, namespace: str, tmp_path: Path
) -> None:
    """SW903: `tolerations.dsak` (a typo of `dask`) names no node pool, so it is applied to
    nothing. Its pods select the experiments pool but never get its toleration: the real
    scheduler leaves every Dask pod Pending (spelled right, they land: the test above)."""
    release = f"typo{khelm.major}"
    args = _pool_values(tmp_path, "dsak", "experiments")
    report = _stowage_findings(khelm, namespace, args)
    assert "SW903" in report and "tolerations.dsak names no node pool" in report

    khelm.release("install", release, namespace, *args)
    token = token_of(kube, namespace, f"{release}-stowage-owl-token")
    manifest = khelm.manifest(release, namespace)
    created = launch(
        kube,
        namespace,
        owl_objects(manifest, "ann", tmp_path / "owl", namespace=namespace, token=token),
    )
    for pod in [*created["dask-scheduler"], *created["dask-workers"]]:
        message = _unschedulable(kube, namespace, pod)
        assert "untolerated taint" in message, message
        assert "didn't match Pod's node affinity/selector" in message, message


def test_a_pool_no_node_carries_leaves_its_pods_pending(
    khelm: ClusterHelm, kube: Kube, namespace: str, tmp_path: Path
) -> None:
    """base.yaml sends Dask pods to `node-pool: workers`, a pool this cluster does not have.
    No check can know a cluster's pools offline (stowage says nothing); the real scheduler
    leaves the pods Pending: what the e2e tier adds."""
    release = f"nopool{khelm.major}"
    assert "node-pool: workers" in (EXAMPLES / "base.yaml").read_text()
    assert "SW9" not in _stowage_findings(khelm, namespace, values("base.yaml"))
    khelm.release("install", release, namespace, *values("base.yaml"))
    token = token_of(kube, namespace, f"{release}-stowage-owl-token")
    manifest = khelm.manifest(release, namespace)
    built = owl_objects(
        manifest, "li", tmp_path / "owl", namespace=namespace, token=token, workers=1
    )
    created = launch(kube, namespace, built)
    for pod in [*created["dask-scheduler"], *created["dask-workers"]]:
        message = _unschedulable(kube, namespace, pod)
        assert "didn't match Pod's node affinity/selector" in message, message
