"""Owl's own code (the oracle, tests/oracle) judges stowage's Owl support: the vendored
Owl chart rendered through stowage with the `owl` template preset, then Owl's scheduler
builds the pipeline Job and its pipeline the Dask pods, for a user."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import THIRD_PARTY
from enginehelpers import output, render
from owl_oracle import owl_pods, owl_yaml_of, pod_specs, requires_owl_oracle

pytestmark = requires_owl_oracle

OWL_RENDER = (THIRD_PARTY / "owl-imaxt.rendered.yaml").read_text()
OWL_CONFIG = {
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
    "targets": {"pipeline": {}, "dask": {}},
    "templates": [{"preset": "owl", "configMap": {"name": "owl-owl-config"}}],
}


@pytest.mark.parametrize("user", ["joe", "ann"])
def test_owls_own_code_builds_pods_with_the_storage_stowage_attached(
    tmp_path: Path, user: str
) -> None:
    rendered = output(render(OWL_RENDER, OWL_CONFIG))
    result = owl_pods(owl_yaml_of(rendered), user, tmp_path, manifest=rendered)
    specs = pod_specs(result)
    assert {"pipeline Job", "Dask scheduler"} <= set(specs)
    for where, spec in specs.items():
        volumes = {v["name"]: v for v in spec.get("volumes") or []}
        mounts = {m["name"]: m["mountPath"] for m in spec["containers"][0]["volumeMounts"]}
        assert volumes["training"]["persistentVolumeClaim"]["claimName"] == "training", where
        assert volumes["results"]["nfs"] == {"server": "nfs.lab", "path": "/o"}, where
        assert volumes["user-storage"]["hostPath"]["path"] == f"/storage/{user}", where
        assert mounts["training"] == "/data/training", where
        assert mounts["results"] == "/outputs", where
        assert mounts["user-storage"] == f"/storage/{user}", where
        env = {e["name"]: e.get("value") for e in spec["containers"][0].get("env") or []}
        assert json.loads(env["STOWAGE_DATA_PATHS"]) == {"training": "/data/training"}, where


def test_without_the_preset_owls_pods_get_no_storage(tmp_path: Path) -> None:
    config = {k: v for k, v in OWL_CONFIG.items() if k != "templates"}
    rendered = output(render(OWL_RENDER, config))
    specs = pod_specs(owl_pods(owl_yaml_of(rendered), "joe", tmp_path, manifest=rendered))
    for where, spec in specs.items():
        assert "training" not in {v["name"] for v in spec.get("volumes") or []}, where


def test_pipeline_node_settings_the_fragment_cannot_carry_are_a_warning(tmp_path: Path) -> None:
    config = {**OWL_CONFIG, "nodeSelector": {"pipeline": {"pool": "gpu"}}}
    outcome = render(OWL_RENDER, config)
    (finding,) = [f for f in outcome.findings if f.rule == "SW906"]
    assert "nodeSelector" in finding.message
    assert "stowage admission" in finding.fix
    rendered = output(outcome)
    specs = pod_specs(owl_pods(owl_yaml_of(rendered), "joe", tmp_path, manifest=rendered))
    assert not specs["pipeline Job"].get("nodeSelector")  # the premise: Owl's Job builder
