"""split() finds marker lines with str.find: the same lines a multiline regex finds."""

from __future__ import annotations

import itertools

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from stowage.read.manifests import _MARKER, Document, _markers, split

PIECES = st.sampled_from(
    ["---", "...", "--- x", "....", "-- ", "\n", "\r\n", " ", "\t", "a: 1", "#"]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(PIECES, max_size=30).map("".join))
def test_markers_are_the_lines_the_regex_finds(text: str) -> None:
    expected = [(m.start(), m.end()) for m in _MARKER.finditer(text)]
    assert [(m.start(), m.end()) for m in _markers(text)] == expected


def _leading_comments_by_splitting_everything(text: str) -> str:
    def comment_or_blank(raw: str) -> bool:
        return not raw.strip() or raw.strip().startswith("#")

    return "".join(itertools.takewhile(comment_or_blank, text.splitlines(keepends=True)))


COMMENTS = st.sampled_from(
    ["# Source: x\n", "\n", "  # c\n", "a: 1\n", " b\n", "#\x85x\n", "\u3000y\n", "\r\n", "\t#\n"]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(COMMENTS, max_size=8).map("".join))
def test_leading_comments_are_those_before_the_first_content_line(text: str) -> None:
    doc = Document(0, 1, "", text)
    assert doc.leading_comments() == _leading_comments_by_splitting_everything(text)


def test_objects_of_some_kinds_include_list_items_and_skip_odd_kinds() -> None:
    text = (
        "---\nkind: Secret\nmetadata: {name: a}\n"
        "---\nkind: List\nitems:\n- {kind: Secret, metadata: {name: b}}\n- {kind: Pod}\n"
        "---\nkind: [Secret]\nmetadata: {name: c}\n"  # `kind: []` is not hashable
        "---\nkind: PersistentVolumeClaim\nmetadata: {name: d}\n"
    )
    stream = split(text)
    for doc in stream.documents:
        doc.body, doc.parsed = yaml.safe_load(doc.text), True
    assert [(o.ref.name, o.item) for o in stream.objects({"Secret"})] == [("a", None), ("b", 0)]
    assert len(list(stream.objects())) == 5
