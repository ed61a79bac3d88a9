"""Owl's own code (tests/oracle/owl_pods.py in .tools/owl-oracle) on the vendored Owl chart.

The oracle builds the pipeline Job (Owl's scheduler) and the per-run Dask pods (Owl's
pipeline with dask-kubernetes) for a user; these tests pin what Owl makes of the real
chart's owl.yaml, so stowage's Owl work can be checked against the same judge.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import ROOT, THIRD_PARTY

ORACLE_PYTHON = ROOT / ".tools" / "owl-oracle" / "bin" / "python"
ORACLE = ROOT / "tests" / "oracle" / "owl_pods.py"
OWL_RENDER = THIRD_PARTY / "owl-imaxt.rendered.yaml"

pytestmark = [
    pytest.mark.oracle,
    pytest.mark.skipif(
        not ORACLE_PYTHON.exists(),
        reason="the Owl oracle venv is absent: run `make owl-oracle` (make test does)",
    ),
]


def owl_yaml_of(render: Path) -> str:
    """The owl.yaml key of the chart's owl-config ConfigMap, as Owl reads it from /etc/owl."""
    for doc in yaml.safe_load_all(render.read_text()):
        if doc and doc["kind"] == "ConfigMap" and "owl.yaml" in doc.get("data", {}):
            text: str = doc["data"]["owl.yaml"]
            return text
    raise AssertionError(f"{render.name}: no ConfigMap with an owl.yaml key")


def run_oracle(
    owl_yaml: str, tmp_path: Path, user: str, *args: str
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "owl.yaml"
    path.write_text(owl_yaml)
    return subprocess.run(
        [str(ORACLE_PYTHON), str(ORACLE), str(path), user, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def built(owl_yaml: str, tmp_path: Path, user: str) -> dict[str, Any]:
    proc = run_oracle(owl_yaml, tmp_path, user)
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def pod_specs(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    specs = {"pipeline Job": result["pipelineJob"]["spec"]["template"]["spec"]}
    specs["Dask scheduler"] = result["daskSchedulerPod"]["spec"]
    for index, pod in enumerate(result["daskWorkerPods"]):
        specs[f"Dask worker {index}"] = pod["spec"]
    return specs


def volumes(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {volume["name"]: volume for volume in spec.get("volumes") or []}


def mounts(spec: dict[str, Any]) -> dict[str, str]:
    container = spec["containers"][0]
    return {m["name"]: m["mountPath"] for m in container.get("volumeMounts") or []}


def test_owl_builds_its_job_and_dask_pods_with_its_own_volumes(tmp_path: Path) -> None:
    result = built(owl_yaml_of(OWL_RENDER), tmp_path, "joe")
    assert len(result["daskWorkerPods"]) == 2  # the oracle's default pipeline asks for 2
    job = pod_specs(result)["pipeline Job"]
    assert volumes(job)["owl-config"]["configMap"]["name"] == "owl-owl-config"
    assert mounts(job)["owl-config"] == "/etc/owl"
    for where, spec in pod_specs(result).items():
        assert volumes(spec)["dask-config"]["configMap"]["name"] == "owl-dask-config", where
        assert mounts(spec)["dask-config"] == "/etc/dask", where


def test_user_is_filled_in_the_plain_per_user_path(tmp_path: Path) -> None:
    owl_yaml = owl_yaml_of(OWL_RENDER)
    assert "path: /storage/${USER}" in owl_yaml
    for user in ("joe", "ann"):
        result = built(owl_yaml, tmp_path, user)
        for where, spec in pod_specs(result).items():
            assert volumes(spec)["user-storage"]["hostPath"]["path"] == f"/storage/{user}", where
            assert mounts(spec)["user-storage"] == f"/storage/{user}", where
        assert "${USER}" not in json.dumps(result)


def test_a_quoted_path_is_not_expanded_by_owl(tmp_path: Path) -> None:
    owl_yaml = owl_yaml_of(OWL_RENDER).replace("path: /storage/${USER}", 'path: "/storage/${USER}"')
    job = pod_specs(built(owl_yaml, tmp_path, "joe"))["pipeline Job"]
    assert volumes(job)["user-storage"]["hostPath"]["path"] == "/storage/${USER}"


def test_an_owl_yaml_that_fails_owls_schema_is_reported(tmp_path: Path) -> None:
    without_token = "\n".join(
        line for line in owl_yaml_of(OWL_RENDER).splitlines() if not line.startswith("token:")
    )
    proc = run_oracle(without_token, tmp_path, "joe")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "fails Owl's schema" in proc.stderr and "token" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_oracle_output_is_deterministic(tmp_path: Path) -> None:
    owl_yaml = owl_yaml_of(OWL_RENDER)
    first = run_oracle(owl_yaml, tmp_path, "joe").stdout
    assert first and first == run_oracle(owl_yaml, tmp_path, "joe").stdout
