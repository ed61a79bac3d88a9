"""shapes.fits (the quick yes/no every parse asks) agrees with problem_in (the
message stowage prints), on real manifests with fields of the wrong type."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stowage.pods.shapes import (
    KIND_SHAPES,
    OPERATOR_SHAPES,
    _shape_of,
    fits,
    manifest_problem,
    problem_in,
)
from test_fuzz_properties import ODD_VALUES, PARSED, field_paths

SHAPES = [*KIND_SHAPES.values(), *OPERATOR_SHAPES.values()]
VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=3)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["spec", "template", "containers", "name", "x"]), inner),
    ),
    max_leaves=12,
)


@settings(max_examples=500, deadline=None)
@given(VALUES, st.sampled_from(SHAPES))
def test_fits_agrees_with_problem_in_on_any_value(value: Any, shape: Any) -> None:
    assert fits(value, shape) == (problem_in(value, shape, "") is None)


@st.composite
def confused_manifests(draw: st.DrawFn) -> dict[str, Any]:
    docs = [d for d in draw(st.sampled_from(PARSED)) if isinstance(d, dict)]
    doc = copy.deepcopy(draw(st.sampled_from(docs))) if docs else {}
    mutate: bool = draw(st.booleans())
    paths = field_paths(doc)
    if paths and mutate:
        *parents, last = draw(st.sampled_from(paths))
        node = doc
        for key in parents:
            node = node[key]
        node[last] = copy.deepcopy(draw(ODD_VALUES))
    return doc


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(confused_manifests())
def test_a_manifest_is_refused_exactly_when_it_does_not_fit(doc: dict[str, Any]) -> None:
    problem = manifest_problem(doc)
    shape = _shape_of(doc)
    if shape is not None and "items" not in doc:
        assert (problem is None) == (problem_in(doc, shape, "") is None)
