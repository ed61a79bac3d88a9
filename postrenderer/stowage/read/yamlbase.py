"""What both YAML loaders share: the limits, the error, and one copy of each string.

Kept apart from yamlload.py (which calls the loaders) so that no loader imports
its caller.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Caps on what one run accepts; documented in docs/reliability.md."""

    max_input_bytes: int = 64 * 1024 * 1024
    max_nodes: int = 2_000_000  # per document, counting alias expansion
    max_depth: int = 100


class YamlError(Exception):
    """A document that cannot be loaded; ``line`` is 1-based within the document text."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


# Keys and most values (labels, images, ports' names) repeat across documents: both
# loaders keep one shared copy of each, so a stream of 100,000 documents stays in
# bounds. Cleared when full: names unique to each document would otherwise pile up.
SHARED: dict[str, str] = {}
SHARED_MAX_ENTRIES = 1 << 18


def flow_brackets(text: str) -> int:
    """Opening flow brackets in ``text``: a bound on its flow nesting, counted in C."""
    return text.count("[") + text.count("{")
