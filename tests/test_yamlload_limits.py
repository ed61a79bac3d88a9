"""yamlload's fast paths (plain string keys and values, no alias count without an anchor)
keep every limit: depth counted at keys, nodes counted without aliases."""

from __future__ import annotations

import pytest

from stowage.read.yamlload import Limits, YamlError, load_document


def nested(levels: int) -> str:
    """``levels`` nested block mappings with plain keys, the innermost holding a scalar."""
    return "".join(f"{'  ' * i}k{i}:\n" for i in range(levels)) + "  " * levels + "v\n"


def test_depth_limit_counts_plain_keys_exactly() -> None:
    limits = Limits(max_depth=5)
    assert load_document(nested(5), limits) is not None
    with pytest.raises(YamlError, match="nests deeper than 5 levels"):
        load_document(nested(6), limits)


def test_node_limit_holds_for_a_document_without_anchors() -> None:
    text = "".join(f"key{i}: value{i}\n" for i in range(50))
    assert load_document(text, Limits(max_nodes=101)) is not None
    with pytest.raises(YamlError, match="expands to more than 100 nodes"):
        load_document(text, Limits(max_nodes=100))


def test_an_ampersand_inside_a_value_is_not_mistaken_for_a_bomb() -> None:
    text = "url: 'https://x.example/?a=1&b=2'\nitems: [a, b]\n"
    assert load_document(text, Limits(max_nodes=10)) == {
        "url": "https://x.example/?a=1&b=2",
        "items": ["a", "b"],
    }


def test_short_strings_repeated_across_documents_are_shared_not_copied() -> None:
    first = load_document("metadata: {name: web, labels: {app: web}}\n", Limits())
    second = load_document("metadata: {name: web, labels: {app: web}}\n", Limits())
    assert first == second
    assert first["metadata"]["name"] is second["metadata"]["name"]
    assert next(iter(first["metadata"])) is next(iter(second["metadata"]))
