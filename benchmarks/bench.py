"""`make bench`: what stowage costs on top of Helm, side by side with kustomize and `cat`.

Charts, each rendered by Helm 3 and by Helm 4, each the median of N repeats of:

  (a) `helm template` alone;
  (b) the same with `--post-renderer stowage` doing its full work;
  (c) the same with kustomize (`kubectl kustomize` of the pinned kubectl) as
      the post-renderer, adding the same volumes and mounts to the same
      workloads (strategic-merge patches selected by label);
  (d) the same with `cat` as the post-renderer (the floor).

The charts: ours scaled through its values (per-user NFS storage, one PV and
one PVC per user) to about 600 and 6,000 documents, and 2,000 copies of
`helm create`'s ServiceAccount, Service and Deployment with every Deployment
targeted by a --config (benchmarks/copies.py). Helm 3 takes each
post-renderer as an executable; Helm 4 as a postrenderer/v1 plugin (stowage's
own, and one-line plugins for cat and kustomize).

Also: stowage alone on each rendered stream, on 1,000 to 10,000 targeted
workloads (growth), on 100,000 untargeted documents (peak memory), on the
third-party fixtures, and its cold start (empty stream, our chart's plan, a
--config). Writes docs/benchmarks.md and docs/benchmarks.png. On a terminal,
progress goes to stderr.

Usage: python benchmarks/bench.py [--repeats 5] [--kustomize-timeout 60] [--quick]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import platform
import shlex
import shutil
import signal
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
import copies  # a sibling module, importable once its folder is on sys.path

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".tools" / "bin"
HELMS = {"Helm 3": TOOLS / "helm3", "Helm 4": TOOLS / "helm"}
KUBECTL = TOOLS / "kubectl"
STOWAGE = Path(sys.executable).parent / "stowage"
THIRD_PARTY = ROOT / "tests" / "fixtures" / "third-party"
DOCS = ROOT / "docs"
VARIANTS = ("a_helm", "b_stowage", "c_kustomize", "d_cat")
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
    labelSelector: "%(selector)s"
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
# The Deployments stowage's plan targets in each chart (label selector -> main container).
OUR_TARGETS = {
    "app.kubernetes.io/component=scheduler": "scheduler",
    "app.kubernetes.io/component=dask-scheduler": "dask-scheduler",
    "app.kubernetes.io/component=dask-worker": "dask-worker",
}
COPIES_TARGETS = {"app.kubernetes.io/name=copies": "copies"}
PLUGIN = """apiVersion: v1
type: postrenderer/v1
name: %(name)s
version: 0.1.0
runtime: subprocess
runtimeConfig:
  platformCommand:
    - command: %(command)s
      args: []
