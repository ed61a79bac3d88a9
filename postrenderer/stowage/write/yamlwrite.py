"""A small, fast, deterministic YAML writer for the documents stowage changes.

It writes the JSON-like data of Kubernetes manifests (dicts, lists, str, int,
float, bool, None) in block style the way kubectl does (sequences indented
under their key). A string is written plain only when it is unambiguous under
both YAML 1.1 (PyYAML, go-yaml v2 used by Helm) and 1.2; otherwise it is
double-quoted with JSON escapes, which YAML reads the same. Multi-line strings
(scripts, carried manifests) become literal blocks. About 6x faster than
PyYAML's representer, which is what dominates a large render.
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from typing import Any

# `$`, `{` and `}` may follow the first character: in block context they are not
# indicators, so `/storage/${USER}` stays plain (Owl expands ${VAR} only in plain scalars).
_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./@+${}-]*(?::[A-Za-z0-9_./@+${}-]+)*$")
_AMBIGUOUS = frozenset({"y", "n", "yes", "no", "true", "false", "on", "off", "null"})
# Characters YAML may not hold raw in a double-quoted scalar, or reads as line breaks.
_UNSAFE_CHARS = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")
_BLOCK_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]"
)


def dump(data: Any) -> str:
    """One document's YAML text, ending in a newline."""
    out: list[str] = []
    if isinstance(data, dict) and data:
        _mapping(data, 0, out)
    elif isinstance(data, list) and data:
        _sequence(data, 0, out)
    else:
        out.append(_scalar(data, 0) + "\n")
    return "".join(out)


def _mapping(data: dict[Any, Any], indent: int, out: list[str]) -> None:
    # Exact type checks first: the hot path of a large render (most values are strings).
    for key, value in data.items():
        head = _head(indent, key) if type(key) is str else f"{' ' * indent}{_key(key)}:"
        kind = type(value)
        if kind is str and "\n" not in value:
            out.append(f"{head} {_string(value)}\n")
        elif isinstance(value, dict) and value:
            out.append(head + "\n")
            _mapping(value, indent + 2, out)
        elif isinstance(value, list) and value:
            out.append(head + "\n")
            _sequence(value, indent + 2, out)
        else:
            out.append(f"{head} {_scalar(value, indent + 2)}\n")


def _sequence(data: list[Any], indent: int, out: list[str]) -> None:
    pad = " " * indent
    for item in data:
        if isinstance(item, dict) and item:
            start = len(out)
            _mapping(item, indent + 2, out)
            out[start] = pad + "- " + out[start][indent + 2 :]
        elif isinstance(item, list) and item:
            out.append(pad + "-\n")
            _sequence(item, indent + 2, out)
        else:
            out.append(f"{pad}- {_scalar(item, indent + 2)}\n")


@lru_cache(maxsize=1 << 14)
def _head(indent: int, key: str) -> str:
    """`key:` at ``indent``; the same few hundred keys recur in every manifest."""
    return f"{' ' * indent}{_key(key)}:"


def _key(key: Any) -> str:
    if isinstance(key, str) and "\n" not in key:
        return _string(key)
    return _scalar(key, 0) if not isinstance(key, str) else _quoted(key)


def _scalar(value: Any, indent: int) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    text = str(value)
    if "\n" in text and not _BLOCK_UNSAFE.search(text):
        return _literal(text, indent)
    return _string(text)


def _float(value: float) -> str:
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    mantissa, _, exponent = repr(value).partition("e")
    if "." not in mantissa:
        mantissa += ".0"  # YAML 1.1 reads "1e-05" as a string
    return f"{mantissa}e{exponent}" if exponent else mantissa


@lru_cache(maxsize=1 << 16)  # keys and label values repeat across thousands of workloads
def _string(text: str) -> str:
    if _PLAIN.match(text) and text.lower() not in _AMBIGUOUS:
        return text
    return _quoted(text)


def _quoted(text: str) -> str:
    quoted = json.dumps(text, ensure_ascii=False)
    return _UNSAFE_CHARS.sub(_escape, quoted)


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group(0)):04x}"


def _literal(text: str, indent: int) -> str:
    """A literal block scalar (`|`) whose content reads back exactly as ``text``."""
    body = text.rstrip("\n")
    if body == "" or body[0] in " \t":
        return _quoted(text)  # would need an indentation indicator: keep it simple
    trailing = len(text) - len(body)
    chomp = "-" if trailing == 0 else "" if trailing == 1 else "+"
    pad = " " * max(indent, 2)
    content = "".join((pad + line if line else "") + "\n" for line in body.split("\n"))
    content += "\n" * max(trailing - 1, 0)
    return f"|{chomp}\n{content[:-1]}"


# The block writers, for callers that insert into an existing text (stowage.attach.yamlpatch).
mapping = _mapping
sequence = _sequence
scalar = _scalar
