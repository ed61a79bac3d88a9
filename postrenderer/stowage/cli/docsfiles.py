"""`stowage docs`: where the documentation installed with stowage is, and one page of it.

The project has no web home: the Markdown pages travel with the package
(installed under ``<prefix>/share/stowage/docs``), or are read from the
source checkout stowage runs from.
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

from stowage.errors import UsageError

INSTALLED = Path("share") / "stowage" / "docs"
CHECKOUT = Path(__file__).resolve().parents[3] / "docs"


def docs_dir() -> Path | None:
    """The checkout's docs when stowage runs from one (never stale), else the installed copy."""
    for candidate in (CHECKOUT, Path(sys.prefix) / INSTALLED):
        if (candidate / "README.md").is_file():
            return candidate
    return None


def topics(directory: Path) -> dict[str, Path]:
    return {page.stem: page for page in sorted(directory.glob("*.md")) if page.stem != "README"}


def _title(page: Path) -> str:
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return ""


def docs_text(topic: str | None) -> str:
    """The index (location and pages) with no topic, else the page's Markdown."""
    directory = docs_dir()
    if directory is None:
        raise UsageError(
            "the documentation is not installed with this copy of stowage; it is the docs/ "
            "directory of the stowage source"
        )
    pages = topics(directory)
    if topic is None:
        width = max(len(name) for name in pages)
        lines = [f"stowage documentation: {directory}", "", "Pages (`stowage docs PAGE`):"]
        lines += [f"  {name:<{width}}  {_title(page)}" for name, page in pages.items()]
        return "\n".join(lines) + "\n"
    key = topic.removesuffix(".md")
    if key not in pages:
        close = difflib.get_close_matches(key, list(pages), n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else "; `stowage docs` lists them"
        raise UsageError(f"no documentation page {topic!r}{hint}")
    return pages[key].read_text(encoding="utf-8")
