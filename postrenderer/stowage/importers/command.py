"""`stowage import`: read, import, validate, write.

Exit 0 imported (items not carried over are warnings), 2 unusable input.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from stowage.importers import SYSTEMS
from stowage.importers.base import Imported, ImportInputError, validate
from stowage.importers.emit import report_lines, to_yaml
from stowage.importers.load import parse, read_text

EXIT_OK, EXIT_USAGE = 0, 2


def build(system: str, path: Path, polyaxonfile: Path | None = None) -> Imported:
    """Import one file (plus, for Polyaxon, an optional polyaxonfile); raise on bad input."""
    if system not in SYSTEMS:
        raise ImportInputError("", f"unknown system {system!r}; choose one of {', '.join(SYSTEMS)}")
    if polyaxonfile is not None and system != "polyaxon":
        raise ImportInputError("", "--polyaxonfile goes with `stowage import polyaxon` only")
    data = parse(read_text(path), env_lines=system == "mlrun")
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


def run(system: str, path: Path, polyaxonfile: Path | None, stdout: TextIO, stderr: TextIO) -> int:
    try:
        imported = build(system, path, polyaxonfile)
    except ImportInputError as err:
        where = polyaxonfile if err.origin and polyaxonfile is not None else path
        stderr.write(f"stowage: error: {where}: {err}\n")
        return EXIT_USAGE
    stdout.write(to_yaml(imported, str(path)))
    for line in report_lines(imported):
        stderr.write(line + "\n")
    return EXIT_OK
