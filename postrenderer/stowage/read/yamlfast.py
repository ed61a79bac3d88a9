"""A fast path for loading plain manifests: rapidyaml parses, emits JSON, json.loads builds.

It vouches only for what it can prove equal to stowage's PyYAML loader
(:mod:`stowage.read.yamlload`) and answers :data:`UNSURE` for everything else,
which then goes the careful way. What it hands back to the careful path:

- text with anchors, aliases, tags, merge keys, directives, tabs, or
  characters PyYAML refuses;
- a document more nodes or levels deep than the limits might allow;
- anything rapidyaml refuses, or a duplicate key;
- a float (rapidyaml rewrites ``-.5`` as ``-0.5``, which YAML 1.1 reads as a
  string), and a string whose text YAML 1.1 would read as a bool, null or
  number (``yes``, ``~``, ``0x1F``, ``1_000``, ``.inf``) or a key it would
  read as one (``80:``, ``on:``): JSON cannot say whether it was quoted.

So the fast path changes how long a load takes, never what it returns.
rapidyaml is optional (``pip install "stowage[fast]"``); without it, or with
``STOWAGE_FAST_YAML=0`` in the environment, every document goes the careful way.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from stowage.read.yamlbase import SHARED, SHARED_MAX_ENTRIES, Limits, flow_brackets

UNSURE: Any = object()  # the answer when only the careful loader can tell

# rapidyaml reads a plain scalar that starts with an indicator (`]x`, `@x`, `[?x]`)
# where PyYAML refuses it or reads a mapping, and a stray `]` or `}` as text; anchors,
# aliases and tags need the careful loader too. (`[a ]` goes the careful way as well:
# Helm's toYaml never writes it.) The first pattern is a cheap filter for the second.
_MAYBE_NODE_START = re.compile(r"[\]}@`&*!?%:](?<![^\s\[{,]:)")
_RISKY_NODE_START = re.compile(r"(?<![^\s\[{,])(?:[@`&*!]|[?:%]\S)|(?<!\S)[\]}]")
_BOOL_NULL = r"yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|true|True|TRUE|false|False|FALSE"
_BOOL_NULL += r"|~|null|Null|NULL|=|<<"
_INT = (
    r"[-+]?(?:0b[0-1_]+|0[0-7_]+|(?:0|[1-9][0-9_]*)|0x[0-9a-fA-F_]+|[1-9][0-9_]*(?::[0-5]?[0-9])+)"
)
_FLOAT = (
    r"[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?"
    r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)
# A JSON number or true/false/null came from a plain scalar, so rapidyaml wrote
# it bare; the same text in a JSON string was quoted in the YAML and is a string.
_JSON_LITERAL = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|true|false|null"
_RISKY_JSON = re.compile(
    r'"(?:(?<=[\s\[{,]")\s'  # text that starts with a space: how rapidyaml reads bad indents
    r'|(?=[-+.0-9~=<yYnNoOtTfF]|")'  # most strings fail here, on their first character
    rf"(?:(?:{_BOOL_NULL}|{_INT}|{_FLOAT}|)\"\s*:"  # a key YAML 1.1 would not read as a string
    rf'|(?!(?:{_JSON_LITERAL})")(?:{_BOOL_NULL}|{_INT}|{_FLOAT})"))'  # such a value, plain
)

DISABLE_VARIABLE = "STOWAGE_FAST_YAML"  # set to 0 to read everything with PyYAML
_ryml: Any = None  # the module once imported; False when it is not installed or switched off
_tree: Any = None  # one rapidyaml tree, cleared and reused: allocating one costs more
_buffer = bytearray(1 << 16)


def available() -> bool:
    """Whether rapidyaml is installed; imported on first use (most runs load a few documents)."""
    global _ryml, _tree  # noqa: PLW0603
    if _ryml is None and os.environ.get(DISABLE_VARIABLE) == "0":
        _ryml = False  # the user's switch: every document the careful way
    if _ryml is None:
        try:
            import ryml
        except ImportError:
            _ryml = False
        else:
            _ryml, _tree = ryml, ryml.Tree()
    return _ryml is not False


def load(text: str, limits: Limits) -> Any:
    """The document's data, or :data:`UNSURE`."""
    raw = _plain_json(text, limits)
    return UNSURE if raw is None else _decode(raw, UNSURE)


def _plain_json(text: str, limits: Limits) -> str | None:
    """The mapping in ``text`` as rapidyaml's JSON, when that JSON shows exactly what
    YAML 1.1 reads; None when only the careful loader can tell."""
    if not available() or _risky_text(text):
        return None
    raw = _to_json(text.encode("utf-8"), limits, flow_brackets(text))
    if raw is None or _RISKY_JSON.search(raw):
        return None
    return raw if raw.startswith("{") else None  # not a mapping: the careful loader says why


def _decode(raw: str, declined: Any) -> Any:
    if len(SHARED) > SHARED_MAX_ENTRIES:
        SHARED.clear()
    try:
        return _decoder().decode(raw)
    except (ValueError, RecursionError):  # a float, a duplicate key, too deep
        return declined


