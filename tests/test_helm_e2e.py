"""End to end through the real pinned Helm binaries: Helm 3.19 with the post-renderer as an
executable, Helm 4.3 with the postrenderer/v1 plugin; golden output for every example."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import CHART, EXAMPLES, ROOT, Helm

GOLDEN = ROOT / "tests" / "golden"
PLUGIN = ROOT / "postrenderer"
CHECK_PLUGIN = ROOT / "postrenderer" / "helm-stowage-check"
STOWAGE = Path(sys.executable).parent / "stowage"
ACCEPTED = sorted(
    p.name for p in EXAMPLES.glob("*.yaml") if not p.name.startswith(("rejected-", "team-"))
)


def install_plugins(helm: Helm) -> None:
    for path in (PLUGIN, CHECK_PLUGIN):
        helm.run("plugin", "install", str(path))


def post_render(helm: Helm, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """`helm template` through stowage: the path form on Helm 3, the plugin on Helm 4."""
    if helm.major == 4:
        install_plugins(helm)
        renderer = "stowage"
    else:
        renderer = str(STOWAGE)
    return helm.run(
        "template", "ml", str(CHART), "-n", "ml", "--post-renderer", renderer, *args, check=check
    )


def values(*names: str) -> list[str]:
    return [arg for name in names for arg in ("-f", str(EXAMPLES / name))]


@pytest.mark.parametrize("example", ACCEPTED)
def test_golden_output_of_every_example(helm: Helm, example: str) -> None:
    out = post_render(helm, *values(example)).stdout
    golden = GOLDEN / f"helm{helm.major}" / example
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(out)
    assert golden.exists(), f"no golden file {golden}: run with UPDATE_GOLDEN=1"
    assert out == golden.read_text(), f"{golden} differs: review, then UPDATE_GOLDEN=1"


def _docs(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if isinstance(d, dict)]


def _deployment(docs: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(d for d in docs if (d["kind"], d["metadata"]["name"]) == ("Deployment", name))


def test_helm3_console_script_form_and_post_renderer_args(helm3: Helm, tmp_path: Path) -> None:
    extra = tmp_path / "extra.yaml"
    extra.write_text("targets:\n  scheduler:\n    dataRefs: []\n")
    out = helm3.run(
        "template",
        "ml",
        str(CHART),
        "--set",
        "cluster.singleNode=true",  # the host-path fallback: data and outputs
        "--post-renderer",
        "stowage",
        "--post-renderer-args",
        f"--config={extra}",
    ).stdout
    scheduler = _deployment(_docs(out), "ml-stowage-scheduler")
    volumes = [v["name"] for v in scheduler["spec"]["template"]["spec"]["volumes"]]
    assert volumes == ["state", "owl-config", "outputs"]


def test_helm3_shows_why_a_render_was_rejected(helm3: Helm) -> None:
    proc = post_render(helm3, *values("rejected-sensitive-hostpath.yaml"), check=False)
    assert proc.returncode != 0
    assert "SW202" in proc.stderr
    assert "mounts hostPath '/etc'" in proc.stderr
    assert proc.stdout == ""


def test_single_node_cluster_accepts_rwo_shared_by_dask_workers(helm3: Helm) -> None:
    """The k3s/kind local-path setup: on one node neither SW101 nor SW103 rejects."""
    example = values("rejected-rwo-dask-workers.yaml")
    proc = post_render(helm3, *example, "--set", "cluster.singleNode=true", check=False)
    assert proc.returncode == 0, proc.stderr


def test_helm4_rejection_is_in_the_report_file(helm4: Helm) -> None:
    proc = post_render(helm4, *values("rejected-sensitive-hostpath.yaml"), check=False)
    assert proc.returncode != 0
    assert 'plugin "stowage" exited with error' in proc.stderr
    report = Path(helm4.env["XDG_STATE_HOME"]) / "stowage" / "last-report.txt"
    text = report.read_text()
    assert "error SW202" in text
    assert "stowage explain SW202" in text


def test_helm4_plugin_passes_post_renderer_args(helm4: Helm, tmp_path: Path) -> None:
    extra = tmp_path / "extra.json"
    extra.write_text('{"persistence": {"data": {"x": {"mountPath": "/x", "hostPath": "/srv/x"}}}}')
    proc = post_render(
        helm4,
        "--post-renderer-args",
        f"--config={extra}",
        "--post-renderer-args",
        "--strict",
        check=False,
    )
    assert proc.returncode != 0  # --strict turned the hostPath warnings into errors
    report = (Path(helm4.env["XDG_STATE_HOME"]) / "stowage" / "last-report.txt").read_text()
    assert "error SW201" in report


def test_helm4_keeps_documents_in_their_template_files(helm4: Helm) -> None:
    out = post_render(helm4, "--set", "cluster.singleNode=true").stdout
    assert "generated-by-postrender" not in out
    assert "# Source: stowage/templates/scheduler.yaml" in out
    assert "postrenderer.helm.sh/postrender-filename" not in out  # Helm removes it afterwards
    api = _deployment(_docs(out), "ml-stowage-api")
    volumes = [v["name"] for v in api["spec"]["template"]["spec"]["volumes"]]
    assert volumes == ["state", "owl-config", "data", "outputs"]


def test_helm4_install_dry_run_client(helm4: Helm) -> None:
    install_plugins(helm4)
    proc = helm4.run(
        "install",
        "ml",
        str(CHART),
        "--dry-run=client",
        "--post-renderer",
        "stowage",
        *values("production.yaml"),
    )
    assert "STATUS: pending-install" in proc.stdout
    assert "/data/imagenet (read-only)" in proc.stdout  # NOTES.txt says where data is


@pytest.mark.parametrize(
    ("base", "team"), [("base.yaml", "team-a.yaml"), ("base.yaml", "team-b.yaml")]
)
def test_team_values_layer_through_the_post_renderer(helm: Helm, base: str, team: str) -> None:
    out = post_render(helm, *values(base, team)).stdout
    docs = _docs(out)
    scheduler = _deployment(docs, "ml-stowage-scheduler")
    mounts = scheduler["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
    paths = {m["mountPath"] for m in mounts}
    assert "/data/shared" in paths
    assert ("/data/team-a" in paths) == (team == "team-a.yaml")
    config = next(d for d in docs if d["metadata"]["name"] == "ml-stowage-owl-config")
    owl = yaml.safe_load(config["data"]["owl.yaml"])
    assert owl["max_pipelines"] == (12 if team == "team-a.yaml" else 6)


def _hook_config(tmp_path: Path) -> Path:
    config = tmp_path / "hooks.yaml"
    config.write_text(
        "targets:\n  tests:\n    matchLabels: {app.kubernetes.io/component: test}\n"
        "    outputs: false\n"
    )
    return config


def _hook(text: str) -> dict[str, Any]:
    return next(d for d in _docs(text) if "test-api" in str(d["metadata"]["name"]))


def test_both_helms_leave_the_test_hook_as_rendered(helm: Helm, tmp_path: Path) -> None:
    """Helm 4 hands hooks to the post-renderer, Helm 3 does not: stowage leaves them alone,
    even when a target selects them, so the `helm test` pod is the same under both."""
    args = ["--post-renderer-args", f"--config={_hook_config(tmp_path)}"]
    plain = helm.run("template", "ml", str(CHART), "-n", "ml").stdout
    post_rendered = post_render(helm, *args).stdout
    assert _hook(post_rendered) == _hook(plain)
    assert "volumes" not in _hook(post_rendered)["spec"]
    # ... which is why the hook carries its own restricted security context
    assert _hook(post_rendered)["spec"]["securityContext"]["runAsNonRoot"] is True


def test_a_hook_passes_through_byte_for_byte_and_the_report_says_so(
    helm4: Helm, tmp_path: Path
) -> None:
    plain = helm4.run("template", "ml", str(CHART), "-n", "ml").stdout
    hook_text = next(d for d in plain.split("\n---\n") if "helm.sh/hook: test" in d)
    proc = subprocess.run(
        [str(STOWAGE), f"--config={_hook_config(tmp_path)}"], input=plain, capture_output=True,
        text=True, check=True,
    )  # fmt: skip
    assert hook_text in proc.stdout
    assert "note: left 1 Helm hook(s) untouched (Pod/ml-stowage-test-api)" in proc.stderr


def test_helm_stowage_check_cli_plugin(helm4: Helm) -> None:
    install_plugins(helm4)
    ok = helm4.run("stowage-check", "ml", str(CHART), *values("production.yaml"))
    assert "stowage: ok:" in ok.stdout
    bad = helm4.run(
        "stowage-check", "ml", str(CHART), *values("rejected-undefined-user.yaml"), check=False
    )
    assert bad.returncode != 0
    assert "error SW401" in bad.stdout
    assert "${USER}" in bad.stdout


def test_helm4_rejection_reaches_the_terminal(helm4: Helm) -> None:
    """Helm 4 drops the plugin's stderr; under a terminal the report still shows."""
    install_plugins(helm4)
    cmd = [
        str(helm4.binary),
        "template",
        "ml",
        str(CHART),
        "--post-renderer",
        "stowage",
        *values("rejected-sensitive-hostpath.yaml"),
    ]
    pid, fd = pty.fork()
    if pid == 0:  # the child: a process whose controlling terminal is the pty
        os.execve(cmd[0], cmd, helm4.env)
    output = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1.0)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    _, status = os.waitpid(pid, 0)
    text = output.decode("utf-8", "replace")
    assert os.WEXITSTATUS(status) != 0
    assert "SW202" in text
    assert "mounts hostPath '/etc'" in text


