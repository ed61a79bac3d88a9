"""The command contract Helm relies on: exit codes, empty stdout on failure, reports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from enginehelpers import ROLE, deployment, dump_all, load_all, pod_spec_of, simple_config

STOWAGE = [sys.executable, "-m", "stowage"]


def stowage(
    *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*STOWAGE, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def write_yaml(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data))
    return path


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    return write_yaml(tmp_path / "config.yaml", simple_config())


def test_no_arguments_passes_through(tmp_path: Path) -> None:
    text = dump_all(deployment("w", ROLE))
    proc = stowage(stdin=text)
    assert proc.returncode == 0
    assert proc.stdout == text
    assert "passed through untouched" in proc.stderr


def test_render_with_config_attaches(config_file: Path) -> None:
    proc = stowage("render", "--config", str(config_file), stdin=dump_all(deployment("w", ROLE)))
    assert proc.returncode == 0, proc.stderr
    assert [v["name"] for v in pod_spec_of(load_all(proc.stdout)[0])["volumes"]] == ["a", "out"]


def test_later_config_files_deep_merge_over_earlier(config_file: Path, tmp_path: Path) -> None:
    team = write_yaml(tmp_path / "team.yaml", {"targets": {"dask": {"outputs": False}}})
    proc = stowage(
        "--config", str(config_file), "--config", str(team), stdin=dump_all(deployment("w", ROLE))
    )
    assert proc.returncode == 0, proc.stderr
    assert [v["name"] for v in pod_spec_of(load_all(proc.stdout)[0])["volumes"]] == ["a"]


def _rwo_shared() -> str:
    config = {
        "persistence": {
            "data": {
                "a": {"mountPath": "/a", "existingClaim": "a", "accessModes": ["ReadWriteOnce"]}
            }
        },
        "targets": {"dask": {"matchLabels": ROLE}},
    }
    plan = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "plan", "labels": {"stowage.io/plan": "true"}},
        "data": {"plan.json": json.dumps(config)},
    }
    return dump_all(plan, deployment("workers", ROLE, replicas=3))


def test_rejected_render_exits_1_with_empty_stdout_and_names_the_claim() -> None:
    proc = stowage(stdin=_rwo_shared())
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert "Deployment/workers" in proc.stderr
    assert "ReadWriteOnce" in proc.stderr
    assert "fix:" in proc.stderr


def test_json_report_has_findings_and_changes(tmp_path: Path, config_file: Path) -> None:
    report_file = tmp_path / "out" / "report.json"
    proc = stowage("--report", "json", "--report-file", str(report_file), stdin=_rwo_shared())
    assert proc.returncode == 1
    report = json.loads(proc.stderr)
    assert report == json.loads(report_file.read_text())
    finding = report["findings"][0]
    assert set(finding) >= {"rule", "severity", "resource", "message"}
    assert finding["severity"] == "error"
    assert finding["resource"].count("/") == 2
    proc = stowage(
        "--report", "json", "--config", str(config_file), stdin=dump_all(deployment("w", ROLE))
    )
    change = json.loads(proc.stderr)["changes"][0]
    assert change["resource"] == "Deployment/-/w"
    assert {"op": "add", "path": "/spec/template/spec/volumes"}.items() <= change["patch"][
        0
    ].items()


def test_report_file_from_environment(tmp_path: Path) -> None:
    target = tmp_path / "state" / "last-report.txt"
    env = {**__import__("os").environ, "STOWAGE_REPORT_FILE": str(target)}
    proc = stowage(stdin=_rwo_shared(), env=env)
    assert proc.returncode == 1
    assert "ReadWriteOnce" in target.read_text()


def test_check_writes_only_the_report(config_file: Path) -> None:
    proc = stowage("check", "--config", str(config_file), stdin=dump_all(deployment("w", ROLE)))
    assert proc.returncode == 0
    assert proc.stdout == ""
    assert "1 changed" in proc.stderr


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["--config", "/nonexistent.yaml"], "", "cannot read config file"),
        (["--var", "USER"], "", "expected NAME=VALUE"),
        (["--bogus"], "", "unrecognized arguments"),
        ([], "a: [1\n", "document 0 at line"),
        ([], "kind: Deployment\nmetadata: {name: x}\nmetadata: {name: y}\n", "duplicate key"),
        ([], "- 1\n- 2\n", "must be a mapping"),
    ],
)
def test_unusable_input_exits_2_with_empty_stdout(
    args: list[str], stdin: str, message: str
) -> None:
    proc = stowage(*args, stdin=stdin)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_invalid_config_exits_2_naming_key_and_file(tmp_path: Path) -> None:
    bad = write_yaml(tmp_path / "bad.yaml", {"persistence": {"data": {"Bad_Name": {}}}})
    proc = stowage("--config", str(bad), stdin=dump_all(deployment("w", ROLE)))
    assert proc.returncode == 2
    assert "bad.yaml" in proc.stderr
    assert "Bad_Name" in proc.stderr
    assert proc.stdout == ""


def test_strict_turns_warnings_into_errors(tmp_path: Path) -> None:
    config = simple_config()
    config["persistence"]["data"]["a"] = {"mountPath": "/data/a", "hostPath": "/srv/a"}
    path = write_yaml(tmp_path / "c.yaml", config)
    text = dump_all(deployment("w", ROLE))
    relaxed = stowage("--config", str(path), stdin=text)
    assert relaxed.returncode == 0
    assert "warning" in relaxed.stderr
    strict = stowage("--config", str(path), "--strict", stdin=text)
    assert strict.returncode == 1
    assert strict.stdout == ""


def test_plan_and_diff_views(config_file: Path) -> None:
    text = dump_all(deployment("w", ROLE))
    plan = stowage("plan", "--config", str(config_file), stdin=text)
    assert plan.returncode == 0
    assert "Deployment/w  [role dask, pool dask]" in plan.stdout
    assert "mount: /data/a (rw) <- claim data-a [data a]" in plan.stdout
    diff = stowage("--diff", "--config", str(config_file), stdin=text)
    assert "+      volumes:" in diff.stderr.splitlines()


def test_version() -> None:
    proc = stowage("version")
    assert proc.returncode == 0
    assert proc.stdout.startswith("stowage ")
