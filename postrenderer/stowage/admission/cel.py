"""CEL text from plain data: string literals, `${USER}`, and typed apply configurations.

A MutatingAdmissionPolicy's ApplyConfiguration is built from typed object literals
(`Object.spec.volumes{name: "x"}`) whose type names follow the field path, list items
taking the list's path; map-valued fields (`nodeSelector`, `matchLabels`, ...) are CEL
map literals instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from stowage.plan.variables import REFERENCE

USER = "variables.user"
# Fields whose values are maps of strings (CEL map literals), not objects.
MAP_FIELDS = frozenset(
    {"nodeSelector", "matchLabels", "volumeAttributes", "labels", "annotations", "limits",
     "requests"}
)  # fmt: skip


class CelError(ValueError):
    """A plan value CEL cannot carry (a `${VAR}` left that admission cannot fill)."""


def string(text: str) -> str:
    """A CEL string literal: JSON's escapes are CEL's."""
    return json.dumps(text)


def text(value: str) -> str:
    """A CEL string expression for ``value``, `${USER}` taken from `variables.user`."""
    if "${" not in value:
        return string(value)
    parts: list[str] = []
    position = 0
    for match in REFERENCE.finditer(value):
        if match.group(1) != "USER":
            raise CelError(f"${{{match.group(1)}}} in {value!r} has no value at admission")
        if match.start() > position:
            parts.append(string(value[position : match.start()]))
        parts.append(USER)
        position = match.end()
    if position < len(value):
        parts.append(string(value[position:]))
    return " + ".join(parts)


def literal(value: Any, type_path: str) -> str:
    """``value`` as a CEL literal typed at ``type_path`` (e.g. `Object.spec.volumes`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return text(value)
    if isinstance(value, list):
        return "[" + ", ".join(literal(item, type_path) for item in value) + "]"
    if isinstance(value, Mapping):
        if type_path.rsplit(".", 1)[-1] in MAP_FIELDS:
            entries = (f"{string(str(k))}: {literal(v, type_path)}" for k, v in value.items())
            return "{" + ", ".join(entries) + "}"
        fields = (f"{k}: {literal(v, f'{type_path}.{k}')}" for k, v in value.items())
        return f"{type_path}{{" + ", ".join(fields) + "}"
    raise CelError(f"cannot write {value!r} in CEL")


def has_user(value: Any) -> bool:
    return "${USER}" in repr(value)


def strings(values: list[str]) -> str:
    return "[" + ", ".join(string(v) for v in values) + "]"


def labels_match(metadata: str, match_labels: Mapping[str, str]) -> str:
    """Every label of ``match_labels`` on the object whose metadata is ``metadata``."""
    checks = [
        f"{metadata}.?labels[?{string(k)}] == optional.of({string(v)})"
        for k, v in sorted(match_labels.items())
    ]
    return " && ".join(checks) or "false"


def annotation(metadata: str, key: str) -> str:
    """The annotation's value, or "" when absent."""
    return f'{metadata}.?annotations[?{string(key)}].orValue("")'
