"""The vendored real things (tests/fixtures/third-party): the Owl chart's owl.yaml, Airflow's
pod_template_file, KubeRay's RayCluster, JobSet's single-pvc example and the operators'
upstream examples, through stowage; and, for Owl, its own code as the judge."""

from __future__ import annotations

import difflib
from typing import Any

import pytest
import yaml

from conftest import THIRD_PARTY
from enginehelpers import DATA, OUTPUTS, dump_all, load_all, output, render
from owl_oracle import owl_yaml_of
from stowage.engine import Outcome
from stowage.read.manifests import split

STORAGE = {"persistence": {"data": DATA, "outputs": OUTPUTS}}


def fixture(name: str) -> str:
    return (THIRD_PARTY / name).read_text()


OWL_RENDER = fixture("owl-imaxt.rendered.yaml")
OWL_CONFIG = {
    **STORAGE,
    "targets": {"pipeline": {}, "dask": {}},
    "templates": [{"preset": "owl", "configMap": {"name": "owl-owl-config"}}],
}


def changed_documents(before: str, outcome: Outcome) -> list[str]:
    """Kind/name of every document whose text changed (the others are byte-identical)."""
    after = split(output(outcome)).documents
    original = split(before).documents
    assert len(after) == len(original)
    return [
        f"{new.sniffed_kind}/{new.sniffed_label()}"
        for old, new in zip(original, after, strict=True)
        if old.text != new.text
    ]


def configmap_data(outcome: Outcome, name: str) -> dict[str, str]:
    for doc in load_all(output(outcome)):
        if doc["kind"] == "ConfigMap" and doc["metadata"]["name"] == name:
            data: dict[str, str] = doc["data"]
            return data
    raise AssertionError(name)


def test_owl_chart_owl_yaml_gets_storage_at_the_three_owl_sites_and_nothing_else() -> None:
    outcome = render(OWL_RENDER, OWL_CONFIG)
    assert changed_documents(OWL_RENDER, outcome) == ["ConfigMap/ (ConfigMap/owl-owl-config)"]
    before = owl_yaml_of(OWL_RENDER)
    after = configmap_data(outcome, "owl-owl-config")["owl.yaml"]
    matcher = difflib.SequenceMatcher(None, before.splitlines(), after.splitlines(), False)
    assert {tag for tag, *_ in matcher.get_opcodes()} == {"equal", "insert"}
    owl = yaml.safe_load(after)
    sites = [
        owl["pipeline"],
        owl["dask"]["kubernetes"]["scheduler-template"]["spec"],
        owl["dask"]["kubernetes"]["worker-template"]["spec"],
    ]
    for site in sites:
        assert {"training", "results"} <= {v["name"] for v in site["volumes"]}
    assert {"placements": sorted(p.workload.split(" ")[0] for p in outcome.placements)} == {
        "placements": ["pipeline", "scheduler", "worker"]
    }
    assert [f.rule for f in outcome.findings if f.rule.startswith("SW9")] == []


AIRFLOW = fixture("airflow-kubernetes-executor.rendered.yaml")


def test_airflow_pod_template_file_gets_the_storage() -> None:
    config = {
        **STORAGE,
        "targets": {"workers": {"matchLabels": {"tier": "airflow", "component": "worker"}}},
        "templates": [{"preset": "airflow", "configMap": {"name": "airflow-config"}}],
    }
    outcome = render(AIRFLOW, config)
    assert [p.workload for p in outcome.placements] == [
        "Pod/placeholder-name (worker) in ConfigMap/airflow-config"
    ]
    text = configmap_data(outcome, "airflow-config")["pod_template_file.yaml"]
    pod = yaml.safe_load(text)
    assert [v["name"] for v in pod["spec"]["volumes"]][-2:] == ["training", "results"]
    mounts = [m["mountPath"] for m in pod["spec"]["containers"][0]["volumeMounts"]]
    assert mounts[-2:] == ["/data/training", "/outputs"]
    others = {k: v for k, v in configmap_data(outcome, "airflow-config").items()}
    originals = next(
        d["data"] for d in load_all(AIRFLOW) if d["metadata"]["name"] == "airflow-config"
    )
    for key in set(originals) - {"pod_template_file.yaml"}:
        assert others[key] == originals[key], key


