"""Shared test fixtures: pinned Helm binaries and a throwaway Helm home."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".tools" / "bin"
CHART = ROOT / "chart"
EXAMPLES = ROOT / "values-examples"
FIXTURES = ROOT / "tests" / "fixtures"
THIRD_PARTY = FIXTURES / "third-party"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Every session starts with stowage's memo caches (functools) empty.

    A warm cache answers for the function it memoises, so a session that follows another
    in one process would not run the code under test: mutmut forks each mutant's session
    from a process that has already run stowage, and a cached `_head` or `_string` of the
    YAML writer hid every mutant of the functions behind them."""
    for name, module in list(sys.modules.items()):
        if name == "stowage" or name.startswith("stowage."):
            for value in list(vars(module).values()):
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()


@dataclass(frozen=True)
class Helm:
    """One pinned Helm binary with an isolated config/data/cache home."""

    binary: Path
    major: int
    env: dict[str, str]

    def run(
        self, *args: str, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [str(self.binary), *args],
            input=stdin,
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


def _helm_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    for var in ("HELM_CONFIG_HOME", "HELM_DATA_HOME", "HELM_CACHE_HOME"):
        path = home / var.lower()
        path.mkdir(parents=True, exist_ok=True)
        env[var] = str(path)
    env["XDG_STATE_HOME"] = str(home / "state")
    venv_bin = ROOT / ".venv" / "bin"
    env["PATH"] = os.pathsep.join([str(TOOLS), str(venv_bin), env.get("PATH", "")])
    return env


def _binary(name: str) -> Path:
    path = TOOLS / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make tools` first")
    return path


@pytest.fixture
def helm_home(tmp_path: Path) -> Path:
    home = tmp_path / "helm-home"
    home.mkdir()
    return home


@pytest.fixture
def helm4(helm_home: Path) -> Helm:
    return Helm(_binary("helm"), 4, _helm_env(helm_home))


@pytest.fixture
def helm3(helm_home: Path) -> Helm:
    return Helm(_binary("helm3"), 3, _helm_env(helm_home))


@pytest.fixture(params=["helm3", "helm4"])
def helm(request: pytest.FixtureRequest, helm_home: Path) -> Iterator[Helm]:
    name = "helm3" if request.param == "helm3" else "helm"
    yield Helm(_binary(name), 3 if request.param == "helm3" else 4, _helm_env(helm_home))


@pytest.fixture(scope="session")
def third_party() -> Path:
    if not THIRD_PARTY.is_dir():
        pytest.fail(f"{THIRD_PARTY} is missing: the vendored fixtures are part of the repository")
    return THIRD_PARTY


UNSHARED_HOSTPATHS = ROOT / "tests" / "data" / "unshared-hostpaths.yaml"


@pytest.fixture(scope="session")
def unshared_hostpaths_chart(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The chart rendered by Helm 4 with data and outputs on unshared host paths of a
    multi-node cluster, so SW201 and SW702 warn (tests/data/unshared-hostpaths.yaml)."""
    home = tmp_path_factory.mktemp("helm-home")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "XDG_CACHE_HOME": str(home)}
    return subprocess.run(
        [str(TOOLS / "helm"), "template", "ml", str(CHART), "-f", str(UNSHARED_HOSTPATHS)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=300,
    ).stdout
