"""How a finding reads: a short first line, details indented below, one finding per cause."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from checkhelpers import claim_volume, context, mounting, pod, pvc, workload
from stowage.checks import run_all
from stowage.findings import Finding, ResourceRef, Severity, group_by_cause
from stowage.views.report import FIRST_LINE, finding_lines, split_headline

STOWAGE = [sys.executable, "-m", "stowage"]
API = ResourceRef("Deployment", "", "api")
JSON_FIELDS = {"rule", "severity", "promoted", "resource", "message", "fix", "related"}


def check(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*STOWAGE, "check", *args], input=stdin, capture_output=True, text=True, check=False
    )


def test_unshared_host_paths_give_one_finding_per_cause_naming_each_workload_once(
    unshared_hostpaths_chart: str,
) -> None:
    report = check(stdin=unshared_hostpaths_chart).stderr
    firsts = [line for line in report.splitlines() if line.startswith("warning ")]
    assert [line.split()[1] for line in firsts] == ["SW201", "SW702"]
    assert all(len(line) <= FIRST_LINE for line in report.splitlines() if line[:1] != " ")
    sw201 = report.split("warning SW702")[0]
    assert "  - volume 'data': hostPath /tmp/stowage/data" in sw201
    assert "  - volume 'outputs': hostPath /tmp/stowage/outputs" in sw201
    assert sw201.count("Deployment/ml-stowage-api") == 1
    assert sw201.count("fix: ") == 1
    assert report.endswith("stowage: ok: 12 documents, 3 changed, 0 errors, 2 warnings\n")


def test_json_keeps_its_fields_and_adds_the_parts_of_a_finding(
    unshared_hostpaths_chart: str,
) -> None:
    data = json.loads(check("--report", "json", stdin=unshared_hostpaths_chart).stderr)
    (sw201, _) = data["findings"]
    assert set(sw201) >= JSON_FIELDS
    assert sw201["subjects"] == [
        "volume 'data': hostPath /tmp/stowage/data",
        "volume 'outputs': hostPath /tmp/stowage/outputs",
    ]
    assert sw201["affected"][-2:] == [
        "Deployment/ml-stowage-api",
        "Deployment/ml-stowage-scheduler",
    ]
    assert len(sw201["headline"]) < FIRST_LINE
    assert data["summary"] == {
        "documents": 12,
        "changed": 3,
        "errors": 0,
        "warnings": 2,
        "promoted": 0,
        "waived": 0,
    }


def _claims_volumes(*claims: str) -> dict[str, Any]:
    volumes = [claim_volume(c, f"v{i}") for i, c in enumerate(claims)]
    mounts = [{"name": f"v{i}", "mountPath": f"/v{i}"} for i in range(len(claims))]
    return pod(volumes, mounts)


def test_a_shared_claim_is_one_finding_naming_each_workload_once() -> None:
    ctx = context(
        pvc("db", "ReadWriteOnce"),
        workload("workers", replicas=3, spec=_claims_volumes("db", "db")),  # two volumes, one claim
        mounting("one", "db"),
    )
    (sw101,) = [f for f in run_all(ctx) if f.rule == "SW101"]
    lines = finding_lines(sw101)
    assert lines[0] == (
        "error SW101 PersistentVolumeClaim/db: ReadWriteOnce claim mounted by 4 pods that can "
        "run on different nodes"
    )
    assert lines[1:5] == [
        "  - claim 'db': ReadWriteOnce (per its manifest)",
        "  workloads:",
        "    Deployment/workers (3 replicas)",
        "    Deployment/one (1 replica)",
    ]
    assert sw101.related == (
        ResourceRef("Deployment", "", "workers"),
        ResourceRef("Deployment", "", "one"),
    )


def test_a_rolling_deployment_is_one_finding_listing_its_claims() -> None:
    ctx = context(
        pvc("db", "ReadWriteOnce"),
        pvc("cache", "ReadWriteOnce"),
        workload("web", strategy="RollingUpdate", spec=_claims_volumes("db", "cache")),
    )
    (sw103,) = [f for f in run_all(ctx) if f.rule == "SW103"]
    assert str(sw103.resource) == "Deployment/web"
    assert sw103.subjects == (
        "claim 'cache': ReadWriteOnce (per its manifest)",
        "claim 'db': ReadWriteOnce (per its manifest)",
    )
    assert len(finding_lines(sw103)[0]) <= FIRST_LINE
    assert sw103.fix.startswith("set spec.strategy.type: Recreate")


def finding(subject: str, fix: str = "fix it", cause: str = "shared hostPath") -> Finding:
    return Finding(
        "SW201",
        Severity.WARNING,
        API,
        f"{subject} is a {cause}",
        fix,
        (API,),
        cause=cause,
        subjects=(subject,),
        affected=("Deployment/api",),
    )


def test_findings_of_one_cause_become_one_naming_each_subject() -> None:
    (merged,) = group_by_cause([finding("volume 'a'"), finding("volume 'b'")])
    assert merged.subjects == ("volume 'a'", "volume 'b'")
    assert merged.related == (API,)
    assert merged.message == "shared hostPath: volume 'a'; volume 'b' (workloads: Deployment/api)"


def test_findings_with_another_fix_or_cause_or_none_stay_apart() -> None:
    plain = Finding("SW201", Severity.WARNING, API, "no cause given")
    found = [finding("a"), finding("b", fix="other"), finding("c", cause="other"), plain, plain]
    assert len(group_by_cause(found)) == 5


def test_a_long_first_clause_puts_its_asides_and_list_below() -> None:
    text = (
        "ReadWriteOnce claim 'checkpoints' (a claim template of JobSet/volume-claim-trainjob) "
        "is mounted by 3 pods that can run on different nodes: JobSet/x (node) (3 pods)"
    )
    first, below = split_headline(text, 100)
    assert (
        first
        == "ReadWriteOnce claim 'checkpoints' is mounted by 3 pods that can run on different nodes"
    )
    assert below == [
        "(a claim template of JobSet/volume-claim-trainjob)",
        "JobSet/x (node) (3 pods)",
    ]


def test_a_first_line_that_fits_is_left_whole() -> None:
    assert split_headline("volume 'data': it is fine", 100) == ("volume 'data': it is fine", [])


def test_a_first_clause_without_asides_is_cut_at_a_comma() -> None:
    text = "a, " * 40 + "end"
    first, below = split_headline(text, 50)
    assert len(first) <= 50
    assert first + ", " + below[0] == text
