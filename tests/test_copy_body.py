"""manifests.copy_body: the copy attach keeps of a workload before changing it."""

from __future__ import annotations

import math

from stowage.manifests import copy_body


def test_copies_every_dict_and_list_so_changes_never_reach_the_original() -> None:
    body = {"spec": {"volumes": [{"name": "a"}], "replicas": 1}}
    copied = copy_body(body)
    copied["spec"]["volumes"].append({"name": "b"})
    copied["spec"]["volumes"][0]["name"] = "z"
    assert body == {"spec": {"volumes": [{"name": "a"}], "replicas": 1}}


def test_an_unchanged_copy_compares_equal_even_holding_nan() -> None:
    body = {"x": [math.nan], "y": {"z": math.nan}}
    assert copy_body(body) == body  # otherwise an untouched document would be rewritten
