"""yamlpatch: a text changed to hold new data, byte-identical wherever the data did not change."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stowage.attach.yamlpatch import rewrite
from stowage.read.yamlload import Limits, load_document

LIMITS = Limits()


def patched(text: str, change: Any) -> str:
    data = load_document(text, LIMITS)
    new = copy.deepcopy(data)
    change(new)
    out = rewrite(text, new, LIMITS)
    assert load_document(out, LIMITS) == new
    return out


def test_appended_items_and_keys_land_after_the_last_line_keeping_comments() -> None:
    text = "a:  # first\n  list:\n  - x   # item\n  other: 1\n# trailing comment\nb: 2\n"

    def change(d: dict[str, Any]) -> None:
        d["a"]["list"].append({"name": "v", "path": "/storage/${USER}"})
        d["a"]["new"] = True

    out = patched(text, change)
    assert out == (
        "a:  # first\n  list:\n  - x   # item\n  - name: v\n    path: /storage/${USER}\n"
        "  other: 1\n  new: true\n# trailing comment\nb: 2\n"
    )


def test_changed_scalar_is_replaced_where_it_stands() -> None:
    out = patched('a: "quoted"  # why\nb: old\n', lambda d: d.update(b="new"))
    assert out == 'a: "quoted"  # why\nb: new\n'


@pytest.mark.parametrize("empty", ["[]", "{}", "", "null"])
def test_an_empty_or_flow_value_becomes_a_block(empty: str) -> None:
    text = f"spec:\n  volumes: {empty}\n  x: 1\n"
    out = patched(text, lambda d: d["spec"].update(volumes=[{"name": "a"}]))
    assert out == "spec:\n  volumes:\n    - name: a\n  x: 1\n"


def test_no_trailing_newline_and_document_markers() -> None:
    out = patched("\n---\na:\n  - 1", lambda d: d["a"].append(2))
    assert out == "\n---\na:\n  - 1\n  - 2"


def test_unchanged_data_returns_the_same_text() -> None:
    text = "a: {b: [1, 2]}  # flow\n"
    assert rewrite(text, load_document(text, LIMITS), LIMITS) == text


def test_a_key_with_no_document_gets_the_new_data_written() -> None:
    assert rewrite("# only a comment\n", {"a": 1}, LIMITS) == "a: 1\n"


def test_json_stays_json_with_its_indentation() -> None:
    out = patched('{\n    "a": [1]\n}\n', lambda d: d["a"].append(2))
    assert out == '{\n    "a": [\n        1,\n        2\n    ]\n}\n'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a":[1],"b":"é"}', '{"a":[1,2],"b":"é"}'),
        ('{"a": [1], "b": "é"}\n', '{"a": [1, 2], "b": "é"}\n'),
        ('{"a":[1, 0]}', '{"a": [1, 0, 2]}'),
        ('{"a": [1]}', '{"a": [1, 2]}'),
        ('{"a":[1],\n"b": 0}', '{\n  "a": [\n    1,\n    2\n  ],\n  "b": 0\n}'),
    ],
    ids=["compact", "spaced", "some-spaces", "colon-space", "unindented-lines"],
)
def test_json_keeps_its_layout_and_characters(text: str, expected: str) -> None:
    """A one-line JSON value stays one line, compact or spaced as it was; a multi-line one
    is indented (by two when its lines are not); non-ASCII characters stay as they are."""
    assert patched(text, lambda d: d["a"].append(2)) == expected


LIST = "a:\n  - x  # one\n  - y  # two\nb: 1  # keep\n"


@pytest.mark.parametrize(
    ("text", "change", "expected"),
    [
        (
            "spec:\n  volumes:\n  x: 1  # keep\n",
            lambda d: d["spec"].update(volumes=[{"name": "a"}]),
            "spec:\n  volumes:\n    - name: a\n  x: 1  # keep\n",
        ),
        (
            "spec:\n  volumes: {}\n  x: 1  # keep\n",
            lambda d: d["spec"].update(volumes={"a": 1}),
            "spec:\n  volumes:\n    a: 1\n  x: 1  # keep\n",
        ),
        (
            "top:\n  a:\n    - x  # one\n  b: 1  # keep\n",
            lambda d: d["top"].update(a={"k": "v"}),
            "top:\n  a:\n    k: v  # one\n  b: 1  # keep\n",
        ),
        (LIST, lambda d: d["a"].__setitem__(1, "z"), LIST.replace("- y", "- z")),
        (LIST, lambda d: d["a"].pop(), "a:\n  - x  # two\nb: 1  # keep\n"),
        (
            LIST,
            lambda d: d["a"].__setitem__(1, {"k": "v"}),
            "a:\n  - x  # one\n  -\n    k: v  # two\nb: 1  # keep\n",
        ),
        (
            "a:\n  - k: 1  # one\n  - y  # two\nb: 1  # keep\n",
            lambda d: d["a"][0].update(k={"n": [1, 2]}),
            'a:\n  - k:\n      "n":\n        - 1\n        - 2  # one\n  - y  # two\nb: 1  # keep\n',
        ),
        (
            "a:\n  k: |\n    line\nb: 1  # keep\n",
            lambda d: d["a"].update(n="x"),
            'a:\n  k: |\n    line\n  "n": x\nb: 1  # keep\n',
        ),
        ("a:\n  - 1", lambda d: d["a"].append("aX"), "a:\n  - 1\n  - aX"),
        (
            "a:\n  x: 1\n  y: 2  # c\nb: 1  # keep\n",
            lambda d: d["a"].pop("y"),
            "a:\n  x: 1  # c\nb: 1  # keep\n",
        ),
        (
            "a: {b: 1}  # c\nc: 1  # keep\n",
            lambda d: d["a"].update(b=2),
            "a:\n  b: 2  # c\nc: 1  # keep\n",
        ),
        ("{a: [1]}\n", lambda d: d["a"].append(2), "a:\n  - 1\n  - 2\n"),
        ('\n{"a": [1]}\n', lambda d: d["a"].append(2), '{"a": [1, 2]}\n'),
        ("[1, 2]\n", lambda d: d.append(3), "[1, 2, 3]\n"),
        (
            "a:\n- x  # one\n- y\nb: 1  # keep\n",
            lambda d: d["a"].__setitem__(1, {"k": "v"}),
            "a:\n- x  # one\n-\n  k: v\nb: 1  # keep\n",
        ),
        (
            "a: 1  # c\nb: 2  # keep\n",
            lambda d: d.update(a={"k": "X"}),
            "a:\n  k: X  # c\nb: 2  # keep\n",
        ),
        (
            "a:\n  - 1\nb: 2  # keep\n",
            lambda d: d["a"].append("aX"),
            "a:\n  - 1\n  - aX\nb: 2  # keep\n",
        ),
        ("a: 1  # c\nb: 2  # keep\n", lambda d: d.update(a="x\ny\n"), "a: |\n  x\n  y\nb: 2\n"),
    ],
    ids=[
        "empty-value",
        "flow-mapping",
        "list-to-mapping",
        "list-item",
        "list-shortened",
        "item-to-mapping",
        "nested-value",
        "after-a-block-scalar",
        "no-final-newline",
        "key-removed",
        "flow-mapping-changed",
        "yaml-flow-not-json",
        "json-after-a-blank-line",
        "json-list",
        "unindented-list-item",
        "value-to-block-ending-in-x",
        "item-ending-in-x-mid-text",
        "multi-line-string-rewrites-the-document",
    ],
)
def test_changed_values_are_rewritten_where_they_stand_keeping_the_other_lines(
    text: str, change: Any, expected: str
) -> None:
    """Comments and lines around a changed value stay: the whole document is rewritten
    only when the edits cannot express the change."""
    assert patched(text, change) == expected


_keys = st.sampled_from(["a", "b", "volumes", "c"])
_scalars = st.one_of(
    st.integers(), st.booleans(), st.sampled_from(["x", "/storage/${USER}", "y z"])
)
_data = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_keys, inner, max_size=3)),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(_keys, _data, min_size=1, max_size=3),
    st.dictionaries(_keys, _data, max_size=2),
)
def test_any_additions_read_back_as_the_new_data(
    base: dict[str, Any], extra: dict[str, Any]
) -> None:
    from stowage.write import yamlwrite

    text = yamlwrite.dump(base)
    new = copy.deepcopy(base)
    for key, value in extra.items():
        current = new.get(key)
        if isinstance(current, list) and isinstance(value, list):
            current.extend(value)
        elif key not in new:
            new[key] = value
    out = rewrite(text, new, LIMITS)
    assert load_document(out, LIMITS) == new
    first = text.split("\n", 1)[0]
    if new[next(iter(base))] == base[next(iter(base))]:
        assert out.startswith(first)  # an unchanged first entry stays as it was


def test_a_change_under_an_alias_rewrites_the_whole_document_exactly() -> None:
    text = "base: &b\n  volumes:\n    - name: a\nuse: *b\n"

    def change(d: dict[str, Any]) -> None:
        d["use"] = copy.deepcopy(d["use"])
        d["use"]["volumes"].append({"name": "new"})

    out = patched(text, change)
    assert load_document(out, LIMITS)["base"] == {"volumes": [{"name": "a"}]}
