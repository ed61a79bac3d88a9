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
STORAGE: dict[str, Any] = {
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
# TFJob mnist's own volume is called `training` (the claim tfevent-volume): a plan whose
# data volume has that name too is refused, rightly (SW801: one name, two claims;
# tests/test_runtime_third_party.py), so here the plan's is called `mnist`.
OVERRIDES: dict[str, dict[str, Any]] = {
    "airflow-kubernetes-executor.rendered.yaml": {"securityContext": {"enabled": False}},
    "kubeflow-tfjob-mnist-with-summaries.yaml": {
        "persistence": {
            "data": {"mnist": STORAGE["persistence"]["data"]["training"]},
            "outputs": STORAGE["persistence"]["outputs"],
        }
    },
}
# Fixtures stowage rightly writes nothing into: still created, as they come, beside the
# others (the operator examples with the label team=ml).
NOTHING_TO_ATTACH = {
    "argo-k8s-resource-log-selector.yaml": "its TFJob is made at run time (SW905)",
    "argo-mixed-cluster-namespaced-wftmpl-steps.yaml": "templateRef steps only",
    "kserve-llmisvc-model-pvc.yaml": "a PersistentVolumeClaim only",
    "trainer-multi-node.yaml": "a TrainJob: its pods are its ClusterTrainingRuntime's (SW905)",
    "volcano-jobflow.yaml": "a JobFlow orders JobTemplates, it has no pod spec",
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


def _labelled(name: str) -> str:
    """The fixture as stowage is given it: an operator example gets the label team=ml."""
    text = (THIRD_PARTY / name).read_text()
    if name in CHART_CONFIGS:
        return text
    labelled = docs(text)
    for doc in labelled:
        doc.setdefault("metadata", {}).setdefault("labels", {})["team"] = "ml"
    return dump(*labelled)


def _post_render(name: str, tmp_path: Path) -> str:
    text = _labelled(name)
    config: dict[str, Any] = {**STORAGE, **CHART_CONFIGS.get(name, LABELLED)}
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


@pytest.mark.parametrize("name", FIXTURE_FILES)
def test_every_third_party_fixture_post_rendered_is_created_under_strict_validation(
    kube: Kube, crds: set[str], namespace: str, name: str, tmp_path: Path
) -> None:
    rendered = _post_render(name, tmp_path)
    assert bool(_changed(_labelled(name), rendered)) != (name in NOTHING_TO_ATTACH)
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