"""


def kustomize_script(targets: dict[str, str]) -> str:
    patches = "\n".join(
        KUSTOMIZE_PATCH % {"selector": s, "container": c} for s, c in targets.items()
    )
    return KUSTOMIZE_SCRIPT % {"patches": patches, "kubectl": KUBECTL}


class Progress:
    """One status line on stderr, rewritten in place, only when stderr is a terminal."""

    def __init__(self) -> None:
        self.live = sys.stderr.isatty()
        self.start = time.monotonic()

    def say(self, text: str) -> None:
        if self.live:
            elapsed = time.monotonic() - self.start
            sys.stderr.write(f"\r\033[K[{elapsed:5.0f} s] {text}")
            sys.stderr.flush()

    def done(self) -> None:
        if self.live:
            sys.stderr.write("\r\033[K")


PROGRESS = Progress()


@dataclass
class Scenario:
    """A chart and how stowage and kustomize are told what to target in it."""

    label: str
    chart: Path
    helm_args: list[str]
    stowage_args: list[str]
    kustomize_targets: dict[str, str]
    targeted: int = 0


@dataclass
class Row:
    label: str
    helm: str
    documents: int
    input_bytes: int
    seconds: dict[str, float | None] = field(default_factory=dict)
    peak_rss_mb: float = 0.0


def median_time(run: Callable[[], object], repeats: int, what: str) -> float:
    samples = []
    for index in range(repeats):
        PROGRESS.say(f"{what} ({index + 1}/{repeats})")
        start = time.perf_counter()
        run()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def run_checked(
    cmd: list[str],
    env: dict[str, str],
    stdin: bytes | None = None,
    timeout: float | None = None,
    accept: tuple[int, ...] = (0,),
) -> bytes:
    """stdout of ``cmd``, which must exit with a code in ``accept``; on timeout its whole
    process group (a post-renderer too) is ended."""
    with subprocess.Popen(
        cmd,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    ) as proc:
        try:
            out, err = proc.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
    if proc.returncode not in accept:
        raise SystemExit(f"bench: {' '.join(cmd[:4])}... failed:\n{err.decode()[-2000:]}")
    return out


def helm_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    for var in ("HELM_CONFIG_HOME", "HELM_DATA_HOME", "HELM_CACHE_HOME", "XDG_STATE_HOME"):
        env[var] = str(home / var.lower())
    env["PATH"] = f"{STOWAGE.parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def install_plugin(helm: Path, env: dict[str, str], directory: Path) -> None:
    run_checked([str(helm), "plugin", "install", str(directory)], env)


def post_renderers(name: str, helm: Path, home: Path, scenario: Scenario) -> dict[str, list[str]]:
    """The post-renderer arguments of (b), (c) and (d) for one Helm and one scenario."""
    env = helm_env(home)
    kustomize = home / f"kustomize-{scenario.label.split(',')[0].replace(' ', '-')}.sh"
    kustomize.write_text(kustomize_script(scenario.kustomize_targets))
    kustomize.chmod(0o755)
    cat = shutil.which("cat") or "/bin/cat"
    stowage_args = [a for arg in scenario.stowage_args for a in ("--post-renderer-args", arg)]
    if name == "Helm 3":
        return {
            "b_stowage": ["--post-renderer", str(STOWAGE), *stowage_args],
            "c_kustomize": ["--post-renderer", str(kustomize)],
            "d_cat": ["--post-renderer", cat],
        }
    plugin_name = f"bench-kustomize-{kustomize.stem}"
    for plugin, command in ((plugin_name, str(kustomize)), ("bench-cat", cat)):
        directory = home / "plugins" / plugin
        if not directory.exists():
            directory.mkdir(parents=True)
            (directory / "plugin.yaml").write_text(PLUGIN % {"name": plugin, "command": command})
            install_plugin(helm, env, directory)
    return {
        "b_stowage": ["--post-renderer", "stowage", *stowage_args],
        "c_kustomize": ["--post-renderer", plugin_name],
        "d_cat": ["--post-renderer", "bench-cat"],
    }


def bench_chart(
    name: str, helm: Path, scenario: Scenario, home: Path, args: argparse.Namespace
) -> tuple[Row, bytes]:
    env = helm_env(home)
    base = [str(helm), "template", "b", str(scenario.chart), *scenario.helm_args]
    rendered = run_checked(base, env)
    row = Row(scenario.label, name, rendered.count(b"\nkind: "), len(rendered))
    variants = {"a_helm": [], **post_renderers(name, helm, home, scenario)}
    for variant, extra in variants.items():
        what = f"{name}, {scenario.label}: {variant}"
        cmd = [*base, *extra]
        if variant == "c_kustomize":
            row.seconds[variant] = kustomize_time(cmd, env, args)
        else:
            row.seconds[variant] = median_time(partial(run_checked, cmd, env), args.repeats, what)
    alone = [str(STOWAGE), "--quiet", *scenario.stowage_args]
    row.seconds["stowage_alone"] = median_time(
        lambda: run_checked(alone, env, rendered), args.repeats, f"{scenario.label}: alone"
    )
    if scenario.targeted:  # what rapidyaml and the second CPU each bring
        pyyaml_env = {**env, "STOWAGE_FAST_YAML": "0"}
        row.seconds["alone_pyyaml"] = median_time(
            lambda: run_checked(alone, pyyaml_env, rendered), args.repeats, "alone, PyYAML"
        )
        if shutil.which("taskset"):
            one_cpu = ["taskset", "-c", "0", *alone]
            row.seconds["alone_one_cpu"] = median_time(
                lambda: run_checked(one_cpu, env, rendered), args.repeats, "alone, one CPU"
            )
    if scenario.targeted and name == "Helm 4":
        row.seconds["e_replay"] = replay_time(helm, env, home, base, scenario, repeats=args.repeats)
    row.peak_rss_mb = peak_rss_mb(alone, rendered)
    return row, rendered


def replay_time(
    helm: Path,
    env: dict[str, str],
    home: Path,
    base: list[str],
    scenario: Scenario,
    *,
    repeats: int,
) -> float:
    """Helm 4's whole path with a plugin that only replays stowage's output, computed
    beforehand from the very input Helm gives post-renderers: what Helm itself spends
    on that output, apart from stowage."""
    given, replayed = home / "postrender-input.yaml", home / "stowage-output.yaml"
    plugins = {
        "bench-tee": ("/bin/sh", ["-c", f"tee {shlex.quote(str(given))}"]),
        "bench-replay": ("/bin/sh", ["-c", f"cat >/dev/null; cat {shlex.quote(str(replayed))}"]),
    }
    for plugin, (command, plugin_args) in plugins.items():
        directory = home / "plugins" / plugin
        if not directory.exists():
            directory.mkdir(parents=True)
            text = PLUGIN.replace("args: []", f"args: {json.dumps(plugin_args)}")
            (directory / "plugin.yaml").write_text(text % {"name": plugin, "command": command})
            install_plugin(helm, env, directory)
    run_checked([*base, "--post-renderer", "bench-tee"], env)
    stowage = [str(STOWAGE), "--quiet", *scenario.stowage_args]
    replayed.write_bytes(run_checked(stowage, env, given.read_bytes()))
    cmd = [*base, "--post-renderer", "bench-replay"]
    return median_time(partial(run_checked, cmd, env), repeats, "Helm 4, replayed output")


def kustomize_time(cmd: list[str], env: dict[str, str], args: argparse.Namespace) -> float | None:
    """The median time, or None when one run takes longer than --kustomize-timeout."""
    try:
        return median_time(
            lambda: run_checked(cmd, env, timeout=args.kustomize_timeout),
            args.kustomize_repeats,
            "kustomize",
        )
    except subprocess.TimeoutExpired:
        return None


# Run in a small helper process: a child forked straight from this one would report
# this process's own (large) memory as its peak, since ru_maxrss counts from the fork.
MEASURE = """
import os, subprocess, sys
with open(sys.argv[1], "rb") as feed:
    proc = subprocess.Popen(sys.argv[2:], stdin=feed, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(proc.pid, 0)
print(usage.ru_maxrss, usage.ru_utime + usage.ru_stime)
"""


def child_usage(cmd: list[str], stdin: bytes) -> tuple[float, float]:
    """(peak RSS in MB, CPU seconds) of one run: CPU time does not grow with the load
    other processes put on a shared machine, wall time does."""
    with tempfile.NamedTemporaryFile() as feed:
        feed.write(stdin)
        feed.flush()
        out = subprocess.run(
            [sys.executable, "-c", MEASURE, feed.name, *cmd],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
    return int(out[0]) / 1024, float(out[1])


def peak_rss_mb(cmd: list[str], stdin: bytes) -> float:
    return child_usage(cmd, stdin)[0]


def values_for(users: int, path: Path) -> Path:
    values = dict(BASE_VALUES, users=[f"user{i:05d}" for i in range(users)])
    path.write_text(yaml.safe_dump(values))
    return path


def users_for(target_docs: int, home: Path) -> int:
    """Users so that our chart renders about ``target_docs`` documents (2 per user)."""
    probe = run_checked(
        [
            str(HELMS["Helm 3"]),
            "template",
            "b",
            str(ROOT / "chart"),
            "-f",
            str(values_for(0, home / "probe.yaml")),
        ],
        helm_env(home),
    )
    return max((target_docs - probe.count(b"\nkind: ")) // 2, 0)


def scenarios(home: Path, quick: bool) -> list[Scenario]:
    sizes = (60, 600) if quick else (600, 6000)
    ours = []
    for size in sizes:
        users = users_for(size, home)
        values = values_for(users, home / f"values-{users}.yaml")
        ours.append(
            Scenario(
                f"our chart, {users} users", ROOT / "chart", ["-f", str(values)], [], OUR_TARGETS
            )
        )
    n = 200 if quick else 2000
    chart = copies.make_chart(HELMS["Helm 3"], home)
    config = copies.write_config(home / "copies-config.yaml")
    copied = Scenario(
        f"helm create x {n}, all targeted",
        chart,
        copies.values_args(n),
        [f"--config={config}"],
        COPIES_TARGETS,
        targeted=n,
    )
    return [*ours, copied]


@dataclass
class Growth:
    workloads: int
    documents: int
    input_bytes: int
    seconds: float
    peak_rss_mb: float
    cpu_seconds: float


def render_copies(home: Path, count: int) -> bytes:
    helm = HELMS["Helm 3"]
    chart = home / "copies"
    return run_checked(
        [str(helm), "template", "b", str(chart), *copies.values_args(count)], helm_env(home)
    )


def bench_growth(home: Path, counts: tuple[int, ...], repeats: int) -> list[Growth]:
    """stowage alone on streams of ``count`` targeted Deployments (3 documents each)."""
    config = home / "copies-config.yaml"
    cmd = [str(STOWAGE), "--quiet", f"--config={config}"]
    out = []
    for count in counts:
        PROGRESS.say(f"growth: rendering {count} copies")
        text = render_copies(home, count)
        seconds = median_time(
            partial(run_checked, cmd, helm_env(home), text),
            repeats,
            f"growth: {count} targeted workloads",
        )
        out.append(
            Growth(count, text.count(b"\nkind: "), len(text), seconds, *child_usage(cmd, text))
        )
    return out


def bench_untargeted(home: Path, documents: int) -> Growth:
    """stowage alone, no config, on ``documents`` documents: the memory case."""
    text = render_copies(home, documents // 3 + 1)
    cmd = [str(STOWAGE), "--quiet"]
    seconds = median_time(lambda: run_checked(cmd, helm_env(home), text), 1, "untargeted")
    return Growth(0, text.count(b"\nkind: "), len(text), seconds, *child_usage(cmd, text))


def bench_fixture(path: Path, home: Path, args: argparse.Namespace) -> Row:
    """stowage's time on a vendored fixture. Some are rightly rejected (exit 1, e.g. a
    JobSet sharing a ReadWriteOnce claim template): the checks run all the same, and
    tests/ holds each verdict; only a usage or input error (exit 2) stops the bench."""
    text = path.read_bytes()
    row = Row(path.name, "", text.count(b"\nkind: ") + text.startswith(b"kind: "), len(text))
    cmd = [str(STOWAGE), "--quiet"]
    env = helm_env(home)
    row.seconds["stowage_alone"] = median_time(
        lambda: run_checked(cmd, env, text, accept=(0, 1)), args.repeats, path.name
    )
    row.peak_rss_mb = peak_rss_mb(cmd, text)
    return row


def cold_starts(home: Path, repeats: int) -> dict[str, float]:
    """Median wall time of `stowage render` on small streams: the start-up cost."""
    env = helm_env(home)
    chart = run_checked([str(HELMS["Helm 3"]), "template", "b", str(ROOT / "chart")], env)
    one_copy = render_copies(home, 1)
    config = f"--config={home / 'copies-config.yaml'}"
    cases: dict[str, tuple[list[str], bytes]] = {
        "empty stream, no plan": ([], b""),
        f"our chart's plan ({chart.count(b'kind: ')} documents)": ([], chart),
        "a --config, one Deployment": ([config], one_copy),
    }
    return {
        label: median_time(
            partial(run_checked, [str(STOWAGE), "--quiet", *extra], env, stdin),
            repeats,
            f"cold start: {label}",
        )
        for label, (extra, stdin) in cases.items()
    }


def machine() -> str:
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    versions = []
    for name, helm in HELMS.items():
        out = subprocess.run(
            [str(helm), "version", "--short"], capture_output=True, text=True, check=False
        )
        versions.append(f"{name} {out.stdout.strip()}")
    return (
        f"{os.cpu_count()} cores, {cpu}; Python {platform.python_version()}; "
        f"{', '.join(versions)}; {platform.system()} {platform.release()}; {_loader()}"
    )


def _loader() -> str:
    """Which YAML loader the stowage under test has (rapidyaml comes with stowage[fast])."""
    out = subprocess.run(
        [sys.executable, "-c", "import ryml; print(ryml.version)"],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        return "rapidyaml not installed: every document read by PyYAML"
    return f"rapidyaml {out.stdout.strip()} (stowage[fast])"


def compile_bytecode() -> None:
    """Compile stowage's bytecode first, as `pip install` does for an installed package:
    an editable checkout under PYTHONDONTWRITEBYTECODE would otherwise compile every
    module on every run and the cold starts would measure the compiler."""
    compileall.compile_dir(ROOT / "postrenderer" / "stowage", quiet=1)


@dataclass
class Results:
    rows: list[Row]
    growth: list[Growth]
    untargeted: Growth
    fixtures: list[Row]
    starts: dict[str, float]


def mark(ok: bool) -> str:
    return "met" if ok else "MISSED"


def seconds_text(value: float | None, timeout: float) -> str:
    return f"> {timeout:.0f} s (stopped)" if value is None else f"{value:.3f} s"


def _without_aids(row: Row) -> str:
    """stowage alone without rapidyaml, and on one CPU: what each of them earns."""
    parts = []
    for key, what in (("alone_pyyaml", "PyYAML only"), ("alone_one_cpu", "on one CPU")):
        value = row.seconds.get(key)
        if value is not None:
            parts.append(f"{what} {value:.3f} s")
    return f" (stowage alone, {', '.join(parts)})" if parts else ""


def _replayed(row: Row) -> str:
    replay, a = row.seconds.get("e_replay"), row.seconds["a_helm"] or 0.0
    if replay is None:
        return ""
    return (
        f". A plugin that only replays stowage's output takes {replay:.3f} s = "
        f"{replay / a:.2f}x: that much is Helm's own handling of the post-rendered stream"
    )


def verdicts(res: Results, args: argparse.Namespace) -> list[str]:
    lines = []
    for label, value in res.starts.items():
        if "no plan" in label:
            lines.append(f"- cold start, {label}: {value * 1000:.0f} ms (for comparison)")
        else:
            ok = value <= 0.150
            lines.append(
                f"- goal 1, cold start with {label}: {value * 1000:.0f} ms "
                f"(goal <= 150 ms): {mark(ok)}"
            )
    for row in res.rows:
        if not row.label.startswith("helm create"):
            continue
        a, b = row.seconds["a_helm"] or 0.0, row.seconds["b_stowage"] or 0.0
        alone = row.seconds["stowage_alone"] or 0.0
        lines.append(
            f"- goal 2, {row.helm}, {row.label} ({row.documents} documents): stowage alone "
            f"{alone:.3f} s = {alone / a:.2f}x helm template's {a:.3f} s (goal <= 0.5x): "
            f"{mark(alone <= 0.5 * a)}; with --post-renderer stowage {b:.3f} s = {b / a:.2f}x "
            f"(goal <= 1.5x): {mark(b <= 1.5 * a)}{_without_aids(row)}{_replayed(row)}"
        )
    first, last = res.growth[0], res.growth[-1]
    goal = last.workloads / first.workloads * 1.2
    cpu_ratio = last.cpu_seconds / first.cpu_seconds
    lines.append(
        f"- goal 3, growth: {last.workloads} targeted workloads take {last.cpu_seconds:.2f} s "
        f"of CPU, {cpu_ratio:.1f}x the {first.cpu_seconds:.2f} s of {first.workloads} "
        f"(goal <= {goal:.0f}x): {mark(cpu_ratio <= goal)}; wall time {last.seconds:.2f} s vs "
        f"{first.seconds:.2f} s, {last.seconds / first.seconds:.1f}x"
    )
    u = res.untargeted
    limit = 5 * u.input_bytes / 2**20 + 80
    lines.append(
        f"- goal 3, memory: {u.documents} untargeted documents ({u.input_bytes / 2**20:.0f} MB) "
        f"peak {u.peak_rss_mb:.0f} MB (goal <= 5x input + 80 MB = {limit:.0f} MB): "
        f"{mark(u.peak_rss_mb <= limit)}"
    )
    for row in res.rows:
        helm_s = row.seconds["a_helm"] or 0.0
        added = max((row.seconds["b_stowage"] or 0.0) - helm_s, 1e-3)
        kustomize_s = row.seconds["c_kustomize"]
        kust = (
            f"kustomize adds more than {args.kustomize_timeout - helm_s:.0f} s"
            if kustomize_s is None
            else f"kustomize adds {kustomize_s - helm_s:.3f} s "
            f"({(kustomize_s - helm_s) / added:.0f}x as much)"
        )
        lines.append(
            f"- {row.helm}, {row.label}: stowage adds {added:.3f} s (earlier goal: no more "
            f"than helm template's own {helm_s:.3f} s: {mark(added <= helm_s)}); {kust}"
        )
    return lines


def report(res: Results, args: argparse.Namespace) -> str:
    timeout = args.kustomize_timeout
    out = [
        "# Benchmarks",
        "",
        "Written by `make bench` (benchmarks/bench.py); do not edit by hand.",
        "",
        f"Machine: {machine()}.",
        "",
        f"Each time is the median of {args.repeats} runs ({args.kustomize_repeats} for "
        f"kustomize, stopped after {timeout:.0f} s). The machine is shared: expect some noise. "
        "stowage's bytecode is compiled first, as `pip install` does. From 800 workload "
        "documents stowage reads, attaches and writes on two CPUs (stowage/attach/halves.py), and "
        "loads other large streams on two (stowage/parallel.py); CPU time is shown "
        "beside wall time where it matters.",
        "",
        "## Goals (issue 16)",
        "",
        *verdicts(res, args),
        "",
        "## Charts through `helm template`, side by side",
        "",
        "| Helm | input | documents | bytes | (a) helm | (b) + stowage | (c) + kustomize "
        "| (d) + cat | stowage alone | stowage peak RSS |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in res.rows:
        cells = " | ".join(seconds_text(r.seconds[k], timeout) for k in VARIANTS)
        out.append(
            f"| {r.helm} | {r.label} | {r.documents} | {r.input_bytes} | {cells} | "
            f"{seconds_text(r.seconds['stowage_alone'], timeout)} | {r.peak_rss_mb:.0f} MB |"
        )
    out += [
        "",
        "## Growth: stowage alone on targeted workloads",
        "",
        "Copies of `helm create`'s chart (3 documents each), every Deployment targeted.",
        "",
        "| targeted workloads | documents | bytes | time | CPU time | CPU per workload "
        "| peak RSS |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for g in [*res.growth, res.untargeted]:
        label = str(g.workloads) if g.workloads else "0 (no config)"
        per = f"{g.cpu_seconds / g.workloads * 1000:.2f} ms" if g.workloads else "-"
        out.append(
            f"| {label} | {g.documents} | {g.input_bytes} | {g.seconds:.3f} s "
            f"| {g.cpu_seconds:.3f} s | {per} | {g.peak_rss_mb:.0f} MB |"
        )
    out += [
        "",
        "## Cold start (`stowage render --quiet` on a small stream)",
        "",
        "| case | time |",
        "|---|---:|",
        *(f"| {label} | {value * 1000:.0f} ms |" for label, value in res.starts.items()),
        "",
        "## Third-party fixtures (stowage alone)",
        "",
        "| fixture | documents | bytes | time | peak RSS |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {r.label} | {r.documents} | {r.input_bytes} | "
            f"{seconds_text(r.seconds['stowage_alone'], timeout)} | {r.peak_rss_mb:.0f} MB |"
            for r in res.fixtures
        ),
        "",
        "## Commands",
        "",
        "```console",
        "helm template b CHART ARGS                                  # (a)",
        "helm template b CHART ARGS --post-renderer stowage          # (b) Helm 4: the plugin",
        "helm template b CHART ARGS --post-renderer kustomize.sh     # (c) Helm 4: a plugin",
        "helm template b CHART ARGS --post-renderer cat              # (d) Helm 4: a plugin",
        "helm template b CHART ARGS | stowage --quiet [--config ...] # stowage alone",
        "```",
        "",
        "![time vs targeted workloads and vs documents](benchmarks.png)",
        "",
    ]
    return "\n".join(out)


def plot(res: Results, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    counts = [g.workloads for g in res.growth]
    left.plot(counts, [g.seconds for g in res.growth], marker="o", label="wall time (median)")
    left.plot(counts, [g.cpu_seconds for g in res.growth], marker="s", label="CPU time")
    first = res.growth[0]
    left.plot(
        counts,
        [first.cpu_seconds * c / first.workloads for c in counts],
        linestyle="--",
        label="linear from the first CPU point",
    )
    left.set_xlabel("targeted workloads (Deployments)")
    left.set_ylabel("seconds")
    left.set_title("stowage alone vs targeted workloads")
    left.legend()
    left.grid(True, alpha=0.3)
    names = {"a_helm": "helm template", "b_stowage": "+ stowage", "d_cat": "+ cat"}
    for helm in HELMS:
        rows = [r for r in res.rows if r.helm == helm and not r.label.startswith("helm create")]
        docs = [r.documents for r in rows]
        for key, label in names.items():
            right.plot(
                docs, [r.seconds[key] or 0.0 for r in rows], marker="o", label=f"{helm} {label}"
            )
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("rendered documents (our chart)")
    right.set_title("helm template with each post-renderer")
    right.legend(fontsize="small")
    right.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--kustomize-repeats", type=int, default=3)
    parser.add_argument(
        "--kustomize-timeout", type=float, default=60.0, help="stop a kustomize run after S s"
    )
    parser.add_argument("--quick", action="store_true", help="1 repeat, small sizes (a smoke run)")
    args = parser.parse_args()
    if args.quick:
        args.repeats = args.kustomize_repeats = 1
    growth_counts = (100, 400) if args.quick else (1000, 2500, 5000, 10000)
    compile_bytecode()
    with tempfile.TemporaryDirectory(prefix="stowage-bench-") as tmp:
        home = Path(tmp)
        install_plugin(HELMS["Helm 4"], helm_env(home), ROOT / "postrenderer")
        rows = [
            bench_chart(name, helm, scenario, home, args)[0]
            for scenario in scenarios(home, args.quick)
            for name, helm in HELMS.items()
        ]
        growth = bench_growth(home, growth_counts, max(1, min(args.repeats, 3)))
        untargeted = bench_untargeted(home, 3000 if args.quick else 100_000)
        fixtures = [bench_fixture(p, home, args) for p in sorted(THIRD_PARTY.glob("*.yaml"))]
        starts = cold_starts(home, max(args.repeats, 20))
    PROGRESS.done()
    res = Results(rows, growth, untargeted, fixtures, starts)
    out_dir = Path(os.environ.get("STOWAGE_BENCH_OUT", DOCS))
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "benchmarks.md").write_text(report(res, args))
    plot(res, out_dir / "benchmarks.png")
    print("\n".join(verdicts(res, args)))
    print(f"wrote {out_dir / 'benchmarks.md'} and {out_dir / 'benchmarks.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
