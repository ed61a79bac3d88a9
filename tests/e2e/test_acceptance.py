"""Strict acceptance of what stowage writes: every values example's post-rendered output and
every post-rendered third-party fixture (with its operator's CRD installed) is created by a
real API server under strict field validation, which refuses unknown and duplicate fields
rather than dropping them. Anything stowage writes that an API server refuses is a bug."""

from __future__ import annotations

import gzip
import hashlib
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from e2e.kube import (
    CRDS,
    EXAMPLES,
    FIXTURES,
    STOWAGE,
    ClusterHelm,
    Kube,
    docs,
    dump,
    values,
)

THIRD_PARTY = FIXTURES / "third-party"
ACCEPTED = sorted(
    p.name for p in EXAMPLES.glob("*.yaml") if not p.name.startswith(("rejected-", "team-"))
)
STORAGE = {
    "persistence": {
        "data": {
            "training": {
                "mountPath": "/data/training",
                "existingClaim": "training",
                "accessModes": ["ReadOnlyMany"],
                "readOnly": True,
            }
        },
        "outputs": {
            "results": {"mountPath": "/outputs", "nfs": {"server": "nfs.lab", "path": "/o"}}
        },
    },
    "securityContext": {"enabled": True},
}
LABELLED = {"targets": {"ml": {"matchLabels": {"team": "ml"}}}}
# How each chart render is targeted (the tests/test_*third_party.py configs); every other
# fixture is an operator example whose documents get the label team=ml and one target.
CHART_CONFIGS: dict[str, dict[str, Any]] = {
    "dask.rendered.yaml": {"targets": {"dask": {"matchLabels": {"app": "dask"}}}},
    "z2jh.rendered.yaml": {"targets": {"hub": {"matchLabels": {"component": "hub"}}}},
    "dask-operator.rendered.yaml": {
        "targets": {
            "operator": {"matchLabels": {"app.kubernetes.io/name": "dask-kubernetes-operator"}}
        }
    },
    "airflow-kubernetes-executor.rendered.yaml": {
        "targets": {"workers": {"matchLabels": {"tier": "airflow", "component": "worker"}}},
        "templates": [{"preset": "airflow", "configMap": {"name": "airflow-config"}}],
    },
    "owl-imaxt.rendered.yaml": {
        "targets": {"pipeline": {}, "dask": {}},
        "templates": [{"preset": "owl", "configMap": {"name": "owl-owl-config"}}],
    },
}
# stowage refuses these two as they come (SW101: JobSet's three pods on one ReadWriteOnce
# claim; SW103: Owl's RollingUpdate scheduler on one): on a single node both are fine, and
# that is what their output is checked as.
SINGLE_NODE = {"jobset-single-pvc.yaml", "owl-imaxt.rendered.yaml"}
# Airflow's pod template runs as uid 50000 and gid 0, which the plan cannot say (group >= 1):
# SW801 would refuse the render, so stowage leaves its security context alone there.
OVERRIDES: dict[str, dict[str, Any]] = {
    "airflow-kubernetes-executor.rendered.yaml": {"securityContext": {"enabled": False}},
}
FIXTURE_FILES = sorted(p.name for p in THIRD_PARTY.glob("*.yaml"))


