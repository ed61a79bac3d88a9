"""kubectl and Helm against the e2e cluster: what the e2e tests share."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import yaml

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".tools" / "bin"
CHART = ROOT / "chart"
EXAMPLES = ROOT / "values-examples"
FIXTURES = ROOT / "tests" / "fixtures"
CRDS = FIXTURES / "crds"
PLUGIN = ROOT / "postrenderer"
STOWAGE = Path(sys.executable).parent / "stowage"
CORE_NODES = {"core-1", "core-2"}
EXPERIMENTS_NODES = {"experiments-1", "experiments-2"}

T = TypeVar("T")


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 60) -> T:
    """Poll probe until it returns something truthy; fail naming what never happened."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.25)


def docs(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]


def dump(*documents: dict[str, Any]) -> str:
    return "".join("---\n" + yaml.safe_dump(d, sort_keys=False) for d in documents)


@dataclass(frozen=True)
class Kube:
    """kubectl 1.37 (pinned, .tools/bin) with the e2e cluster's kubeconfig."""

    kubeconfig: Path

    def run(
        self, *args: str, stdin: str | None = None, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [str(TOOLS / "kubectl"), f"--kubeconfig={self.kubeconfig}", *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed:\n{proc.stderr}")
        return proc

    def get(self, *args: str) -> Any:
        """`kubectl get ARGS -o json`, or None when it is not there."""
        proc = self.run("get", *args, "-o", "json", check=False)
        if proc.returncode != 0:
            if "NotFound" in proc.stderr or "not found" in proc.stderr:
                return None
            raise AssertionError(f"kubectl get {' '.join(args)}:\n{proc.stderr}")
        return json.loads(proc.stdout)

    def items(self, *args: str) -> list[dict[str, Any]]:
        found = self.get(*args)
        return list(found["items"]) if found else []

    def create_namespace(self, name: str) -> str:
        """A namespace ready for bare pods: its `default` ServiceAccount exists (the
        ServiceAccount admission plugin refuses a pod that names a missing one)."""
        self.run("create", "namespace", name)
        wait_for(f"ServiceAccount {name}/default", lambda: self.get("sa", "default", "-n", name))
        return name

    def apply_strict(
        self, text: str, namespace: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Server-side apply with strict field validation: the API server refuses unknown
        or duplicate fields instead of dropping them."""
        ns = ["-n", namespace] if namespace else []
        return self.run(
            "apply", "--server-side", "--validate=strict", "--field-manager=stowage-e2e",
            *ns, "-f", "-", stdin=text, check=False,
        )  # fmt: skip

    def create_strict(self, text: str, namespace: str) -> list[dict[str, Any]]:
        """`kubectl create --validate=strict` (objects with generateName cannot be applied);
        returns what the API server stored."""
        proc = self.run(
            "create", "--validate=strict", "-n", namespace, "-f", "-", "-o", "json", stdin=text
        )
        decoder, text, created = json.JSONDecoder(), proc.stdout.strip(), []
        while text:  # one JSON object per created object, back to back
            obj, end = decoder.raw_decode(text)
            created.append(obj)
            text = text[end:].strip()
        return created

    def pods(self, namespace: str, selector: str | None = None) -> list[dict[str, Any]]:
        extra = ["-l", selector] if selector else []
        return self.items("pods", "-n", namespace, *extra)

    def scheduled(self, namespace: str, selector: str, count: int = 1) -> list[dict[str, Any]]:
        """The pods matching selector once at least count exist and all are bound to a node."""

        def bound() -> list[dict[str, Any]] | None:
            pods = self.pods(namespace, selector)
            ok = len(pods) >= count and all(p["spec"].get("nodeName") for p in pods)
            return pods if ok else None

        return wait_for(f"{count} pod(s) {selector} in {namespace} bound to nodes", bound)

    def events_for(self, namespace: str, name: str) -> list[dict[str, Any]]:
        return self.items("events", "-n", namespace, f"--field-selector=involvedObject.name={name}")

    def bound_claim(self, namespace: str, name: str, timeout: float = 60) -> dict[str, Any]:
        def bound() -> dict[str, Any] | None:
            pvc = self.get("pvc", name, "-n", namespace)
            return pvc if pvc and pvc["status"].get("phase") == "Bound" else None

        return wait_for(f"claim {namespace}/{name} Bound", bound, timeout)


@dataclass(frozen=True)
class ClusterHelm:
    """A pinned Helm (3.19 or 4.3) pointed at the e2e cluster, stowage as its post-renderer
    the way each Helm takes it: the executable on Helm 3, the postrenderer/v1 plugin on 4."""

    binary: Path
    major: int
    env: dict[str, str]

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [str(self.binary), *args],
            capture_output=True,
            text=True,
            env=self.env,
            check=False,
            timeout=300,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"helm {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}"
            )
        return proc

    @property
    def stowage(self) -> list[str]:
        return ["--post-renderer", "stowage" if self.major == 4 else str(STOWAGE)]

    def release(
        self,
        verb: str,
        name: str,
        namespace: str,
        *args: str,
        stowage: bool = True,
        check: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """`helm install|upgrade NAME chart/ -n NAMESPACE ARGS`, through stowage by default."""
        renderer = self.stowage if stowage else []
        return self.run(verb, name, str(CHART), "-n", namespace, *renderer, *args, check=check)

    def manifest(self, name: str, namespace: str) -> str:
        return self.run("get", "manifest", name, "-n", namespace).stdout

    def template(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """`helm template` through stowage (no cluster: lookups find nothing)."""
        return self.run("template", "ml", str(CHART), *self.stowage, *args, check=check)


def install_crds(kube: Kube) -> set[str]:
    """Every vendored CRD (tests/fixtures/crds) created and Established; the kinds they
    serve. `create`, not apply: Argo's are too large for the last-applied annotation. The
    API server takes a while over these schemas, so conftest starts this with the cluster."""
    texts = [gzip.decompress(p.read_bytes()).decode() for p in sorted(CRDS.glob("*.yaml.gz"))]
    crds = [crd for text in texts for crd in docs(text)]
    kube.run("create", "-f", "-", stdin="".join("---\n" + t for t in texts), timeout=600)
    for crd in crds:
        name: str = crd["metadata"]["name"]
        wait_for(f"CRD {name} Established", partial(_established, kube, name), timeout=300)
    return {crd["spec"]["names"]["kind"] for crd in crds}


def _established(kube: Kube, name: str) -> bool:
    return established(kube.get("crd", name))


def established(crd: dict[str, Any] | None) -> bool:
    """Whether the API server serves a CRD. `kubectl wait --for=condition=Established`
    fails outright on one it has not yet given a status (an accessor error on nil
    conditions), so callers poll this."""
    conditions = (crd or {}).get("status", {}).get("conditions") or []
    return any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)


def values(*names: str) -> list[str]:
    return [arg for name in names for arg in ("-f", str(EXAMPLES / name))]
