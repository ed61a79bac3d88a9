"""The YAML writer for changed documents reads back exactly as the data it wrote."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from stowage.write.yamlwrite import dump

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(),
    st.sampled_from(
        [
            "yes",
            "No",
            "on",
            "null",
            "~",
            "0755",
            "1e3",
            "2024-01-01",
            "- a",
            "a: b",
            "#x",
            "ghcr.io/dask/dask:2025.11.0",
            "a\n",
            "a\n\n",
            "line\nline2",
            " lead",
            "x\r\ny",
            "\u2028",
            "tab\there",
            "---",
            "...",
            "*alias",
            "&anchor",
            "!tag",
        ]
    ),
)
keys = st.one_of(st.text(min_size=1), st.sampled_from(["on", "yes", "key: x", "- k"]))
data = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(keys, data, min_size=1, max_size=5))
def test_round_trips_through_pyyaml(document: dict[str, Any]) -> None:
    assert yaml.safe_load(dump(document)) == document


def test_kubernetes_shapes_look_like_kubectl() -> None:
    doc = {
        "kind": "Deployment",
        "spec": {"containers": [{"name": "w", "args": ["--port", "8790"], "env": []}]},
        "data": {"script.sh": "#!/bin/sh\necho hi\n"},
    }
    assert dump(doc) == (
        "kind: Deployment\n"
        "spec:\n"
        "  containers:\n"
        "    - name: w\n"
        "      args:\n"
        '        - "--port"\n'
        '        - "8790"\n'
        "      env: []\n"
        "data:\n"
        "  script.sh: |\n"
        "    #!/bin/sh\n"
        "    echo hi\n"
    )


# YAML 1.1 (PyYAML, and go-yaml v2 inside Helm and kubectl) reads these plain words as
# booleans or null; y and n are booleans to go-yaml v2 even where PyYAML disagrees.
YAML11_WORDS = ["y", "n", "yes", "no", "true", "false", "on", "off", "null"]


@pytest.mark.parametrize(
    "word", [w for word in YAML11_WORDS for w in (word, word.capitalize(), word.upper())]
)
def test_words_yaml_1_1_reads_as_booleans_or_null_are_quoted(word: str) -> None:
    text = dump({word: word, "list": [word]})
    assert text == f'"{word}": "{word}"\nlist:\n  - "{word}"\n'
    assert yaml.safe_load(text) == {word: word, "list": [word]}


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (float("nan"), "k: .nan\n"),
        (float("inf"), "k: .inf\n"),
        (float("-inf"), "k: -.inf\n"),
        ("a\n\nb\n", "k: |\n  a\n\n  b\n"),  # an empty line stays empty, not padded
        ("a\nb", "k: |-\n  a\n  b\n"),
        ("x\n", "k: |\n  x\n"),
        ("\n\n", 'k: "\\n\\n"\n'),  # no content line: quoted
        (" lead\nx", 'k: " lead\\nx"\n'),  # would need an indentation indicator
        ("\tx\ny", 'k: "\\tx\\ny"\n'),
        ("naïve", 'k: "naïve"\n'),  # UTF-8 kept as it is, not \u-escaped
        ("x  \n", "k: |\n  x  \n"),  # blanks before the last newline are content
        ("X\nb\nX\n", "k: |\n  X\n  b\n  X\n"),  # X is a letter like any other
    ],
)
def test_exact_text_for_floats_and_multi_line_strings(value: Any, written: str) -> None:
    assert dump({"k": value}) == written


@pytest.mark.parametrize(
    ("key", "written"),
    [
        (80, "80: v\n"),  # PyYAML reads `80:` in a manifest as an int key
        (True, "true: v\n"),
        (None, "null: v\n"),
        (1e-05, "1.0e-05: v\n"),  # as a value is written, not as JSON's 1e-05 (a string)
        ("a\nb", '"a\\nb": v\n'),
    ],
)
def test_keys_that_are_not_plain_strings_read_back_as_the_same_key(key: Any, written: str) -> None:
    text = dump({key: "v"})
    assert text == written
    assert yaml.safe_load(text) == {key: "v"}


def test_a_top_level_block_scalar_is_indented_by_two() -> None:
    assert dump("a\nb") == "|-\n  a\n  b\n"


def test_a_top_level_list_nests_lists_and_blocks_by_two() -> None:
    data = ["a", ["b", ["c", "d\ne"]], {"k": False}, "x\ny", False]
    text = dump(data)
    assert text == (
        "- a\n-\n  - b\n  -\n    - c\n    - |-\n      d\n      e\n"
        "- k: false\n- |-\n  x\n  y\n- false\n"
    )
    assert yaml.safe_load(text) == data


def test_keys_equal_as_numbers_keep_their_own_type_and_indent() -> None:
    """1 == True in Python: a bool key written after an int key must still say true."""
    assert dump({"a": {1: "v"}}) == "a:\n  1: v\n"
    assert dump({"a": {True: "v"}}) == "a:\n  true: v\n"