def _plugin_names(helm: Helm) -> set[str]:
    rows = helm.run("plugin", "list").stdout.splitlines()[1:]
    return {row.split()[0] for row in rows if row.strip()}


def test_every_plugin_installed_and_both_helms_still_work(helm3: Helm, helm4: Helm) -> None:
    """Helm 3.19 stops loading every plugin when one in its directory is a Helm 4 (`v1`)
    plugin. The check plugin is in the legacy form both load, so it goes in the shared
    directory; the post-renderer plugin (Helm 4 only) goes under a Helm 4 data home."""
    assert helm3.env["HELM_DATA_HOME"] == helm4.env["HELM_DATA_HOME"]  # one shared home
    helm4_home = Path(helm4.env["HELM_DATA_HOME"]).parent / "helm4-data"
    helm4_only = Helm(helm4.binary, 4, {**helm4.env, "HELM_DATA_HOME": str(helm4_home)})
    helm3.run("plugin", "install", str(CHECK_PLUGIN))
    install_plugins(helm4_only)

    assert _plugin_names(helm3) == {"stowage-check"}
    assert _plugin_names(helm4) == {"stowage-check"}
    assert _plugin_names(helm4_only) == {"stowage", "stowage-check"}
    chart = ["ml", str(CHART), *values("production.yaml")]
    for helm in (helm3, helm4, helm4_only):
        assert "stowage: ok:" in helm.run("stowage-check", *chart).stdout
        bad = helm.run("stowage-check", "ml", str(CHART),
                       *values("rejected-undefined-user.yaml"), check=False)  # fmt: skip
        assert bad.returncode != 0
        assert "error SW401" in bad.stdout
        usage = helm.run("stowage-check", "--help").stdout
        assert usage.startswith("usage: helm stowage-check")
    assert "failed to load plugins" not in helm3.run("version").stderr
    rendered = helm3.run("template", *chart, "--post-renderer", str(STOWAGE)).stdout
    assert "/data/imagenet" in rendered
    rendered = helm4_only.run("template", *chart, "--post-renderer", "stowage").stdout
    assert "/data/imagenet" in rendered


def test_shipped_plugins_are_legacy_unless_helm4_only() -> None:
    """Only a post-renderer plugin needs Helm 4's `apiVersion: v1` form; every other
    plugin must load under Helm 3 as well."""
    for manifest in sorted((ROOT / "postrenderer").rglob("plugin.yaml")):
        data = yaml.safe_load(manifest.read_text())
        if "apiVersion" in data:
            assert data["type"] == "postrenderer/v1", manifest
