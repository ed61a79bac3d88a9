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
    assert finding["resource"] == {
        "kind": "PersistentVolumeClaim",
        "namespace": None,
        "name": "a",
        "key": None,
    }
    proc = stowage(
        "--report", "json", "--config", str(config_file), stdin=dump_all(deployment("w", ROLE))
    )
    change = json.loads(proc.stderr)["changes"][0]
    assert change["resource"] == {"kind": "Deployment", "namespace": None, "name": "w", "key": None}
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
        (["--bogus"], "", "unknown option '--bogus'"),
        ([], "a: [1\n", "document 1 at line"),
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


def test_plan_of_a_rejected_stream_is_printed_and_exits_1() -> None:
    proc = stowage("plan", stdin=_rwo_shared())
    assert proc.returncode == 1
    assert "Deployment/workers" in proc.stdout  # a view: printed even when rejected
    assert "error SW101" in proc.stderr


@pytest.mark.parametrize("command", ["plan", "graph"])
def test_help_states_which_views_print_when_rejected(command: str) -> None:
    top = stowage("--help")
    assert "except for the views `plan` and `graph`" in " ".join(top.stdout.split())
    view = stowage(command, "--help")
    assert "rejected stream's view is printed too" in " ".join(view.stdout.split())


def test_non_utf8_config_is_a_plain_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("vars: {USER: jos\xe9}\n".encode("latin-1"))
    proc = stowage("--config", str(bad), stdin=dump_all(deployment("w", ROLE)))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert f"{bad}: config file is not UTF-8 text (byte 16)" in proc.stderr
    assert "internal error" not in proc.stderr


@pytest.mark.parametrize(
    ("target", "message"),
    [("missing/map.svg", "the directory {tmp}/missing does not exist"), ("", "is a directory")],
)
def test_graph_output_that_cannot_be_written_exits_2(
    tmp_path: Path, config_file: Path, target: str, message: str
) -> None:
    path = tmp_path / target if target else tmp_path
    proc = stowage(
        "graph", "--config", str(config_file), "--output", str(path),
        stdin=dump_all(deployment("w", ROLE)),
    )  # fmt: skip
    assert proc.returncode == 2
    assert message.format(tmp=tmp_path) in proc.stderr
    assert "internal error" not in proc.stderr
    assert "stowage: ok" not in proc.stderr


@pytest.mark.parametrize("value", ["-1", "0", "lots"])
def test_max_input_bytes_refuses_what_is_not_a_positive_size(value: str) -> None:
    proc = stowage("--max-input-bytes", value, stdin=dump_all(deployment("w", ROLE)))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "argument --max-input-bytes" in proc.stderr
    assert "internal error" not in proc.stderr


def test_max_input_bytes_takes_any_large_size() -> None:
    text = dump_all(deployment("w", ROLE))
    proc = stowage("--max-input-bytes", str(10**30), stdin=text)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == text
    small = stowage("--max-input-bytes", "10", stdin=text)
    assert small.returncode == 2
    assert "input is larger than 10 bytes" in small.stderr


def _shell(command: str, stdin: str) -> subprocess.CompletedProcess[str]:
    line = " ".join([*STOWAGE, command])
    return subprocess.run(
        ["bash", "-c", line], input=stdin, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(
    ("redirect", "message"),
    [
        ("> /dev/full", "cannot write to standard output: No space left on device"),
        (">&-", "standard output is closed"),
    ],
)
def test_output_that_cannot_be_written_exits_2_before_any_ok(
    config_file: Path, redirect: str, message: str
) -> None:
    proc = _shell(f"--config {config_file} {redirect}", dump_all(deployment("w", ROLE)))
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "stowage: ok" not in proc.stderr
    assert "internal error" not in proc.stderr
    assert "Exception ignored" not in proc.stderr


def test_render_output_writes_the_file_and_nothing_to_stdout(
    tmp_path: Path, config_file: Path
) -> None:
    target = tmp_path / "f.yaml"
    text = dump_all(deployment("w", ROLE))
    proc = stowage("render", "--config", str(config_file), "--output", str(target), stdin=text)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert [v["name"] for v in pod_spec_of(load_all(target.read_text())[0])["volumes"]] == [
        "a",
        "out",
    ]


def test_rejected_render_writes_no_output_file(tmp_path: Path) -> None:
    target = tmp_path / "f.yaml"
    proc = stowage("render", "--output", str(target), stdin=_rwo_shared())
    assert proc.returncode == 1
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind either


def test_check_has_no_output_option() -> None:
    proc = stowage("check", "--output", "x.yaml", stdin="")
    assert proc.returncode == 2
    assert "unknown option '--output' for `stowage check`" in proc.stderr


def test_strict_says_which_errors_were_promoted_warnings(tmp_path: Path) -> None:
    config = simple_config()
    config["persistence"]["data"]["a"] = {"mountPath": "/data/a", "hostPath": "/srv/a"}
    path = write_yaml(tmp_path / "c.yaml", config)
    text = dump_all(deployment("w", ROLE))
    strict = stowage("--config", str(path), "--strict", stdin=text)
    assert strict.returncode == 1
    assert "  promoted: a warning, made an error by --strict" in strict.stderr
    assert "1 error (a warning promoted by --strict), 0 warnings" in strict.stderr
    report = json.loads(stowage("--config", str(path), "--strict", "--report", "json",
                                stdin=text).stderr)  # fmt: skip
    assert report["summary"]["promoted"] == report["summary"]["errors"] == 1
    assert report["findings"][0]["promoted"] is True
    relaxed = json.loads(stowage("--config", str(path), "--report", "json", stdin=text).stderr)
    assert relaxed["findings"][0]["promoted"] is False
