"""The rule modules, by module name. Add a new rule here and run `make docs`."""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

RULES = (
    "sw101_rwo_multi_node",
    "sw102_rwop_shared",
    "sw103_rwo_rolling_update",
    "sw104_unknown_access_mode",
    "sw201_hostpath_multi_node",
    "sw202_hostpath_sensitive",
    "sw301_duplicate_mount_path",
    "sw302_volume_redefined",
    "sw303_nested_mount",
    "sw304_mount_without_volume",
    "sw305_outputs_read_only",
    "sw401_variables",
    "sw501_store_credentials",
    "sw502_store_secret_absent",
    "sw503_data_ref_missing",
    "sw504_outputs_count",
    "sw601_sqlite_on_nfs",
    "sw701_runs_as_root",
    "sw702_fsgroup_ignored",
    "sw801_merge_conflict",
    "sw901_matches_nothing",
    "sw902_unknown_pod_kind",
    "sw903_unknown_node_pool",
    "sw904_waiver_expired",
    "sw905_pods_out_of_reach",
    "sw906_fragment_cannot_carry",
)

MODULES: list[ModuleType] = [import_module(f"stowage.checks.{name}") for name in RULES]
