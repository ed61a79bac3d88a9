"""Helpers for tests that ask the Owl oracle (tests/oracle/owl_pods.py) what Owl builds.

from owl_oracle import owl_pods, owl_yaml_of, pod_specs, requires_owl_oracle

pytestmark = requires_owl_oracle

def test_x(tmp_path):
    rendered = ...  # a rendered release, as text
    result = owl_pods(owl_yaml_of(rendered), "joe", tmp_path, manifest=rendered)
    for where, spec in pod_specs(result).items(): ...
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import ROOT

ORACLE_PYTHON = ROOT / ".tools" / "owl-oracle" / "bin" / "python"
ORACLE_SCRIPT = ROOT / "tests" / "oracle" / "owl_pods.py"

requires_owl_oracle = [
    pytest.mark.oracle,
    pytest.mark.skipif(
        not ORACLE_PYTHON.exists(),
        reason="the Owl oracle venv is absent: run `make owl-oracle` (make test does)",
    ),
]


def owl_yaml_of(manifest: str) -> str:
    """The `owl.yaml` key of the release's ConfigMap: what Owl reads from /etc/owl."""
    for doc in yaml.safe_load_all(manifest):
        if isinstance(doc, dict) and doc.get("kind") == "ConfigMap":
            data = doc.get("data") or {}
            if "owl.yaml" in data:
                return str(data["owl.yaml"])
    raise AssertionError("no ConfigMap in the manifest has an owl.yaml key")


def run_owl_oracle(
    owl_yaml: str, user: str, workdir: Path, *args: str, manifest: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the oracle; with MANIFEST, the pods' environment comes from that release."""
    config = workdir / "owl.yaml"
    config.write_text(owl_yaml)
    extra = list(args)
    if manifest is not None:
        release = workdir / "release.yaml"
        release.write_text(manifest)
        extra += ["--manifest", str(release)]
    return subprocess.run(
        [str(ORACLE_PYTHON), str(ORACLE_SCRIPT), str(config), user, *extra],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def owl_pods(
    owl_yaml: str, user: str, workdir: Path, *args: str, manifest: str | None = None
) -> dict[str, Any]:
    """What Owl builds: {"pipelineJob": ..., "daskSchedulerPod": ..., "daskWorkerPods": [...]}."""
    proc = run_owl_oracle(owl_yaml, user, workdir, *args, manifest=manifest)
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def pod_specs(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every pod spec Owl built, by role: pipeline Job, Dask scheduler, Dask worker N."""
    specs = {"pipeline Job": result["pipelineJob"]["spec"]["template"]["spec"]}
    specs["Dask scheduler"] = result["daskSchedulerPod"]["spec"]
    for index, pod in enumerate(result["daskWorkerPods"]):
        specs[f"Dask worker {index}"] = pod["spec"]
    return specs
