"""`stowage import`: read, import, validate, write.

Exit 0 imported (items not carried over are warnings), 2 unusable input.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, TextIO

from stowage.importers import SYSTEMS
from stowage.importers.base import Imported, ImportInputError, validate
from stowage.importers.emit import report_lines, to_yaml
from stowage.importers.load import parse, read_text

EXIT_OK, EXIT_USAGE = 0, 2


class UnknownSystemError(ValueError):
    """The system named on the command line is not one stowage imports (not the file's fault)."""


def check_system(system: str) -> None:
    if system not in SYSTEMS:
        close = difflib.get_close_matches(system, SYSTEMS, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise UnknownSystemError(
            f"unknown system {system!r}; {hint}stowage imports {', '.join(SYSTEMS)}"
        )


def build(system: str, path: Path, polyaxonfile: Path | None = None) -> Imported:
    """Import one file (plus, for Polyaxon, an optional polyaxonfile); raise on bad input."""
    check_system(system)
    return _build(system, parse(read_text(path), env_lines=system == "mlrun"), polyaxonfile)


def _build(system: str, data: dict[str, Any], polyaxonfile: Path | None) -> Imported:
    if polyaxonfile is not None and system != "polyaxon":
        raise ImportInputError("", "--polyaxonfile goes with `stowage import polyaxon` only")
    imported = _dispatch(system, data, polyaxonfile)
    validate(imported)
    return imported


def _dispatch(system: str, data: dict[str, object], polyaxonfile: Path | None) -> Imported:
    if system == "owl":
        from stowage.importers.owl import import_owl

        return import_owl(data)
    if system == "mlrun":
        from stowage.importers.mlrun import import_mlrun

        return import_mlrun(data)
    from stowage.importers.polyaxon import POLYAXONFILE, import_polyaxon, is_polyaxonfile

    extra = None
    if polyaxonfile is not None:
        try:
            extra = parse(read_text(polyaxonfile))
        except ImportInputError as err:
            raise ImportInputError(err.key, err.message, POLYAXONFILE) from None
    if is_polyaxonfile(data):
        if extra is not None:
            raise ImportInputError("", "FILE is a polyaxonfile; give the chart values as FILE")
        return import_polyaxon(None, data)
    return import_polyaxon(data, extra)


def looks_like(data: dict[str, Any]) -> dict[str, str]:
    """The systems whose settings ``data`` carries, each with the key that shows it."""
    found: dict[str, str] = {}
    persistence = data.get("persistence")
    if isinstance(persistence, dict) and {"data", "outputs"} & set(persistence):
        found["polyaxon"] = "persistence.data/outputs"
    elif {"environment", "run"} & set(data) and "persistence" not in data:
        found["polyaxon"] = "a polyaxonfile's environment/run"
    pipeline = data.get("pipeline")
    owl_keys: list[str] = [k for k in ("pvchome", "dbi") if k in data]
    if isinstance(pipeline, dict) and {"extraVolumes", "extraVolumeMounts"} & set(pipeline):
        owl_keys.append("pipeline.extraVolumes")
    if owl_keys:
        found["owl"] = owl_keys[0]
    storage = data.get("storage")
    env = data.get("data") if data.get("kind") == "ConfigMap" else data
    if isinstance(storage, dict) and any(str(k).startswith("auto_mount") for k in storage):
        found["mlrun"] = "storage.auto_mount_*"
    elif isinstance(env, dict) and any(str(k).startswith("MLRUN_") for k in env):
        found["mlrun"] = "MLRUN_* variables"
    return found


def _other_system(system: str, data: dict[str, Any]) -> str:
    """`(... looks like polyaxon's ...)` when the file shows another system and not this one."""
    found = looks_like(data)
    if system in found or not found:
        return ""
    other, evidence = next(iter(found.items()))
    return (
        f"the file looks like {other}'s, not {system}'s (it has {evidence}): "
        f"did you mean `stowage import {other}`?"
    )


def run(system: str, path: Path, polyaxonfile: Path | None, stdout: TextIO, stderr: TextIO) -> int:
    try:
        check_system(system)
    except UnknownSystemError as err:
        stderr.write(f"stowage: error: {err}\n")
        return EXIT_USAGE
    data: dict[str, Any] = {}
    try:
        text = read_text(path)
        data = parse(text, env_lines=system == "mlrun")
        imported = _build(system, data, polyaxonfile)
    except ImportInputError as err:
        where = polyaxonfile if err.origin and polyaxonfile is not None else path
        hint = _other_system(system, data)
        stderr.write(f"stowage: error: {where}: {err}" + (f"; {hint}" if hint else "") + "\n")
        return EXIT_USAGE
    if not data:
        source = "standard input" if str(path) == "-" else str(path)
        stderr.write(
            f"stowage: error: {source} is empty: there is nothing to import; give the "
            f"{system} settings as FILE, or pipe them in with '-'\n"
        )
        return EXIT_USAGE
    hint = _other_system(system, data)
    if hint:
        stderr.write(f"stowage: warning: {path}: {hint}\n")
    stdout.write(to_yaml(imported, str(path)))
    for line in report_lines(imported):
        stderr.write(line + "\n")
    return EXIT_OK
