"""The `stowage` command leaves with os._exit once its output is flushed
(stowage.cli.main.console): what users get must be exactly what main() gives."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from enginehelpers import ROLE, deployment, dump_all, simple_config
from stowage.cli import main as cli


class LeftError(Exception):
    def __init__(self, code: int) -> None:
        self.code = code


def leave(code: int) -> None:
    raise LeftError(code)


def run_console(monkeypatch: pytest.MonkeyPatch, code: int) -> int:
    monkeypatch.setattr(cli, "main", lambda: code)
    monkeypatch.setattr(os, "_exit", leave)
    with pytest.raises(LeftError) as left:
        cli.console()
    return left.value.code


@pytest.mark.parametrize("code", [0, 1, 2])
def test_console_leaves_with_main_s_exit_code(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    assert run_console(monkeypatch, code) == code


def test_console_flushes_what_main_left_buffered(monkeypatch: pytest.MonkeyPatch) -> None:
    written = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(written, write_through=False))
    monkeypatch.setattr(cli, "main", lambda: print("kept", end="") or 0)
    monkeypatch.setattr(os, "_exit", leave)
    with pytest.raises(LeftError):
        cli.console()
    assert written.getvalue() == b"kept"  # os._exit would have dropped it unflushed


class ClosedPipe(io.StringIO):
    def flush(self) -> None:
        raise BrokenPipeError


def test_a_reader_gone_at_the_last_flush_is_a_failed_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert run_console(monkeypatch, 0) == cli.EXIT_USAGE


def test_the_command_writes_the_whole_stream_and_report(tmp_path: Path) -> None:
    config = tmp_path / "stowage.yaml"
    config.write_text(json.dumps(simple_config()))
    stream = dump_all(*(deployment(f"w{i}", ROLE) for i in range(300)))
    words = ["--config", str(config), "--report", "json"]
    console = subprocess.run(
        [sys.executable, "-m", "stowage", *words],
        input=stream, capture_output=True, text=True, check=False,
    )  # fmt: skip
    main = "import sys; from stowage.cli.main import main; sys.exit(main())"
    plain = subprocess.run(
        [sys.executable, "-c", main, *words],
        input=stream, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert console.returncode == plain.returncode == 0
    assert console.stdout == plain.stdout
    assert console.stdout.count("mountPath: /data") == 300
    assert json.loads(console.stderr) == json.loads(plain.stderr)


def test_an_internal_error_exits_2_with_one_line_and_no_output(tmp_path: Path) -> None:
    # A bug in stowage must stop Helm like a usage error does (exit 2), never look like a
    # rejected stream (exit 1), and never print a traceback or a partial stream.
    script = (
        "import sys; from stowage import engine; from stowage.cli.main import main\n"
        "def broken(*args, **kwargs): raise RuntimeError('a bug')\n"
        "engine.run = broken\n"
        "sys.exit(main())\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "STOWAGE_DEBUG"}
    proc = subprocess.run(
        [sys.executable, "-c", script],
        input=dump_all(deployment("w", ROLE)), capture_output=True, text=True, check=False,
        env=env,
    )  # fmt: skip
    assert proc.returncode == cli.EXIT_USAGE == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith("stowage: internal error: RuntimeError: a bug")
    assert "Traceback" not in proc.stderr
