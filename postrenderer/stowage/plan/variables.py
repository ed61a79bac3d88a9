"""`${NAME}` variables in volumes and mounts: strict, never empty, never a path.

Owl's launcher expands an unset variable to an empty string, so
``/storage/${USER}`` silently becomes ``/storage/`` and mounts every user's
data. stowage refuses that: an undefined variable or a value that is not a
safe name is an error, and the reference is left in place for the report.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

REFERENCE = re.compile(r"\$\{([^}]*)\}")
VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# DNS-1123 label or POSIX portable user name: what may stand in a path segment.
SAFE_VALUE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$|^[a-z_][a-z0-9_-]*[$]?$")
MAX_VALUE_LENGTH = 63
USER_LABEL = "stowage.io/user"
RUNTIME_VARS = frozenset({"USER"})  # kept in carried pod templates for the launcher


def unsafe_reason(value: str) -> str | None:
    """Why ``value`` may not be substituted into a path or name, or None if it is safe."""
    if value == "":
        return "it is empty"
    if len(value) > MAX_VALUE_LENGTH:
        return f"it is longer than {MAX_VALUE_LENGTH} characters"
    if "/" in value or ".." in value:
        return "it contains '/' or '..'"
    if any(ch.isspace() for ch in value):
        return "it contains whitespace"
    if not SAFE_VALUE.match(value):
        return "it is not a DNS-1123 label or POSIX user name (lowercase letters, digits, '-', '_')"
    return None


def mentions_variables(value: Any) -> bool:
    """Whether any string inside ``value`` may hold a reference: one scan in C."""
    return "${" in repr(value)


def references(value: Any) -> Iterator[str]:
    """Every variable name referenced in the strings inside ``value``."""
    if mentions_variables(value):
        yield from _references(value)


def _references(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield from REFERENCE.findall(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


@dataclass
class Expansion:
    value: Any
    undefined: set[str] = field(default_factory=set)
    unsafe: dict[str, str] = field(default_factory=dict)  # name -> reason


def expand(
    value: Any, variables: Mapping[str, str], keep: frozenset[str] = frozenset()
) -> Expansion:
    """Substitute defined, safe variables; leave the rest in place and say why."""
    if not mentions_variables(value):
        return Expansion(value)
    expander = _Expander(variables, keep)
    result = expander.result
    result.value = expander.walk(value)
    return result


class _Expander:
    """A class rather than closures: closures over each other form reference
    cycles, which only the garbage collector frees, and attach expands per workload."""

    def __init__(self, variables: Mapping[str, str], keep: frozenset[str]) -> None:
        self.variables, self.keep = variables, keep
        self.result = Expansion(None)

    def walk(self, node: Any) -> Any:
        """``node`` with references substituted: the very same object where nothing
        changed, so a caller can tell (stowage.attach.attach.Snapshot compares bytes)."""
        if isinstance(node, str):
            if "${" not in node:
                return node
            new = REFERENCE.sub(self.substitute, node)
            return node if new == node else new
        if isinstance(node, dict):
            walked = {k: self.walk(v) for k, v in node.items()}
            same = all(walked[k] is v for k, v in node.items())
            return node if same else walked
        if isinstance(node, list):
            items = [self.walk(v) for v in node]
            return node if all(a is b for a, b in zip(items, node, strict=True)) else items
        return node

    def substitute(self, match: re.Match[str]) -> str:
        name = match.group(1)
        if name in self.keep:
            return match.group(0)
        if not VAR_NAME.match(name) or name not in self.variables:
            self.result.undefined.add(name)
            return match.group(0)
        reason = unsafe_reason(self.variables[name])
        if reason:
            self.result.unsafe[name] = reason
            return match.group(0)
        return self.variables[name]


def workload_variables(base: Mapping[str, str], labels: Mapping[str, str]) -> dict[str, str]:
    """Variables for one workload: config vars and --var, then its user label as USER."""
    merged = dict(base)
    if USER_LABEL in labels:
        merged["USER"] = labels[USER_LABEL]
    return merged
