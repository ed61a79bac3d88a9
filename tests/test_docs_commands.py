"""Every command in the docs runs, from the repository root, and says what the docs say.

In a ```console block of README.md or a docs/ page, a line starting with `$ ` is a
command (run with bash and pipefail); the lines under it, up to the next command,
are its output (stdout, then stderr), compared line by line, exactly: a line
`...` stands for any number of lines. A command with no lines under it is only
run. A trailing `# exit N` is the exit code it must end with (default 0).
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
ANY = "..."


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
        elif found:
            found[-1].expected.append(raw.rstrip())
    for command in found:
        while command.expected and not command.expected[-1]:
            command.expected.pop()
    return found


def matches(expected: list[str], actual: list[str]) -> bool:
    """``actual`` is ``expected`` line for line, each `...` standing for any lines."""
    if not expected:
        return not actual
    head, rest = expected[0], expected[1:]
    if head == ANY:
        return any(matches(rest, actual[start:]) for start in range(len(actual) + 1))
    return bool(actual) and actual[0] == head and matches(rest, actual[1:])


PAGES = sorted(p for p in [ROOT / "README.md", *DOCS.glob("*.md")] if commands(p))
ALL_PAGES = sorted([ROOT / "README.md", *DOCS.glob("*.md")])


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
        if command.expected:
            shown = "\n".join(command.expected)
            assert matches(command.expected, [line.rstrip() for line in output.splitlines()]), (
                f"{where}\nthe page shows:\n{shown}\nthe command printed:\n{output[-3000:]}"
            )


def test_the_docs_have_commands_to_run() -> None:
    names = {p.name for p in PAGES}
    assert {"README.md", "quickstart-helm3.md", "quickstart-helm4.md", "recipes.md"} <= names
    assert all(commands(p) for p in PAGES)


@pytest.mark.parametrize("page", ALL_PAGES, ids=[p.name for p in ALL_PAGES])
def test_a_console_block_starts_with_a_command(page: Path) -> None:
    """Command lines without `$ ` would be shown and never run: a console block opens with one."""
    lines = page.read_text().splitlines()
    opening = [n for n, line in enumerate(lines) if line.strip() == "```console"]
    for number in opening:
        first = next(line.strip() for line in lines[number + 1 :] if line.strip())
        assert first.startswith("$ "), f"{page.name}:{number + 2}: {first}"


def test_shown_output_is_compared_exactly() -> None:
    assert matches(["5"], ["5"])
    assert not matches(["2"], ["error SW702 Deployment/x: ..."])  # no substring match
    assert not matches(["2"], ["2", "3"])  # nothing left over
    assert matches(["error SW702", "..."], ["error SW702", "  fix: x", "stowage: REJECTED"])
    assert matches(["...", "last"], ["first", "last"])
    assert not matches(["a", "b"], ["b", "a"])
