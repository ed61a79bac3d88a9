"""Fixtures of the e2e tier: one real control plane per test session (cluster/kcluster.py),
torn down even when a test fails; the logs of a failing session are kept and named."""

from __future__ import annotations

import itertools
import shutil
import sys
import time
from collections.abc import Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from e2e.kube import PLUGIN, ROOT, TOOLS, ClusterHelm, Kube, install_crds

sys.path.insert(0, str(ROOT / "cluster"))
import kcluster

KEPT_LOGS = ROOT / ".tools" / "cluster" / "logs"
FAILED = pytest.StashKey[bool]()
LOGS_KEPT = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: needs the real control plane (make e2e)")
    config.stash[FAILED] = False


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


@pytest.fixture(scope="session", autouse=True)
def crds_installing(kube: Kube) -> Iterator[Future[set[str]]]:
    """The operators' CRDs, created in the background from the first e2e test on: the API
    server takes a minute or more over their schemas, meanwhile the other tests run."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="crds") as pool:
        yield pool.submit(install_crds, kube)


@pytest.fixture(scope="session")
def crds(crds_installing: Future[set[str]]) -> set[str]:
    """The operators' CRDs installed and Established; the kinds they serve."""
    return crds_installing.result()


@pytest.hookimpl(trylast=True)  # after pytest's own reordering by fixture scope
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the e2e tests; run the ones that need the CRDs last."""
    ours = [i for i in items if Path(str(i.fspath)).is_relative_to(Path(__file__).parent)]
    for item in ours:
        item.add_marker(pytest.mark.e2e)
    later = [i for i in ours if "crds" in getattr(i, "fixturenames", ())]
    items[:] = [i for i in items if i not in later] + later


_NAMES = itertools.count(1)


@pytest.fixture
def namespace(kube: Kube, request: pytest.FixtureRequest) -> str:
    """A fresh namespace per test. Left in place: the whole cluster goes at the end of the
    session, and deleting namespaces as it goes only makes the controllers busy."""
    stem = request.node.name.split("[")[0].removeprefix("test_").replace("_", "-")[:40]
    return kube.create_namespace(f"{stem.rstrip('-')}-{next(_NAMES)}")


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
