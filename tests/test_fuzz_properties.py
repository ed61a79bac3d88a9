"""Property-based fuzzing: mutations of real manifests never crash stowage.

Two mutators: text edits of the third-party fixtures (broken YAML), and type
confusion in parsed manifests (our chart's golden output and the fixtures, with
a field swapped for a value of another type). Any input either renders
(deterministically, every document kept, in order) or is refused with a
UsageError (exit 2); nothing else may escape.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import THIRD_PARTY
from enginehelpers import simple_config
from stowage.engine import Options, run
from stowage.errors import UsageError
from stowage.layers import Layer
from stowage.read import manifests
from stowage.read.manifests import split
from stowage.read.yamlload import Limits
from stowage.write.stream import write

FIXTURES = sorted(p.read_text() for p in THIRD_PARTY.glob("*.yaml"))
TARGETS = {"any": {"matchLabels": {"app": "dask"}}, "hub": {"matchLabels": {"component": "hub"}}}
CONFIG = Layer("fuzz", {**simple_config(), "targets": TARGETS})
LIMITS = Limits(max_input_bytes=1 << 20, max_nodes=200_000)
SNIPPETS = [
    "---\n",
    "...\n",
    "&a ",
    "*a",
    "{",
    "}",
    "[",
    "]",
    ": ",
    "- ",
    "\t",
    "\r\n",
    "\ufeff",
    "${USER}",
    "kind: Pod\n",
    "!!int ",
    "<<: *a\n",
    "'",
    '"',
    "#",
    "|\n",
    "\x00",
]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    lines = draw(st.sampled_from(FIXTURES)).splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 6))):
        if not lines:
            break
        at = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["drop", "dup", "insert", "indent", "swap"]))
        if action == "drop":
            del lines[at]
        elif action == "dup":
            lines.insert(at, lines[at])
        elif action == "insert":
            column = draw(st.integers(0, len(lines[at])))
            lines[at] = lines[at][:column] + draw(st.sampled_from(SNIPPETS)) + lines[at][column:]
        elif action == "indent":
            lines[at] = " " * draw(st.integers(1, 3)) + lines[at]
        else:
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
    return "".join(lines)


@pytest.mark.parametrize("fast", [False, True], ids=["pyyaml", "rapidyaml"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(), st.booleans())
def test_mutated_third_party_manifests_render_or_are_refused_cleanly(
    fast: bool, text: str, with_config: bool
) -> None:
    options = fuzz_options(with_config)
    with loader(fast):
        out = render_or_refuse(text, options)
        if out is None:
            return
        assert len(split(out).documents) == len(split(text.removeprefix("\ufeff")).documents)
        assert write(run(text, options).stream) == out  # deterministic


@contextmanager
def loader(fast: bool) -> Iterator[None]:
    """Every document through stowage.read.yamlfast (rapidyaml) when ``fast``, else none:
    streams in these tests are shorter than the fast path's usual threshold."""
    threshold = 1 if fast else 1 << 30
    with patch.object(manifests, "FAST_LOAD_MIN_DOCUMENTS", threshold):
        yield


def fuzz_options(with_config: bool) -> Options:
    return Options(layers=[CONFIG] if with_config else [], limits=LIMITS)


def render_or_refuse(text: str, options: Options) -> str | None:
    """The output, or None when stowage refused the input with a message (exit 2)."""
    try:
        outcome = run(text, options)
    except UsageError as err:
        assert str(err)  # a message, never empty
        return None
    return write(outcome.stream)


def test_every_fixture_survives_unmutated(third_party: Path) -> None:
    for text in FIXTURES:
        assert write(run(text, Options(layers=[CONFIG], limits=LIMITS)).stream)


GOLDEN = sorted((Path(__file__).parent / "golden" / "helm3").glob("*.yaml"))
PARSED = [
    json.loads(json.dumps(list(yaml.safe_load_all(text)), default=str))
    for text in [*FIXTURES, *(path.read_text() for path in GOLDEN)]
]
ODD_VALUES = st.sampled_from(
    [None, True, 0, -1, "", "x", "${USER}", "/", [], {}, ["x"], [None], {"a": 1}, [{"name": 1}]]
)


def field_paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict | list):
        children = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in children:
            found.extend(field_paths(child, (*prefix, key)))
    return found


@st.composite
def type_confused(draw: st.DrawFn) -> str:
    docs = copy.deepcopy(draw(st.sampled_from(PARSED)))
    for _ in range(draw(st.integers(1, 3))):
        doc = docs[draw(st.integers(0, len(docs) - 1))]
        paths = field_paths(doc)
        if not paths:
            continue
        *parents, last = draw(st.sampled_from(paths))
        node = doc
        for key in parents:
            node = node[key]
        node[last] = copy.deepcopy(draw(ODD_VALUES))
    return yaml.safe_dump_all(docs)


@pytest.mark.parametrize("fast", [False, True], ids=["pyyaml", "rapidyaml"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(type_confused(), st.booleans())
def test_fields_of_the_wrong_type_render_or_are_refused_cleanly(
    fast: bool, text: str, with_config: bool
) -> None:
    options = fuzz_options(with_config)
    with loader(fast):
        out = render_or_refuse(text, options)
        if out is not None:
            assert write(run(out, options).stream) == out  # idempotent on its own output


WRONG_TYPES_IN_THE_CONCURRENCY_MODEL = {
    "argo mutexes": """apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: w}
spec:
  entrypoint: a
  templates:
  - name: a
    container: {image: x}
    synchronization: {mutexes: true}
""",
    "argo templates": """apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: w}
spec: {entrypoint: a, templates: {a: {container: {image: x}}}}
""",
    "jobset dependsOn": """apiVersion: jobset.x-k8s.io/v1alpha2
kind: JobSet
metadata: {name: j}
spec:
  replicatedJobs:
  - name: a
    dependsOn: Complete
    template: {spec: [1, 2]}
""",
    "volcano flows": """apiVersion: flow.volcano.sh/v1alpha1
kind: JobFlow
metadata: {name: f}
spec: {flows: [{name: a, dependsOn: {targets: 5}}]}
""",
    "job spec": """apiVersion: batch/v1
kind: CronJob
metadata: {name: c}
spec: {jobTemplate: {spec: not-a-mapping}}
""",
}


@pytest.mark.parametrize("with_config", [False, True], ids=["bare", "config"])
@pytest.mark.parametrize(
    "text",
    WRONG_TYPES_IN_THE_CONCURRENCY_MODEL.values(),
    ids=WRONG_TYPES_IN_THE_CONCURRENCY_MODEL.keys(),
)
def test_wrong_types_where_the_concurrency_model_reads_never_crash(
    text: str, with_config: bool
) -> None:
    """Found by the property above: `synchronization.mutexes: true` crashed the Argo model."""
    render_or_refuse(text, fuzz_options(with_config))
