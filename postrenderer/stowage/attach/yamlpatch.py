"""Rewrite a YAML or JSON text to hold new data, changing only what changed.

For the pod templates kept in ConfigMap data: the consumer (Owl, dask, Airflow)
must read the key as before, so every byte outside the places stowage changed
stays as it was, comments, quoting and key order included. Changed scalars are
replaced where they stand; new mapping keys and list items are inserted after
the last line of their mapping or list, at its indentation; anything else that
changed (a flow collection, a removed key) is rewritten in block style. New
strings are written plain where YAML allows it, so Owl still expands
`${USER}` in `/storage/${USER}` (it expands variables in plain scalars only).
A JSON text is written back as JSON.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from stowage.read.yamlcareful import _Builder
from stowage.read.yamlload import Limits, load_document
from stowage.write import yamlwrite

Edit = tuple[int, int, str]  # replace text[start:end] with the string


def rewrite(text: str, new: Any, limits: Limits) -> str:
    """``text`` changed to hold ``new`` (a YAML or JSON document)."""
    if _is_json(text):
        return _json_text(text, new)
    node = yaml.compose(text, Loader=yaml.SafeLoader)  # pure-Python marks count characters
    if node is None:
        return yamlwrite.dump(new)
    edits: list[Edit] = []
    patcher = _Patcher(text, limits, edits)
    patcher.patch(node, new, 0)
    # Back to front; at one position the later-recorded (outer) edit goes in first, so
    # an inner list's new items end up before the new keys of the mapping holding it.
    ordered = sorted(enumerate(edits), key=lambda e: (e[1][0], e[1][1], e[0]), reverse=True)
    out = text
    for _, (start, end, replacement) in ordered:
        out = out[:start] + replacement + out[end:]
    if patcher.aliased or load_document(out, limits) != new:
        # A change under an alias (the anchor's text is shared) or a layout the edits
        # cannot express: write the whole document instead, the data exact.
        return yamlwrite.dump(new)
    return out


def _is_json(text: str) -> bool:
    stripped = text.lstrip()
    if not stripped.startswith(("{", "[")):
        return False
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _json_text(text: str, new: Any) -> str:
    lines = text.strip().splitlines()
    indent: int | None = None
    if len(lines) > 1:
        second = lines[1]
        indent = len(second) - len(second.lstrip(" ")) or 2
    out = json.dumps(new, indent=indent, ensure_ascii=False)
    if indent is None and ", " not in text and ": " not in text:
        out = json.dumps(new, separators=(",", ":"), ensure_ascii=False)
    return out + ("\n" if text.endswith("\n") else "")


class _Patcher:
    def __init__(self, text: str, limits: Limits, edits: list[Edit]) -> None:
        self.text, self.limits, self.edits = text, limits, edits
        self.seen: set[int] = set()
        self.aliased = False  # a changed node is reached twice (through an alias)

    def value(self, node: Node) -> Any:
        """The data a node holds, read exactly as the engine reads it."""
        return _Builder(self.limits).build(node)

    def patch(self, node: Node, new: Any, indent: int) -> None:
        """Record the edits turning ``node`` into ``new``; ``indent``: its block column."""
        old = self.value(node)
        if old == new and type(old) is type(new):
            return
        if id(node) in self.seen:
            self.aliased = True
            return
        self.seen.add(id(node))
        if not self._patch_in_place(node, new):
            self._replace(node, new, indent)

    def _patch_in_place(self, node: Node, new: Any) -> bool:
        if isinstance(node, MappingNode) and isinstance(new, dict) and self._block(node):
            return self._patch_mapping(node, new)
        if isinstance(node, SequenceNode) and isinstance(new, list) and self._block(node):
            return self._patch_sequence(node, new)
        return False

    def _block(self, node: MappingNode | SequenceNode) -> bool:
        return not node.flow_style and bool(node.value)

    def _patch_mapping(self, node: MappingNode, new: dict[Any, Any]) -> bool:
        keys = [self.value(k) for k, _ in node.value]
        if any(k not in new for k in keys) or len(set(map(repr, keys))) != len(keys):
            return False
        column = node.value[0][0].start_mark.column
        for key, (_, value_node) in zip(keys, node.value, strict=True):
            self.patch(value_node, new[key], column + 2)
        added = {k: v for k, v in new.items() if k not in keys}
        if added:
            out: list[str] = []
            yamlwrite.mapping(added, column, out)
            self._insert_after(node, "".join(out))
        return True

    def _patch_sequence(self, node: SequenceNode, new: list[Any]) -> bool:
        if len(new) < len(node.value):
            return False
        column = node.start_mark.column  # the first item's dash
        for item_node, item in zip(node.value, new, strict=False):
            self.patch(item_node, item, column + 2)
        extra = new[len(node.value) :]
        if extra:
            out: list[str] = []
            yamlwrite.sequence(extra, column, out)
            self._insert_after(node, "".join(out))
        return True

    def _insert_after(self, node: Node, block: str) -> None:
        """Insert whole lines after the last line of ``node``."""
        end = _end(node)
        if end > 0 and self.text[end - 1] == "\n":
            self.edits.append((end, end, block))
            return
        newline = self.text.find("\n", end)
        if newline < 0:
            self.edits.append((len(self.text), len(self.text), "\n" + block.rstrip("\n")))
        else:
            self.edits.append((newline, newline, "\n" + block.rstrip("\n")))

    def _replace(self, node: Node, new: Any, indent: int) -> None:
        start, end = node.start_mark.index, _end(node)
        inline = self._inline_position(start)
        if start == end:  # an empty value: take the blanks around it too
            end += len(self.text[end:]) - len(self.text[end:].lstrip(" \t"))
        if inline:
            start = len(self.text[:start].rstrip(" \t"))
        if isinstance(new, dict | list) and new:
            column = indent if inline else node.start_mark.column
            out: list[str] = []
            if isinstance(new, dict):
                yamlwrite.mapping(new, column, out)
            else:
                yamlwrite.sequence(new, column, out)
            block = "".join(out).rstrip("\n")
            text = "\n" + block if inline else block[column:]
        else:
            text = yamlwrite.scalar(new, indent)
            if inline:
                text = " " + text
        self.edits.append((start, end, text))

    def _inline_position(self, start: int) -> bool:
        """Whether the node starts on a line after other text (`key: value`, `- value`)."""
        line_start = self.text.rfind("\n", 0, start) + 1
        return bool(self.text[line_start:start].strip())


def _end(node: Node) -> int:
    """Where a node's own text ends: for a block collection, its last leaf's end."""
    if isinstance(node, MappingNode) and not node.flow_style and node.value:
        return _end(node.value[-1][1])
    if isinstance(node, SequenceNode) and not node.flow_style and node.value:
        return _end(node.value[-1])
    return int(node.end_mark.index)