def _crd_rows() -> dict[str, str]:
    rows = {}
    for line in (CRDS / "README.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].endswith(".yaml"):
            rows[cells[0]] = cells[3]
    return rows


def test_vendored_crds_are_the_files_their_readme_names() -> None:
    rows = _crd_rows()
    files = {p.name.removesuffix(".gz"): p for p in CRDS.glob("*.yaml.gz")}
    assert set(rows) == set(files)
    for name, path in files.items():
        assert hashlib.sha256(gzip.decompress(path.read_bytes())).hexdigest() == rows[name], name


@pytest.mark.parametrize("example", ACCEPTED)
def test_every_example_post_rendered_is_created_under_strict_validation(
    khelm: ClusterHelm, kube: Kube, namespace: str, example: str
) -> None:
    rendered = khelm.template("-n", namespace, *values(example)).stdout
    created = kube.apply_strict(rendered, namespace)
    assert created.returncode == 0, created.stderr
    assert "serverside-applied" in created.stdout
    # The API server kept every field stowage wrote: read the workloads back.
    for doc in docs(rendered):
        if doc["kind"] in ("Deployment", "Job", "StatefulSet"):
            live = kube.get(doc["kind"].lower(), doc["metadata"]["name"], "-n", namespace)
            assert _volume_names(live) == _volume_names(doc), doc["metadata"]["name"]


def _volume_names(workload: dict[str, Any]) -> list[str]:
    return [v["name"] for v in workload["spec"]["template"]["spec"].get("volumes") or []]


def _post_render(name: str, tmp_path: Path) -> str:
    text = (THIRD_PARTY / name).read_text()
    config: dict[str, Any] = {**STORAGE, **CHART_CONFIGS.get(name, LABELLED)}
    if name not in CHART_CONFIGS:
        labelled = docs(text)
        for doc in labelled:
            doc.setdefault("metadata", {}).setdefault("labels", {})["team"] = "ml"
        text = dump(*labelled)
    if name in SINGLE_NODE:
        config["cluster"] = {"singleNode": True}
    config.update(OVERRIDES.get(name, {}))
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    proc = subprocess.run(
        [str(STOWAGE), "render", f"--config={path}"],
        input=text,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _changed(before: str, after: str) -> int:
    return sum(1 for a, b in zip(docs(before), docs(after), strict=True) if a != b)


def create_strictly(kube: Kube, text: str, namespace: str) -> list[str]:
    """Create every document of a stream as written, under strict field validation: each
    in the namespace it names (created if missing) or else in namespace; server-side apply,
    or `create` for the ones with only a generateName. The API server's refusals."""
    groups: dict[tuple[str, bool], list[str]] = {}
    for chunk in re.split(r"(?m)^---[^\n]*\n", text):
        doc = yaml.safe_load(chunk)
        if not isinstance(doc, dict):
            continue
        meta = doc["metadata"]
        groups.setdefault((meta.get("namespace") or namespace, "name" not in meta), []).append(
            chunk
        )
    refusals = []
    for (ns, generated), chunks in groups.items():
        if kube.get("namespace", ns) is None:
            kube.create_namespace(ns)  # a chart's own (dask, jhub, airflow, ...)
        stream = "".join("---\n" + c for c in chunks)
        if generated:
            proc = kube.run(
                "create", "--validate=strict", "-n", ns, "-f", "-", stdin=stream, check=False
            )
        else:
            proc = kube.apply_strict(stream, ns)
        if proc.returncode != 0:
            refusals.append(proc.stderr)
    return refusals


# Fixtures vendored after this tier's CRDs: Flink, KServe, Tekton, Trainer v2 and Volcano's
# CronJob/JobFlow/JobTemplate have no CRD in tests/fixtures/crds yet, so the API server
# cannot judge them; two more are refused at render time under this test's config (SW304
# on Flink's partial jobmanager template, SW801 on TFJob mnist's volume) and need a look.
NOT_YET_JUDGED = {
    **dict.fromkeys(
        [
            "flink-basic.yaml", "flink-session-deployment-and-job.yaml",
            "kserve-custom-model.yaml", "kserve-llmisvc-pd-disaggregation.yaml",
            "tekton-parallel-tasks-using-pvc.yaml",
            "tekton-workspace-from-volumeclaimtemplate.yaml",
            "tekton-workspaces.yaml", "trainer-multi-node.yaml", "trainer-multi-step.yaml",
            "trainer-torch-distributed-runtime.yaml", "volcano-cronjob.yaml",
            "volcano-jobflow.yaml", "volcano-jobtemplates.yaml",
        ],
        "its operator's CRD is not vendored in tests/fixtures/crds yet",
    ),
    "flink-pod-template.yaml": "stowage refuses it here (SW304, jobmanager's partial template)",
    "kubeflow-tfjob-mnist-with-summaries.yaml": "stowage refuses it here (SW801 on its volume)",
}  # fmt: skip


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.skip(reason=NOT_YET_JUDGED[n]))
        if n in NOT_YET_JUDGED
        else n
        for n in FIXTURE_FILES
    ],
)
def test_every_third_party_fixture_post_rendered_is_created_under_strict_validation(
    kube: Kube, crds: set[str], namespace: str, name: str, tmp_path: Path
) -> None:
    rendered = _post_render(name, tmp_path)
    assert _changed((THIRD_PARTY / name).read_text(), rendered), "stowage attached nothing"
    assert create_strictly(kube, rendered, namespace) == []


def test_strict_validation_refuses_what_stowage_must_never_write(
    kube: Kube, crds: set[str], namespace: str, tmp_path: Path
) -> None:
    """The control for the tests above: the same creation refuses an unknown field in a
    custom resource's pod template, so their passing means something."""
    (job,) = docs(_post_render("kubeflow-pytorchjob-simple.yaml", tmp_path))
    job["metadata"]["name"] = "refused"
    container = job["spec"]["pytorchReplicaSpecs"]["Master"]["template"]["spec"]["containers"][0]
    container["volumeMount"] = container["volumeMounts"]
    (refusal,) = create_strictly(kube, dump(job), namespace)
    field = '.spec.pytorchReplicaSpecs.Master.template.spec.containers[name="pytorch"].volumeMount'
    assert f"{field}: field not declared in schema" in refusal
    ns = job["metadata"]["namespace"]
    assert kube.get("pytorchjob", job["metadata"]["name"], "-n", ns) is None


def test_argo_templates_keep_their_containers_when_stowage_sets_security_context(
    tmp_path: Path,
) -> None:
    """Found by this tier: stowage once wrote an Argo template's securityContext through a
    path that turned the `templates` list into a mapping. What it writes holds the list."""
    (workflow,) = docs(_post_render("argo-cron-workflow.yaml", tmp_path))
    templates = workflow["spec"]["workflowSpec"]["templates"]
    assert isinstance(templates, list)
    assert templates[0]["container"]["image"] == "busybox"
    assert templates[0]["securityContext"]["runAsNonRoot"] is True
