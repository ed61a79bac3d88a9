"""The chart through the post-renderer meets the Pod Security Standards "restricted" profile,
checked by checkov (a maintained scanner) and by our own reading of the profile.

Examples that mount host directories on purpose (single-node, per-user hostPath, Owl's
layout) break exactly one restricted control, "volume types": hostPath is forbidden
there. They are checked against every other control; see docs/reliability.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import CHART, EXAMPLES, ROOT, TOOLS
from stowage.pods.reading import carried_loader, read
from stowage.pods.workloads import Workload, collect
from stowage.read.yamlload import Limits

CHECKOV = ROOT / ".tools" / "checkov" / "bin" / "checkov"
# checkov's checks for the controls of the restricted profile
RESTRICTED_CHECKS = {
    "CKV_K8S_16": "privileged containers",
    "CKV_K8S_17": "host PID",
    "CKV_K8S_18": "host IPC",
    "CKV_K8S_19": "host network",
    "CKV_K8S_20": "privilege escalation",
    "CKV_K8S_23": "running as root",
    "CKV_K8S_28": "NET_RAW capability",
    "CKV_K8S_31": "seccomp profile",
    "CKV_K8S_37": "capabilities not dropped",
}
HOST_PATH_BY_DESIGN = {"single-node-hostpath.yaml", "per-user-hostpath.yaml", "owl.yaml"}
# storage-only examples render no pods of their own (tests/test_chart.py renders them with
# the third-party chart they serve)
ACCEPTED = sorted(
    p.name
    for p in EXAMPLES.glob("*.yaml")
    if not p.name.startswith(("rejected-", "team-", "storage-only-"))
)


@cache
def rendered(example: str) -> str:
    proc = subprocess.run(
        [
            str(TOOLS / "helm3"),
            "template",
            "ml",
            str(CHART),
            "-f",
            str(EXAMPLES / example),
            "--post-renderer",
            str(Path(sys.executable).parent / "stowage"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def workloads(example: str) -> list[Workload]:
    limits = Limits()
    stream = read(rendered(example), limits)
    return list(collect(stream, carried_loader(limits)))


def violations(workload: Workload, allow_host_path: bool) -> list[str]:
    pod = workload.pod_spec
    pod_sc: dict[str, Any] = pod.get("securityContext") or {}
    found = [f"host namespace {k}" for k in ("hostNetwork", "hostPID", "hostIPC") if pod.get(k)]
    if not allow_host_path:
        found += [
            f"hostPath volume {v['name']}" for v in pod.get("volumes") or [] if "hostPath" in v
        ]
    containers = [*(pod.get("containers") or []), *(pod.get("initContainers") or [])]
    for container in containers:
        sc: dict[str, Any] = container.get("securityContext") or {}
        name = container.get("name")
        if sc.get("privileged"):
            found.append(f"{name}: privileged")
        if sc.get("allowPrivilegeEscalation") is not False:
            found.append(f"{name}: allowPrivilegeEscalation not false")
        capabilities = sc.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            found.append(f"{name}: capabilities not dropped")
        if set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"}:
            found.append(f"{name}: adds capabilities")
        if not (sc.get("runAsNonRoot") or pod_sc.get("runAsNonRoot")):
            found.append(f"{name}: runAsNonRoot not true")
        if 0 in (sc.get("runAsUser"), pod_sc.get("runAsUser")):
            found.append(f"{name}: runs as uid 0")
        seccomp = (sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            found.append(f"{name}: seccomp profile {seccomp}")
    return found


@pytest.mark.parametrize("example", ACCEPTED)
def test_every_pod_meets_the_restricted_profile(example: str) -> None:
    pods = workloads(example)
    assert pods
    for workload in pods:
        assert violations(workload, example in HOST_PATH_BY_DESIGN) == [], workload.label


def test_the_restricted_checker_catches_what_it_should() -> None:
    pods = workloads("production.yaml")
    scheduler = next(w for w in pods if w.ref.name == "ml-stowage-scheduler")
    scheduler.pod_spec["securityContext"]["runAsNonRoot"] = False
    scheduler.pod_spec["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = True
    scheduler.pod_spec["volumes"].append({"name": "h", "hostPath": {"path": "/x"}})
    found = violations(scheduler, allow_host_path=False)
    assert "scheduler: allowPrivilegeEscalation not false" in found
    assert "scheduler: runAsNonRoot not true" in found
    assert "hostPath volume h" in found


def checkov(directory: Path) -> dict[str, Any]:
    """checkov's restricted-profile checks over every manifest in ``directory``."""
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV} is missing: run `make setup`")
    proc = subprocess.run(
        [
            str(CHECKOV),
            "-d",
            str(directory),
            "--framework",
            "kubernetes",
            "--quiet",
            "--compact",
            "-o",
            "json",
            "--check",
            ",".join(sorted(RESTRICTED_CHECKS)),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(proc.stdout)
    results: dict[str, Any] = report[0] if isinstance(report, list) else report
    return results


def test_checkov_restricted_checks_pass_on_every_example(tmp_path: Path) -> None:
    for example in ACCEPTED:
        docs = [d for d in yaml.safe_load_all(rendered(example)) if d]
        (tmp_path / example).write_text(yaml.safe_dump_all(docs))
    results = checkov(tmp_path)
    failed = results.get("results", {}).get("failed_checks", [])
    assert results.get("summary", {}).get("passed", 0) > 0, results
    assert [(f["check_id"], f["resource"], f["file_path"]) for f in failed] == []


def test_checkov_fails_when_the_security_context_is_off(tmp_path: Path) -> None:
    values = tmp_path / "insecure.yaml"
    values.write_text("securityContext: {enabled: false}\ntests: {enabled: false}\n")
    proc = subprocess.run(
        [str(TOOLS / "helm"), "template", "ml", str(CHART), "-f", str(values)],
        capture_output=True,
        text=True,
        check=True,
    )
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "insecure.yaml").write_text(proc.stdout)
    failed = {f["check_id"] for f in checkov(tmp_path / "out")["results"]["failed_checks"]}
    assert {"CKV_K8S_20", "CKV_K8S_23", "CKV_K8S_37"} <= failed
