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


def _auto(auto: dict[str, Any]) -> Any:
    return render(dump_all(deployment("w", ROLE)), {"targets": TARGET, "autoMount": auto})


def _mounts(outcome: Any) -> dict[str, Any]:
    (placement,) = outcome.placements
    return {v.mount_path: v for v in placement.volumes}


def test_auto_with_mlrun_pvc_mount_mounts_that_claim_as_mlrun_does() -> None:
    outcome = _auto({"type": "auto", "pvcMount": "shared:/mnt/shared"})
    mounts = _mounts(outcome)
    assert list(mounts) == ["/mnt/shared"]
    assert mounts["/mnt/shared"].volume == "pipeline"  # MLRun's default volume name
    assert (mounts["/mnt/shared"].source, mounts["/mnt/shared"].ref) == ("claim", "shared")


def test_pvc_name_in_params_wins_over_pvc_mount_as_in_mlrun() -> None:
    outcome = _auto(
        {"type": "pvc", "params": {"pvc_name": "own"}, "pvcMount": "shared:/mnt/shared"}
    )
    (mount,) = _mounts(outcome).values()
    assert (mount.ref, mount.mount_path) == ("own", "/mnt/pipeline")


def test_a_malformed_pvc_mount_is_refused() -> None:
    with pytest.raises(UsageError, match="is not <pvc-name>:<mount-path>"):
        _auto({"type": "auto", "pvcMount": "shared"})


def test_auto_that_mounts_nothing_says_so() -> None:
    outcome = _auto({"type": "auto"})
    assert _mounts(outcome) == {}
    assert any("autoMount type auto mounts nothing" in note for note in outcome.notes)
    assert not any("mounts nothing" in n for n in _auto({"type": "none"}).notes)
