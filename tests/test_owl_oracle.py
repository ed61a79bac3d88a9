"""Owl's own code (tests/oracle/owl_pods.py in .tools/owl-oracle) on the vendored Owl chart.

The oracle builds the pipeline Job (Owl's scheduler) and the per-run Dask pods (Owl's
pipeline with dask-kubernetes) for a user; these tests pin what Owl makes of the real
chart's owl.yaml, so stowage's Owl work can be checked against the same judge.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import THIRD_PARTY
from owl_oracle import owl_pods, owl_yaml_of, pod_specs, requires_owl_oracle, run_owl_oracle

pytestmark = requires_owl_oracle

OWL_RENDER = (THIRD_PARTY / "owl-imaxt.rendered.yaml").read_text()
OWL_YAML = owl_yaml_of(OWL_RENDER)


def volumes(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {volume["name"]: volume for volume in spec.get("volumes") or []}


def mounts(spec: dict[str, Any]) -> dict[str, str]:
    container = spec["containers"][0]
    return {m["name"]: m["mountPath"] for m in container.get("volumeMounts") or []}


def test_owl_builds_its_job_and_dask_pods_with_its_own_volumes(tmp_path: Path) -> None:
    result = owl_pods(OWL_YAML, "joe", tmp_path)
    assert len(result["daskWorkerPods"]) == 2  # the oracle's default pipeline asks for 2
    job = pod_specs(result)["pipeline Job"]
    assert volumes(job)["owl-config"]["configMap"]["name"] == "owl-owl-config"
    assert mounts(job)["owl-config"] == "/etc/owl"
    for where, spec in pod_specs(result).items():
        assert volumes(spec)["dask-config"]["configMap"]["name"] == "owl-dask-config", where
        assert mounts(spec)["dask-config"] == "/etc/dask", where


def test_user_is_filled_in_the_plain_per_user_path(tmp_path: Path) -> None:
    assert "path: /storage/${USER}" in OWL_YAML
    for user in ("joe", "ann"):
        result = owl_pods(OWL_YAML, user, tmp_path)
        for where, spec in pod_specs(result).items():
            assert volumes(spec)["user-storage"]["hostPath"]["path"] == f"/storage/{user}", where
            assert mounts(spec)["user-storage"] == f"/storage/{user}", where
        assert "${USER}" not in json.dumps(result)


def test_a_quoted_path_is_not_expanded_by_owl(tmp_path: Path) -> None:
    quoted = OWL_YAML.replace("path: /storage/${USER}", 'path: "/storage/${USER}"')
    job = pod_specs(owl_pods(quoted, "joe", tmp_path))["pipeline Job"]
    assert volumes(job)["user-storage"]["hostPath"]["path"] == "/storage/${USER}"


def test_an_owl_yaml_that_fails_owls_schema_is_reported(tmp_path: Path) -> None:
    without_token = "\n".join(
        line for line in OWL_YAML.splitlines() if not line.startswith("token:")
    )
    proc = run_owl_oracle(without_token, "joe", tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "fails Owl's schema" in proc.stderr and "token" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_release_gives_the_environment_owl_yaml_needs(tmp_path: Path) -> None:
    from_release = owl_pods(OWL_YAML, "joe", tmp_path, manifest=OWL_RENDER)
    assert from_release == owl_pods(OWL_YAML, "joe", tmp_path)


def test_a_release_without_the_scheduler_service_fails_owls_schema(tmp_path: Path) -> None:
    renamed = OWL_RENDER.replace("  name: owl-scheduler\n", "  name: owl-sched\n")
    assert renamed != OWL_RENDER
    proc = run_owl_oracle(OWL_YAML, "joe", tmp_path, manifest=renamed)
    assert proc.returncode == 2, proc.stderr
    assert "fails Owl's schema" in proc.stderr and proc.stdout == ""


def test_a_host_name_resolves_only_to_a_service_of_the_release(tmp_path: Path) -> None:
    fqdn = "OWL_API_SERVICE_HOST=owl-api.owl.svc.cluster.local"
    assert run_owl_oracle(OWL_YAML, "joe", tmp_path, "--env", fqdn).returncode == 0
    proc = run_owl_oracle(OWL_YAML, "joe", tmp_path, "--env", "OWL_API_SERVICE_HOST=nowhere")
    assert proc.returncode == 2 and "'nowhere'" in proc.stderr


def test_the_oracle_output_is_deterministic(tmp_path: Path) -> None:
    first = run_owl_oracle(OWL_YAML, "joe", tmp_path).stdout
    assert first and first == run_owl_oracle(OWL_YAML, "joe", tmp_path).stdout
