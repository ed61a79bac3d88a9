"""The chart's fail-closed guard: a document of a kind no cluster serves, which Helm refuses
unless stowage ran, and which stowage leaves out of its output."""

from __future__ import annotations

from enginehelpers import ROLE, deployment, dump_all, render, simple_config
from stowage.engine import Options, run
from stowage.write.stream import write

GUARD = """apiVersion: stowage.io/v1
kind: PostRendererRequired
metadata:
  name: install-with--post-renderer-stowage
message: >-
  install through the stowage post-renderer
"""


def test_stowage_leaves_the_guard_out_and_every_other_document_as_it_came() -> None:
    configmap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c  # kept\ndata: {}\n"
    text = f"---\n{configmap}---\n{GUARD}"
    out = write(run(text, Options()).stream)
    assert out == f"---\n{configmap}"
    assert "PostRendererRequired" not in out


def test_the_guard_is_dropped_when_stowage_attaches_too() -> None:
    outcome = render(dump_all(deployment("w", ROLE)) + "---\n" + GUARD, simple_config())
    assert outcome.changed
    assert "PostRendererRequired" not in write(outcome.stream)


def test_a_kind_of_that_name_from_another_group_is_not_ours() -> None:
    other = GUARD.replace("stowage.io/v1", "example.com/v1")
    assert "PostRendererRequired" in write(run(other, Options()).stream)
