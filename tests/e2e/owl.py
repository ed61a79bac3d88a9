"""What Owl's own code (tests/oracle, the Owl oracle) builds from a release in the cluster:
the pipeline Job its scheduler creates and the Dask pods its pipeline creates."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from e2e.kube import Kube, dump
from owl_oracle import owl_pods, owl_yaml_of


def token_of(kube: Kube, namespace: str, secret: str, key: str = "token") -> str:
    found = kube.get("secret", secret, "-n", namespace)
    assert found is not None, f"no Secret {namespace}/{secret}"
    return base64.b64decode(found["data"][key]).decode()


def owl_objects(
    manifest: str, user: str, workdir: Path, *, namespace: str, token: str, workers: int = 2
) -> dict[str, Any]:
    """{"pipelineJob": ..., "daskSchedulerPod": ..., "daskWorkerPods": [...]} for user's run,
    with the release's environment and the token its scheduler would read."""
    pipeline = {"name": "e2e", "resources": {"workers": workers, "memory": 2, "cores": 1}}
    workdir.mkdir(parents=True, exist_ok=True)
    return owl_pods(
        owl_yaml_of(manifest), user, workdir,
        "--namespace", namespace, "--env", f"OWL_TOKEN={token}",
        "--pipeline", json.dumps(pipeline), manifest=manifest,
    )  # fmt: skip


def launch(kube: Kube, namespace: str, built: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Create what Owl built, as Owl would (strictly validated); the created objects by role.
    dask-kubernetes POSTs its pods to the pods endpoint without apiVersion and kind (the
    endpoint implies them); kubectl needs them written out."""
    pods = [
        {"apiVersion": "v1", "kind": "Pod", **p}
        for p in [built["daskSchedulerPod"], *built["daskWorkerPods"]]
    ]
    job = kube.create_strict(dump(built["pipelineJob"]), namespace)
    scheduler = kube.create_strict(dump(pods[0]), namespace)
    workers = kube.create_strict(dump(*pods[1:]), namespace)
    return {"job": job, "dask-scheduler": scheduler, "dask-workers": workers}


def job_pods(kube: Kube, namespace: str, job: str) -> list[dict[str, Any]]:
    """The pods the real Job controller made for job, once bound to nodes."""
    return kube.scheduled(namespace, f"job-name={job}")
