"""`make bench-compare BASE=<rev>`: stowage at BASE against the working tree, in one run.

A refactor must not slow stowage down. This runs the stowage-alone cases of
`make bench` (our chart at about 600 and 6,000 documents, 2,000 and 10,000
targeted Deployments with a --config, 30,000 untargeted documents, every
third-party fixture, and the three cold starts) with both source trees, the two
alternating run by run on the same inputs, and prints the median wall time and
CPU time (user + system) of each, with the change. CPU time is the figure to
judge on a shared machine: it does not grow with other processes' load.

BASE is checked out into a temporary git worktree; both trees run with the
project's venv (`python -m stowage`, the tree's postrenderer/ first on the path).

Usage: python benchmarks/compare.py --base REV [--head REV] [--repeats 7] [--out FILE]
(--head: a second revision in place of the working tree.)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # the cases and inputs of `make bench`
import copies

ROOT = bench.ROOT
MEASURE = (
    "import resource, subprocess, sys\n"
    "feed = open(sys.argv[1], 'rb')\n"
    "code = subprocess.run(sys.argv[2:], stdin=feed, stdout=subprocess.DEVNULL, "
    "stderr=subprocess.DEVNULL, check=False).returncode\n"
    "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(u.ru_utime + u.ru_stime, code)\n"
)


@dataclass(frozen=True)
class Case:
    label: str
    args: list[str]
    stdin: bytes


@dataclass
class Timing:
    wall: list[float]
    cpu: list[float]


def inputs(home: Path, base: Path) -> Iterator[Case]:
    """The stowage-alone inputs of `make bench`, rendered once, from BASE's chart and
    fixtures: the head must still read what the base read (a newer chart may use settings
    the base does not know)."""
    env = bench.helm_env(home)
    helm3 = str(bench.HELMS["Helm 3"])
    copies.make_chart(bench.HELMS["Helm 3"], home)
    config = f"--config={copies.write_config(home / 'copies-config.yaml')}"
    for size in (600, 6000):
        users = bench.users_for(size, home)
        values = bench.values_for(users, home / f"values-{users}.yaml")
        text = bench.run_checked(
            [helm3, "template", "b", str(base / "chart"), "-f", str(values)], env
        )
        yield Case(f"our chart, {text.count(b'kind: ')} documents", [], text)
    for count in (2000, 10000):
        yield Case(
            f"{count} targeted Deployments, --config", [config], bench.render_copies(home, count)
        )
    yield Case("30,000 untargeted documents", [], bench.render_copies(home, 10000))
    fixtures = sorted((base / bench.THIRD_PARTY.relative_to(ROOT)).glob("*.yaml"))
    for path in fixtures:
        yield Case(f"fixture {path.name}", [], path.read_bytes())
    chart = bench.run_checked([helm3, "template", "b", str(base / "chart")], env)
    yield Case("cold start: empty stream", [], b"")
    yield Case("cold start: our chart's plan", [], chart)
    yield Case("cold start: a --config, one Deployment", [config], bench.render_copies(home, 1))


def run_once(tree: Path, case: Case, feed: Path) -> tuple[float, float, int]:
    env = dict(os.environ, PYTHONPATH=str(tree / "postrenderer"))
    cmd = [sys.executable, "-m", "stowage", "--quiet", *case.args]
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, str(feed), *cmd],
        env=env, capture_output=True, text=True, check=True, cwd=tempfile.gettempdir(),
    )  # fmt: skip
    cpu, code = out.stdout.split()
    return time.perf_counter() - start, float(cpu), int(code)


def compare(base: Path, head: Path, cases: list[Case], repeats: int) -> list[str]:
    lines = [
        "| case | base wall | head wall | base CPU | head CPU | CPU change |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    totals = {"base": 0.0, "head": 0.0}
    for case in cases:
        timings = {"base": Timing([], []), "head": Timing([], [])}
        with tempfile.NamedTemporaryFile() as feed:
            feed.write(case.stdin)
            feed.flush()
            for _ in range(repeats):
                codes = set()
                for name, tree in (("base", base), ("head", head)):
                    wall, cpu, code = run_once(tree, case, Path(feed.name))
                    codes.add(code)
                    timings[name].wall.append(wall)
                    timings[name].cpu.append(cpu)
                if len(codes) > 1 or 2 in codes:  # a crash is no timing: say so, stop
                    raise SystemExit(f"{case.label}: exit codes differ or 2: {sorted(codes)}")
        med = {k: (statistics.median(t.wall), statistics.median(t.cpu)) for k, t in timings.items()}
        totals["base"] += med["base"][1]
        totals["head"] += med["head"][1]
        change = (med["head"][1] / med["base"][1] - 1) * 100 if med["base"][1] else 0.0
        lines.append(
            f"| {case.label} | {med['base'][0]:.3f} s | {med['head'][0]:.3f} s | "
            f"{med['base'][1]:.3f} s | {med['head'][1]:.3f} s | {change:+.1f}% |"
        )
        print(lines[-1], file=sys.stderr, flush=True)
    overall = (totals["head"] / totals["base"] - 1) * 100
    lines.append(f"| **all cases, CPU** | | | {totals['base']:.2f} s | {totals['head']:.2f} s | "
                 f"{overall:+.1f}% |")  # fmt: skip
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--base", required=True, help="the git revision to compare against")
    parser.add_argument("--head", help="a revision to measure in place of the working tree")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, help="also write the table here")
    args = parser.parse_args()
    bench.compile_bytecode()
    with tempfile.TemporaryDirectory(prefix="stowage-compare-") as tmp:
        home = Path(tmp)
        revisions = {"base": args.base, **({"head": args.head} if args.head else {})}
        trees = {name: home / name for name in revisions}
        try:
            for name, revision in revisions.items():
                subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q",
                                str(trees[name]), revision], check=True)  # fmt: skip
                subprocess.run([sys.executable, "-m", "compileall", "-q",
                                str(trees[name] / "postrenderer")], check=True)  # fmt: skip
            cases = list(inputs(home, trees["base"]))
            lines = compare(trees["base"], trees.get("head", ROOT), cases, args.repeats)
        finally:
            for tree in trees.values():
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                str(tree)], check=False)  # fmt: skip
    against = args.head or "the working tree"
    head = f"stowage at {args.base} (base) against {against} (head), median of "
    text = "\n".join([head + f"{args.repeats} alternating runs each.", "", *lines, ""])
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
