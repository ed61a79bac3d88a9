"""Helpers shared by the rules: plan volume names, volumes, hostPath normalisation."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import Any

from stowage.checks import CheckContext
from stowage.findings import ResourceRef
from stowage.plan.configdata import VolumeSpec
from stowage.pods.workloads import Workload

PLAN_REF = ResourceRef("StoragePlan", "", "config")


def volumes(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [v for v in pod.get("volumes") or [] if isinstance(v, dict)]


def plan_volumes(ctx: CheckContext) -> Iterator[tuple[str, str, VolumeSpec]]:
    """(group, name, spec) for the plan's data then outputs volumes, each group by name."""
    for group, specs in (
        ("data", ctx.config.persistence.data),
        ("outputs", ctx.config.persistence.outputs),
    ):
        for name, spec in sorted(specs.items()):
            yield group, name, spec


def plan_volume_names(ctx: CheckContext) -> set[str]:
    """The names of the plan's data and outputs volumes."""
    return set(ctx.config.persistence.data) | set(ctx.config.persistence.outputs)


def targeted(ctx: CheckContext) -> Iterator[tuple[int, Workload]]:
    for index, workload in enumerate(ctx.workloads):
        if index in ctx.roles:
            yield index, workload


def normalize_host_path(path: str) -> str:
    return posixpath.normpath("/" + path.lstrip("/")) if path else "/"
