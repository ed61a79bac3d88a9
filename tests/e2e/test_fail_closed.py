"""Forgetting the post-renderer fails closed. chart/templates/post-renderer-required.yaml
renders one document of a kind no cluster serves; Helm refuses the whole release at
resource mapping, naming it, before it creates or changes anything; stowage removes it.
"""

from __future__ import annotations

from e2e.kube import CHART, ClusterHelm, Kube, values

SENTINEL = "install-with--post-renderer-stowage.without-it-pods-lose-their-storage"
TEMPLATE = "post-renderer-required.yaml"


def _refused(stderr: str) -> None:
    assert f'resource mapping not found for name: "{SENTINEL}"' in stderr, stderr
    assert 'no matches for kind "PostRendererRequired" in version "stowage.io/v1"' in stderr


def _nothing_but_defaults(kube: Kube, namespace: str) -> None:
    names = {
        f"{o['kind']}/{o['metadata']['name']}"
        for o in kube.items(
            "deployments,pvc,secrets,configmaps,services,serviceaccounts", "-n", namespace
        )
    }
    assert names == {"ConfigMap/kube-root-ca.crt", "ServiceAccount/default"}


def test_install_without_stowage_is_refused_and_creates_nothing(
    khelm: ClusterHelm, kube: Kube, namespace: str
) -> None:
    proc = khelm.run(
        "install", "bare", str(CHART), "-n", namespace, *values("production.yaml"), check=False
    )
    assert proc.returncode != 0
    assert "INSTALLATION FAILED" in proc.stderr
    _refused(proc.stderr)
    _nothing_but_defaults(kube, namespace)
    assert khelm.run("status", "bare", "-n", namespace, check=False).returncode != 0


def test_upgrade_without_stowage_is_refused_and_the_release_keeps_its_storage(
    khelm: ClusterHelm, kube: Kube, namespace: str
) -> None:
    release = f"keep{khelm.major}"
    khelm.release("install", release, namespace, *values("base.yaml"))  # today's chart, stowage
    proc = khelm.run(
        "upgrade", release, str(CHART), "-n", namespace, *values("base.yaml"), check=False
    )
    assert proc.returncode != 0
    assert "UPGRADE FAILED" in proc.stderr
    _refused(proc.stderr)
    history = khelm.run("history", release, "-n", namespace).stdout
    assert [ln.split()[0] for ln in history.splitlines()[1:]] == ["1"]
    scheduler = kube.get("deployment", f"{release}-stowage-scheduler", "-n", namespace)
    names = [v["name"] for v in scheduler["spec"]["template"]["spec"]["volumes"]]
    assert {"shared", "outputs"} <= set(names)  # base.yaml's storage, still attached


def test_install_through_stowage_drops_the_sentinel(
    khelm: ClusterHelm, kube: Kube, namespace: str
) -> None:
    release = f"through{khelm.major}"
    khelm.run("install", release, str(CHART), "-n", namespace, *khelm.stowage, *values("base.yaml"))
    assert "PostRendererRequired" not in khelm.manifest(release, namespace)
    kube.bound_claim(namespace, f"{release}-stowage-scheduler-state")
