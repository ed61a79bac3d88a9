"""The careful loader: PyYAML's C parser builds the node graph, this module the data.

It turns nodes into plain Python data itself so that it can count every node
an alias would expand to (a "billion laughs" document is refused after
``max_nodes`` nodes, long before memory grows), refuse duplicate mapping keys
as the API server would mis-handle them, and bound nesting depth. Aliases are
expanded into copies, so changing one place never changes another. Imported
on first use: a large stream that :mod:`stowage.read.yamlfast` reads whole never
pays for PyYAML.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from stowage.read.yamlbase import SHARED, SHARED_MAX_ENTRIES, Limits, YamlError

try:  # the C parser is ~5x faster; fall back to pure Python where libyaml is absent
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

_SCALARS = yaml.SafeLoader("")  # a constructor for scalar tags only; never loads a stream
_STR = "tag:yaml.org,2002:str"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MERGE = "tag:yaml.org,2002:merge"


def load(text: str, limits: Limits) -> Any:
    """One document's data; YamlError when PyYAML refuses it or a limit is passed."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        raise YamlError(_describe(err, text), mark.line + 1 if mark else None) from None
    except yaml.YAMLError as err:
        raise YamlError(str(err).replace("\n", " ")) from None
    if node is None:
        return None
    # Without an anchor there is no alias, so nothing expands: the builder's own
    # count and depth checks bound the work (the node graph is as big as the text).
    size = _expanded_size(node, limits, {}, 0) if "&" in text else 0
    if size > limits.max_nodes:
        raise YamlError(
            f"document expands to more than {limits.max_nodes} nodes (an alias bomb?); "
            "raise --max-nodes if it is genuine",
            node.start_mark.line + 1,
        )
    return _Builder(limits).build(node)


def _expanded_size(node: Node, limits: Limits, memo: dict[int, int], depth: int) -> int:
    """Nodes the document would have with every alias expanded, without expanding them."""
    known = memo.get(id(node))
    if known is not None:
        return known
    if depth > limits.max_depth:
        raise YamlError(
            f"document nests deeper than {limits.max_depth} levels", node.start_mark.line + 1
        )
    size = 1
    if isinstance(node, SequenceNode):
        size += sum(_expanded_size(child, limits, memo, depth + 1) for child in node.value)
    elif isinstance(node, MappingNode):
        for key, value in node.value:
            size += _expanded_size(key, limits, memo, depth + 1)
            size += _expanded_size(value, limits, memo, depth + 1)
    memo[id(node)] = size = min(size, limits.max_nodes + 1)
    return size


def _describe(err: yaml.MarkedYAMLError, text: str) -> str:
    mark = err.problem_mark
    if mark is not None and text[mark.index : mark.index + 1] == "\t":
        return (
            f"a tab at column {mark.column + 1}: YAML indents with spaces only; "
            "replace the tab with spaces"
        )
    parts = [p for p in (err.context, err.problem) if p]
    return "; ".join(parts) or "invalid YAML"


_SHARED_MAX_LENGTH = 64  # longer strings (scripts, certificates) rarely repeat


def _shared(text: str) -> str:
    if len(text) > _SHARED_MAX_LENGTH:
        return text
    known = SHARED.get(text)
    if known is not None:
        return known
    if len(SHARED) >= SHARED_MAX_ENTRIES:
        SHARED.clear()
    SHARED[text] = text
    return text


class _Builder:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.count = 0

    def build(self, node: Node, depth: int = 0) -> Any:
        self.count += 1
        if self.count > self.limits.max_nodes:
            raise YamlError(
                f"document expands to more than {self.limits.max_nodes} nodes "
                "(an alias bomb?); raise --max-nodes if it is genuine",
                node.start_mark.line + 1,
            )
        if depth > self.limits.max_depth:
            raise YamlError(
                f"document nests deeper than {self.limits.max_depth} levels",
                node.start_mark.line + 1,
            )
        if type(node) is ScalarNode and node.tag == _STR:
            return _shared(node.value)  # most scalars: no constructor to call
        if isinstance(node, ScalarNode):
            return self._scalar(node)
        if isinstance(node, SequenceNode):
            return [self.build(child, depth + 1) for child in node.value]
        if isinstance(node, MappingNode):
            return self._mapping(node, depth)
        raise YamlError(f"unsupported YAML node {type(node).__name__}", node.start_mark.line + 1)

    def _scalar(self, node: ScalarNode) -> Any:
        if node.tag == _TIMESTAMP:
            return node.value  # Kubernetes treats timestamps as strings
        constructor = _SCALARS.yaml_constructors.get(node.tag)
        if constructor is None:
            return node.value  # unknown tags: keep the text, as kubectl does
        try:
            return constructor(_SCALARS, node)
        except (ValueError, yaml.YAMLError):
            # Never echo the value: it may be a Secret's.
            raise YamlError(
                f"a value tagged {node.tag} is not valid for that tag", node.start_mark.line + 1
            ) from None

    def _mapping(self, node: MappingNode, depth: int) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        plain_keys_fit = depth < self.limits.max_depth
        for key_node, value_node in node.value:
            if plain_keys_fit and type(key_node) is ScalarNode and key_node.tag == _STR:
                # The common case, inline; the value's build right after checks the count.
                self.count += 1
                key = _shared(key_node.value)
            else:
                key = self._key(key_node, depth)
            if key in result:
                raise YamlError(
                    f"duplicate key {key!r} (the API server would keep only one of them)",
                    key_node.start_mark.line + 1,
                )
            result[key] = self.build(value_node, depth + 1)
        return result

    def _key(self, key_node: Node, depth: int) -> Any:
        if key_node.tag == _MERGE:
            raise YamlError(
                "YAML merge keys (<<) are not supported in manifests",
                key_node.start_mark.line + 1,
            )
        key = self.build(key_node, depth + 1)
        if isinstance(key, list | dict):
            raise YamlError("a mapping key must be a scalar", key_node.start_mark.line + 1)
        return key
