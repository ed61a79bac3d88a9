"""The table of docs/mutation.md, from what `make mutate` left in .mutate/.

Reads `mutmut results --all true` (every mutant and its last result) and
ci/mutation-accepted.txt (the survivors judged equivalent, each group under the
reason it is accepted), and prints one row per module: killed, accepted, other
survivors, no tests, not run, and the share killed of the whole set.

An accepted name that is no longer a survivor (killed now, or renumbered after
a change to its function) is listed after the table: the list must be judged
again, not trusted.

Usage: python ci/mutation_table.py [--results FILE]
(--results: a saved `mutmut results --all true` output instead of running it.)
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ACCEPTED = ROOT / "ci" / "mutation-accepted.txt"
RESULT_LINE = re.compile(r"^\s*(stowage\.[\w.ǁ]+)__mutmut_(\d+): (.+)$")
KILLED = {"killed", "timeout"}  # mutmut counts a timeout as caught
COLUMNS = ("killed", "accepted", "survived", "no tests", "not run")


def read_results(text: str) -> dict[str, str]:
    """Mutant name -> its last result, from `mutmut results --all true`."""
    results: dict[str, str] = {}
    for line in text.splitlines():
        match = RESULT_LINE.match(line)
        if match:
            results[f"{match[1]}__mutmut_{match[2]}"] = match[3].strip()
    return results


def read_accepted(text: str) -> set[str]:
    """Names from lines `function number number ...`; `#` starts a comment."""
    names: set[str] = set()
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if words:
            names.update(f"{words[0]}__mutmut_{n}" for n in words[1:])
    return names


def module_of(name: str) -> str:
    """`stowage.attach.attach.xǁ_Mergerǁadd__mutmut_3` -> `attach.attach`."""
    dotted = name.split("__mutmut_", maxsplit=1)[0]
    parts = dotted.split(".")
    return ".".join(parts[1:-1])


def column_of(result: str, accepted: bool) -> str:
    if result in KILLED:
        return "killed"
    if result == "survived":
        return "accepted" if accepted else "survived"
    if result == "no tests":
        return "no tests"
    return "not run"


def tally(results: dict[str, str], accepted: set[str]) -> dict[str, Counter[str]]:
    rows: dict[str, Counter[str]] = defaultdict(Counter)
    for name, result in results.items():
        rows[module_of(name)][column_of(result, name in accepted)] += 1
    return rows


def share(counts: Counter[str]) -> str:
    total = sum(counts.values())
    return f"{100 * counts['killed'] / total:.1f}%" if total else "-"


def table(rows: dict[str, Counter[str]]) -> list[str]:
    lines = [
        "| module | " + " | ".join(COLUMNS) + " | killed / all |",
        "| --- | " + " | ".join("---:" for _ in COLUMNS) + " | ---: |",
    ]
    everything: Counter[str] = Counter()
    for module in sorted(rows):
        counts = rows[module]
        everything.update(counts)
        cells = " | ".join(str(counts[c]) for c in COLUMNS)
        lines.append(f"| `{module}` | {cells} | {share(counts)} |")
    cells = " | ".join(f"**{everything[c]}**" for c in COLUMNS)
    lines.append(f"| **all** | {cells} | **{share(everything)}** |")
    return lines


def stale(results: dict[str, str], accepted: set[str]) -> list[str]:
    return sorted(n for n in accepted if results.get(n) != "survived")


def mutmut_results() -> str:
    mutmut = ROOT / ".venv" / "bin" / "mutmut"
    done = subprocess.run(
        [str(mutmut), "results", "--all", "true"],
        cwd=ROOT / ".mutate",
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"mutation_table: `mutmut results` failed: {done.stderr.strip()}")
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, help="saved `mutmut results --all true`")
    args = parser.parse_args()
    text = args.results.read_text() if args.results else mutmut_results()
    results = read_results(text)
    accepted = read_accepted(ACCEPTED.read_text(encoding="utf-8"))
    print("\n".join(table(tally(results, accepted))))
    for name in stale(results, accepted):
        print(f"accepted but not a survivor now ({results.get(name, 'absent')}): {name}")


if __name__ == "__main__":
    main()
