"""`--report sarif` and `--report junit`: what code-scanning UIs and CI test tabs read."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import jsonschema

from conftest import FIXTURES
from enginehelpers import deployment, dump_all
from stowage.checks import rule_modules
from stowage.checks.docs import explain

STOWAGE = [sys.executable, "-m", "stowage"]
SARIF_SCHEMA = json.loads((FIXTURES / "sarif" / "sarif-schema-2.1.0.json").read_text())
RULES = [str(m.ID) for m in rule_modules()]


def stowage(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*STOWAGE, *args], input=stdin, capture_output=True, text=True, timeout=60, check=False
    )


def shared_claim(**annotations: str) -> str:
    """SW101 (an error) on claim `scratch`, shared by Deployment/workers' three replicas,
    each document with the `# Source:` comment Helm writes."""
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "scratch"},
        "spec": {"accessModes": ["ReadWriteOnce"]},
    }
    workers = deployment("workers", {"app": "w"}, replicas=3)
    workers["metadata"]["annotations"] = annotations
    pod = workers["spec"]["template"]["spec"]
    pod["volumes"] = [{"name": "s", "persistentVolumeClaim": {"claimName": "scratch"}}]
    pod["containers"][0]["volumeMounts"] = [{"name": "s", "mountPath": "/scratch"}]
    return (
        "---\n# Source: lab/templates/claim.yaml\n"
        + dump_all(claim).removeprefix("---\n")
        + "---\n# Source: lab/templates/workers.yaml\n"
        + dump_all(workers).removeprefix("---\n")
    )


def sarif(*args: str, stdin: str) -> tuple[int, dict[str, Any]]:
    proc = stowage("check", "--report", "sarif", *args, stdin=stdin)
    log: dict[str, Any] = json.loads(proc.stderr)
    return proc.returncode, log


def assert_valid_sarif(log: dict[str, Any]) -> None:
    jsonschema.Draft4Validator.check_schema(SARIF_SCHEMA)
    errors = [e.message for e in jsonschema.Draft4Validator(SARIF_SCHEMA).iter_errors(log)]
    assert errors == []


# SARIF


def test_the_sarif_schema_fixture_is_the_official_one() -> None:
    assert SARIF_SCHEMA["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    assert SARIF_SCHEMA["properties"]["version"]["enum"] == ["2.1.0"]


def test_sarif_of_a_chart_with_warnings_is_valid_and_locates_the_template(
    unshared_hostpaths_chart: str,
) -> None:
    code, log = sarif(stdin=unshared_hostpaths_chart)
    assert code == 0
    assert_valid_sarif(log)
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    results = {r["ruleId"]: r for r in run["results"]}
    assert sorted(results) == ["SW201", "SW702"]
    sw201 = results["SW201"]
    assert sw201["level"] == "warning"
    assert sw201["message"]["text"].startswith("ConfigMap/ml-stowage-owl-config (data.owl.yaml): ")
    (location,) = sw201["locations"]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == (
        "stowage/templates/owl-config.yaml"
    )
    related = [r["physicalLocation"]["artifactLocation"]["uri"] for r in sw201["relatedLocations"]]
    assert related == ["stowage/templates/api.yaml", "stowage/templates/scheduler.yaml"]


def test_sarif_rules_carry_the_help_stowage_explain_prints(unshared_hostpaths_chart: str) -> None:
    _, log = sarif(stdin=unshared_hostpaths_chart)
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == RULES
    by_id = {r["id"]: r for r in rules}
    assert by_id["SW201"]["help"]["text"] == explain("SW201")
    assert by_id["SW101"]["defaultConfiguration"]["level"] == "error"
    for result in log["runs"][0]["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_sarif_errors_have_level_error_and_strict_promotes_warnings() -> None:
    code, log = sarif(stdin=shared_claim())
    assert code == 1
    assert_valid_sarif(log)
    (result,) = log["runs"][0]["results"]
    assert (result["ruleId"], result["level"]) == ("SW101", "error")
    assert "suppressions" not in result
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "lab/templates/claim.yaml"


def test_sarif_chart_path_replaces_the_chart_name_helm_writes() -> None:
    _, log = sarif("--chart-path", "deploy/charts/lab", stdin=shared_claim())
    location = log["runs"][0]["results"][0]["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == (
        "deploy/charts/lab/templates/claim.yaml"
    )


def test_an_annotation_waiver_is_an_in_source_suppression_with_its_reason() -> None:
    code, log = sarif(stdin=shared_claim(**{"waive.stowage.io/SW101": "rebuilt per pod"}))
    assert code == 0
    assert_valid_sarif(log)
    (result,) = log["runs"][0]["results"]
    (suppression,) = result["suppressions"]
    assert suppression["kind"] == "inSource"
    assert suppression["justification"] == "rebuilt per pod"


def test_a_config_waiver_is_an_external_suppression(tmp_path: Path) -> None:
    config = tmp_path / "waivers.yaml"
    config.write_text(json.dumps({"waivers": [{"rule": "SW101", "reason": "accepted"}]}))
    code, log = sarif("--config", str(config), stdin=shared_claim())
    assert code == 0
    assert_valid_sarif(log)
    (suppression,) = log["runs"][0]["results"][0]["suppressions"]
    assert (suppression["kind"], suppression["justification"]) == ("external", "accepted")


def test_sarif_reads_helm_4s_filename_annotation() -> None:
    text = shared_claim().replace("# Source: lab/templates/claim.yaml\n", "")
    text = text.replace(
        "metadata:\n  name: scratch\n",
        "metadata:\n  name: scratch\n  annotations:\n"
        "    postrenderer.helm.sh/postrender-filename: lab/templates/pvc.yaml\n",
    )
    _, log = sarif(stdin=text)
    location = log["runs"][0]["results"][0]["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "lab/templates/pvc.yaml"


def test_render_writes_sarif_to_the_report_file_and_the_manifests_to_stdout(
    tmp_path: Path,
) -> None:
    text = shared_claim(**{"waive.stowage.io/SW101": "rebuilt per pod"})
    target = tmp_path / "stowage.sarif"
    proc = stowage("render", "--report", "sarif", "--report-file", str(target), stdin=text)
    assert proc.returncode == 0
    assert proc.stdout == text
    assert_valid_sarif(json.loads(target.read_text()))


# JUnit

SUITE_ATTRIBUTES = {"name", "tests", "failures", "errors", "skipped", "time"}
CASE_CHILDREN = {"failure", "error", "skipped", "system-out", "system-err"}


def junit(*args: str, stdin: str, command: str = "check") -> tuple[int, ElementTree.Element]:
    proc = stowage(command, "--report", "junit", *args, stdin=stdin)
    assert proc.stderr.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return proc.returncode, ElementTree.fromstring(proc.stderr.split("\n", 1)[1])


def assert_junit_shape(root: ElementTree.Element) -> None:
    """The shape of the common JUnit XML schema (Jenkins, GitLab, Azure DevOps read it)."""
    assert root.tag == "testsuites"
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for suite in root:
        assert suite.tag == "testsuite"
        assert set(suite.attrib) >= SUITE_ATTRIBUTES
        cases = suite.findall("testcase")
        assert {child.tag for child in suite} <= {"properties", "testcase"}
        assert int(suite.get("tests", "")) == len(cases)
        for case in cases:
            assert case.get("name") and case.get("classname")
            assert {child.tag for child in case} <= CASE_CHILDREN
            for failure in case.findall("failure"):
                assert failure.get("message") and failure.get("type")
        assert int(suite.get("failures", "")) == sum(c.find("failure") is not None for c in cases)
        assert int(suite.get("skipped", "")) == sum(c.find("skipped") is not None for c in cases)
        for key in totals:
            totals[key] += int(suite.get(key, ""))
    assert {key: int(root.get(key, "")) for key in totals} == totals


def test_junit_has_a_suite_per_rule_and_a_failure_per_error() -> None:
    code, root = junit(stdin=shared_claim())
    assert code == 1
    assert_junit_shape(root)
    assert [s.get("name", "").split()[0] for s in root] == RULES
    suite = root[RULES.index("SW101")]
    (case,) = suite.findall("testcase")
    assert case.get("name", "").startswith("PersistentVolumeClaim/scratch: ReadWriteOnce claim")
    assert case.get("file") == "lab/templates/claim.yaml"
    failure = case.find("failure")
    assert failure is not None and failure.get("type") == "error"
    assert "fix: use ReadWriteMany storage" in (failure.text or "")
    assert root.get("failures") == "1"


def test_junit_marks_a_waived_finding_skipped_with_its_reason() -> None:
    text = shared_claim(**{"waive.stowage.io/SW101": "rebuilt per pod"})
    code, root = junit(stdin=text, command="render")
    assert code == 0
    assert_junit_shape(root)
    (case,) = root[RULES.index("SW101")].findall("testcase")
    skipped = case.find("skipped")
    assert skipped is not None and skipped.get("message") == "waived: rebuilt per pod"
    assert case.find("failure") is None
    assert (root.get("failures"), root.get("skipped")) == ("0", "1")


def test_junit_warnings_pass_and_fail_under_strict(unshared_hostpaths_chart: str) -> None:
    code, root = junit(stdin=unshared_hostpaths_chart)
    assert (code, root.get("failures")) == (0, "0")
    assert_junit_shape(root)
    code, root = junit("--strict", stdin=unshared_hostpaths_chart)
    assert (code, root.get("failures")) == (1, "2")


def test_a_finding_on_the_config_is_located_at_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "waivers.yaml"
    waiver = {"rule": "SW101", "reason": "until the move", "expires": "2020-01-31"}
    config.write_text(json.dumps({"waivers": [waiver]}))
    code, log = sarif("--config", str(config), stdin=shared_claim())
    assert code == 1
    assert_valid_sarif(log)
    results = {r["ruleId"]: r for r in log["runs"][0]["results"]}
    location = results["SW904"]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location["uri"] == config.as_uri()
