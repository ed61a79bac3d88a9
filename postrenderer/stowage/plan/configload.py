"""Read `--config` files and `--var` arguments: the I/O edge of planning."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stowage.errors import UsageError
from stowage.layers import Layer
from stowage.plan.variables import VAR_NAME, unsafe_reason
from stowage.read import yamlfast


def load_config_file(path: Path) -> Layer:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise UsageError(f"cannot read config file: {err.strerror}", where=str(path)) from None
    except UnicodeDecodeError as err:
        raise UsageError(
            f"config file is not UTF-8 text (byte {err.start}); save it as UTF-8",
            where=str(path),
        ) from None
    data = parse_config_text(text, str(path))
    return Layer(str(path), data)


def parse_config_text(text: str, origin: str) -> dict[str, Any]:
    """A settings file (config, values, another system's settings) as plain data.

    YAML or JSON; duplicate keys refused; anchors and merge keys allowed as Helm
    allows them in values files; must be a mapping; empty is ``{}``.
    """
    plain = yamlfast.load_settings(text)  # the same data, when it can vouch for it
    if plain is not None:
        return plain
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    yaml = YAML(typ="safe", pure=True)
    yaml.allow_duplicate_keys = False
    try:
        data = yaml.load(text)
    except MarkedYAMLError as err:
        raise UsageError(_yaml_problem(text, err), where=origin) from None
    except YAMLError as err:
        first_line = str(err).splitlines()[0]
        raise UsageError(f"not valid YAML: {first_line}", where=origin) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError("expected a mapping of settings at the top level", where=origin)
    settings: dict[str, Any] = json.loads(json.dumps(data, default=str))  # plain data only
    return settings


def parse_vars(items: list[str]) -> dict[str, str]:
    """`NAME=VALUE` pairs from --var; values are checked again where they are used."""
    result: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not VAR_NAME.match(name):
            raise UsageError(f"--var {item!r}: expected NAME=VALUE with NAME like USER or TEAM")
        reason = unsafe_reason(value)
        if reason:
            raise UsageError(f"--var {name}={value!r} is not a safe value: {reason}")
        result[name] = value
    return result


def _yaml_problem(text: str, err: Any) -> str:  # a ruamel MarkedYAMLError
    mark = err.problem_mark
    line = mark.line + 1 if mark else 0
    problem = str(err.problem or err.context or "invalid YAML")
    if mark and _char_at(text, mark.line, mark.column) == "\t":
        return (
            f"a tab at line {line}, column {mark.column + 1}: YAML indents with spaces only; "
            "replace the tab with spaces"
        )
    if "duplicate key" in problem:
        duplicate = duplicate_key(text)
        if duplicate:
            return duplicate
    return f"not valid YAML: line {line or '?'}: {problem}"


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.splitlines()
    if line < len(lines) and column < len(lines[line]):
        return lines[line][column]
    return ""


def duplicate_key(text: str) -> str:
    """The first duplicate mapping key, both lines and both values as written ("" if none)."""
    import yaml as pyyaml

    try:
        root = pyyaml.compose(text, Loader=pyyaml.SafeLoader)
    except pyyaml.YAMLError:
        return ""
    stack = [root]
    while stack:
        node = stack.pop(0)
        if isinstance(node, pyyaml.MappingNode):
            seen: dict[str, Any] = {}
            for key, value in node.value:
                name = str(key.value)
                if name in seen:
                    first_key, first_value = seen[name]
                    return (
                        f"duplicate key {name!r} at line {key.start_mark.line + 1} (first at line "
                        f"{first_key.start_mark.line + 1}): values {_source(text, first_value)} "
                        f"and {_source(text, value)}; keep one"
                    )
                seen[name] = (key, value)
                stack.append(value)
        elif isinstance(node, pyyaml.SequenceNode):
            stack.extend(node.value)
    return ""


def _source(text: str, node: Any) -> str:
    """A value as the file writes it, shortened."""
    written = " ".join(text[node.start_mark.index : node.end_mark.index].split())
    return repr(written if len(written) <= 40 else written[:37] + "...")
