"""Load one YAML document safely: bounded aliases, depth and size; duplicate keys refused.

The entry point for every manifest and carried template: :mod:`stowage.read.yamlcareful`
(PyYAML) enforces each limit while it builds. In a large stream, stowage.read.manifests
first asks :mod:`stowage.read.yamlfast` (rapidyaml), which returns the same data or
declines.
"""

from __future__ import annotations

import re
from typing import Any

from stowage.read.yamlbase import Limits, YamlError, flow_brackets

__all__ = ["PRESCAN_DEPTH", "Limits", "YamlError", "flow_brackets", "load_document"]


_BRACKETS = re.compile(r"[\[\]{}]")
# PyYAML's C composer recurses per nesting level and crashes the process somewhere
# past ~50,000 levels; refuse long before that, without parsing. The exact depth
# limit (max_depth) is enforced while building, where quoting is understood.
PRESCAN_DEPTH = 1000


def load_document(text: str, limits: Limits) -> Any:
    """Parse one YAML document (``---`` markers allowed) into plain data, carefully.

    Large streams try :func:`stowage.read.yamlfast.vouched` first (stowage.read.manifests).
    """
    _refuse_flow_nesting(text, max(PRESCAN_DEPTH, limits.max_depth), limits.max_depth)
    from stowage.read import yamlcareful  # PyYAML: imported on first use

    return yamlcareful.load(text, limits)


def _refuse_flow_nesting(text: str, limit: int, stated: int) -> None:
    if flow_brackets(text) <= limit:
        return
    depth = 0
    for match in _BRACKETS.finditer(text):
        depth += 1 if match.group(0) in "[{" else -1
        if depth > limit:
            line = text.count("\n", 0, match.start()) + 1
            raise YamlError(f"document nests deeper than {stated} levels", line)
