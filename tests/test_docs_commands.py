"""Every command in the docs runs, from the repository root, and says what the docs say.

In a ```console block, a line starting with `$ ` is a command (run with bash and
pipefail); the lines under it, up to the next command, must each appear in its
output; a trailing `# exit N` is the exit code it must end with (default 0).
A page whose first line is `<!-- docs-test: helm=helm3 -->` runs with Helm 3.19
as `helm`. The commands of one page share one throwaway Helm home.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import ROOT, TOOLS

DOCS = ROOT / "docs"
EXIT = re.compile(r"\s+# exit (\d+)$")


@dataclass
class Command:
    line: int
    text: str
    exit_code: int = 0
    expected: list[str] = field(default_factory=list)


def commands(page: Path) -> list[Command]:
    found: list[Command] = []
    in_console = False
    for number, raw in enumerate(page.read_text().splitlines(), start=1):
        stripped = raw.strip()
        if stripped.startswith("```"):
            in_console = stripped == "```console" and not in_console
            continue
        if not in_console:
            continue
        if stripped.startswith("$ "):
            text = stripped[2:]
            match = EXIT.search(text)
            exit_code = int(match.group(1)) if match else 0
            found.append(Command(number, EXIT.sub("", text), exit_code))
        elif stripped and stripped != "..." and found:
            found[-1].expected.append(stripped)
    return found


PAGES = sorted(p for p in DOCS.glob("*.md") if commands(p))


def environment(page: Path, home: Path) -> dict[str, str]:
    env = dict(os.environ)
    shim = home / "shim"
    shim.mkdir()
    if page.read_text().startswith("<!-- docs-test: helm=helm3 -->"):
        (shim / "helm").symlink_to(TOOLS / "helm3")
    for var in ("HELM_CONFIG_HOME", "HELM_DATA_HOME", "HELM_CACHE_HOME", "XDG_STATE_HOME"):
        env[var] = str(home / var.lower())
    venv_bin = ROOT / ".venv" / "bin"
    env["PATH"] = os.pathsep.join([str(shim), str(TOOLS), str(venv_bin), env.get("PATH", "")])
    env.pop("STOWAGE_REPORT_FILE", None)
    return env


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_command_in_the_page_runs_as_documented(page: Path, tmp_path: Path) -> None:
    env = environment(page, tmp_path)
    for command in commands(page):
        proc = subprocess.run(
            ["bash", "-o", "pipefail", "-c", command.text],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        output = proc.stdout + proc.stderr
        where = f"{page.name}:{command.line}: {command.text}"
        assert proc.returncode == command.exit_code, f"{where}\n{output[-3000:]}"
        for expected in command.expected:
            assert expected in output, f"{where}\nmissing {expected!r} in:\n{output[-3000:]}"


def test_the_docs_have_commands_to_run() -> None:
    names = {p.name for p in PAGES}
    assert {"quickstart-helm3.md", "quickstart-helm4.md", "recipes.md"} <= names
    assert all(commands(p) for p in PAGES)
