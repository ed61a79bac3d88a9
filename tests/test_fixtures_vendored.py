"""The vendored third-party fixtures are what their README says: YAML, sourced, licensed, valid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import THIRD_PARTY

LICENCES = ("Apache-2.0", "BSD-3-Clause", "GPL-3.0", "MIT")
# Kinds whose schema kubernetes-validate ships: the core API groups. Custom resources
# (Ray, Kubeflow, JobSet, Volcano, Argo, Spark, LWS, Dask) have no schema there.
CORE_GROUPS = ("", "apps", "batch", "policy", "rbac.authorization.k8s.io", "networking.k8s.io")


def _fixture_files() -> list[Path]:
    return sorted(p for p in THIRD_PARTY.rglob("*.yaml") if p.is_file())


def _relative(path: Path) -> str:
    return path.relative_to(THIRD_PARTY).as_posix()


def _readme_rows() -> dict[str, list[str]]:
    """README table rows keyed by their first cell (file name)."""
    rows: dict[str, list[str]] = {}
    for line in (THIRD_PARTY / "README.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        if line.startswith("| ") and len(cells) == 4:
            rows[cells[0]] = cells
    return rows


def _documents(path: Path) -> list[Any]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def _is_core_kind(doc: dict[str, Any]) -> bool:
    group = str(doc.get("apiVersion", "")).rpartition("/")[0]
    return group in CORE_GROUPS


FILES = [_relative(p) for p in _fixture_files()]


def test_the_expected_fixtures_are_vendored() -> None:
    wanted = {
        "owl-imaxt.rendered.yaml",
        "airflow-kubernetes-executor.rendered.yaml",
        "kuberay-ray-cluster.rendered.yaml",
        "jobset-single-pvc.yaml",
        "volcano-job.yaml",
        "argo-volumes-pvc.yaml",
        "spark-pi-emptydir.yaml",
        "lws-multi-template.yaml",
    }
    assert wanted <= set(FILES)


@pytest.mark.parametrize("name", FILES)
def test_fixture_parses_and_has_a_readme_row_with_source_and_licence(name: str) -> None:
    docs = _documents(THIRD_PARTY / name)
    assert docs, f"{name}: no YAML documents"
    row = _readme_rows().get(name)
    assert row is not None, f"{name}: no row in third-party/README.md"
    _, what, how, licence = row
    assert what and how, f"{name}: the README row must say what it is and how it was made"
    assert any(licence.startswith(spdx) for spdx in LICENCES), f"{name}: licence {licence!r}"


def test_every_readme_row_names_an_existing_file() -> None:
    rows = [name for name in _readme_rows() if name not in ("file", "---")]
    assert sorted(rows) == sorted(FILES)


@pytest.mark.parametrize("name", [n for n in FILES if not n.startswith("values/")])
def test_fixture_documents_are_kubernetes_objects(name: str) -> None:
    for doc in _documents(THIRD_PARTY / name):
        assert isinstance(doc, dict) and doc.get("apiVersion") and doc.get("kind"), name
        assert doc.get("metadata", {}).get("name") or doc["metadata"].get("generateName"), name


@pytest.mark.parametrize("name", [n for n in FILES if not n.startswith("values/")])
def test_core_kinds_validate_against_kubernetes(name: str) -> None:
    import kubernetes_validate

    for doc in _documents(THIRD_PARTY / name):
        if _is_core_kind(doc):
            kubernetes_validate.validate(doc, "1.37.0", strict=True)


def _owl_config() -> dict[str, Any]:
    docs = _documents(THIRD_PARTY / "owl-imaxt.rendered.yaml")
    config_map = next(d for d in docs if d["metadata"]["name"] == "owl-owl-config")
    loaded: dict[str, Any] = yaml.safe_load(config_map["data"]["owl.yaml"])
    return loaded


def test_owl_render_holds_the_pipeline_and_dask_templates_with_a_plain_user_path() -> None:
    raw = next(
        d
        for d in _documents(THIRD_PARTY / "owl-imaxt.rendered.yaml")
        if d["metadata"]["name"] == "owl-owl-config"
    )["data"]["owl.yaml"]
    assert "path: /storage/${USER}" in raw  # plain, so Owl's loader expands it
    config = _owl_config()
    assert {v["name"] for v in config["pipeline"]["volumes"]} >= {"owl-config", "user-storage"}
    templates = config["dask"]["kubernetes"]
    assert set(templates) >= {"scheduler-template", "worker-template"}


def test_airflow_render_holds_a_pod_template_file() -> None:
    docs = _documents(THIRD_PARTY / "airflow-kubernetes-executor.rendered.yaml")
    config_map = next(d for d in docs if d["metadata"]["name"] == "airflow-config")
    pod = yaml.safe_load(config_map["data"]["pod_template_file.yaml"])
    assert pod["kind"] == "Pod" and pod["spec"]["containers"]
