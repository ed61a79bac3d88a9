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
from owl_oracle import owl_pods, owl_yaml_of, pod_specs, requires_owl_oracle, run_owl_oracle
from stowage.plan.config import Config

THIRD_PARTY = ROOT / "tests" / "fixtures" / "third-party"
WORKFLOW = ROOT / "ci" / "github-workflow-chart.yaml"
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
    docs = [d for d in yaml.safe_load_all(proc.stdout) if d]
    objects = [d for d in docs if d.get("kind") != "PostRendererRequired"]
    # The fail-closed guard: a kind no cluster serves, which stowage removes (docs/e2e.md).
    assert len(docs) - len(objects) == 1, "the chart renders one fail-closed guard"
    return objects


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


def stowage_check_json(manifests: str) -> subprocess.CompletedProcess[str]:
    """`stowage check --report json` on rendered manifests (the findings are on stderr)."""
    return subprocess.run(
        [sys.executable, "-m", "stowage", "check", "--report", "json"],
        input=manifests,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("example", rejected_examples("check"))
def test_check_rejected_examples_are_rejected_by_the_named_rule(example: str) -> None:
    rule = first_line(EXAMPLES / example).removeprefix("# rejected-by: ").strip()
    proc = helm("helm4", "template", "ml", str(CHART), "-f", str(EXAMPLES / example))
    assert proc.returncode == 0, proc.stderr
    check = stowage_check_json(proc.stdout)
    assert check.returncode == 1, check.stderr
    rules = {f["rule"] for f in json.loads(check.stderr)["findings"] if f["severity"] == "error"}
    assert rule in rules


def test_every_example_is_accepted_or_labelled_rejected() -> None:
    for path in EXAMPLES.glob("rejected-*.yaml"):
        assert first_line(path).startswith("# rejected-by: "), path.name


def by_kind(docs: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(d for d in docs if (d["kind"], d["metadata"]["name"]) == (kind, name))


def owl_config(docs: list[dict[str, Any]]) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(
        by_kind(docs, "ConfigMap", "ml-stowage-owl-config")["data"]["owl.yaml"]
    )
    return loaded


def container_env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def test_default_values_render_owl() -> None:
    docs = template("helm4")
    kinds = {f"{d['kind']}/{d['metadata']['name']}" for d in docs}
    for expected in (
        "Deployment/ml-stowage-scheduler",
        "Deployment/ml-stowage-api",
        "Service/ml-stowage-scheduler",
        "Service/ml-stowage-api",
        "ConfigMap/ml-stowage-owl-config",
        "ConfigMap/ml-stowage-dask-config",
        "ConfigMap/ml-stowage-storage-plan",
        "ServiceAccount/ml-stowage",
        "Role/ml-stowage",
        "RoleBinding/ml-stowage",
        "PersistentVolumeClaim/ml-stowage-scheduler-state",
    ):
        assert expected in kinds
    assert not [d for d in docs if "stowage.io/pod-template" in d["metadata"].get("labels", {})]
    assert not [d for d in docs if d["kind"] == "Deployment" and "dask" in d["metadata"]["name"]]
    scheduler = by_kind(docs, "Deployment", "ml-stowage-scheduler")
    assert scheduler["spec"]["strategy"] == {"type": "Recreate"}
    assert scheduler["spec"]["replicas"] == 1
    pod = scheduler["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "ml-stowage"
    assert pod["containers"][0]["args"] == ["owl-server", "scheduler"]
    mounts = pod["containers"][0]["volumeMounts"]
    assert {"name": "state", "mountPath": "/var/run/owl"} in mounts
    assert {"name": "owl-config", "mountPath": "/etc/owl", "readOnly": True} in mounts
    assert owl_config(docs)["dbi"] == "sqlite:////var/run/owl/sqlite.db"


def test_api_runs_migrations_first_and_is_pinned_to_the_scheduler_node() -> None:
    docs = template("helm4")
    api = by_kind(docs, "Deployment", "ml-stowage-api")
    pod = api["spec"]["template"]["spec"]
    assert pod["initContainers"][0]["args"] == ["owl-migrate", "upgrade", "head"]
    assert pod["containers"][0]["args"] == ["owl-server", "api"]
    assert api["spec"]["replicas"] == 1
    assert api["spec"]["strategy"] == {"type": "Recreate"}
    (term,) = pod["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert term["topologyKey"] == "kubernetes.io/hostname"
    scheduler = by_kind(docs, "Deployment", "ml-stowage-scheduler")
    scheduler_labels = scheduler["spec"]["template"]["metadata"]["labels"]
    assert term["labelSelector"]["matchLabels"].items() <= scheduler_labels.items()
    claims = {
        v["persistentVolumeClaim"]["claimName"]
        for d in (api, scheduler)
        for v in d["spec"]["template"]["spec"]["volumes"]
        if "persistentVolumeClaim" in v
    }
    assert claims == {"ml-stowage-scheduler-state"}


OWL_SCHEMA_KEYS = {"token", "loglevel", "heartbeat", "max_pipelines", "dbi", "env"}
OWL_ENV_KEYS = {
    "OWL_SCHEDULER_SERVICE_HOST",
    "OWL_SCHEDULER_SERVICE_PORT_PIPE",
    "OWL_SCHEDULER_SERVICE_PORT_LOGS",
    "OWL_SCHEDULER_SERVICE_PORT_ADMIN",
    "OWL_API_SERVICE_HOST",
    "OWL_API_SERVICE_PORT",
    "OWL_IMAGE_SPEC",
}


@pytest.mark.parametrize("example", ["production.yaml", "per-user-nfs.yaml"])
def test_owl_yaml_has_what_owls_schema_and_scheduler_read(example: str) -> None:
    owl = owl_config(template("helm4", example))
    assert owl.keys() >= OWL_SCHEMA_KEYS
    assert owl["env"].keys() == OWL_ENV_KEYS
    assert owl["token"] == "${OWL_TOKEN}"  # Owl fills it from the Secret-backed env var
    assert owl["loglevel"] in ("DEBUG", "INFO", "WARNING", "ERROR")
    assert 10 <= owl["heartbeat"] <= 100
    assert 1 <= owl["max_pipelines"] <= 100
    for name in OWL_ENV_KEYS - {"OWL_SCHEDULER_SERVICE_HOST", "OWL_API_SERVICE_HOST"}:
        if name != "OWL_IMAGE_SPEC":
            assert 1000 <= int(owl["env"][name]) <= 9999
    pipeline = owl["pipeline"]
    assert pipeline["serviceAccountName"] == "ml-stowage"
    assert isinstance(pipeline["volumes"], list) and isinstance(pipeline["volumeMounts"], list)
    resources = pipeline["resources"]
    for part in ("requests", "limits"):
        assert {"cpu", "memory"} <= resources[part].keys()  # Owl reads all four
    extra = {e["name"]: e["value"] for e in pipeline["extraEnv"]}
    assert OWL_ENV_KEYS | {"OWL_TOKEN"} <= extra.keys()
    dask = owl["dask"]["kubernetes"]
    assert dask["name"] == "dask-${JOBID}-{uuid}"
    for key, container in (
        ("scheduler-template", "dask-scheduler"),
        ("worker-template", "dask-worker"),
    ):
        spec = dask[key]["spec"]
        assert spec["containers"][0]["name"] == container
        assert spec["containers"][0]["image"] == "${DASK_IMAGE_SPEC}"
        assert spec["restartPolicy"] == "Never"


def test_owl_yaml_keeps_owl_variables_in_plain_scalars() -> None:
    """Owl expands ${VAR} only in plain (unquoted) scalars."""
    docs = template("helm4", "per-user-hostpath.yaml")
    text = by_kind(docs, "ConfigMap", "ml-stowage-owl-config")["data"]["owl.yaml"]
    for line in text.splitlines():
        if "${" in line:
            assert "'${" not in line and '"${' not in line and ': "' not in line, line


@pytest.mark.parametrize(
    "example", ["production.yaml", "per-user-nfs.yaml", "per-user-hostpath.yaml"]
)
def test_owl_yaml_templates_carry_no_stowage_storage(example: str) -> None:
    """Storage reaches the pipeline and Dask pods through the post-renderer, not copies."""
    owl = owl_config(template("helm4", example))
    dask = owl["dask"]["kubernetes"]
    pods = [
        (owl["pipeline"]["volumes"], owl["pipeline"]["volumeMounts"]),
        *(
            (dask[k]["spec"]["volumes"], dask[k]["spec"]["containers"][0]["volumeMounts"])
            for k in ("scheduler-template", "worker-template")
        ),
    ]
    for volumes, mounts in pods:
        assert {v["name"] for v in volumes} <= {"owl-config", "dask-config"}
        assert {m["name"] for m in mounts} <= {"owl-config", "dask-config"}
    assert "securityContext" not in owl["pipeline"]


def test_owl_service_values_name_the_services_and_ports() -> None:
    docs = template("helm4")
    env = owl_config(docs)["env"]
    scheduler = by_kind(docs, "Service", env["OWL_SCHEDULER_SERVICE_HOST"])
    ports = {p["name"]: p["port"] for p in scheduler["spec"]["ports"]}
    assert ports == {
        "pipe": int(env["OWL_SCHEDULER_SERVICE_PORT_PIPE"]),
        "logs": int(env["OWL_SCHEDULER_SERVICE_PORT_LOGS"]),
        "admin": int(env["OWL_SCHEDULER_SERVICE_PORT_ADMIN"]),
    }
    api = by_kind(docs, "Service", env["OWL_API_SERVICE_HOST"])
    assert [p["port"] for p in api["spec"]["ports"]] == [int(env["OWL_API_SERVICE_PORT"])]
    for name in ("ml-stowage-scheduler", "ml-stowage-api"):
        pod = by_kind(docs, "Deployment", name)["spec"]["template"]["spec"]
        for container in pod["containers"] + pod.get("initContainers", []):
            values = container_env(container)
            for key in OWL_ENV_KEYS:
                assert values[key] == env[key], (name, key)
            assert values["OWL_TOKEN"] == {
                "secretKeyRef": {"name": "ml-stowage-owl-token", "key": "token"}
            }


def test_token_from_a_named_secret(tmp_path: Path) -> None:
    path = tmp_path / "token.yaml"
    path.write_text("owl:\n  token:\n    existingSecret: owl-api\n    key: shared\n")
    proc = helm("helm4", "template", "ml", str(CHART), "-n", "ml", "-f", str(path))
    assert proc.returncode == 0, proc.stderr
    docs = [d for d in yaml.safe_load_all(proc.stdout) if d]
    assert not [d for d in docs if d["kind"] == "Secret"]
    api = by_kind(docs, "Deployment", "ml-stowage-api")["spec"]["template"]["spec"]
    ref = container_env(api["containers"][0])["OWL_TOKEN"]
    assert ref == {"secretKeyRef": {"name": "owl-api", "key": "shared"}}


@pytest.mark.parametrize("helm_name", sorted(HELMS))
def test_template_without_a_cluster_renders_no_random_token(helm_name: str) -> None:
    """`helm template` cannot `lookup` the token Secret: it renders none rather than a new
    random token on every run, so the output is deterministic."""
    first = helm(helm_name, "template", "ml", str(CHART), "-n", "ml")
    again = subprocess.run(
        [str(HELMS[helm_name]), "template", "ml", str(CHART), "-n", "ml"],
        capture_output=True,
        text=True,
        env=helm_home(),
        check=False,
    )
    assert first.returncode == 0, first.stderr
    assert first.stdout == again.stdout
    assert "kind: Secret" not in first.stdout


def test_role_allows_what_owl_creates() -> None:
    rules = by_kind(template("helm4"), "Role", "ml-stowage")["rules"]
    allowed = {
        (g, r, v)
        for rule in rules
        for g in rule["apiGroups"]
        for r in rule["resources"]
        for v in rule["verbs"]
    }
    for group, resource in (
        ("batch", "jobs"),
        ("", "pods"),
        ("", "services"),
        ("policy", "poddisruptionbudgets"),
    ):
        assert (group, resource, "create") in allowed
        assert (group, resource, "delete") in allowed


def test_every_workload_carries_a_role_and_standard_labels() -> None:
    for doc in template("helm4", "production.yaml"):
        if doc["kind"] != "Deployment":
            continue
        labels = doc["metadata"]["labels"]
        assert labels["stowage.io/role"] in ("scheduler", "api")
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
    assert config.targets["api"].pool == "core"
    assert config.targets["pipeline"].dataRefs == ["imagenet"]
    assert config.targets["dask"].pool == "dask"
    assert config.stateMountPath == "/var/run/owl"
    assert config.nodeSelector["pipeline"] == {"node-pool": "experiments"}
    assert config.securityContext.user == 2000
    assert config.dataPathsEnv == "POLYAXON_RUN_DATA_PATHS"


def test_no_persistence_values_mount_nothing_and_notes_say_so() -> None:
    config = _plan(template("helm4"))
    assert (config.persistence.data, config.persistence.outputs) == ({}, {})
    notes = helm("helm4", "install", "ml", str(CHART), "--dry-run=client")
    assert notes.returncode == 0, notes.stderr
    assert "pipelines get no shared data or\noutputs storage" in notes.stdout


def test_single_node_without_persistence_values_falls_back_to_host_paths() -> None:
    proc = helm("helm4", "template", "ml", str(CHART), "--set", "cluster.singleNode=true")
    assert proc.returncode == 0, proc.stderr
    config = _plan([d for d in yaml.safe_load_all(proc.stdout) if d])
    assert config.persistence.data["data"].hostPath == "/tmp/stowage/data"
    assert config.persistence.outputs["outputs"].hostPath == "/tmp/stowage/outputs"
    notes = helm("helm4", "install", "ml", str(CHART), "--dry-run=client", "--set",
                 "cluster.singleNode=true")  # fmt: skip
    assert "of the one node\n(cluster.singleNode)" in notes.stdout


def _check(helm_name: str, *args: str) -> subprocess.CompletedProcess[str]:
    plain = helm(helm_name, "template", "ml", str(CHART), "-n", "ml", *args)
    assert plain.returncode == 0, plain.stderr
    stowage = Path(sys.executable).parent / "stowage"
    return subprocess.run(
        [str(stowage), "check", "--strict"], input=plain.stdout, capture_output=True,
        text=True, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("helm_name", sorted(HELMS))
def test_the_default_chart_passes_strict_with_the_rwo_checks_on(helm_name: str) -> None:
    proc = _check(helm_name)
    assert proc.returncode == 0, proc.stderr
    assert _plan(template(helm_name)).cluster.singleNode is False


def test_owl_option_1_hostpath_shared_by_all_nodes_is_trusted_by_sw201() -> None:
    proc = _check("helm4", "-f", str(EXAMPLES / "per-user-hostpath.yaml"))
    assert proc.returncode == 0, proc.stderr  # --strict, with the access-mode checks on
    assert "SW201" not in proc.stderr
    # Ownership is the user's to settle (the share keeps its owner): the example records
    # that it is settled as a waiver, so SW702 is reported as waived, never dropped.
    assert {line.split()[1] for line in proc.stderr.splitlines() if line.startswith("waived ")} == {
        "SW702"
    }
    unwaived = _check("helm4", "-f", str(EXAMPLES / "per-user-hostpath.yaml"), "--set",
                      "waivers=null")  # fmt: skip
    assert "error SW702" in unwaived.stderr
    unshared = _check("helm4", "-f", str(EXAMPLES / "per-user-hostpath.yaml"), "--set",
                      "userStorage.sharedByAllNodes=false")  # fmt: skip
    assert "error SW201" in unshared.stderr


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
    config = _plan(docs)
    per_user = config.persistence.data["user-storage"]
    assert per_user.mountPath == "/storage/${USER}"
    assert per_user.existingClaim == "nfs-storage-${USER}"
    assert per_user.accessModes == ["ReadWriteMany"]


@pytest.mark.parametrize("example", ["per-user-nfs.yaml", "per-user-hostpath.yaml"])
def test_per_user_storage_reaches_only_the_pods_that_run_for_a_user(example: str) -> None:
    config = _plan(template("helm4", example))
    data = set(config.persistence.data)
    assert "user-storage" in data
    for role in ("scheduler", "api"):
        refs = config.targets[role].dataRefs
        assert refs is not None and set(refs) == data - {"user-storage"}
    for role in ("pipeline", "dask"):
        assert config.targets[role].dataRefs is None  # all data, user storage included


@pytest.mark.parametrize(
    "example", ["production.yaml", "per-user-nfs.yaml", "storage-only-dask.yaml"]
)
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
    changed["owl"] = {"maxPipelines": 20}
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


STORAGE_KINDS = {"PersistentVolume", "PersistentVolumeClaim", "ConfigMap"}


def test_storage_only_mode_renders_only_storage_and_the_plan() -> None:
    docs = template("helm4", "storage-only-dask.yaml")
    assert {d["kind"] for d in docs} <= STORAGE_KINDS
    (plan_map,) = [d for d in docs if d["kind"] == "ConfigMap"]
    assert plan_map["metadata"]["labels"]["stowage.io/plan"] == "true"
    config = _plan(docs)
    assert sorted(config.targets) == ["dask-scheduler", "dask-workers", "jupyter"]
    assert config.stateMountPath is None


def _stowage(manifests: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stowage"],
        input=manifests,
        capture_output=True,
        text=True,
        check=False,
    )


def _mount_paths(doc: dict[str, Any]) -> set[str]:
    pod = doc["spec"]["template"]["spec"]
    return {m["mountPath"] for c in pod["containers"] for m in c.get("volumeMounts", [])}


def test_storage_only_mode_with_the_dask_chart_stream() -> None:
    """Our storage-only render plus the vendored dask chart render, through stowage."""
    ours = helm(
        "helm4",
        "template",
        "ml",
        str(CHART),
        "-n",
        "dask",
        "-f",
        str(EXAMPLES / "storage-only-dask.yaml"),
    )
    assert ours.returncode == 0, ours.stderr
    dask = (THIRD_PARTY / "dask.rendered.yaml").read_text()
    proc = _stowage(ours.stdout + "\n---\n" + dask)
    assert proc.returncode == 0, proc.stderr
    docs = {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(proc.stdout) if d}
    assert {"/data", "/outputs"} <= _mount_paths(docs["Deployment", "dask-worker"])
    assert "/outputs" not in _mount_paths(docs["Deployment", "dask-scheduler"])
    assert "/data" in _mount_paths(docs["Deployment", "dask-scheduler"])
    worker = docs["Deployment", "dask-worker"]["spec"]["template"]["spec"]
    assert worker["nodeSelector"] == {"node-pool": "workers"}


def _umbrella(tmp_path: Path) -> Path:
    """A platform's umbrella chart: the dask chart's manifests plus stowage as a dependency."""
    import shutil

    root = tmp_path / "platform"
    (root / "templates").mkdir(parents=True)
    (root / "Chart.yaml").write_text(
        "apiVersion: v2\nname: platform\nversion: 0.1.0\n"
        "dependencies:\n  - name: stowage\n    version: 0.1.0\n"
    )
    shutil.copy(THIRD_PARTY / "dask.rendered.yaml", root / "templates" / "dask.yaml")
    shutil.copytree(CHART, root / "charts" / "stowage")
    values = yaml.safe_load((EXAMPLES / "storage-only-dask.yaml").read_text())
    (root / "values.yaml").write_text(yaml.safe_dump({"stowage": values}))
    return root


@pytest.mark.parametrize("helm_name", sorted(HELMS))
def test_storage_only_as_a_dependency_of_an_umbrella_chart(helm_name: str, tmp_path: Path) -> None:
    chart = _umbrella(tmp_path)
    proc = helm(helm_name, "template", "ml", str(chart), "-n", "dask")
    assert proc.returncode == 0, proc.stderr
    rendered = _stowage(proc.stdout)
    assert rendered.returncode == 0, rendered.stderr
    docs = {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(rendered.stdout) if d}
    assert ("PersistentVolumeClaim", "ml-stowage-outputs-outputs") in docs
    assert {"/data", "/outputs"} <= _mount_paths(docs["Deployment", "dask-worker"])
    assert not [k for k in docs if k[0] == "Deployment" and k[1].startswith("ml-stowage")]


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
    lint += [str(EXAMPLES), str(ROOT / "ci" / "ct.yaml"), str(WORKFLOW)]
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


NOTES_PROBE = """apiVersion: v1
kind: ConfigMap
metadata:
  name: notes-probe
data:
  notes: {{ include (print $.Template.BasePath "/NOTES.txt") . | quote }}
"""


@cache
def probe_chart() -> Path:
    """The chart plus a ConfigMap holding NOTES.txt as rendered: Helm 3.19 shows notes only on
    install, which needs a cluster even with --dry-run=client."""
    import shutil
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="stowage-notes-")) / "stowage"
    shutil.copytree(CHART, root)
    (root / "templates" / "notes-probe.yaml").write_text(NOTES_PROBE)
    return root


def _notes(*values: str, helm_name: str = "helm4") -> str:
    files = [arg for v in values for arg in ("-f", str(EXAMPLES / v))]
    args = ("template", "ml", str(probe_chart()), "-n", "ml", "--show-only")
    proc = helm(helm_name, *args, "templates/notes-probe.yaml", *files)
    assert proc.returncode == 0, proc.stderr
    notes: str = yaml.safe_load(proc.stdout)["data"]["notes"]
    return notes


def test_notes_probe_is_what_helm_install_prints() -> None:
    proc = helm("helm4", "install", "ml", str(CHART), "-n", "ml", "--dry-run=client")
    assert proc.returncode == 0, proc.stderr
    assert _notes().strip() == proc.stdout.split("NOTES:", 1)[1].strip()


@pytest.mark.parametrize("helm_name", sorted(HELMS))
@pytest.mark.parametrize("example", ["production.yaml", "storage-only-dask.yaml"])
def test_notes_never_suggest_an_upgrade_that_resets_values(example: str, helm_name: str) -> None:
    notes = _notes(example, helm_name=helm_name)
    upgrades = [line for line in notes.splitlines() if "helm upgrade" in line]
    assert upgrades
    for line in upgrades:
        assert "--reuse-values" in line or " -f " in line, line
    assert "cannot say whether it ran" in notes  # it is rendered before post-rendering


def test_notes_name_the_mode_and_the_token_secret() -> None:
    assert "(platform mode)" in _notes("production.yaml")
    assert "Secret owl-api-token" in _notes("production.yaml")
    storage_only = _notes("storage-only-dask.yaml")
    assert "(storage-only mode)" in storage_only
    assert "dask-scheduler, dask-workers, jupyter" in storage_only
    assert "scheduler" not in storage_only.split("Data volumes:")[0].replace("dask-scheduler", "")


def test_chart_and_plugin_metadata_invent_nothing() -> None:
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert not {"home", "sources", "maintainers"} & chart.keys()
    plugin = yaml.safe_load((ROOT / "postrenderer" / "plugin.yaml").read_text())
    assert "sourceURL" not in plugin


def test_data_refs_of_run_pods_keep_per_user_storage(tmp_path: Path) -> None:
    """dataRefs picks among persistence.data; per-user storage is configured on its own."""
    path = tmp_path / "refs.yaml"
    path.write_text("pipeline:\n  dataRefs: []\ndask:\n  dataRefs: [reference]\n")
    files = ("-f", str(EXAMPLES / "per-user-hostpath.yaml"), "-f", str(path))
    proc = helm("helm4", "template", "ml", str(CHART), "-n", "ml", *files)
    assert proc.returncode == 0, proc.stderr
    config = _plan([d for d in yaml.safe_load_all(proc.stdout) if d])
    assert config.targets["pipeline"].dataRefs == ["user-storage"]
    assert config.targets["dask"].dataRefs == ["reference", "user-storage"]
    assert config.targets["scheduler"].dataRefs == ["reference"]


def test_users_ci_workflow_lints_with_our_ct_config_and_installs_through_stowage() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    runs = [step.get("run", "") for job in workflow["jobs"].values() for step in job["steps"]]
    (lint,) = [r for r in runs if r.startswith("ct lint")]
    (install,) = [r for r in runs if r.startswith("ct install")]
    assert "--config ci/ct.yaml" in lint and "--config ci/ct.yaml" in install
    assert "--post-renderer stowage" in install
    assert any(r.startswith("pip install .") for r in runs)  # puts `stowage` on PATH
    ct = yaml.safe_load((ROOT / "ci" / "ct.yaml").read_text())
    assert (ROOT / ct["lint-conf"]).exists() and (ROOT / ct["chart-yaml-schema"]).exists()


# --- Owl's own code (the oracle, tests/oracle/owl_pods.py) on the chart's release -------------

TOKEN = "t" * 40  # what the token Secret gives the scheduler as OWL_TOKEN


def oracle(test: Any) -> Any:
    for mark in requires_owl_oracle:
        test = mark(test)
    return test


@cache
def release(example: str) -> str:
    """The chart's release as the cluster gets it: rendered and post-rendered."""
    rendered = helm(
        "helm4", "template", "ml", str(CHART), "-n", "ml", "-f", str(EXAMPLES / example)
    )
    assert rendered.returncode == 0, rendered.stderr
    proc = _stowage(rendered.stdout)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def owl_run(example: str, user: str, tmp_path: Path) -> dict[str, Any]:
    text = release(example)
    return owl_pods(owl_yaml_of(text), user, tmp_path, "--env", f"OWL_TOKEN={TOKEN}", manifest=text)


@oracle
@pytest.mark.parametrize("example", ["production.yaml", "per-user-nfs.yaml", "owl.yaml"])
def test_owl_accepts_the_rendered_owl_yaml_and_builds_its_pods(
    example: str, tmp_path: Path
) -> None:
    result = owl_run(example, "joe", tmp_path)
    job = pod_specs(result)["pipeline Job"]
    assert job["serviceAccountName"] == "ml-stowage"
    env = {e["name"]: e.get("value") for e in job["containers"][0]["env"]}
    assert env["OWL_SCHEDULER_SERVICE_HOST"] == "ml-stowage-scheduler"  # a Service of the release
    assert env["OWL_TOKEN"] == TOKEN  # ${OWL_TOKEN} filled from the scheduler's Secret env
    assert env["USER"] == "joe"
    for where, spec in pod_specs(result).items():
        configs = {v["name"]: v.get("configMap", {}).get("name") for v in spec["volumes"]}
        assert configs["dask-config"] == "ml-stowage-dask-config", where
    assert {v["name"]: v for v in job["volumes"]}["owl-config"]["configMap"] == {
        "name": "ml-stowage-owl-config"
    }
    assert len(result["daskWorkerPods"]) == 2
    assert "${" not in json.dumps(result)  # every variable Owl expands was set


@oracle
def test_owl_refuses_the_config_without_the_token_secret(tmp_path: Path) -> None:
    text = release("production.yaml")
    proc = run_owl_oracle(owl_yaml_of(text), "joe", tmp_path, manifest=text)
    assert proc.returncode == 2
    assert "fails Owl's schema" in proc.stderr and "token" in proc.stderr


@oracle
def test_storage_reaches_the_pods_owl_builds_for_a_user(tmp_path: Path) -> None:
    result = owl_run("per-user-nfs.yaml", "joe", tmp_path)
    for where, spec in pod_specs(result).items():
        mounts = {m["mountPath"] for m in spec["containers"][0].get("volumeMounts", [])}
        assert {"/storage/joe", "/outputs"} <= mounts, where
        claims = {
            v["persistentVolumeClaim"]["claimName"]
            for v in spec["volumes"]
            if "persistentVolumeClaim" in v
        }
        assert "nfs-storage-joe" in claims, where


def test_checks_accept_the_api_sharing_the_scheduler_state_claim_on_its_node() -> None:
    """The state claim is ReadWriteOnce and mounted by the scheduler and the API: the API's
    required pod affinity to the scheduler's node and Recreate on both make that safe."""
    proc = helm(
        "helm4", "template", "ml", str(CHART), "-n", "ml", "-f", str(EXAMPLES / "production.yaml")
    )
    assert proc.returncode == 0, proc.stderr
    check = stowage_check_json(proc.stdout)
    assert check.returncode == 0, check.stderr
    findings = json.loads(check.stderr)["findings"]
    assert not [f for f in findings if f["rule"] in ("SW101", "SW102", "SW103")], findings


@pytest.mark.parametrize("helm_name", sorted(HELMS))
def test_pipeline_env_is_name_value_pairs_as_owl_copies_them(helm_name: str) -> None:
    args = ("--set", "pipeline.extraEnv[0].name=X")
    ref = ("--set", "pipeline.extraEnv[0].valueFrom.secretKeyRef.name=s")
    proc = helm(helm_name, "template", "ml", str(CHART), *args, *ref)
    assert proc.returncode != 0
    assert "/pipeline/extraEnv/0" in proc.stderr
    ok = helm(
        helm_name, "template", "ml", str(CHART), *args, "--set", "pipeline.extraEnv[0].value=UTC"
    )
    assert ok.returncode == 0, ok.stderr