def with_labels(text: str, labels: dict[str, str]) -> str:
    docs = load_all(text)
    for doc in docs:
        doc.setdefault("metadata", {}).setdefault("labels", {}).update(labels)
    return dump_all(*docs)


OPERATOR_FIXTURES = {
    "kuberay-ray-cluster.rendered.yaml": 2,
    "kuberay-rayjob-pytorch-mnist.yaml": 2,
    "kuberay-rayservice-sample.yaml": 2,
    "kubeflow-pytorchjob-simple.yaml": 2,
    "kubeflow-tfjob-mnist-with-summaries.yaml": 1,
    "kubeflow-mpijob-tensorflow-mnist.yaml": 2,
    "kubeflow-xgboostjob.yaml": 2,
    "kubeflow-paddlejob-simple-cpu.yaml": 1,
    "kubeflow-jaxjob-cpu-demo.yaml": 1,
    "jobset-paralleljobs.yaml": 2,
    "lws-multi-template.yaml": 2,
    "volcano-job.yaml": 1,
    "argo-volumes-existing.yaml": 2,
    "argo-scripts-python.yaml": 2,
    "argo-containerset-workspace.yaml": 1,
    "argo-cron-workflow.yaml": 1,
    "spark-pi-emptydir.yaml": 2,
}


@pytest.mark.parametrize(("name", "pod_specs_found"), sorted(OPERATOR_FIXTURES.items()))
def test_upstream_operator_examples_are_reached_by_a_target(
    name: str, pod_specs_found: int
) -> None:
    text = with_labels(fixture(name), {"team": "ml"})
    config = {**STORAGE, "targets": {"ml": {"matchLabels": {"team": "ml"}}}}
    outcome = render(text, config)
    assert len(outcome.placements) == pod_specs_found
    for workload in outcome.workloads:
        mounted = {m["name"] for c in workload.pod_spec["containers"] for m in c["volumeMounts"]}
        assert {"training", "results"} <= mounted, workload.label
    assert not [f for f in outcome.findings if f.rule.startswith("SW9")]


def rwo_claim(name: str, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }


def test_kuberay_chart_with_head_and_workers_on_one_rwo_claim_is_rejected() -> None:
    (cluster,) = load_all(fixture("kuberay-ray-cluster.rendered.yaml"))
    shared = {"name": "shared", "persistentVolumeClaim": {"claimName": "shared"}}
    cluster["spec"]["headGroupSpec"]["template"]["spec"]["volumes"].append(shared)
    cluster["spec"]["workerGroupSpecs"][0]["template"]["spec"]["volumes"].append(shared)
    outcome = render(dump_all(rwo_claim("shared", "ray"), cluster))
    (finding,) = [f for f in outcome.findings if f.rule == "SW101"]
    assert "mounted by 6 pods" in finding.message  # head + maxReplicas 5
    assert outcome.rejected


def test_jobset_single_pvc_example_is_rejected() -> None:
    outcome = render(fixture("jobset-single-pvc.yaml"))
    assert [f.rule for f in outcome.findings] == ["SW101", "SW101"]
    assert {f.resource.name for f in outcome.findings} == {"checkpoints", "initializer"}


def test_argo_volumes_pvc_example_with_steps_in_sequence_passes() -> None:
    outcome = render(fixture("argo-volumes-pvc.yaml"))
    assert outcome.findings == []


def test_tfjob_mnist_volume_named_like_a_planned_one_is_refused_not_replaced() -> None:
    """The example's own volume `training` is the claim `tfevent-volume`; a plan whose data
    volume is also called `training` (claim `training`) cannot have both in one pod, and
    mounting the example's claim at /data/training would hand the job the wrong data: SW801
    keeps the example's volume and refuses, naming both. (The e2e tier renames the plan's.)"""
    text = with_labels(fixture("kubeflow-tfjob-mnist-with-summaries.yaml"), {"team": "ml"})
    config = {**STORAGE, "targets": {"ml": {"matchLabels": {"team": "ml"}}}}
    outcome = render(text, config)
    (finding,) = [f for f in outcome.findings if f.rule == "SW801"]
    assert "volumes[training]" in finding.message
    assert "'claim tfevent-volume' in the chart" in finding.message
    assert outcome.rejected
    renamed = {"persistence": {"data": {"mnist": DATA["training"]}, "outputs": OUTPUTS}}
    assert not render(text, {**config, **renamed}).rejected
