"""What every importer returns, and the helpers they share.

An importer is a pure function from a parsed input (a dict) to an
:class:`Imported`: the stowage chart values, where each value came from, what
was not carried over and why, and problems in the source that need a fix.
Reading files and writing YAML happen at the edge (``load.py``, ``emit.py``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from stowage.pods.shapes import type_name

Key = str | int
EMPTY = "empty in the source: nothing to carry over"
Target = tuple[Key, ...]


class ImportInputError(ValueError):
    """Unusable input: names the source key (and, at the edge, the file)."""

    def __init__(self, key: str, message: str, origin: str = "") -> None:
        super().__init__(f"{key}: {message}" if key else message)
        self.key = key
        self.message = message
        self.origin = origin  # which input, when a command reads two (e.g. "polyaxonfile")


@dataclass(frozen=True)
class Mapped:
    """Output value at ``target`` came from the source keys ``sources``."""

    target: Target
    sources: tuple[str, ...]
    note: str = ""

    def comment(self) -> str:
        origin = f"from {', '.join(self.sources)}" if self.sources else ""
        return "; ".join(part for part in (origin, self.note) if part)


@dataclass(frozen=True)
class Skipped:
    """A source setting (and everything under it) that was not carried over."""

    source: str
    reason: str


@dataclass(frozen=True)
class Problem:
    """A setting carried over as it is, but broken in the source system too."""

    source: str
    message: str
    fix: str


@dataclass(frozen=True)
class Assumption:
    """A value the source does not record, written as the source system needs it: check it."""

    target: str  # the stowage key, dotted
    value: Any
    reason: str


@dataclass(frozen=True)
class Imported:
    system: str
    values: dict[str, Any]
    mapped: tuple[Mapped, ...]
    skipped: tuple[Skipped, ...]
    problems: tuple[Problem, ...]
    assumptions: tuple[Assumption, ...] = ()


@dataclass
class Draft:
    """Builder used inside one importer call; frozen into :class:`Imported` at the end."""

    system: str
    values: dict[str, Any] = field(default_factory=dict)
    mapped: list[Mapped] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    assumptions: list[Assumption] = field(default_factory=list)

    def put(self, target: Target, value: Any, *sources: str, note: str = "") -> None:
        node = self.values
        for key in target[:-1]:
            node = node.setdefault(str(key), {})
        node[str(target[-1])] = value
        self.mapped.append(Mapped(target, tuple(sources), note))

    def note(self, target: Target, *sources: str, note: str = "") -> None:
        """Record provenance for a value already put (another source feeds it)."""
        self.mapped.append(Mapped(target, tuple(sources), note))

    def empty(self, source: str) -> None:
        """An empty source setting: nothing to carry over (recorded for completeness)."""
        self.mapped.append(Mapped((), (source,), EMPTY))

    def skip(self, source: str, reason: str) -> None:
        self.skipped.append(Skipped(source, reason))

    def assume(self, target: Target, value: Any, reason: str) -> None:
        """Write a value the source does not hold; the output and stderr ask to check it."""
        self.put(target, value, note="assumed, check it (see the top of this file)")
        self.assumptions.append(Assumption(dotted(target), value, reason))

    def problem(self, source: str, message: str, fix: str) -> None:
        self.problems.append(Problem(source, message, fix))

    def has(self, target: Target) -> bool:
        node: Any = self.values
        for key in target:
            if not isinstance(node, dict) or str(key) not in node:
                return False
            node = node[str(key)]
        return True

    def result(self) -> Imported:
        return Imported(
            self.system,
            self.values,
            tuple(self.mapped),
            tuple(self.skipped),
            tuple(self.problems),
            tuple(self.assumptions),
        )


def join(prefix: str, key: Key) -> str:
    """Source key paths: ``a.b``, ``a[0].b``."""
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else key


def leaf_paths(data: Any, prefix: str = "") -> Iterator[str]:
    """Every leaf key path of a parsed document (empty maps and lists count as leaves)."""
    if isinstance(data, Mapping) and data:
        for key, value in data.items():
            yield from leaf_paths(value, join(prefix, str(key)))
    elif isinstance(data, list) and data:
        for index, value in enumerate(data):
            yield from leaf_paths(value, join(prefix, index))
    else:
        yield prefix


def covers(prefix: str, path: str) -> bool:
    """True if ``path`` is ``prefix`` or lies under it."""
    return path == prefix or (path.startswith(prefix) and path[len(prefix)] in ".[")


def expect_map(value: Any, key: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ImportInputError(key, f"expected a mapping, got {type_name(value)}")
    return {str(k): v for k, v in value.items()}


def expect_list(value: Any, key: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ImportInputError(key, f"expected a list, got {type_name(value)}")
    return list(value)


def validate(imported: Imported) -> None:
    """The values must pass the chart's own model; a failure names the source key."""
    from pydantic import ValidationError

    from stowage.plan.values import ChartValues

    try:
        ChartValues.model_validate(imported.values)
    except ValidationError as err:
        first = err.errors()[0]
        loc = tuple(first["loc"])
        raise ImportInputError(
            source_of(imported, loc), f"{first['msg']} (stowage key {dotted(loc)})"
        ) from None


def source_of(imported: Imported, loc: tuple[Any, ...]) -> str:
    """The source key of the deepest mapped output value containing ``loc``."""
    best: Mapped | None = None
    for entry in imported.mapped:
        target = tuple(str(k) for k in entry.target)
        if target == tuple(str(k) for k in loc[: len(target)]) and entry.sources:
            best = entry if best is None or len(entry.target) >= len(best.target) else best
    return ", ".join(best.sources) if best else dotted(loc)


def dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for key in loc:
        out = join(out, key if isinstance(key, int) else str(key))
    return out


COMPONENTS = ("scheduler", "pipeline", "dask")


def without_default_storage(draft: Draft, system: str) -> None:
    """The source had no shared data/outputs volumes: keep stowage's host-path fallback off."""
    for component in COMPONENTS:
        if not draft.has((component, "dataRefs")):
            draft.put(
                (component, "dataRefs"),
                [],
                note=f"{system} mounts no shared data volumes: stowage's default stays off",
            )
        draft.put((component, "outputs"), False, note=f"{system} has no outputs store")
