"""A bounded coverage-guided fuzzing run is part of the test suite (`make fuzz` runs longer)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import ROOT, THIRD_PARTY

TARGET = ROOT / "tests" / "fuzz" / "fuzz_render.py"


def test_bounded_atheris_run_finds_no_crash(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            str(TARGET),
            "-atheris_runs=1000",
            "-seed=1",
            str(tmp_path),
            str(ROOT / "tests" / "fuzz" / "corpus"),
            str(THIRD_PARTY),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Done 1000" in proc.stderr
