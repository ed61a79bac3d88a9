"""The input edge of `stowage import`: read a file and parse it to a dict."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from stowage.importers.base import ImportInputError

ENV_LINE = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


def read_text(path: Path) -> str:
    if str(path) == "-":
        return sys.stdin.read()
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise ImportInputError("", f"cannot read the file: {err.strerror}") from None
    except UnicodeDecodeError as err:
        raise ImportInputError("", f"the file is not UTF-8 (byte {err.start})") from None


def parse(text: str, *, env_lines: bool = False) -> dict[str, Any]:
    """A YAML or JSON mapping; with ``env_lines``, also `NAME=value` lines (an env file)."""
    if env_lines and looks_like_env(text):
        return parse_env(text)
    return parse_yaml(text)


def parse_yaml(text: str) -> dict[str, Any]:
    yaml = YAML(typ="safe", pure=True)
    yaml.allow_duplicate_keys = False
    try:
        data = yaml.load(text)
    except MarkedYAMLError as err:
        line = err.problem_mark.line + 1 if err.problem_mark else "?"
        problem = str(err.problem or err.context or "invalid YAML")
        raise ImportInputError("", f"not valid YAML: line {line}: {problem}") from None
    except YAMLError as err:
        raise ImportInputError("", f"not valid YAML: {str(err).splitlines()[0]}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ImportInputError("", "expected a map of settings at the top level")
    return {str(key): value for key, value in data.items()}


def looks_like_env(text: str) -> bool:
    lines = [line.strip() for line in text.splitlines()]
    first = next((line for line in lines if line and not line.startswith("#")), "")
    return bool(ENV_LINE.match(first))


def parse_env(text: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = ENV_LINE.match(line)
        if match is None:
            raise ImportInputError("", f"line {number}: expected NAME=value, got {line!r}")
        out[match.group(1)] = _unquote(match.group(2).strip())
    return out


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value
