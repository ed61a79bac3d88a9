"""Fixtures of the e2e tier: one real control plane per test session (cluster/kcluster.py),
torn down even when a test fails; the logs of a failing session are kept and named."""

from __future__ import annotations

import itertools
import shutil
import sys
import time
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from e2e.kube import PLUGIN, ROOT, TOOLS, ClusterHelm, Kube

sys.path.insert(0, str(ROOT / "cluster"))
import kcluster

KEPT_LOGS = ROOT / ".tools" / "cluster" / "logs"
FAILED = pytest.StashKey[bool]()
LOGS_KEPT = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: needs the real control plane (make e2e)")
    config.stash[FAILED] = False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed:
        item.config.stash[FAILED] = True
    return report


@pytest.fixture(scope="session")
def cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[kcluster.Cluster]:
    binaries = kcluster.build()  # minutes on first use, then cached under .tools/cluster
    workdir = tmp_path_factory.mktemp("cluster")
    started = kcluster.Cluster.start(workdir, binaries)
    print(f"\ne2e cluster ready in {started.ready_seconds:.1f} s on {started.server}")
    try:
        yield started
    finally:
        started.stop()
        if request.config.stash[FAILED]:
            kept = KEPT_LOGS / time.strftime("%Y%m%d-%H%M%S")
            shutil.copytree(started.logs, kept, dirs_exist_ok=True)
            request.config.stash[LOGS_KEPT] = kept
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    kept = terminalreporter.config.stash.get(LOGS_KEPT, None)
    if kept is not None:
        terminalreporter.write_line(f"e2e: a test failed; the control plane's logs are in {kept}")


@pytest.fixture(scope="session")
def kube(cluster: kcluster.Cluster) -> Kube:
    return Kube(cluster.kubeconfig)


_NAMES = itertools.count(1)


@pytest.fixture
def namespace(kube: Kube, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace per test, deleted afterwards (without waiting for it to go)."""
    stem = request.node.name.split("[")[0].removeprefix("test_").replace("_", "-")[:40]
    name = kube.create_namespace(f"{stem.rstrip('-')}-{next(_NAMES)}")
    yield name
    kube.run("delete", "namespace", name, "--wait=false", check=False)


def _helm(name: str, major: int, home: Path, kubeconfig: Path) -> ClusterHelm:
    env = {}
    for var in ("HELM_CONFIG_HOME", "HELM_DATA_HOME", "HELM_CACHE_HOME"):
        path = home / var.lower()
        path.mkdir(parents=True, exist_ok=True)
        env[var] = str(path)
    import os

    env = {**os.environ, **env, "XDG_STATE_HOME": str(home / "state")}
    env["KUBECONFIG"] = str(kubeconfig)
    env["PATH"] = os.pathsep.join([str(TOOLS), str(ROOT / ".venv" / "bin"), env.get("PATH", "")])
    helm = ClusterHelm(TOOLS / name, major, env)
    if major == 4:
        helm.run("plugin", "install", str(PLUGIN))
    return helm


@pytest.fixture(scope="session", params=["helm3", "helm4"])
def khelm(
    request: pytest.FixtureRequest,
    cluster: kcluster.Cluster,
    tmp_path_factory: pytest.TempPathFactory,
) -> ClusterHelm:
    """Helm 3.19 (stowage as an executable) and Helm 4.3 (stowage as its plugin), each with
    its own home, against the session's cluster."""
    major = 3 if request.param == "helm3" else 4
    binary = "helm3" if major == 3 else "helm"
    if not (TOOLS / binary).exists():
        pytest.fail(f"{TOOLS / binary} is missing: run `make tools` first")
    home = tmp_path_factory.mktemp(f"{request.param}-home")
    return _helm(binary, major, home, cluster.kubeconfig)
