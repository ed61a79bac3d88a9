"""Config mistakes in the user's words: near matches, no pydantic text, exact places."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import pytest

from enginehelpers import ROLE, deployment, dump_all

RAW_PYDANTIC = ("validation error", "pydantic", "Extra inputs", "type=", "Value error")


def stowage_with(tmp_path: Path, config: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    path = tmp_path / "storage.yaml"
    path.write_text(config)
    return subprocess.run(
        [sys.executable, "-m", "stowage", "--config", str(path)],
        input=stdin or dump_all(deployment("w", ROLE)),
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip


def refused(tmp_path: Path, config: str) -> str:
    proc = stowage_with(tmp_path, config)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    for raw in RAW_PYDANTIC:
        assert raw not in proc.stderr
    return proc.stderr


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("persistance: {}\n", "persistance: unknown key; did you mean 'persistence'?"),
        ("autoMount: {typ: pvc}\n", "autoMount.typ: unknown key; did you mean 'type'?"),
        (
            "persistence: {data: {x: {mountPth: /x, hostPath: /x}}}\n",
            "persistence.data.x.mountPth: unknown key; did you mean 'mountPath'?",
        ),
        ("bogus: 1\n", "bogus: unknown key (known here: cluster, persistence,"),
    ],
)
def test_unknown_key_suggests_the_near_match(tmp_path: Path, config: str, message: str) -> None:
    assert message in refused(tmp_path, config)


def test_bad_auto_mount_param_names_the_param(tmp_path: Path) -> None:
    stderr = refused(
        tmp_path, "autoMount: {type: pvc, params: {pvc_name: x, volume_mount_path: rel}}\n"
    )
    assert (
        "storage.yaml: autoMount.params.volume_mount_path: must be an absolute path "
        "(start with '/'), got 'rel'" in stderr
    )


def test_access_modes_in_params_points_to_auto_mount_access_modes(tmp_path: Path) -> None:
    stderr = refused(tmp_path, "autoMount: {type: pvc, params: {pvc_name: x, accessModes: RWX}}\n")
    assert "set autoMount.accessModes, beside params" in stderr


def test_duplicate_key_shows_both_values_as_written(tmp_path: Path) -> None:
    stderr = refused(tmp_path, "vars: {USER: a}\nvars: {USER: b}\n")
    assert (
        "duplicate key 'vars' at line 2 (first at line 1): values '{USER: a}' and '{USER: b}'"
        in stderr
    )


def test_tab_in_config_says_tab_with_line_and_column(tmp_path: Path) -> None:
    stderr = refused(tmp_path, "vars:\n  A: b\n\tUSER: a\n")
    assert "a tab at line 3, column 1: YAML indents with spaces only" in stderr


def test_tab_in_a_manifest_says_tab_with_line_and_column(tmp_path: Path) -> None:
    proc = stowage_with(
        tmp_path, "{}\n", stdin="kind: Service\n---\nkind: Deployment\nmetadata:\n\tname: x\n"
    )
    assert proc.returncode == 2
    assert "document 2 (Deployment) at line 5: a tab at column 1" in proc.stderr


def _b64(data: dict[str, str]) -> bytes:
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    ("encoded", "reason"),
    [
        (base64.encodebytes(_b64({"pvc_name": "a" * 40, "volume_mount_path": "/mnt/" + "b" * 40}))
         .decode(), "wrapped over several lines"),
        (base64.urlsafe_b64encode(_b64({"pvc_name": "d>>>?"})).decode(), "URL-safe alphabet"),
    ],
)  # fmt: skip
def test_base64_params_that_do_not_decode_say_why(
    tmp_path: Path, encoded: str, reason: str
) -> None:
    config = f"autoMount:\n  type: pvc\n  params: {json.dumps(encoded)}\n"
    stderr = refused(tmp_path, config)
    assert "autoMount.params look like base64 JSON but do not decode" in stderr
    assert reason in stderr
    assert "unknown key" not in stderr
    assert "eyJ" not in stderr


def test_a_key_error_names_the_file_that_set_it(tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    base.write_text("cluster: {singleNode: false}\n")
    team = tmp_path / "team.yaml"
    team.write_text("persistance: {}\n")
    proc = subprocess.run(
        [sys.executable, "-m", "stowage", "--config", str(base), "--config", str(team)],
        input=dump_all(deployment("w", ROLE)), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    assert f"stowage: error: {team}: invalid configuration: persistance" in proc.stderr
