"""A running control plane for the admission tests, and what they read from it.

The cluster is issue 23's harness (cluster/kcluster.py), one per test module.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from conftest import TOOLS
from e2e.kube import established

KUBE_API_ACCESS = "kube-api-access-"
# What the DefaultTolerationSeconds admission plugin adds to every pod.
DEFAULT_TOLERATIONS = frozenset({"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"})
CLUSTER_SCOPED = frozenset(
    {
        "PersistentVolume",
        "StorageClass",
        "ClusterRole",
        "ClusterRoleBinding",
        "Namespace",
        "MutatingAdmissionPolicy",
        "MutatingAdmissionPolicyBinding",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
    }
)


@dataclass
class Kube:
    """kubectl against one cluster."""

    kubeconfig: Path

    def run(
        self, *args: str, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [str(TOOLS / "kubectl"), f"--kubeconfig={self.kubeconfig}", *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)}: {proc.stderr}")
        return proc

    def get(self, *args: str) -> Any:
        return json.loads(self.run("get", "-o", "json", *args).stdout)

    def apply(self, docs: Iterable[dict[str, Any]], namespace: str | None = None) -> None:
        self.run("apply", "-f", "-", stdin=dump(in_namespace(docs, namespace)))

    def namespace(self, name: str) -> None:
        if self.run("get", "namespace", name, check=False).returncode != 0:
            self.run("create", "namespace", name)

    def crd_established(self, name: str) -> bool:
        return established(self.get("crd", name))

    def wait_for(self, what: str, found: Callable[[], Any], timeout: float = 60) -> Any:
        """Poll until ``found()`` returns something truthy (controllers work asynchronously)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = found()
            if value:
                return value
            time.sleep(0.3)
        raise AssertionError(f"timed out waiting for {what}")


def load(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]


def dump(docs: Iterable[dict[str, Any]]) -> str:
    return yaml.safe_dump_all(list(docs), sort_keys=False)


def in_namespace(docs: Iterable[dict[str, Any]], namespace: str | None) -> list[dict[str, Any]]:
    """The documents with every namespaced one moved to ``namespace`` (None: as they are)."""
    out = []
    for original in docs:
        doc = json.loads(json.dumps(original))
        if namespace is not None and doc.get("kind") not in CLUSTER_SCOPED:
            doc.setdefault("metadata", {})["namespace"] = namespace
        out.append(doc)
    return out


def storage_view(spec: dict[str, Any]) -> dict[str, Any]:
    """What stowage gives a pod, in a form two pods can be compared by: volumes by name,
    each container's mounts, env and securityContext, the pod's securityContext and
    scheduling. The service-account token volume and the default tolerations the API
    server adds are left out; so are the defaults it fills in (defaultMode)."""

    def volume(v: dict[str, Any]) -> dict[str, Any]:
        v = json.loads(json.dumps(v))
        for source in v.values():
            if isinstance(source, dict):
                source.pop("defaultMode", None)
        return v

    def container(c: dict[str, Any]) -> dict[str, Any]:
        mounts = [m for m in c.get("volumeMounts") or [] if KUBE_API_ACCESS not in m["name"]]
        return {
            "mounts": sorted(
                (m["name"], m["mountPath"], bool(m.get("readOnly")), m.get("subPath", ""))
                for m in mounts
            ),
            "env": {e["name"]: e.get("value", e.get("valueFrom")) for e in c.get("env") or []},
            "securityContext": c.get("securityContext") or {},
        }

    tolerations = [
        t for t in spec.get("tolerations") or [] if t.get("key") not in DEFAULT_TOLERATIONS
    ]
    return {
        "volumes": {
            v["name"]: volume(v)
            for v in spec.get("volumes") or []
            if not v["name"].startswith(KUBE_API_ACCESS)
        },
        "containers": {c["name"]: container(c) for c in spec.get("containers") or []},
        "initContainers": {c["name"]: container(c) for c in spec.get("initContainers") or []},
        "securityContext": spec.get("securityContext") or {},
        "nodeSelector": spec.get("nodeSelector") or {},
        "tolerations": sorted(json.dumps(t, sort_keys=True) for t in tolerations),
        "affinity": spec.get("affinity") or {},
    }
