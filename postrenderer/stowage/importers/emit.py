"""The output edge of `stowage import`: commented YAML values and the stderr report."""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from stowage.importers.base import EMPTY, Imported, Key

EOL_LIMIT = 70
INDENT = 2
LINE_LIMIT = 80  # yamllint's default line-length


def to_yaml(imported: Imported, origin: str) -> str:
    """Commented values that pass yamllint's default rules (start marker, 80 columns,
    two spaces before a comment)."""
    root = _commented(imported.values)
    orphans = _attach(root, imported)
    header = header_lines(imported, origin, orphans)
    if not imported.values:
        return "---\n" + "".join(f"#{' ' if line else ''}{line}\n" for line in header) + "{}\n"
    root.yaml_set_start_comment("\n".join(header))
    yaml = YAML()
    yaml.indent(mapping=INDENT, sequence=INDENT * 2, offset=INDENT)
    yaml.width = 4096
    out = io.StringIO()
    yaml.dump(root, out)
    return "---\n" + "".join(_lint_clean(line) for line in out.getvalue().splitlines())


def _lint_clean(line: str) -> str:
    """One dumped line, as yamllint wants it; an end-of-line comment too long moves above."""
    if line.lstrip().startswith("#"):
        if len(line) <= LINE_LIMIT:
            return line + "\n"
        return _comment_block(line[: len(line) - len(line.lstrip())], line.lstrip()[1:].strip())
    split = _comment_start(line)
    if split is None:
        return line + "\n"
    content, comment = line[:split].rstrip(), line[split + 1 :].strip()
    if len(content) + 4 + len(comment) <= LINE_LIMIT:
        return f"{content}  # {comment}\n"
    indent = content[: len(content) - len(content.lstrip())]
    indent += "  " if content.lstrip().startswith("- ") else ""
    return _comment_block(indent, comment) + content + "\n"


def _comment_block(indent: str, text: str) -> str:
    if not text:
        return f"{indent}#\n"
    if len(indent) + 2 + len(text) <= LINE_LIMIT:
        return f"{indent}# {text}\n"
    lead = len(text) - len(text.lstrip())  # keep a bullet's continuation indent
    width = max(LINE_LIMIT - len(indent) - 2 - lead, 20)
    return "".join(
        f"{indent}# {' ' * lead}{part}\n" for part in _wrap(text.strip(), width).split("\n")
    )


def _comment_start(line: str) -> int | None:
    """Index of the `#` that starts an end-of-line comment (outside quotes), if any."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and index and line[index - 1] in " \t":
            return index
    return None


def header_lines(imported: Imported, origin: str, orphans: list[str]) -> list[str]:
    lines = [
        f"stowage chart values imported from {imported.system} ({origin})",
        f"by `stowage import {imported.system}`. Each value says where it came from.",
    ]
    if imported.problems:
        lines += ["", "PROBLEMS in the source (carried over as they are; fix them):"]
        for p in imported.problems:
            lines += _bullet(f"{p.source}: {p.message}. Fix: {p.fix}")
    if imported.assumptions:
        lines += ["", "ASSUMED (the source does not record these; check them):"]
        for a in imported.assumptions:
            lines += _bullet(f"{a.target}: {_flow(a.value)}: {a.reason}")
    if imported.skipped:
        lines += ["", "NOT CARRIED OVER:"]
        for s in imported.skipped:
            lines += _bullet(f"{s.source}: {s.reason}")
    if orphans:
        lines += ["", "ALSO READ:"]
        for text in orphans:
            lines += _bullet(text)
    return lines


def _bullet(text: str) -> list[str]:
    first, *rest = _wrap(text, LINE_LIMIT - 6).split("\n")
    return [f"  - {first}", *(f"    {line}" for line in rest)]


def report_lines(imported: Imported) -> list[str]:
    """What goes to stderr: every problem and every setting not carried over."""
    out = [f"stowage: problem: {p.source}: {p.message}; fix: {p.fix}" for p in imported.problems]
    out += [
        f"stowage: assumed: {a.target}: {_flow(a.value)}: {a.reason}" for a in imported.assumptions
    ]
    out += [f"stowage: not carried over: {s.source}: {s.reason}" for s in imported.skipped]
    return out


def _flow(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


def _commented(value: Any) -> Any:
    if isinstance(value, dict):
        node = CommentedMap()
        for key, item in value.items():
            node[key] = _commented(item)
        return node
    if isinstance(value, list):
        return CommentedSeq(_commented(item) for item in value)
    return value


def _attach(root: CommentedMap, imported: Imported) -> list[str]:
    """Put each provenance comment on its key; return those with no key to sit on."""
    texts: dict[tuple[Key, ...], list[str]] = {}
    orphans: list[str] = []
    for entry in imported.mapped:
        text = entry.comment()
        if entry.note == EMPTY or not text:
            continue
        parent = _parent(root, entry.target)
        if parent is None:
            orphans.append(text)
            continue
        texts.setdefault(entry.target, [])
        if text not in texts[entry.target]:
            texts[entry.target].append(text)
    for target, parts in texts.items():
        _comment(root, target, "; ".join(parts))
    return orphans


def _parent(root: CommentedMap, target: tuple[Key, ...]) -> Any:
    if not target:
        return None
    node: Any = root
    for key in target[:-1]:
        node = _child(node, key)
        if node is None:
            return None
    return node if _child(node, target[-1]) is not None or _has(node, target[-1]) else None


def _child(node: Any, key: Key) -> Any:
    if isinstance(node, CommentedMap):
        return node.get(str(key))
    if isinstance(node, CommentedSeq) and isinstance(key, int) and key < len(node):
        return node[key]
    return None


def _has(node: Any, key: Key) -> bool:
    if isinstance(node, CommentedMap):
        return str(key) in node
    return isinstance(node, CommentedSeq) and isinstance(key, int) and key < len(node)


def _comment(root: CommentedMap, target: tuple[Key, ...], text: str) -> None:
    parent = _parent(root, target)
    key = target[-1]
    if isinstance(parent, CommentedSeq):
        item = parent[key]
        if isinstance(item, CommentedMap) and item:
            # A comment on the "- " line would break the item's first key: it goes after that key.
            item.yaml_add_eol_comment(text, next(iter(item)))
        else:
            parent.yaml_add_eol_comment(text, key)
        return
    if len(text) <= EOL_LIMIT:
        parent.yaml_add_eol_comment(text, str(key))
        return
    column = INDENT * len(target[:-1]) + INDENT * sum(isinstance(k, int) for k in target[:-1])
    before = _wrap(text, LINE_LIMIT - column - 2)
    parent.yaml_set_comment_before_after_key(str(key), before=before, indent=column)


def _wrap(text: str, width: int = 88) -> str:
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    lines.append(current)
    return "\n".join(lines)
