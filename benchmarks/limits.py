"""Measure how fast and how cheaply stowage refuses hostile input (part of `make bench`).

Each case runs the real `stowage` command on stdin and records wall time and
the child's peak RSS. Goal: a 1 KB alias bomb is refused in under 1 s with
under 100 MB of memory.

Usage: python benchmarks/limits.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STOWAGE = Path(sys.executable).parent / "stowage"


def alias_bomb(target_bytes: int = 1024) -> str:
    lines = ["apiVersion: v1", "kind: Pod", "metadata: {name: bomb}", 'a: &a ["lol","lol"]']
    previous, index = "a", 0
    while sum(len(x) + 1 for x in lines) < target_bytes - 60:
        index += 1
        name = f"n{index}"
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
        previous = name
    lines.append(f"spec: {{containers: *{previous}}}")
    return "\n".join(lines) + "\n"


def deep(levels: int) -> str:
    return "kind: Pod\nspec: " + "[" * levels + "]" * levels + "\n"


def measure(path: Path) -> tuple[float, float, int, str]:
    """(seconds, peak RSS in MB, exit code, first stderr line) of stowage reading ``path``.

    A forked child's peak RSS counts the parent's pages (it survives exec), so
    this process never holds a large input: big inputs are written by a helper.
    """
    with path.open("rb") as feed, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen([str(STOWAGE)], stdin=feed, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        err.seek(0)
        lines = err.read().decode(errors="replace").splitlines()
        message = lines[0][:90] if lines else ""
    return elapsed, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), message


def write_big(path: Path, megabytes: int) -> None:
    code = f"open({str(path)!r}, 'w').write('# x\\n' * ({megabytes} * 1024 * 256))"
    subprocess.run([sys.executable, "-c", code], check=True)


def table() -> str:
    rows = ["| input | exit | time | peak RSS | message |", "|---|---:|---:|---:|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        files: dict[str, Path] = {}
        small = {
            "empty input (the baseline)": "",
            f"alias bomb, {len(alias_bomb())} bytes": alias_bomb(),
            "flow nesting 150 deep": deep(150),
            "flow nesting 100,000 deep": deep(100_000),
        }
        for index, (label, text) in enumerate(small.items()):
            files[label] = Path(tmp) / f"case{index}.yaml"
            files[label].write_text(text)
        files["input of 80 MB (limit 64 MiB)"] = Path(tmp) / "big.yaml"
        write_big(files["input of 80 MB (limit 64 MiB)"], 80)
        for label, path in files.items():
            seconds, rss, code, message = measure(path)
            rows.append(f"| {label} | {code} | {seconds:.2f} s | {rss:.0f} MB | {message} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    sys.stdout.write(table())
