"""How reports name what a finding is about: kubectl style in text, fields in JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from enginehelpers import ROLE, TARGET, deployment, dump_all, plan_configmap, render
from stowage.engine import Options, run
from stowage.findings import ResourceRef
from stowage.layers import Layer
from stowage.views import report


def test_kubectl_style_names() -> None:
    assert str(ResourceRef("Deployment", "", "x")) == "Deployment/x"
    assert str(ResourceRef("Deployment", "ml", "x")) == "Deployment/x -n ml"
    carried = ResourceRef("ConfigMap", "ml", "tpl", "job.yaml")
    assert str(carried) == "ConfigMap/tpl -n ml (data.job.yaml)"
    assert ResourceRef("Deployment", "", "x").as_json() == {
        "kind": "Deployment", "namespace": None, "name": "x", "key": None,
    }  # fmt: skip


def _mount_without_volume(namespace: str = "") -> dict[str, Any]:
    doc = deployment("w", ROLE)
    if namespace:
        doc["metadata"]["namespace"] = namespace
    doc["spec"]["template"]["spec"]["containers"][0]["volumeMounts"] = [
        {"name": "ghost", "mountPath": "/g"}
    ]
    return doc


def test_text_report_has_no_dash_for_a_missing_namespace() -> None:
    text = report.as_text(render(dump_all(_mount_without_volume())))
    assert "SW304 Deployment/w: " in text
    assert "/-/" not in text
    text = report.as_text(render(dump_all(_mount_without_volume("ml"))))
    assert "SW304 Deployment/w -n ml: " in text


def test_finding_on_a_carried_template_names_the_configmap_and_key() -> None:
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "run"},
           "spec": {"template": _mount_without_volume()["spec"]["template"]}}  # fmt: skip
    carrier = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "tpl", "labels": {"stowage.io/pod-template": "true"}},
        "data": {"job.yaml": yaml.safe_dump(job)},
    }
    outcome = render(dump_all(carrier))
    (finding,) = [f for f in outcome.findings if f.rule == "SW304"]
    assert str(finding.resource) == "ConfigMap/tpl (data.job.yaml)"
    assert "Job/run" not in str(finding.resource)  # no Job exists until a run starts


def _two_outputs() -> dict[str, Any]:
    nfs = {"server": "nfs", "path": "/o"}
    return {
        "persistence": {"outputs": {"a": {"mountPath": "/a", "nfs": nfs},
                                    "b": {"mountPath": "/b", "nfs": nfs}}},
        "targets": TARGET,
    }  # fmt: skip


def test_config_finding_names_the_file_that_set_the_key(tmp_path: Path) -> None:
    base = Layer(str(tmp_path / "base.yaml"), {"targets": TARGET})
    team = Layer(str(tmp_path / "team.yaml"), _two_outputs())
    outcome = run(dump_all(deployment("w", ROLE)), Options(layers=[base, team]))
    (finding,) = [f for f in outcome.findings if f.rule == "SW504"]
    assert str(finding.resource) == str(tmp_path / "team.yaml")
    assert "StoragePlan" not in report.as_text(outcome)
    resource = json.loads(report.as_json(outcome))["findings"][0]["resource"]
    expected = {"kind": "Config", "namespace": None, "name": str(tmp_path / "team.yaml")}
    assert resource == {**expected, "key": "persistence.outputs"}


def test_config_finding_from_the_chart_names_the_chart_values() -> None:
    outcome = render(dump_all(plan_configmap(_two_outputs()), deployment("w", ROLE)))
    (finding,) = [f for f in outcome.findings if f.rule == "SW504"]
    assert str(finding.resource) == "chart values (plan ConfigMap/rel-stowage-storage-plan)"


def test_a_claim_is_named_once_per_line() -> None:
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "c"},
             "spec": {"accessModes": ["ReadWriteOnce"]}}  # fmt: skip
    doc = deployment("w", ROLE, replicas=3)
    spec = doc["spec"]["template"]["spec"]
    spec["volumes"] = [{"name": "c", "persistentVolumeClaim": {"claimName": "c"}}]
    spec["containers"][0]["volumeMounts"] = [{"name": "c", "mountPath": "/c"}]
    text = report.as_text(render(dump_all(claim, doc)))
    lines = text.split("error SW101 ")[1].splitlines()
    assert lines[:2] == [
        "PersistentVolumeClaim/c: ReadWriteOnce claim mounted by 3 pods that can run on "
        "different nodes",
        "  - claim 'c': ReadWriteOnce (per its manifest)",
    ]
    assert text.count("PersistentVolumeClaim") == 1
