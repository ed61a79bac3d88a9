"""A chart of N copies of `helm create`'s ServiceAccount, Service and Deployment.

Made from the pinned Helm's own `helm create` so Helm renders it with its real
templates: each of the three templates is wrapped in a loop over
``.Values.copies`` whose body sees a ``fullnameOverride`` of ``<release>-<i>``.
The stowage config given with it targets every Deployment.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

WRAPPED = ("serviceaccount.yaml", "service.yaml", "deployment.yaml")
LOOP_HEAD = """{{- range $i := until (int $.Values.copies) }}
{{- $values := merge (dict "fullnameOverride" (printf "%s-%d" $.Release.Name $i)) $.Values }}
{{- with merge (dict "Values" $values) $ }}
---
"""
LOOP_TAIL = "\n{{- end }}\n{{- end }}\n"
CONFIG = """\
persistence:
  data:
    datasets:
      mountPath: /data
      readOnly: true
      nfs: {server: nfs.example.org, path: /datasets}
  outputs:
    outputs:
      mountPath: /outputs
      existingClaim: outputs
      accessModes: [ReadWriteMany]
targets:
  app:
    matchLabels: {app.kubernetes.io/name: copies}
    kinds: [Deployment]
"""


def make_chart(helm: Path, parent: Path) -> Path:
    """Create the chart under ``parent``; returns its directory."""
    subprocess.run([str(helm), "create", "copies"], cwd=parent, check=True, capture_output=True)
    chart = parent / "copies"
    templates = chart / "templates"
    for name in WRAPPED:
        body = (templates / name).read_text()
        (templates / name).write_text(LOOP_HEAD + body.strip("\n") + LOOP_TAIL)
    for extra in ("hpa.yaml", "ingress.yaml", "httproute.yaml", "NOTES.txt"):
        (templates / extra).unlink(missing_ok=True)
    for test in (templates / "tests").glob("*"):
        test.unlink()
    return chart


def values_args(copies: int) -> list[str]:
    return ["--set", f"copies={copies}"]


def write_config(path: Path) -> Path:
    path.write_text(CONFIG)
    return path
