"""`make demo`: render the chart through the real post-renderer and say what went where.

Runs the pinned Helm 3 (`--post-renderer` with the path of this venv's
`stowage`, the form Helm 3 takes) with throwaway Helm homes, then reads the
post-rendered manifests back and prints, per workload, every volume mounted,
where, read-only or not, and from what source.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from stowage.engine import carried_loader
from stowage.manifests import read
from stowage.sources import describe_mount, describe_source
from stowage.workloads import Workload, collect
from stowage.yamlload import Limits

ROOT = Path(__file__).resolve().parents[2]


def describe(workload: Workload) -> list[str]:
    pod = workload.pod_spec
    volumes = {v.get("name"): v for v in pod.get("volumes") or []}
    lines = [f"{workload.label}"]
    for container in pod.get("containers") or []:
        for mount in container.get("volumeMounts") or []:
            source = describe_source(volumes.get(mount.get("name"), {}))
            line = describe_mount(mount["mountPath"], bool(mount.get("readOnly")), source)
            lines.append(f"  {container.get('name')}: {line}")
    selector = pod.get("nodeSelector")
    if selector:
        lines.append("  nodeSelector: " + ", ".join(f"{k}={v}" for k, v in selector.items()))
    fs_group = (pod.get("securityContext") or {}).get("fsGroup")
    if fs_group is not None:
        lines.append(f"  fsGroup: {fs_group}")
    return lines


def summarize(manifests: str) -> str:
    limits = Limits()
    stream = read(manifests, limits)
    count = sum(1 for doc in stream.documents if doc.text.strip())
    lines = [f"rendered {count} documents; storage went here:", ""]
    for workload in collect(stream, carried_loader(limits)):
        lines.extend(describe(workload))
    return "\n".join(lines) + "\n"


def render_chart(extra_args: list[str]) -> subprocess.CompletedProcess[str]:
    helm = ROOT / ".tools" / "bin" / "helm3"
    stowage = shutil.which("stowage", path=str(Path(sys.executable).parent)) or "stowage"
    with tempfile.TemporaryDirectory(prefix="stowage-demo-") as home:
        env = dict(os.environ)
        for var in ("HELM_CONFIG_HOME", "HELM_DATA_HOME", "HELM_CACHE_HOME"):
            env[var] = str(Path(home) / var.lower())
        cmd = [str(helm), "template", "demo", str(ROOT / "chart"), "--post-renderer", stowage,
               *extra_args]  # fmt: skip
        return subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)


def main(argv: list[str] | None = None) -> int:
    extra = list(sys.argv[1:] if argv is None else argv)
    print("$ helm3 template demo chart/ --post-renderer .venv/bin/stowage " + " ".join(extra))
    proc = render_chart(extra)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        return proc.returncode
    sys.stdout.write(summarize(proc.stdout))
    sys.stdout.write("\nwhat the checks say (stowage check on the same output):\n")
    sys.stdout.write(verdict(proc.stdout))
    return 0


def verdict(manifests: str) -> str:
    from stowage.engine import Options, run
    from stowage.report import as_text

    return as_text(run(manifests, Options()))


if __name__ == "__main__":
    sys.exit(main())
