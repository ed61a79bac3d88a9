"""The chart: every example renders on Helm 3.19 and 4.3, validates against Kubernetes
1.30 and 1.37, keeps data safe, and refuses bad values with the key named."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import CHART, EXAMPLES, ROOT, TOOLS
from stowage.config import Config

HELMS = {"helm3": TOOLS / "helm3", "helm4": TOOLS / "helm"}
CRD_KINDS = {"DaskCluster", "DaskWorkerGroup", "DaskJob"}
LAYERS = [("base.yaml", "team-a.yaml"), ("base.yaml", "team-b.yaml")]


def first_line(path: Path) -> str:
    return path.read_text().splitlines()[0]


def accepted_examples() -> list[str]:
    return sorted(
        p.name
        for p in EXAMPLES.glob("*.yaml")
        if not p.name.startswith("rejected-") and not p.name.startswith("team-")
    )


def rejected_examples(by: str) -> list[str]:
    return sorted(
        p.name
        for p in EXAMPLES.glob("rejected-*.yaml")
        if (first_line(p) == "# rejected-by: schema") == (by == "schema")
    )


@cache
def helm_home() -> dict[str, str]:
    import os
    import tempfile

    home = Path(tempfile.mkdtemp(prefix="stowage-chart-tests-"))
    env = dict(os.environ)
    for var in ("HELM_CONFIG_HOME", "HELM_DATA_HOME", "HELM_CACHE_HOME"):
        env[var] = str(home / var.lower())
    return env


@cache
def helm(helm_name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HELMS[helm_name]), *args],
        capture_output=True,
        text=True,
        env=helm_home(),
        timeout=120,
        check=False,
    )


def template(helm_name: str, *values: str, release: str = "ml") -> list[dict[str, Any]]:
    files = [arg for v in values for arg in ("-f", str(EXAMPLES / v))]
    proc = helm(helm_name, "template", release, str(CHART), "-n", "ml", *files)
    assert proc.returncode == 0, proc.stderr
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


@pytest.mark.parametrize("helm_name", sorted(HELMS))
@pytest.mark.parametrize("example", accepted_examples())
def test_example_lints_strict(helm_name: str, example: str) -> None:
    proc = helm(helm_name, "lint", "--strict", str(CHART), "-f", str(EXAMPLES / example))
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("version", ["1.30.0", "1.37.0"])
@pytest.mark.parametrize("helm_name", sorted(HELMS))
@pytest.mark.parametrize("example", accepted_examples())
def test_example_output_validates_against_kubernetes(
    helm_name: str, example: str, version: str
) -> None:
    import kubernetes_validate

    docs = template(helm_name, example)
    assert docs
    for doc in docs:
        if doc["kind"] in CRD_KINDS:
            continue
        kubernetes_validate.validate(doc, version, strict=True)


@pytest.mark.parametrize("helm_name", sorted(HELMS))
@pytest.mark.parametrize("example", rejected_examples("schema"))
def test_schema_rejects_bad_values_naming_the_key(helm_name: str, example: str) -> None:
    proc = helm(helm_name, "template", "ml", str(CHART), "-f", str(EXAMPLES / example))
    assert proc.returncode != 0
    assert "values don't meet the specifications of the schema" in proc.stderr
    assert "at '/" in proc.stderr or "additional properties" in proc.stderr


@pytest.mark.parametrize("example", rejected_examples("check"))
def test_check_rejected_examples_are_rejected_by_the_named_rule(example: str) -> None:
    rule = first_line(EXAMPLES / example).removeprefix("# rejected-by: ").strip()
    proc = helm("helm4", "template", "ml", str(CHART), "-f", str(EXAMPLES / example))
    assert proc.returncode == 0, proc.stderr
    check = subprocess.run(
        [sys.executable, "-m", "stowage", "check", "--report", "json"],
        input=proc.stdout,
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 1, check.stderr
    rules = {f["rule"] for f in json.loads(check.stderr)["findings"] if f["severity"] == "error"}
    assert rule in rules


def test_every_example_is_accepted_or_labelled_rejected() -> None:
    for path in EXAMPLES.glob("rejected-*.yaml"):
        assert first_line(path).startswith("# rejected-by: "), path.name


def test_default_values_render_the_platform() -> None:
    docs = template("helm4")
    kinds = sorted(f"{d['kind']}/{d['metadata']['name']}" for d in docs)
    assert "Deployment/ml-stowage-scheduler" in kinds
    assert "Service/ml-stowage-scheduler" in kinds
    assert "ConfigMap/ml-stowage-pipeline-template" in kinds
    assert "ConfigMap/ml-stowage-storage-plan" in kinds
    assert "Deployment/ml-stowage-dask-worker" in kinds
    assert "Deployment/ml-stowage-dask-scheduler" in kinds
    scheduler = next(
        d
        for d in docs
        if (d["kind"], d["metadata"]["name"]) == ("Deployment", "ml-stowage-scheduler")
    )
    assert scheduler["spec"]["strategy"] == {"type": "Recreate"}
    assert scheduler["spec"]["replicas"] == 1
    mounts = scheduler["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    assert {"name": "state", "mountPath": "/var/run/stowage"} in mounts


def test_every_workload_carries_a_role_and_standard_labels() -> None:
    for example in ("production.yaml", "dask-operator.yaml"):
        for doc in template("helm4", example):
            if doc["kind"] not in ("Deployment", "DaskCluster"):
                continue
            labels = doc["metadata"]["labels"]
            assert labels["stowage.io/role"] in ("scheduler", "pipeline", "dask")
            assert labels["app.kubernetes.io/instance"] == "ml"
            assert labels["app.kubernetes.io/managed-by"] == "Helm"


def _plan(docs: list[dict[str, Any]]) -> Config:
    plan = next(d for d in docs if d["metadata"]["name"].endswith("storage-plan"))
    assert plan["metadata"]["labels"]["stowage.io/plan"] == "true"
    return Config.model_validate(json.loads(plan["data"]["plan.json"]))


def test_plan_is_the_values_with_chart_claims_resolved() -> None:
    config = _plan(template("helm4", "production.yaml"))
    data = config.persistence.data
    assert data["imagenet"].existingClaim == "imagenet"
    assert data["imagenet"].readOnly is True
    assert data["features"].existingClaim == "ml-stowage-data-features"
    assert data["features"].accessModes == ["ReadWriteMany"]
    outputs = config.persistence.outputs["outputs"]
    assert outputs.existingClaim == "ml-stowage-outputs-outputs"
    assert outputs.accessModes == ["ReadWriteMany"]
    assert config.targets["scheduler"].pool == "core"
    assert config.targets["pipeline"].dataRefs == ["imagenet"]
    assert config.nodeSelector["pipeline"] == {"node-pool": "experiments"}
    assert config.securityContext.user == 2000
    assert config.dataPathsEnv == "POLYAXON_RUN_DATA_PATHS"


def test_no_persistence_values_fall_back_to_host_paths_and_notes_say_single_node() -> None:
    config = _plan(template("helm4"))
    assert config.persistence.data["data"].hostPath == "/tmp/stowage/data"
    assert config.persistence.outputs["outputs"].hostPath == "/tmp/stowage/outputs"
    notes = helm("helm4", "install", "ml", str(CHART), "--dry-run=client")
    assert notes.returncode == 0, notes.stderr
    assert "single-node only" in notes.stdout


def test_per_user_nfs_renders_owl_style_volume_and_claim_per_user() -> None:
    docs = template("helm4", "per-user-nfs.yaml")
    claims = {d["metadata"]["name"]: d for d in docs if d["kind"] == "PersistentVolumeClaim"}
    volumes = [d for d in docs if d["kind"] == "PersistentVolume"]
    for user in ("joe", "ann", "li"):
        claim = claims[f"nfs-storage-{user}"]
        assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
        assert claim["spec"]["selector"]["matchLabels"]["username"] == user
        (pv,) = [v for v in volumes if v["metadata"]["labels"].get("username") == user]
        assert pv["spec"]["nfs"] == {"server": "192.168.100.10", "path": f"/storage/{user}"}
        assert pv["spec"]["accessModes"] == ["ReadWriteMany"]
    template_cm = next(d for d in docs if d["metadata"]["name"] == "ml-stowage-pipeline-template")
    job = yaml.safe_load(template_cm["data"]["job.yaml"])
    pod = job["spec"]["template"]["spec"]
    assert {
        "name": "user-storage",
        "persistentVolumeClaim": {"claimName": "nfs-storage-${USER}"},
    } in (pod["volumes"])
    assert {"name": "user-storage", "mountPath": "/storage/${USER}"} in (
        pod["containers"][0]["volumeMounts"]
    )


@pytest.mark.parametrize("example", ["production.yaml", "per-user-nfs.yaml", "dask-operator.yaml"])
def test_every_claim_and_volume_is_kept_on_uninstall(example: str) -> None:
    for doc in template("helm4", example):
        if doc["kind"] in ("PersistentVolumeClaim", "PersistentVolume"):
            assert doc["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep", doc


def _storage_names(docs: list[dict[str, Any]]) -> list[str]:
    return sorted(
        f"{d['kind']}/{d['metadata']['name']}"
        for d in docs
        if d["kind"] in ("PersistentVolumeClaim", "PersistentVolume")
    )


def test_claim_names_are_stable_across_values_changes(tmp_path: Path) -> None:
    before = template("helm4", "production.yaml")
    changed = yaml.safe_load((EXAMPLES / "production.yaml").read_text())
    changed["persistence"]["data"]["features"]["claim"]["size"] = "900Gi"
    changed["persistence"]["scheduler"]["size"] = "50Gi"
    changed["dask"]["workers"]["replicas"] = 20
    changed["securityContext"]["user"] = 3000
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump(changed))
    proc = helm("helm4", "template", "ml", str(CHART), "-n", "ml", "-f", str(path))
    assert proc.returncode == 0, proc.stderr
    after = [d for d in yaml.safe_load_all(proc.stdout) if d]
    assert _storage_names(before) == _storage_names(after)
    assert len(_storage_names(before)) >= 4


@pytest.mark.parametrize(("base", "team"), LAYERS)
def test_team_overrides_layer_on_the_shared_base(base: str, team: str) -> None:
    config = _plan(template("helm4", base, team))
    assert "shared" in config.persistence.data
    assert config.persistence.data["shared"].readOnly is True
    own = "team-a" if team == "team-a.yaml" else "team-b"
    assert own in config.persistence.data
    assert config.nodeSelector["core"] == {"node-pool": "core"}
    if team == "team-b.yaml":
        assert config.targets["pipeline"].dataRefs == ["team-b"]
        assert config.nodeSelector["pipeline"] == {"node-pool": "team-b"}


def test_dask_operator_renders_a_daskcluster_instead_of_deployments() -> None:
    docs = template("helm4", "dask-operator.yaml")
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert ("DaskCluster", "ml-stowage-dask") in kinds
    assert ("Deployment", "ml-stowage-dask-worker") not in kinds
    cluster = next(d for d in docs if d["kind"] == "DaskCluster")
    assert cluster["spec"]["worker"]["replicas"] == 4


def test_hook_carries_its_own_restricted_security_context() -> None:
    docs = template("helm4")
    hook = next(d for d in docs if d["metadata"].get("annotations", {}).get("helm.sh/hook"))
    assert hook["spec"]["securityContext"]["runAsNonRoot"] is True
    assert hook["spec"]["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    container = hook["spec"]["containers"][0]["securityContext"]
    assert container == {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}


def test_chart_ci_values_are_copies_of_examples() -> None:
    for path in (CHART / "ci").glob("*-values.yaml"):
        source = EXAMPLES / path.name.replace("-values.yaml", ".yaml")
        assert path.read_text() == source.read_text(), path.name


def test_chart_testing_lint_steps() -> None:
    lint = [str(CHART / "Chart.yaml"), str(CHART / "values.yaml"), str(CHART / "ci")]
    lint += [str(EXAMPLES), str(ROOT / "ci" / "ct.yaml")]
    bin_dir = Path(sys.executable).parent
    yamllint = subprocess.run(
        [str(bin_dir / "yamllint"), "-c", str(ROOT / "ci" / "lintconf.yaml"), *lint],
        capture_output=True,
        text=True,
        check=False,
    )
    assert yamllint.returncode == 0, yamllint.stdout
    yamale = subprocess.run(
        [
            str(bin_dir / "yamale"),
            "-s",
            str(ROOT / "ci" / "chart_schema.yaml"),
            str(CHART / "Chart.yaml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert yamale.returncode == 0, yamale.stdout + yamale.stderr
