"""attach tells changed documents from untouched ones by comparing snapshots: equal data
is never 'changed', whatever objects hold it, and any real change is seen."""

from __future__ import annotations

import json
from typing import Any

from enginehelpers import ROLE, deployment, dump_all, load_all, render, simple_config
from stowage.attach.attach import Snapshot
from stowage.engine import Options, run
from stowage.layers import Layer
from stowage.write.stream import write


def test_a_change_anywhere_is_seen_and_equal_data_in_new_objects_is_not() -> None:
    volumes: list[dict[str, str]] = [{"name": "a"}]
    body = {"spec": {"volumes": volumes, "flag": True, "n": 1, "raw": b"x"}}
    snapshot = Snapshot.of(body)
    assert not snapshot.differs(body)
    rebuilt = {"spec": {"volumes": [{"name": "".join("a")}], "flag": True, "n": 1, "raw": b"x"}}
    assert not snapshot.differs(rebuilt)
    volumes.append({"name": "b"})
    assert snapshot.differs(body)
    assert Snapshot.of({"n": 1}).differs({"n": True})  # 1 == True to Python, not to YAML


def test_a_body_marshal_cannot_write_is_compared_as_data() -> None:
    marker = object()
    snapshot = Snapshot.of({"x": marker})
    assert snapshot.data is None
    assert not snapshot.differs({"x": marker})
    assert snapshot.differs({"x": marker, "y": 1})


def test_a_workload_that_already_has_its_storage_passes_through_byte_for_byte() -> None:
    config = simple_config()
    config["vars"] = {"TEAM": "ml"}
    config["persistence"]["data"]["a"]["mountPath"] = "/data/${TEAM}"
    once = write(render(dump_all(deployment("w", ROLE)), config).stream)
    again = run(once, Options(layers=[Layer("test", config)]))
    assert "/data/ml" in once
    assert not again.changed  # ${TEAM} was expanded the first time: nothing left to do
    assert write(again.stream) == once


def test_attach_adding_what_marshal_cannot_write_is_a_change() -> None:
    snapshot = Snapshot.of({"x": 1})
    assert snapshot.data is not None
    assert snapshot.differs({"x": 1, "y": object()})


def test_a_carried_json_template_that_already_has_its_storage_keeps_its_layout() -> None:
    config = {
        "persistence": {"data": {"t": {"mountPath": "/data/t", "existingClaim": "training"}}},
        "targets": {"pipeline": {}},
        "templates": [{"preset": "owl", "configMap": {"name": "owl"}}],
    }
    fragment: dict[str, Any] = {"pipeline": {"volumeMounts": [], "volumes": []}}
    owl = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "owl"}}
    owl["data"] = {"owl.yaml": json.dumps(fragment)}
    (attached,) = load_all(write(render(dump_all(owl), config).stream))
    assert "/data/t" in attached["data"]["owl.yaml"]
    # the same data in a layout stowage would not write: nothing to attach, nothing rewritten
    owl["data"] = {"owl.yaml": attached["data"]["owl.yaml"].replace("{", "{ ")}
    text = dump_all(owl)
    outcome = render(text, config)
    assert len(outcome.placements) == 1
    assert write(outcome.stream) == text
