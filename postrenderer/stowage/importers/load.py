"""The input edge of `stowage import`: read a file and parse it to a dict."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from stowage.errors import UsageError
from stowage.importers.base import ImportInputError
from stowage.plan.configload import parse_config_text

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
    try:
        return parse_config_text(text, origin="")
    except UsageError as err:
        raise ImportInputError("", err.message) from None


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