def vouched(text: str, limits: Limits) -> tuple[bool, Any]:
    """(True, data) when the fast path vouches for ``text``, else (False, None): a
    plain pair, since :data:`UNSURE` does not survive a trip to another process."""
    data = load(text, limits)
    return (False, None) if data is UNSURE else (True, data)


# ruamel.yaml's YAML 1.2 resolvers (it reads config files), where they type more than
# YAML 1.1 does: `08`, `1e3` and `0o17` are numbers, timestamps become datetimes.
_INT_1_2 = r"[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+"
_FLOAT_1_2 = (
    r"[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)"
    r"|[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)
_TIMESTAMP = r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}[^\"]*"
_YAML_1_2_ONLY = re.compile(
    rf'"(?:{_INT_1_2}|{_FLOAT_1_2}|{_TIMESTAMP}|true|True|TRUE|false|False|FALSE)"\s*:'  # a key
    rf'|"(?!(?:{_JSON_LITERAL})")(?:{_INT_1_2}|{_FLOAT_1_2}|{_TIMESTAMP})"'  # such a value, plain
)


def load_settings(text: str) -> dict[str, Any] | None:
    """A settings file's mapping as ruamel.yaml (YAML 1.2) reads it, or None to let
    ruamel read it: what :func:`load` vouches for reads the same under YAML 1.1
    and 1.2, once what only 1.2 types (``08``, ``1e3``, ``0o17``, timestamps) is
    declined too."""
    raw = _plain_json(text, Limits())
    if raw is None or _YAML_1_2_ONLY.search(raw):
        return None
    data: dict[str, Any] | None = _decode(raw, None)
    return data


def _risky_text(text: str) -> bool:
    """Merge keys, tabs, byte order marks, characters PyYAML refuses, and nodes that
    start with an indicator."""
    if "<<" in text or "\t" in text or "\ufeff" in text or _non_printable(text):
        return True
    return _MAYBE_NODE_START.search(text) is not None and (
        _RISKY_NODE_START.search(text) is not None
    )


_ASCII_NON_PRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _non_printable(text: str) -> bool:
    """A character PyYAML's reader refuses (its NON_PRINTABLE, without importing PyYAML)."""
    if text.isascii():
        return _ASCII_NON_PRINTABLE.search(text) is not None
    return _unicode_non_printable().search(text) is not None


@cache
def _unicode_non_printable() -> re.Pattern[str]:
    return re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _to_json(data: bytes, limits: Limits, flow_levels: int) -> str | None:
    with silenced_stderr():  # a no-op inside a batch that is silenced already
        try:
            text = _parse_and_emit(data, limits)
        except Exception:  # whatever rapidyaml refuses, the careful loader judges
            return None
    if text is None:
        return None
    # rapidyaml indents each block level by two spaces and writes flow collections
    # on one line, so this bounds the depth without walking the data.
    deepest_block = 2 * max(limits.max_depth - flow_levels - 1, 0)
    if re.search("\n" + " " * deepest_block, text):
        return None
    return text


def _parse_and_emit(data: bytes, limits: Limits) -> str | None:
    tree = _tree
    tree.clear()
    tree.clear_arena()
    _ryml.parse_in_arena(data, tree)
    node = tree.root_id()
    if tree.is_stream(node):
        if tree.num_children(node) != 1:
            return None
        node = tree.first_child(node)
    if 2 * tree.size() > limits.max_nodes:  # yamlcareful counts each key and value once
        return None
    return _emit_json(tree, node)


def _emit_json(tree: Any, node: int) -> str:
    """The node as JSON text, written into one reused buffer: emit_json_malloc leaks
    its buffer (about 50 MB over 100,000 documents). Refuses more than 64 levels."""
    global _buffer  # noqa: PLW0603 - grown to the largest document, then reused
    failed, size = _ryml.emit_json_to_substr(tree, node, _buffer)
    if failed:
        _buffer = bytearray(size * 2)
        failed, size = _ryml.emit_json_to_substr(tree, node, _buffer)
    return str(memoryview(_buffer)[:size], "utf-8")


@cache
def _decoder() -> json.JSONDecoder:
    return json.JSONDecoder(parse_float=_refuse, parse_constant=_refuse, object_pairs_hook=_unique)


def _refuse(_text: str) -> Any:
    raise ValueError("not vouched for")


_share = SHARED.setdefault  # one shared copy of each key and string value (yamlload)


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = {
        _share(key, key): _share(value, value) if value.__class__ is str else value
        for key, value in pairs
    }
    if len(result) != len(pairs):
        raise ValueError("duplicate key")
    return result


_silenced = False


@contextmanager
def silenced_stderr() -> Iterator[None]:
    """Silence file descriptor 2 while loading (a batch of) documents: rapidyaml
    prints its parse errors there before raising them, and the careful loader
    then gives the user the real message."""
    global _silenced  # noqa: PLW0603 - nested loads must not redirect again
    if _silenced:
        yield
        return
    try:
        saved = os.dup(2)
    except OSError:  # no stderr to protect
        yield
        return
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    os.close(null)
    _silenced = True
    try:
        yield
    finally:
        _silenced = False
        os.dup2(saved, 2)
        os.close(saved)
