"""Charts we do not own, driven by a config file: targeted workloads get storage,
everything else (the z2jh DaemonSets above all) stays byte for byte as it came."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from enginehelpers import DATA, OUTPUTS, load_all, output, render
from stowage.engine import Outcome
from stowage.pods.podspecs import get_in
from stowage.read.manifests import split
from stowage.write.stream import render_document


def _config(targets: dict[str, Any]) -> dict[str, Any]:
    return {"persistence": {"data": DATA, "outputs": OUTPUTS}, "targets": targets}


def _untouched_documents_identical(before: str, outcome: Outcome) -> list[int]:
    """Indexes of changed documents; asserts every other one is byte-identical."""
    after = split(output(outcome))
    original = split(before)
    assert len(after.documents) == len(original.documents)
    changed = []
    for old, new in zip(original.documents, after.documents, strict=True):
        if old.text == new.text:
            continue
        changed.append(old.index)
    return changed


def _pod_volume_names(doc: dict[str, Any], path: tuple[str, ...]) -> list[str]:
    return [v["name"] for v in get_in(doc, path).get("volumes", [])]


def test_dask_chart_workers_and_scheduler(third_party: Path) -> None:
    text = (third_party / "dask.rendered.yaml").read_text()
    config = _config({"dask": {"matchLabels": {"app": "dask", "component": "worker"}}})
    outcome = render(text, config)
    assert not outcome.rejected, outcome.findings
    changed = _untouched_documents_identical(text, outcome)
    docs = load_all(output(outcome))
    worker = next(d for d in docs if d["metadata"]["name"] == "dask-worker")
    assert changed == [docs.index(worker)]
    assert _pod_volume_names(worker, ("spec", "template", "spec")) == ["training", "results"]
    container = worker["spec"]["template"]["spec"]["containers"][0]
    assert container["name"] == "dask-worker"
    assert {m["mountPath"] for m in container["volumeMounts"]} == {"/data/training", "/outputs"}


def test_z2jh_hub_targeted_and_daemonsets_untouched(third_party: Path) -> None:
    text = (third_party / "z2jh.rendered.yaml").read_text()
    config = _config({"hub": {"matchLabels": {"component": "hub"}, "kinds": ["Deployment"]}})
    outcome = render(text, config)
    assert not outcome.rejected, [str(f) for f in outcome.findings]
    changed = _untouched_documents_identical(text, outcome)
    docs = load_all(output(outcome))
    kinds = [docs[i]["kind"] + "/" + docs[i]["metadata"]["name"] for i in changed]
    assert kinds == ["Deployment/hub"]
    hub = docs[changed[0]]
    assert _pod_volume_names(hub, ("spec", "template", "spec"))[-2:] == ["training", "results"]
    # the hub's own sqlite PVC volume is still there
    assert "pvc" in _pod_volume_names(hub, ("spec", "template", "spec"))


def test_helm4_filename_annotation_survives_a_change(third_party: Path) -> None:
    """Helm 4 files each document by this annotation; losing it misfiles the document."""
    text = (third_party / "dask.rendered.yaml").read_text()
    key = "postrenderer.helm.sh/postrender-filename"
    docs = load_all(text)
    for doc in docs:
        doc["metadata"].setdefault("annotations", {})[key] = f"dask/{doc['metadata']['name']}.yaml"
    marked = "".join("---\n" + yaml.safe_dump(d) for d in docs)
    config = _config({"dask": {"matchLabels": {"app": "dask", "component": "worker"}}})
    result = load_all(output(render(marked, config)))
    worker = next(d for d in result if d["metadata"]["name"] == "dask-worker")
    assert worker["metadata"]["annotations"][key] == "dask/dask-worker.yaml"
    assert "volumes" in worker["spec"]["template"]["spec"]


def test_z2jh_without_a_target_is_byte_identical(third_party: Path) -> None:
    text = (third_party / "z2jh.rendered.yaml").read_text()
    outcome = render(text, _config({}))
    assert output(outcome) == text


@pytest.mark.parametrize(
    ("fixture", "kind", "paths"),
    [
        (
            "dask-operator-simplecluster.yaml",
            "DaskCluster",
            [("spec", "scheduler", "spec"), ("spec", "worker", "spec")],
        ),
        ("dask-operator-simpleworkergroup.yaml", "DaskWorkerGroup", [("spec", "worker", "spec")]),
        (
            "dask-operator-simplejob.yaml",
            "DaskJob",
            [
                ("spec", "job", "spec"),
                ("spec", "cluster", "spec", "scheduler", "spec"),
                ("spec", "cluster", "spec", "worker", "spec"),
            ],
        ),
    ],
)
def test_dask_operator_resources(
    third_party: Path, fixture: str, kind: str, paths: list[tuple[str, ...]]
) -> None:
    text = (third_party / fixture).read_text()
    outcome = render(text, _config({"dask": {"matchLabels": {}, "kinds": [kind]}}))
    assert output(outcome) == text  # empty matchLabels selects nothing
    body = yaml.safe_load(text)
    name = body["metadata"]["name"]
    labels = {"stowage.io/role": "dask"}
    body["metadata"]["labels"] = labels
    outcome = render(yaml.safe_dump(body), _config({"dask": {"matchLabels": labels}}))
    assert not outcome.rejected, [str(f) for f in outcome.findings]
    result = load_all(output(outcome))[0]
    for path in paths:
        assert _pod_volume_names(result, path) == ["training", "results"], (name, path)


def test_dask_operator_components_filter(third_party: Path) -> None:
    body = yaml.safe_load((third_party / "dask-operator-simplecluster.yaml").read_text())
    labels = {"stowage.io/role": "dask"}
    body["metadata"]["labels"] = labels
    target = {"dask": {"matchLabels": labels, "components": ["worker"]}}
    result = load_all(output(render(yaml.safe_dump(body), _config(target))))[0]
    assert _pod_volume_names(result, ("spec", "worker", "spec")) == ["training", "results"]
    assert _pod_volume_names(result, ("spec", "scheduler", "spec")) == []


def test_dask_operator_chart_passes_through(third_party: Path) -> None:
    text = (third_party / "dask-operator.rendered.yaml").read_text()
    assert output(render(text, _config({}))) == text


@pytest.mark.parametrize("version", ["1.30.0", "1.37.0"])
def test_changed_documents_are_valid_kubernetes(third_party: Path, version: str) -> None:
    import kubernetes_validate

    text = (third_party / "z2jh.rendered.yaml").read_text()
    config = _config({"hub": {"matchLabels": {"component": "hub"}}})
    config["securityContext"] = {"enabled": True, "user": 1000, "group": 1000}
    config["nodeSelector"] = {"hub": {"pool": "core"}}
    outcome = render(text, config)
    changed = [d for d in outcome.stream.documents if d.changed]
    assert changed
    for doc in changed:
        body = yaml.safe_load(render_document(doc, "\n"))
        kubernetes_validate.validate(body, version, strict=True)
