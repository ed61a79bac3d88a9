"""GitOps recipes (ci/gitops/, docs/gitops.md), run as far as this machine allows: the Argo CD
plugin's generate command against the chart, the helmfile release through the same Helm call
helmfile makes and through helmfile itself (v1.8.0, built by `make helmfile` from ci/helmfile/)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import CHART, EXAMPLES, ROOT, TOOLS

GITOPS = ROOT / "ci" / "gitops"
PLUGIN = GITOPS / "argocd" / "plugin.yaml"
DOCKERFILE = GITOPS / "argocd" / "Dockerfile"
HELMFILE = GITOPS / "helmfile" / "helmfile.yaml"
HELMFILE_BIN = TOOLS / "helmfile"  # `make helmfile`, which `make test` runs first
VENV_BIN = Path(sys.executable).parent


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    for var in ("HELM_CONFIG_HOME", "HELM_DATA_HOME", "HELM_CACHE_HOME", "XDG_STATE_HOME"):
        env[var] = str(tmp_path / var.lower())
    env["PATH"] = os.pathsep.join([str(TOOLS), str(VENV_BIN), env.get("PATH", "")])
    env.pop("STOWAGE_REPORT_FILE", None)
    return {**env, **extra}


def _plugin() -> dict[str, Any]:
    plugin: dict[str, Any] = yaml.safe_load(PLUGIN.read_text())
    return plugin


def _generate(tmp_path: Path, **argocd_env: str) -> subprocess.CompletedProcess[str]:
    """The plugin's generate command as the sidecar runs it: in the app's path (the chart),
    with ARGOCD_APP_* set and the Application's env prefixed ARGOCD_ENV_."""
    generate = _plugin()["spec"]["generate"]
    env = _env(tmp_path, ARGOCD_APP_NAME="ml", ARGOCD_APP_NAMESPACE="ml")
    env.update({f"ARGOCD_ENV_{k}": v for k, v in argocd_env.items()})
    return subprocess.run(
        [*generate["command"], *generate["args"]], cwd=CHART, env=env, capture_output=True,
        text=True, timeout=300, check=False,
    )  # fmt: skip


def test_argocd_plugin_is_a_config_management_plugin_for_charts() -> None:
    plugin = _plugin()
    assert (plugin["apiVersion"], plugin["kind"]) == (
        "argoproj.io/v1alpha1",
        "ConfigManagementPlugin",
    )
    assert plugin["spec"]["discover"]["find"]["glob"] == "**/Chart.yaml"
    assert "--post-renderer stowage" in plugin["spec"]["generate"]["args"][0]


def test_argocd_generate_renders_the_chart_through_stowage(tmp_path: Path) -> None:
    proc = _generate(tmp_path, STOWAGE_ARGS="--strict")
    assert proc.returncode == 0, proc.stderr
    docs = [d for d in yaml.safe_load_all(proc.stdout) if d]
    scheduler = next(
        d
        for d in docs
        if (d["kind"], d["metadata"]["name"]) == ("Deployment", "ml-stowage-scheduler")
    )
    # stowage's work: the chart itself sets no pod securityContext on the scheduler
    assert scheduler["spec"]["template"]["spec"]["securityContext"]["fsGroup"] == 1000


def test_argocd_generate_takes_values_files_from_the_application(tmp_path: Path) -> None:
    values = os.path.relpath(EXAMPLES / "production.yaml", CHART)
    proc = _generate(tmp_path, HELM_VALUES=values)
    assert proc.returncode == 0, proc.stderr
    assert "claimName: imagenet" in proc.stdout


def test_argocd_generate_fails_the_sync_with_stowage_s_report(tmp_path: Path) -> None:
    values = os.path.relpath(EXAMPLES / "rejected-sensitive-hostpath.yaml", CHART)
    proc = _generate(tmp_path, HELM_VALUES=values)
    assert proc.returncode != 0
    assert proc.stdout == ""  # nothing for Argo CD to apply
    assert "error SW202" in proc.stderr


def test_argocd_sidecar_image_installs_what_the_plugin_calls() -> None:
    text = DOCKERFILE.read_text()
    assert "ci/install_tools.py --dest /usr/local/bin" in text  # helm3, pinned by hash
    assert '"/src[fast]"' in text  # stowage
    assert "/home/argocd/cmp-server/config/plugin.yaml" in text
    assert "USER 999" in text
    assert (ROOT / "ci" / "install_tools.py").is_file()


def _release() -> dict[str, Any]:
    helmfile: dict[str, Any] = yaml.safe_load(HELMFILE.read_text())
    (release,) = helmfile["releases"]
    assert isinstance(release, dict)
    return release


def test_helmfile_release_post_renders_through_stowage(tmp_path: Path) -> None:
    """What helmfile runs for the release: `<helmBinary> template NAME CHART --namespace NS
    [-f values] --post-renderer R --post-renderer-args A...` (helmfile's own test is below)."""
    helmfile = yaml.safe_load(HELMFILE.read_text())
    release = _release()
    chart = (HELMFILE.parent / release["chart"]).resolve()
    assert chart == CHART
    args = [arg for a in release["postRendererArgs"] for arg in ("--post-renderer-args", a)]
    values = [arg for v in release.get("values") or [] for arg in ("-f", str(HELMFILE.parent / v))]
    proc = subprocess.run(
        [helmfile["helmBinary"], "template", release["name"], str(chart), "--namespace",
         release["namespace"], *values, "--post-renderer", release["postRenderer"], *args],
        env=_env(tmp_path), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "fsGroup: 1000" in proc.stdout


def _helmfile() -> Path:
    if not HELMFILE_BIN.exists():
        pytest.fail(f"{HELMFILE_BIN} is missing: run `make helmfile` (see ci/helmfile/README.md)")
    return HELMFILE_BIN


def test_helmfile_is_the_pinned_release() -> None:
    env = {**os.environ, "HELMFILE_UPGRADE_NOTICE_DISABLED": "1"}  # no call to GitHub
    proc = subprocess.run(
        [str(_helmfile()), "version", "--output", "short"], env=env, capture_output=True,
        text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (proc.returncode, proc.stdout.strip()) == (0, "v1.8.0"), proc.stderr


def test_make_helmfile_reuses_the_binary_built_for_the_pinned_module() -> None:
    built = _helmfile().resolve()
    proc = subprocess.run(
        [sys.executable, str(ROOT / "ci" / "install_helmfile.py"), "--dest", str(TOOLS)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("helmfile: v1.8.0 up to date"), proc.stdout
    assert HELMFILE_BIN.resolve() == built
    assert built.parent.name.startswith("v1.8.0-")  # .tools/helmfile/<version>-<pin digest>


def test_helmfile_itself_renders_the_release(tmp_path: Path) -> None:
    env = _env(tmp_path)
    proc = subprocess.run(
        [str(_helmfile()), "-f", str(HELMFILE), "template", "--skip-deps"], env=env,
        capture_output=True, text=True, timeout=300, check=False, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "name: ml-stowage-scheduler" in proc.stdout
    assert "runAsNonRoot: true" in proc.stdout
