"""Small builders shared by the engine tests: manifests as dicts, runs as text."""

from __future__ import annotations

import json
from typing import Any

import yaml

from stowage.engine import Options, Outcome, run
from stowage.layers import Layer

# A read-only data claim and an NFS outputs store: the storage most engine tests attach.
DATA = {
    "training": {
        "mountPath": "/data/training",
        "existingClaim": "training",
        "accessModes": ["ReadOnlyMany"],
        "readOnly": True,
    }
}
OUTPUTS = {"results": {"mountPath": "/outputs", "nfs": {"server": "nfs.lab", "path": "/o"}}}


def dump_all(*docs: dict[str, Any]) -> str:
    return "".join("---\n" + yaml.safe_dump(d, sort_keys=False) for d in docs)


def load_all(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d is not None]


def render(text: str, config: dict[str, Any] | None = None, **variables: str) -> Outcome:
    layers = [Layer("test-config", config)] if config is not None else []
    return run(text, Options(layers=layers, variables=dict(variables)))


def output(outcome: Outcome) -> str:
    from stowage.write.stream import write

    return write(outcome.stream)


def pod_template(labels: dict[str, str], containers: int = 1) -> dict[str, Any]:
    return {
        "metadata": {"labels": labels},
        "spec": {
            "containers": [
                {"name": f"c{i}", "image": "ghcr.io/dask/dask:2025.11.0"} for i in range(containers)
            ]
        },
    }


def deployment(
    name: str, labels: dict[str, str], replicas: int = 1, **extra: Any
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": dict(labels)},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": pod_template(labels),
        },
    }
    doc["spec"].update(extra)
    return doc


def plan_configmap(config: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "rel-stowage-storage-plan", "labels": {"stowage.io/plan": "true"}},
        "data": {"plan.json": json.dumps(config)},
    }


ROLE = {"stowage.io/role": "dask"}
TARGET = {"dask": {"matchLabels": ROLE}}
DATA_CLAIM = {"mountPath": "/data/a", "existingClaim": "data-a", "accessModes": ["ReadWriteMany"]}


def simple_config(**extra: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "persistence": {
            "data": {"a": dict(DATA_CLAIM)},
            "outputs": {"out": {"mountPath": "/outputs", "nfs": {"server": "nfs", "path": "/o"}}},
        },
        "targets": json.loads(json.dumps(TARGET)),
    }
    config.update(extra)
    return config


def pod_spec_of(doc: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = doc["spec"]["template"]["spec"]
    return spec
