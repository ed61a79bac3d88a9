"""`make bench`: what stowage costs on top of Helm, side by side with kustomize and `cat`.

For our chart scaled through its values (per-user NFS storage: one PV and one
PVC per user) to about 600 and about 6,000 documents, it times, each the
median of N repeats:

  (a) `helm template` alone;
  (b) the same with `--post-renderer stowage` doing its full work;
  (c) the same with kustomize (`kubectl kustomize` of the pinned kubectl) as
      the post-renderer, adding the same volumes and mounts to the same
      workloads (JSON 6902 patches selected by the stowage.io/role label);
  (d) the same with `cat` as the post-renderer (the floor).

It also measures stowage alone on each rendered stream and on the third-party
fixtures, its cold start on an empty stream, and its peak memory. It writes
docs/benchmarks.md and docs/benchmarks.png. Helm 3.19 is used because it takes
a post-renderer as a plain executable, so all four variants run the same way.

Usage: python benchmarks/bench.py [--repeats 5] [--kustomize-repeats 5] [--quick]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".tools" / "bin"
HELM = TOOLS / "helm3"
KUBECTL = TOOLS / "kubectl"
STOWAGE = Path(sys.executable).parent / "stowage"
THIRD_PARTY = ROOT / "tests" / "fixtures" / "third-party"
DOCS = ROOT / "docs"
SIZES = {"600": 600, "6000": 6000}
BASE_VALUES = {
    "userStorage": {
        "type": "nfs",
        "nfs": {"server": "nfs.example.org", "path": "/storage/${USER}"},
    },
    "persistence": {
        "data": {
            "datasets": {
                "mountPath": "/data",
                "nfs": {"server": "nfs.example.org", "path": "/datasets"},
            }
        },
        "outputs": {
            "outputs": {
                "mountPath": "/outputs",
                "claim": {"size": "100Gi", "accessModes": ["ReadWriteMany"]},
            }
        },
    },
}

KUSTOMIZE_SCRIPT = """#!/bin/sh
# kustomize as a Helm post-renderer: the same volume and mount injection as stowage
# (strategic merge: volumes by name, containers by name, mounts by mountPath).
set -e
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat > "$dir/all.yaml"
cat > "$dir/kustomization.yaml" <<'EOF'
resources: [all.yaml]
patches:
%(patches)s
EOF
"%(kubectl)s" kustomize "$dir"  # not exec: the EXIT trap must still remove $dir
"""
KUSTOMIZE_PATCH = """- target:
    kind: Deployment
    labelSelector: "app.kubernetes.io/component=%(component)s"
  patch: |-
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: any}
    spec:
      template:
        spec:
          volumes:
            - {name: datasets, nfs: {server: nfs.example.org, path: /datasets}}
            - {name: outputs, persistentVolumeClaim: {claimName: outputs}}
          containers:
            - name: %(container)s
              volumeMounts:
                - {name: datasets, mountPath: /data}
                - {name: outputs, mountPath: /outputs}"""
# The chart's Deployments that stowage's plan targets, and their main container.
KUSTOMIZE_TARGETS = {
    "scheduler": "scheduler",
    "dask-scheduler": "dask-scheduler",
    "dask-worker": "dask-worker",
}


def kustomize_script() -> str:
    patches = "\n".join(
        KUSTOMIZE_PATCH % {"component": c, "container": n} for c, n in KUSTOMIZE_TARGETS.items()
    )
    return KUSTOMIZE_SCRIPT % {"patches": patches, "kubectl": KUBECTL}


@dataclass
class Row:
    label: str
    documents: int
    input_bytes: int
    seconds: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: float = 0.0


def median_time(run: Callable[[], object], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def helm_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    for var in ("HELM_CONFIG_HOME", "HELM_DATA_HOME", "HELM_CACHE_HOME"):
        env[var] = str(home / var.lower())
    env["PATH"] = f"{STOWAGE.parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def run_checked(cmd: list[str], env: dict[str, str], stdin: bytes | None = None) -> bytes:
    proc = subprocess.run(cmd, input=stdin, capture_output=True, env=env, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"bench: {' '.join(cmd[:4])}... failed:\n{proc.stderr.decode()[-2000:]}")
    return proc.stdout


def values_for(users: int, path: Path) -> Path:
    values = dict(BASE_VALUES, users=[f"user{i:05d}" for i in range(users)])
    path.write_text(yaml.safe_dump(values))
    return path


def users_for(target_docs: int, home: Path, env: dict[str, str]) -> int:
    """Users so that the chart renders about ``target_docs`` documents (2 per user)."""
    probe = run_checked(
        [
            str(HELM),
            "template",
            "b",
            str(ROOT / "chart"),
            "-f",
            str(values_for(0, home / "probe.yaml")),
        ],
        env,
    )
    base = probe.count(b"\nkind: ")
    return max((target_docs - base) // 2, 0)


def peak_rss_mb(cmd: list[str], stdin: bytes) -> float:
    with tempfile.TemporaryFile() as feed:
        feed.write(stdin)
        feed.seek(0)
        proc = subprocess.Popen(
            cmd, stdin=feed, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _, _, usage = os.wait4(proc.pid, 0)
    return usage.ru_maxrss / 1024


def bench_chart(label: str, target: int, home: Path, args: argparse.Namespace) -> Row:
    env = helm_env(home)
    users = users_for(target, home, env)
    values = values_for(users, home / f"values-{label}.yaml")
    base = [str(HELM), "template", "b", str(ROOT / "chart"), "-f", str(values)]
    rendered = run_checked(base, env)
    documents = rendered.count(b"\nkind: ")
    row = Row(f"chart, {users} users", documents, len(rendered))
    kustomize = home / "kustomize-post-renderer.sh"
    kustomize.write_text(kustomize_script())
    kustomize.chmod(0o755)
    variants = {
        "a_helm": base,
        "b_stowage": [*base, "--post-renderer", str(STOWAGE)],
        "c_kustomize": [*base, "--post-renderer", str(kustomize)],
        "d_cat": [*base, "--post-renderer", shutil.which("cat") or "/bin/cat"],
    }
    for name, cmd in variants.items():
        repeats = args.kustomize_repeats if name == "c_kustomize" else args.repeats
        row.seconds[name] = median_time(partial(run_checked, cmd, env), repeats)
        print(f"  {label} {name}: {row.seconds[name]:.3f}s", flush=True)
    alone = [str(STOWAGE), "--quiet"]
    row.seconds["stowage_alone"] = median_time(
        lambda: run_checked(alone, env, rendered), args.repeats
    )
    row.peak_rss_mb = peak_rss_mb(alone, rendered)
    return row


def bench_fixture(path: Path, home: Path, args: argparse.Namespace) -> Row:
    env = helm_env(home)
    text = path.read_bytes()
    row = Row(path.name, text.count(b"\nkind: ") + text.startswith(b"kind: "), len(text))
    cmd = [str(STOWAGE), "--quiet"]
    row.seconds["stowage_alone"] = median_time(lambda: run_checked(cmd, env, text), args.repeats)
    row.peak_rss_mb = peak_rss_mb(cmd, text)
    return row


def cold_start(home: Path, repeats: int) -> float:
    env = helm_env(home)
    return median_time(lambda: run_checked([str(STOWAGE), "--quiet"], env, b""), repeats)


def machine() -> str:
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    helm = subprocess.run(
        [str(HELM), "version", "--short"], capture_output=True, text=True, check=False
    )
    return (
        f"{os.cpu_count()} cores, {cpu}; Python {platform.python_version()}; "
        f"Helm {helm.stdout.strip()}; {platform.system()} {platform.release()}"
    )


def verdicts(rows: list[Row], start: float) -> list[str]:
    small, large = rows[0], rows[1]
    a, b, c = (large.seconds[k] for k in ("a_helm", "b_stowage", "c_kustomize"))
    added, kustomize_added = b - a, c - a
    growth = large.seconds["stowage_alone"] / small.seconds["stowage_alone"]
    rss_limit = 5 * large.input_bytes / 2**20 + 80

    def mark(ok: bool) -> str:
        return "met" if ok else "MISSED"

    return [
        f"- time stowage adds at {large.documents} documents: {added:.3f} s vs Helm's own "
        f"{a:.3f} s: {mark(added <= a)}",
        f"- kustomize adds {kustomize_added:.3f} s: stowage is "
        f"{kustomize_added / max(added, 1e-9):.0f}x "
        f"less (goal >= 10x): {mark(kustomize_added >= 10 * added)}",
        f"- cold start on an empty stream: {start * 1000:.0f} ms (goal < 150 ms): "
        f"{mark(start < 0.150)}",
        f"- peak memory at {large.documents} documents: {large.peak_rss_mb:.0f} MB "
        f"(goal < 5x input + 80 MB = {rss_limit:.0f} MB): {mark(large.peak_rss_mb < rss_limit)}",
        f"- growth: stowage alone at {large.documents} vs {small.documents} documents: "
        f"{growth:.1f}x (goal <= 12x): {mark(growth <= 12)}",
    ]


def report(rows: list[Row], fixtures: list[Row], start: float, args: argparse.Namespace) -> str:
    head = [
        "# Benchmarks",
        "",
        "Written by `make bench` (benchmarks/bench.py); do not edit by hand.",
        "",
        f"Machine: {machine()}.",
        "",
        f"Each time is the median of {args.repeats} runs ({args.kustomize_repeats} for kustomize).",
        "",
        "## Our chart through Helm 3.19 (`helm template`)",
        "",
        "| input | documents | bytes | (a) helm | (b) + stowage | (c) + kustomize | (d) + cat "
        "| stowage alone | stowage peak RSS |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        s = r.seconds
        head.append(
            f"| {r.label} | {r.documents} | {r.input_bytes} | {s['a_helm']:.3f} s | "
            f"{s['b_stowage']:.3f} s | {s['c_kustomize']:.3f} s | {s['d_cat']:.3f} s | "
            f"{s['stowage_alone']:.3f} s | {r.peak_rss_mb:.0f} MB |"
        )
    head += [
        "",
        "## Goals",
        "",
        *verdicts(rows, start),
        "",
        "## Third-party fixtures (stowage alone)",
        "",
        "| fixture | documents | bytes | time | peak RSS |",
        "|---|---:|---:|---:|---:|",
    ]
    head += [
        f"| {r.label} | {r.documents} | {r.input_bytes} | {r.seconds['stowage_alone']:.3f} s "
        f"| {r.peak_rss_mb:.0f} MB |"
        for r in fixtures
    ]
    head += [
        "",
        "## Commands",
        "",
        "```console",
        "helm3 template b chart/ -f values-N.yaml                                   # (a)",
        "helm3 template b chart/ -f values-N.yaml --post-renderer .venv/bin/stowage # (b)",
        "helm3 template b chart/ -f values-N.yaml --post-renderer kustomize.sh      # (c)",
        "helm3 template b chart/ -f values-N.yaml --post-renderer cat              # (d)",
        "```",
        "",
        "![time vs documents](benchmarks.png)",
        "",
    ]
    return "\n".join(head)


def plot(rows: list[Row], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    names = {
        "a_helm": "(a) helm template",
        "b_stowage": "(b) + stowage",
        "c_kustomize": "(c) + kustomize",
        "d_cat": "(d) + cat",
    }
    docs = [r.documents for r in rows]
    for key, label in names.items():
        ax.plot(docs, [r.seconds[key] for r in rows], marker="o", label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("rendered documents")
    ax.set_ylabel("seconds (median)")
    ax.set_title("helm template with each post-renderer")
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--kustomize-repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="1 repeat, small sizes (a smoke run)")
    args = parser.parse_args()
    sizes = {"60": 60, "600": 600} if args.quick else SIZES
    if args.quick:
        args.repeats = args.kustomize_repeats = 1
    with tempfile.TemporaryDirectory(prefix="stowage-bench-") as tmp:
        home = Path(tmp)
        rows = [bench_chart(label, n, home, args) for label, n in sizes.items()]
        fixtures = [bench_fixture(p, home, args) for p in sorted(THIRD_PARTY.glob("*.yaml"))]
        start = cold_start(home, max(args.repeats, 20))
    out_dir = Path(os.environ.get("STOWAGE_BENCH_OUT", DOCS))
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "benchmarks.md").write_text(report(rows, fixtures, start, args))
    plot(rows, out_dir / "benchmarks.png")
    print("\n".join(verdicts(rows, start)))
    print(f"wrote {out_dir / 'benchmarks.md'} and {out_dir / 'benchmarks.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
