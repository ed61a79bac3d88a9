"""`--diff`: a unified YAML diff per changed resource; RFC 6902 patches stay in the JSON report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import CHART, EXAMPLES, Helm
from enginehelpers import ROLE, deployment, dump_all, render, simple_config
from stowage.read.manifests import parse_document
from stowage.read.yamlload import Limits
from stowage.views import report

TEMPLATE = """\
apiVersion: batch/v1
kind: Job
metadata: {name: pipeline, labels: {stowage.io/role: dask}}
spec:
  template:
    metadata: {labels: {stowage.io/role: dask}}
    spec:
      restartPolicy: Never
      containers:
        - {name: main, image: "ghcr.io/x/run:1.0", env: [{name: TOKEN, value: tok-123}]}
"""


def _carrier() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "rel-template", "labels": {"stowage.io/pod-template": "true"}},
        "data": {"job.yaml": TEMPLATE, "notes.txt": "kept as it is"},
    }


def _changes(text: str) -> list[str]:
    return [
        line for line in text.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]


def test_diff_is_unified_yaml_per_resource() -> None:
    text = report.diff_text(render(dump_all(deployment("w", ROLE)), simple_config()))
    lines = text.splitlines()
    assert lines[0] == "--- Deployment/w (document 1) as rendered"
    assert lines[1] == "+++ Deployment/w (document 1) after stowage"
    assert lines[2].startswith("@@ ")
    assert "+          volumeMounts:" in lines
    assert "+            - name: a" in lines
    assert '"op"' not in text  # no JSON patch here
    assert all(line.startswith("+") for line in _changes(text))  # stowage only adds


def test_carried_template_is_diffed_as_the_lines_of_its_document() -> None:
    outcome = render(dump_all(_carrier()), simple_config())
    text = report.diff_text(outcome)
    assert text.startswith("--- ConfigMap/rel-template (document 1) as rendered\n")
    changes = _changes(text)
    assert "+                  mountPath: /data/a" in changes
    assert all(line.startswith("+") for line in changes), changes  # only additions: no rewrite
    assert not any("image" in line or "notes.txt" in line for line in changes)
    assert '+                  value: "{\\"a\\":\\"/data/a\\"}"' in changes  # stowage's show


def test_plain_env_values_show_as_rendered_only_secrets_are_redacted() -> None:
    deploy = deployment("w", ROLE)
    container = deploy["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [{"name": "LOGLEVEL", "value": "INFO"}]
    text = report.diff_text(render(dump_all(deploy, _carrier()), simple_config()))
    assert "<redacted>" not in text
    lines = text.splitlines()
    assert any(line.strip() == "value: INFO" for line in lines), text  # context, as rendered
    assert any(line.strip() == "value: tok-123" for line in lines), text  # in the template


def test_generated_claim_is_a_new_file_in_the_diff() -> None:
    config = simple_config()
    config["persistence"]["data"]["a"] = {"mountPath": "/data/a", "claim": {"size": "1Gi"}}
    text = report.diff_text(render(dump_all(deployment("w", ROLE)), config))
    assert "--- /dev/null\n+++ PersistentVolumeClaim/stowage-a" in text


def test_secret_values_never_reach_the_diff() -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
              "data": {"token": "c2VjcmV0"}}  # fmt: skip
    outcome = render(dump_all(secret, deployment("w", ROLE)), simple_config())
    doc = outcome.stream.documents[0]
    parse_document(doc, Limits())  # stowage never reads Secrets; a check of its own might
    doc.body["data"]["token"] = "bmV3"
    doc.body["metadata"]["labels"] = {"x": "y"}
    doc.changed = True
    text = report.diff_text(outcome)
    assert "+++ Secret/s (document 1) after stowage" in text
    assert "c2VjcmV0" not in text and "bmV3" not in text
    assert '   token: "<redacted>"' in text.splitlines()  # a context line under data


def _stowage(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stowage", *args],
        input=dump_all(deployment("w", ROLE)), capture_output=True, text=True, check=False,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def test_diff_goes_to_stderr_and_the_report_file(tmp_path: Path) -> None:
    config = tmp_path / "c.json"
    config.write_text(json.dumps(simple_config()))
    target = tmp_path / "report.txt"
    proc = _stowage("--diff", "--config", str(config), env={"STOWAGE_REPORT_FILE": str(target)})
    assert proc.returncode == 0, proc.stderr
    assert "+++ Deployment/w (document 1) after stowage" in proc.stderr
    saved = target.read_text()
    assert "+++ Deployment/w (document 1) after stowage" in saved
    assert "stowage: ok:" in saved
    assert "volumeMounts" not in _stowage("--config", str(config)).stderr  # only when asked


def test_json_report_keeps_the_rfc6902_patches(tmp_path: Path) -> None:
    config = tmp_path / "c.json"
    config.write_text(json.dumps(simple_config()))
    proc = _stowage("--diff", "--report", "json", "--report-file", str(tmp_path / "r.json"),
                    "--config", str(config))  # fmt: skip
    saved = json.loads((tmp_path / "r.json").read_text())  # still JSON: no diff mixed in
    (change,) = saved["changes"]
    assert {"op": "add", "path": "/spec/template/spec/volumes"} in [
        {"op": op["op"], "path": op["path"]} for op in change["patch"]
    ]
    assert "+++ Deployment/w" in proc.stderr


def test_helm4_post_renderer_args_diff_lands_in_the_report_file(helm4: Helm) -> None:
    helm4.run("plugin", "install", str(Path(__file__).resolve().parents[1] / "postrenderer"))
    helm4.run("template", "ml", str(CHART), "-f", str(EXAMPLES / "production.yaml"),
              "--post-renderer", "stowage", "--post-renderer-args", "--diff")  # fmt: skip
    saved = (Path(helm4.env["XDG_STATE_HOME"]) / "stowage" / "last-report.txt").read_text()
    assert "+++ ConfigMap/ml-stowage-owl-config (document " in saved
    assert "+          mountPath: /data/imagenet" in saved  # owl.yaml diffed as YAML lines
