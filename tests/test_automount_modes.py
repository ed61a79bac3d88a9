"""autoMount.accessModes: the auto-mounted claim's declared access modes, checked like any claim."""

from __future__ import annotations

from typing import Any

import pytest

from enginehelpers import ROLE, TARGET, deployment, dump_all, render
from stowage.errors import UsageError


def _config(modes: list[str] | None, kind: str = "pvc", **params: str) -> dict[str, Any]:
    auto: dict[str, Any] = {"type": kind, "params": params or {"pvc_name": "shared"}}
    if modes is not None:
        auto["accessModes"] = modes
    return {"targets": TARGET, "autoMount": auto}


def _rules(modes: list[str] | None, replicas: int = 3) -> set[str]:
    outcome = render(dump_all(deployment("w", ROLE, replicas=replicas)), _config(modes))
    return {f.rule for f in outcome.findings}


def test_undeclared_auto_mount_claim_warns_sw104() -> None:
    assert "SW104" in _rules(None)


def test_declared_read_write_many_satisfies_sw104() -> None:
    assert not {"SW101", "SW104"} & _rules(["ReadWriteMany"])


def test_declared_read_write_once_is_checked_as_such() -> None:
    assert "SW101" in _rules(["ReadWriteOnce"])  # declared modes are used, not just trusted


def test_access_modes_on_a_host_path_auto_mount_is_refused() -> None:
    config = _config(["ReadWriteMany"], "hostPath", host_path="/srv/x")
    with pytest.raises(UsageError, match="this auto-mount is a hostPath, not a claim"):
        render(dump_all(deployment("w", ROLE)), config)
