"""`make demo`: render the chart through the real post-renderer and say what went where.

Runs the pinned Helm 3 (`--post-renderer` with the path of this venv's
`stowage`, the form Helm 3 takes) with throwaway Helm homes, then reads the
post-rendered manifests back and prints, per workload, every volume mounted,
where, read-only or not, and from what source.

The pods that do the work do not exist at render time: Owl's scheduler creates
a Job per pipeline run from the `pipeline` fragment of owl.yaml, and each run
creates its Dask pods from the `dask.kubernetes` templates. The demo builds
those pods the way Owl does, for a sample user (`${USER}` filled in), from the
post-rendered owl.yaml, so whatever the post-renderer put into the templates
shows there.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from stowage.pods.reading import carried_loader, read
from stowage.pods.sources import describe_mount, describe_source
from stowage.pods.workloads import collect
from stowage.read.yamlload import Limits

ROOT = Path(__file__).resolve().parents[3]
SAMPLE_USER = "joe"
OWL_KEY = "owl.yaml"
DASK_TEMPLATES = (("scheduler-template", "Dask scheduler"), ("worker-template", "Dask worker"))


def describe(label: str, pod: dict[str, Any]) -> list[str]:
    volumes = {v.get("name"): v for v in pod.get("volumes") or []}
    lines = [label]
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


def with_user(data: Any, user: str) -> Any:
    """What Owl does when it reads owl.yaml for a run: `${USER}` becomes the user."""
    return json.loads(json.dumps(data).replace("${USER}", user))


def owl_run_pods(manifests: str, user: str) -> list[tuple[str, dict[str, Any]]]:
    """The pipeline Job pod and per-run Dask pods Owl builds from each owl.yaml in the stream."""
    pods: list[tuple[str, dict[str, Any]]] = []
    for doc in yaml.safe_load_all(manifests):
        data = doc.get("data") if isinstance(doc, dict) and doc.get("kind") == "ConfigMap" else None
        if not isinstance(data, dict) or OWL_KEY not in data:
            continue
        where = f"ConfigMap/{doc['metadata']['name']} {OWL_KEY}"
        owl = with_user(yaml.safe_load(data[OWL_KEY]) or {}, user)
        pods.append(
            (f"pipeline Job pod for {user} (from `pipeline` in {where})", _pipeline_pod(owl))
        )
        templates = ((owl.get("dask") or {}).get("kubernetes")) or {}
        for key, what in DASK_TEMPLATES:
            spec = (templates.get(key) or {}).get("spec")
            if isinstance(spec, dict):
                pods.append(
                    (f"{what} pod of {user}'s run (from `dask.kubernetes.{key}` in {where})", spec)
                )
    return pods


def plan_names_templates(manifests: str) -> bool:
    """Whether a chart plan in the stream tells the post-renderer where pod templates are."""
    for doc in yaml.safe_load_all(manifests):
        if not isinstance(doc, dict) or doc.get("kind") != "ConfigMap":
            continue
        labels = (doc.get("metadata") or {}).get("labels") or {}
        plan = (doc.get("data") or {}).get("plan.json")
        is_plan = labels.get("stowage.io/plan") == "true" and isinstance(plan, str)
        if is_plan and json.loads(str(plan)).get("templates"):
            return True
    return False


def _pipeline_pod(owl: dict[str, Any]) -> dict[str, Any]:
    """As owl_server.k8s.kube_create_job builds it: one container, the fragment's lists."""
    fragment = owl.get("pipeline") or {}
    container = {"name": "pipeline", "volumeMounts": fragment.get("volumeMounts") or []}
    pod: dict[str, Any] = {"containers": [container], "volumes": fragment.get("volumes") or []}
    if fragment.get("securityContext"):
        pod["securityContext"] = fragment["securityContext"]
    return pod


def summarize(manifests: str, user: str = SAMPLE_USER) -> str:
    limits = Limits()
    stream = read(manifests, limits)
    count = sum(1 for doc in stream.documents if doc.text.strip())
    lines = [f"rendered {count} documents; storage went here:", ""]
    for workload in collect(stream, carried_loader(limits)):
        if not workload.is_template:  # run-time pods are shown below, as Owl builds them
            lines.extend(describe(workload.label, workload.pod_spec))
    run_pods = owl_run_pods(manifests, user)
    if run_pods:
        lines += ["", f"pods Owl creates at run time, for a sample user {user}:", ""]
        if not plan_names_templates(manifests):
            lines.append("(the plan names no pod templates: these carry only what the chart wrote)")
        for label, pod in run_pods:
            lines.extend(describe(label, pod))
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
    from stowage.views.report import as_text

    return as_text(run(manifests, Options()))


if __name__ == "__main__":
    sys.exit(main())
