"""The chart's release life cycle through stowage, on Helm 3.19 and Helm 4.3: install,
upgrade, rollback, uninstall and reinstall. The scheduler's state claim and Owl's token
Secret (`helm.sh/resource-policy: keep`) survive all of it; the token the chart draws on the
first install is read back with `lookup` on every later render, never drawn again."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from e2e.kube import ClusterHelm, Kube, values, wait_for


def _token(kube: Kube, namespace: str, release: str) -> str:
    secret = kube.get("secret", f"{release}-stowage-owl-token", "-n", namespace)
    assert secret is not None, "no token Secret"
    return base64.b64decode(secret["data"]["token"]).decode()


def _revision(khelm: ClusterHelm, release: str, namespace: str) -> int:
    history = khelm.run("history", release, "-n", namespace, "-o", "json").stdout
    return int(json.loads(history)[-1]["revision"])


def _loglevel(kube: Kube, namespace: str, release: str) -> str:
    config = kube.get("configmap", f"{release}-stowage-owl-config", "-n", namespace)
    lines = str(config["data"]["owl.yaml"]).splitlines()
    return next(ln for ln in lines if ln.startswith("loglevel:")).split(":", 1)[1].strip()


def _scheduler_pod(kube: Kube, namespace: str, release: str, loglevel: str) -> dict[str, Any]:
    """The scheduler's one live pod once it is bound and runs with loglevel: made by the
    real ReplicaSet controller for the revision that set it (old pods go first: Recreate)."""
    selector = f"app.kubernetes.io/instance={release},stowage.io/role=scheduler"

    def current() -> dict[str, Any] | None:
        live = [
            p for p in kube.pods(namespace, selector) if not p["metadata"].get("deletionTimestamp")
        ]
        if len(live) != 1 or not live[0]["spec"].get("nodeName"):
            return None
        env = {e["name"]: e.get("value") for e in live[0]["spec"]["containers"][0]["env"]}
        return live[0] if env.get("LOGLEVEL") == loglevel else None

    return wait_for(f"one scheduler pod with LOGLEVEL={loglevel}", current)


def _storage(pod: dict[str, Any]) -> dict[str, str]:
    """mountPath -> volume source kind of the pod's first container."""
    sources = {v["name"]: next(k for k in v if k != "name") for v in pod["spec"]["volumes"]}
    return {
        m["mountPath"]: sources[m["name"]] for m in pod["spec"]["containers"][0]["volumeMounts"]
    }


def test_install_upgrade_rollback_uninstall_reinstall(
    khelm: ClusterHelm, kube: Kube, namespace: str
) -> None:
    release = f"life{khelm.major}"
    claim = f"{release}-stowage-scheduler-state"
    base = values("base.yaml")

    khelm.release("install", release, namespace, *base)
    state = kube.bound_claim(namespace, claim)
    token = _token(kube, namespace, release)
    assert len(token) == 64
    # The real ReplicaSet controller made the scheduler's pod: it carries what stowage attached.
    storage = _storage(_scheduler_pod(kube, namespace, release, "INFO"))
    assert storage["/var/run/owl"] == "persistentVolumeClaim"
    assert storage["/data/shared"] == "persistentVolumeClaim"  # base.yaml's NFS data, via its PV
    assert storage["/outputs"] == "persistentVolumeClaim"
    assert _loglevel(kube, namespace, release) == "INFO"

    khelm.release("upgrade", release, namespace, *base, "--set", "owl.loglevel=DEBUG")
    assert _revision(khelm, release, namespace) == 2
    assert _loglevel(kube, namespace, release) == "DEBUG"  # the upgrade did change things
    assert "/outputs" in _storage(_scheduler_pod(kube, namespace, release, "DEBUG"))
    assert _token(kube, namespace, release) == token
    assert kube.bound_claim(namespace, claim)["metadata"]["uid"] == state["metadata"]["uid"]

    khelm.run("rollback", release, "1", "-n", namespace)
    assert _revision(khelm, release, namespace) == 3
    assert _loglevel(kube, namespace, release) == "INFO"
    assert _token(kube, namespace, release) == token
    assert "/outputs" in _storage(_scheduler_pod(kube, namespace, release, "INFO"))

    khelm.run("uninstall", release, "-n", namespace)
    wait_for(
        "the scheduler Deployment to go",
        lambda: kube.get("deployment", f"{release}-stowage-scheduler", "-n", namespace) is None,
    )
    assert kube.get("configmap", f"{release}-stowage-owl-config", "-n", namespace) is None
    kept = kube.bound_claim(namespace, claim)
    assert kept["metadata"]["uid"] == state["metadata"]["uid"]
    assert _token(kube, namespace, release) == token

    khelm.release("install", release, namespace, *base)
    assert _token(kube, namespace, release) == token  # read back by the chart's lookup
    assert kube.bound_claim(namespace, claim)["metadata"]["uid"] == state["metadata"]["uid"]
    storage = _storage(_scheduler_pod(kube, namespace, release, "INFO"))
    assert storage["/var/run/owl"] == "persistentVolumeClaim"
    assert storage["/outputs"] == "persistentVolumeClaim"


def test_first_install_with_create_namespace_gets_its_token(khelm: ClusterHelm, kube: Kube) -> None:
    """`helm install -n NEW --create-namespace`, the usual first install: the Deployments
    read OWL_TOKEN from the chart's Secret, so the Secret must be there. (Found by this tier:
    the chart once told a cluster from `helm template` by the namespace's `default`
    ServiceAccount, which a namespace created in the same command does not have yet.)"""
    namespace = f"fresh{khelm.major}-{uuid.uuid4().hex[:6]}"
    try:
        khelm.release("install", "first", namespace, "--create-namespace")
        deployment = kube.get("deployment", "first-stowage-scheduler", "-n", namespace)
        env = {e["name"]: e for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
        assert env["OWL_TOKEN"]["valueFrom"]["secretKeyRef"]["name"] == "first-stowage-owl-token"
        assert kube.get("secret", "first-stowage-owl-token", "-n", namespace) is not None
    finally:
        kube.run("delete", "namespace", namespace, "--wait=false", check=False)
