"""split() finds marker lines with str.find: the same lines a multiline regex finds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from stowage.manifests import _MARKER, _markers

PIECES = st.sampled_from(
    ["---", "...", "--- x", "....", "-- ", "\n", "\r\n", " ", "\t", "a: 1", "#"]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(PIECES, max_size=30).map("".join))
def test_markers_are_the_lines_the_regex_finds(text: str) -> None:
    expected = [(m.start(), m.end()) for m in _MARKER.finditer(text)]
    assert [(m.start(), m.end()) for m in _markers(text)] == expected
