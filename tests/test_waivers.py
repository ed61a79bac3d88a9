"""Waivers: a finding accepted on purpose no longer fails a run but every report shows it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import CHART, UNSHARED_HOSTPATHS, Helm
from enginehelpers import deployment, dump_all, render

STOWAGE = [sys.executable, "-m", "stowage"]
SHARED = "every node mounts /tmp/stowage from one NFS share (Owl's option 1)"


def stowage(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*STOWAGE, *args], input=stdin, capture_output=True, text=True, timeout=60, check=False
    )


def shared_rwo_claim(**annotations: str) -> str:
    """A ReadWriteOnce claim mounted by a Deployment of three replicas: SW101, an error."""
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "scratch"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    workers = deployment("workers", {"app": "w"}, replicas=3)
    workers["metadata"]["annotations"] = annotations
    pod = workers["spec"]["template"]["spec"]
    pod["volumes"] = [{"name": "s", "persistentVolumeClaim": {"claimName": "scratch"}}]
    pod["containers"][0]["volumeMounts"] = [{"name": "s", "mountPath": "/scratch"}]
    return dump_all(claim, workers)


def config_file(tmp_path: Path, waivers: list[dict[str, Any]]) -> str:
    path = tmp_path / "waivers.yaml"
    path.write_text(json.dumps({"waivers": waivers}))
    return str(path)


def report(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(proc.stderr)
    return data


def test_without_a_waiver_the_shared_claim_is_rejected() -> None:
    proc = stowage("check", stdin=shared_rwo_claim())
    assert proc.returncode == 1
    assert proc.stderr.startswith("error SW101 PersistentVolumeClaim/scratch:")


def test_an_annotation_waives_the_finding_and_the_report_keeps_it_with_its_reason() -> None:
    text = shared_rwo_claim(**{"waive.stowage.io/SW101": "scratch is rebuilt per pod"})
    proc = stowage("check", stdin=text)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[0].startswith("waived SW101 PersistentVolumeClaim/scratch:")
    assert "  waived (an error): scratch is rebuilt per pod" in lines
    assert "    by: annotation waive.stowage.io/SW101 on Deployment/workers" in lines
    assert lines[-1].endswith("0 errors, 0 warnings, 1 waived")


def test_a_waived_error_passes_render_too_and_json_says_how_it_was_waived() -> None:
    text = shared_rwo_claim(**{"waive.stowage.io/SW101": "scratch is rebuilt per pod"})
    proc = stowage("render", "--strict", "--report", "json", stdin=text)
    assert proc.returncode == 0
    assert proc.stdout == text
    data = report(proc)
    assert data["result"] == "ok"
    assert data["summary"]["waived"] == 1
    assert data["summary"]["errors"] == 0
    (finding,) = data["findings"]
    assert finding["rule"] == "SW101"
    assert finding["severity"] == "error"
    assert finding["waived"] == {
        "reason": "scratch is rebuilt per pod",
        "source": "annotation",
        "origin": "annotation waive.stowage.io/SW101 on Deployment/workers",
        "expires": None,
    }


def test_an_annotation_for_another_rule_waives_nothing() -> None:
    text = shared_rwo_claim(**{"waive.stowage.io/SW201": "not this one"})
    assert stowage("check", stdin=text).returncode == 1


@pytest.mark.parametrize("reason", ["", "   "])
def test_an_annotation_without_a_reason_is_an_error_naming_the_resource_and_the_fix(
    reason: str,
) -> None:
    proc = stowage("check", stdin=shared_rwo_claim(**{"waive.stowage.io/SW101": reason}))
    assert proc.returncode == 2
    assert "(Deployment/workers) at line " in proc.stderr
    assert ": annotation waive.stowage.io/SW101 has no reason" in proc.stderr
    assert 'e.g. waive.stowage.io/SW101: "' in proc.stderr
    assert "Traceback" not in proc.stderr


def test_an_annotation_naming_no_rule_is_an_error() -> None:
    proc = stowage("check", stdin=shared_rwo_claim(**{"waive.stowage.io/SW999": "typo"}))
    assert proc.returncode == 2
    assert "annotation waive.stowage.io/SW999 names no rule; use one of SW101," in proc.stderr


def test_a_waiver_must_cover_every_workload_a_finding_lists() -> None:
    text = shared_rwo_claim(**{"waive.stowage.io/SW101": "mine is fine"})
    other = deployment("readers", {"app": "r"})
    pod = other["spec"]["template"]["spec"]
    pod["volumes"] = [{"name": "s", "persistentVolumeClaim": {"claimName": "scratch"}}]
    pod["containers"][0]["volumeMounts"] = [{"name": "s", "mountPath": "/scratch"}]
    proc = stowage("check", stdin=text + dump_all(other))
    assert proc.returncode == 1
    assert proc.stderr.startswith("error SW101 PersistentVolumeClaim/scratch:")


def test_config_waivers_let_unshared_host_paths_pass_strict(
    tmp_path: Path, unshared_hostpaths_chart: str
) -> None:
    text = unshared_hostpaths_chart
    assert stowage("check", "--strict", stdin=text).returncode == 1
    waivers = config_file(
        tmp_path,
        [
            {"rule": "SW201", "kind": "ConfigMap", "name": "*-owl-config", "reason": SHARED},
            {"rule": "SW702", "name": "ml-*", "reason": "the share is owned by uid 1000"},
        ],
    )
    proc = stowage("check", "--strict", "--config", waivers, "--report", "json", stdin=text)
    assert proc.returncode == 0, proc.stderr
    data = report(proc)
    assert [(f["rule"], f["waived"]["origin"]) for f in data["findings"]] == [
        ("SW201", "waivers[0]"),
        ("SW702", "waivers[1]"),
    ]
    assert all(not f["promoted"] for f in data["findings"])
    assert data["findings"][0]["waived"]["source"] == "config"
    assert data["findings"][0]["waived"]["reason"] == SHARED


def test_a_config_waiver_whose_selector_misses_waives_nothing(
    tmp_path: Path, unshared_hostpaths_chart: str
) -> None:
    waivers = config_file(
        tmp_path,
        [
            {"rule": "SW201", "name": "other-*", "reason": SHARED},
            {"rule": "SW201", "matchLabels": {"team": "x"}, "reason": SHARED},
            {"rule": "SW201", "namespace": "prod", "reason": SHARED},
        ],
    )
    proc = stowage("check", "--config", waivers, stdin=unshared_hostpaths_chart)
    assert proc.returncode == 0
    assert "warning SW201" in proc.stderr
    assert "waived" not in proc.stderr


def test_a_config_waiver_selects_by_labels(tmp_path: Path, unshared_hostpaths_chart: str) -> None:
    labels = {"app.kubernetes.io/instance": "ml"}
    waivers = config_file(tmp_path, [{"rule": "SW201", "matchLabels": labels, "reason": SHARED}])
    proc = stowage("check", "--strict", "--config", waivers, stdin=unshared_hostpaths_chart)
    assert "waived SW201" in proc.stderr
    assert f"  waived (a warning): {SHARED}" in proc.stderr


def test_an_expired_waiver_no_longer_waives_and_warns_naming_it(tmp_path: Path) -> None:
    waivers = config_file(
        tmp_path,
        [{"rule": "SW101", "name": "workers", "reason": "until the move", "expires": "2020-01-31"}],
    )
    proc = stowage("check", "--config", waivers, "--report", "json", stdin=shared_rwo_claim())
    assert proc.returncode == 1
    data = report(proc)
    rules = {f["rule"]: f for f in data["findings"]}
    assert rules["SW101"]["waived"] is None
    assert rules["SW904"]["severity"] == "warning"
    assert rules["SW904"]["message"].startswith(
        "waivers[0] (SW101, name workers) expired on 2020-01-31"
    )


def test_a_waiver_that_has_not_expired_waives(tmp_path: Path) -> None:
    waivers = config_file(
        tmp_path,
        [{"rule": "SW101", "name": "workers", "reason": "until the move", "expires": "2999-12-31"}],
    )
    proc = stowage("check", "--config", waivers, stdin=shared_rwo_claim())
    assert proc.returncode == 0, proc.stderr
    assert "    by: config waivers[0], expires 2999-12-31" in proc.stderr.splitlines()


@pytest.mark.parametrize(
    ("waiver", "message"),
    [
        ({"rule": "SW101", "reason": ""}, "waivers.0.reason"),
        ({"rule": "SW101"}, "waivers.0.reason"),
        ({"rule": "101", "reason": "r"}, "'101' is not a rule ID"),
        ({"rule": "SW101", "reason": "r", "expires": "2027-02-30"}, "is not a date"),
        ({"rule": "SW999", "reason": "r"}, "waivers[0] names rule 'SW999', which does not exist"),
    ],
)
def test_a_config_waiver_that_is_not_complete_is_an_error(
    tmp_path: Path, waiver: dict[str, Any], message: str
) -> None:
    proc = stowage("check", "--config", config_file(tmp_path, [waiver]), stdin=shared_rwo_claim())
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_the_charts_waivers_value_reaches_the_plan(helm4: Helm, tmp_path: Path) -> None:
    values = tmp_path / "waivers.yaml"
    values.write_text(
        "waivers:\n"
        f"  - {{rule: SW201, reason: {json.dumps(SHARED)}}}\n"
        "  - {rule: SW702, reason: owned by uid 1000, expires: 2999-12-31}\n"
    )
    rendered = helm4.run(
        "template", "ml", str(CHART), "-f", str(UNSHARED_HOSTPATHS), "-f", str(values)
    ).stdout
    proc = stowage("check", "--strict", stdin=rendered)
    assert proc.returncode == 0, proc.stderr
    assert "waived SW201" in proc.stderr
    assert "    by: config waivers[1], expires 2999-12-31" in proc.stderr.splitlines()


def test_the_chart_refuses_a_waiver_without_a_reason(helm4: Helm) -> None:
    proc = helm4.run("template", "ml", str(CHART), "--set", "waivers[0].rule=SW201", check=False)
    assert proc.returncode != 0
    assert "reason" in proc.stderr


def test_the_storage_map_does_not_draw_a_waived_error_as_one() -> None:
    rejected = stowage("graph", stdin=shared_rwo_claim())
    assert "  class w0 error" in rejected.stdout.splitlines()
    text = shared_rwo_claim(**{"waive.stowage.io/SW101": "scratch is rebuilt per pod"})
    waived = stowage("graph", stdin=text)
    assert waived.returncode == 0
    assert "  class w0 warning" in waived.stdout.splitlines()


def test_each_expired_waiver_is_named_with_its_whole_selector() -> None:
    """In process, as the engine runs: one SW904 per expired waiver, none for the others."""
    waivers = [
        {
            "rule": "SW101",
            "kind": "Deployment",
            "name": "workers",
            "namespace": "ml",
            "matchLabels": {"team": "a"},
            "reason": "r",
            "expires": "2020-01-31",
        },
        {"rule": "SW702", "reason": "r", "expires": "2020-02-01"},
        {"rule": "SW201", "reason": "r", "expires": "2999-12-31"},
    ]
    outcome = render(dump_all(deployment("w", {"app": "w"})), {"waivers": waivers})
    later = "delete the waiver, or move `expires` to a later date"
    assert [(f.rule, f.message, f.fix) for f in outcome.findings] == [
        (
            "SW904",
            "waivers[0] (SW101, kind Deployment, name workers, namespace ml, labels "
            "{'team': 'a'}) expired on 2020-01-31: its findings count again",
            f"fix the SW101 findings and {later}",
        ),
        (
            "SW904",
            "waivers[1] (SW702) expired on 2020-02-01: its findings count again",
            f"fix the SW702 findings and {later}",
        ),
    ]
