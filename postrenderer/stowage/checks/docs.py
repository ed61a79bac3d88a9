"""The checks' documentation: `stowage explain RULE` and docs/checks.md, from the rule modules.

`python -m stowage.checks.docs` rewrites docs/checks.md; `--check` exits 1 when
the committed file is stale.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from types import ModuleType

from stowage.checks import find_rule, rule_modules

DOCS_FILE = Path(__file__).resolve().parents[3] / "docs" / "checks.md"


def _summary(module: ModuleType) -> str:
    return (inspect.getdoc(module) or "").splitlines()[0]


def explain(key: str) -> str:
    """What `stowage explain KEY` prints; LookupError for an unknown rule."""
    module = find_rule(key)
    if module is None:
        known = ", ".join(f"{m.ID} ({m.NAME})" for m in rule_modules())
        raise LookupError(f"no rule {key!r}; known rules: {known}")
    return f"{module.ID} {module.NAME} ({module.SEVERITY.value})\n\n{inspect.getdoc(module)}\n"


def rule_index() -> str:
    rows = [f"{m.ID}  {m.NAME:<24} {m.SEVERITY.value:<8} {_summary(m)}" for m in rule_modules()]
    return "\n".join(rows) + "\n"


def render_markdown() -> str:
    lines = [
        "# Checks",
        "",
        "Generated from the rule modules in `postrenderer/stowage/checks/` by",
        "`python -m stowage.checks.docs`; `stowage explain ID` prints the same text.",
        "Every rule looks at the whole rendered stream. Errors reject the render (exit 1);",
        "warnings are reported and become errors with `--strict`. A finding accepted on",
        "purpose can be waived, by an annotation `waive.stowage.io/<ID>: <reason>` or the",
        "config's `waivers:` ([waivers](postrenderer.md#waivers)): it is still reported,",
        "but no longer fails.",
        "",
        "| ID | name | severity | summary |",
        "|---|---|---|---|",
    ]
    modules = rule_modules()
    lines += [
        f"| [{m.ID}](#{m.ID.lower()}) | {m.NAME} | {m.SEVERITY.value} | {_summary(m)} |"
        for m in modules
    ]
    for module in modules:
        body = (inspect.getdoc(module) or "").splitlines()
        lines += ["", f"## {module.ID}", "", f"`{module.NAME}`, {module.SEVERITY.value}.", ""]
        lines += [f"**{body[0]}**", *body[1:]] if body else []
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    text = render_markdown()
    if "--check" in argv:
        current = DOCS_FILE.read_text() if DOCS_FILE.exists() else ""
        if current != text:
            print(f"{DOCS_FILE} is stale: run `python -m stowage.checks.docs`", file=sys.stderr)
            return 1
        return 0
    DOCS_FILE.write_text(text)
    print(f"wrote {DOCS_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
