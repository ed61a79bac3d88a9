"""The CLI behaves as kubectl and helm users expect: version, help, typos, completion, schema."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from conftest import ROOT
from enginehelpers import ROLE, deployment, dump_all, simple_config
from stowage import __version__
from stowage.cli import main as cli
from stowage.plan.config import Config

STOWAGE = [sys.executable, "-m", "stowage"]


def stowage(*args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*STOWAGE, *args], input=stdin, capture_output=True, text=True, check=False,
        timeout=60, env={**os.environ, **env},
    )  # fmt: skip


@pytest.mark.parametrize("args", [["--version"], ["version"]])
def test_version_both_ways(args: list[str]) -> None:
    proc = stowage(*args)
    assert (proc.returncode, proc.stdout) == (0, f"stowage {__version__}\n")


def test_help_and_help_of_a_command() -> None:
    top = stowage("help")
    assert top.returncode == 0
    assert top.stdout == stowage("--help").stdout
    assert "Docs: `stowage docs`" in " ".join(top.stdout.split())
    plan = stowage("help", "plan")
    assert plan.returncode == 0
    assert plan.stdout.startswith("usage: stowage plan")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["rendr"], "unknown command 'rendr'; did you mean 'render'?"),
        (["help", "plna"], "no command 'plna'; did you mean 'plan'?"),
        (["--confg", "x.yaml"], "'--confg' for `stowage render`; did you mean '--config'?"),
        (["plan", "--stirct"], "'--stirct' for `stowage plan`; did you mean '--strict'?"),
        (["--report", "jsn"], "invalid choice: 'jsn'"),
    ],
)  # fmt: skip
def test_typos_get_the_nearest_match(args: list[str], message: str) -> None:
    proc = stowage(*args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert message in proc.stderr


def test_options_before_or_after_the_command(tmp_path: Path) -> None:
    config = tmp_path / "c.json"
    config.write_text(json.dumps(simple_config()))
    text = dump_all(deployment("w", ROLE))
    before = stowage("--config", str(config), "--format", "json", "plan", stdin=text)
    after = stowage("plan", "--config", str(config), "--format", "json", stdin=text)
    assert before.returncode == after.returncode == 0, before.stderr
    assert before.stdout == after.stdout
    assert json.loads(before.stdout)["placements"][0]["workload"] == "Deployment/w"


def test_docs_lists_pages_and_prints_one() -> None:
    index = stowage("docs")
    assert index.returncode == 0
    assert f"stowage documentation: {ROOT / 'docs'}" in index.stdout
    assert "postrenderer" in index.stdout
    page = stowage("docs", "postrenderer")
    assert page.stdout == (ROOT / "docs" / "postrenderer.md").read_text()
    typo = stowage("docs", "postrender")
    assert typo.returncode == 2
    assert "did you mean 'postrenderer'?" in typo.stderr


def test_docs_are_packaged_with_the_wheel() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"share/stowage/docs" = ["docs/*.md"]' in pyproject


def test_one_line_hint_when_stdin_is_a_terminal() -> None:
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(
        [*STOWAGE, "check"], stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    os.write(controller, b"\x04")  # Ctrl-D: end of input
    _, err = proc.communicate(timeout=60)
    os.close(controller)
    os.close(terminal)
    first = err.decode().splitlines()[0]
    assert first.startswith("stowage: reading manifests from stdin (end with Ctrl-D)")


def test_no_hint_when_stdin_is_a_pipe() -> None:
    assert "reading manifests" not in stowage("check", stdin="").stderr


class _Terminal:
    def isatty(self) -> bool:
        return True


def test_no_color_turns_colour_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert cli._color(_Terminal())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not cli._color(_Terminal())


def _bash_complete(words: list[str]) -> list[str]:
    script = stowage("completion", "bash").stdout
    line = " ".join(f"'{w}'" for w in words)
    call = f"COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; _stowage"
    probe = f'{script}\n{call}; echo "${{COMPREPLY[@]}}"'
    proc = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True)
    return proc.stdout.split()


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["stowage", "pl"], ["plan"]),
        (["stowage", "plan", "--form"], ["--format"]),
        (["stowage", "graph", "--format", ""], ["dot", "mermaid", "png", "svg"]),
        (["stowage", "--rep"], ["--report", "--report-file"]),
        (["stowage", "completion", ""], ["bash", "zsh", "fish"]),
        (["stowage", "help", "ex"], ["explain"]),
        (["stowage", "import", "--po"], ["--polyaxonfile"]),
    ],
)
def test_bash_completion(words: list[str], expected: list[str]) -> None:
    assert sorted(_bash_complete(words)) == sorted(expected)


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_completion_name_every_command_and_parse(shell: str) -> None:
    script = stowage("completion", shell).stdout
    for command in cli.COMMANDS:
        assert command in script
    binary = shutil.which(shell)
    if binary is None:
        pytest.skip(f"{shell} is not installed")
    check = [binary, "-n"] if shell == "zsh" else [binary, "--no-execute"]
    subprocess.run([*check], input=script, text=True, check=True, capture_output=True)


def test_schema_is_the_config_models_schema_and_validates_configs(tmp_path: Path) -> None:
    target = tmp_path / "schema.json"
    proc = stowage("schema", "--output", str(target))
    assert proc.returncode == 0
    schema = json.loads(target.read_text())
    assert schema["title"] == "stowage config file"
    assert schema["properties"].keys() == Config.model_json_schema()["properties"].keys()
    jsonschema.validate(simple_config(), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"persistance": {}}, schema)
    assert stowage("schema").stdout == target.read_text()


def test_fish_completion_completes_commands_and_choices(tmp_path: Path) -> None:
    fish = shutil.which("fish")
    if fish is None:
        pytest.skip("fish is not installed")
    script = tmp_path / "stowage.fish"
    script.write_text(stowage("completion", "fish").stdout)
    probe = f"source {script}; complete -C 'stowage pl'; complete -C 'stowage graph --format '"
    out = subprocess.run([fish, "-c", probe], capture_output=True, text=True, check=True).stdout
    completions = [line.split("\t")[0] for line in out.splitlines()]
    assert completions == ["plan", "dot", "mermaid", "png", "svg"]
