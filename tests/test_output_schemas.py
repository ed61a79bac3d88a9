"""What stowage writes is valid Kubernetes: its output (not just Helm's) checked against
the API server's own schemas (kubernetes-validate, 1.37), in the unit tier, without Helm.

The chart's output for every values example is its golden file (tests/golden, kept
equal to a real Helm render by test_helm_e2e.py); stowage is run on it here again. Each
third-party fixture is run with storage, a node pool and a securityContext attached to
every workload. Built-in kinds are validated whole; the pod specs stowage changed inside
custom resources (whose schemas kubernetes-validate does not ship) are validated as Pods.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from conftest import THIRD_PARTY
from enginehelpers import DATA, OUTPUTS, render
from stowage.engine import Options, Outcome, run
from stowage.write.stream import write

VERSION = "1.37.0"
GOLDEN = Path(__file__).parent / "golden" / "helm4"
# The API groups whose schemas kubernetes-validate ships.
BUILT_IN_GROUPS = ("", "apps", "batch", "policy", "rbac.authorization.k8s.io", "networking.k8s.io")
LABEL = {"stowage.test/every": "workload"}  # put on every document, selected by the config
EVERY_WORKLOAD = {
    "persistence": {"data": DATA, "outputs": OUTPUTS},
    "targets": {"all": {"matchLabels": LABEL, "pool": "ml"}},
    "nodeSelector": {"ml": {"node-pool": "ml"}},
    "tolerations": {"ml": [{"key": "ml", "operator": "Exists", "effect": "NoSchedule"}]},
    "securityContext": {"enabled": True, "user": 1000, "group": 1000},
}


def _built_in(doc: dict[str, Any]) -> bool:
    return str(doc.get("apiVersion", "")).rpartition("/")[0] in BUILT_IN_GROUPS


def _validate(outcome: Outcome, text: str) -> int:
    """Validate the output ``text`` of ``outcome``; how many objects were checked."""
    checked = 0
    for doc in yaml.safe_load_all(text):
        if isinstance(doc, dict) and _built_in(doc):
            kubernetes_validate.validate(doc, VERSION, strict=True)
            checked += 1
    for workload in outcome.workloads:
        if not _built_in(workload.manifest):  # a pod spec inside a custom resource
            kubernetes_validate.validate(_as_pod(workload.pod_spec), VERSION, strict=True)
            checked += 1
    return checked


def _as_pod(spec: dict[str, Any]) -> dict[str, Any]:
    """A Pod around a pod spec of a custom resource. Argo and Spark name the containers
    themselves (`main`, `spark-kubernetes-driver`): an unnamed one is named here; an Argo
    script's `source` is Argo's own field."""
    spec = copy.deepcopy(spec)
    # A partial template the operator merges over another (Flink's jobManager.podTemplate
    # with only initContainers) has no containers of its own: the operator adds them.
    spec.setdefault("containers", [{"name": "added-by-the-operator"}])
    for key in ("containers", "initContainers"):
        for index, container in enumerate(spec.get(key) or []):
            container.setdefault("name", f"{key.lower()}-{index}")
            container.pop("source", None)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": spec}


@pytest.mark.parametrize("golden", sorted(GOLDEN.glob("*.yaml")), ids=lambda p: p.stem)
def test_output_for_each_values_example_is_valid_kubernetes(golden: Path) -> None:
    text = golden.read_text()
    outcome = run(text, Options())
    assert write(outcome.stream) == text  # the golden file is what stowage writes now
    assert _validate(outcome, text) > 0


FIXTURES = sorted(p.name for p in THIRD_PARTY.glob("*.yaml"))


@pytest.mark.parametrize("name", FIXTURES)
def test_output_for_each_third_party_fixture_is_valid_kubernetes(name: str) -> None:
    docs = [d for d in yaml.safe_load_all((THIRD_PARTY / name).read_text()) if d]
    for doc in docs:
        doc.setdefault("metadata", {}).setdefault("labels", {}).update(LABEL)
    outcome = render(yaml.safe_dump_all(docs, sort_keys=False), EVERY_WORKLOAD)
    if not outcome.changed:
        # No pod spec of its own (templateRefs, resource steps, a TrainJob's runtime, a
        # FlinkDeployment without podTemplate): nothing to validate, but never silent.
        assert {f.rule for f in outcome.findings} & {"SW902", "SW905"} or _no_pod_spec(docs), name
        return
    assert _validate(outcome, write(outcome.stream)) > 0


def _no_pod_spec(docs: list[dict[str, Any]]) -> bool:
    """No `containers:` anywhere: the operator builds every pod from its own defaults."""
    return "containers" not in yaml.safe_dump_all(docs)
