"""`make demo`: the chart through the real Helm 3 post-renderer, summarized."""

from __future__ import annotations

import subprocess
import sys

from conftest import EXAMPLES


def test_demo_shows_where_storage_went() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "stowage.demo", "-f", str(EXAMPLES / "production.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Deployment/demo-stowage-dask-worker" in out
    assert "/data/imagenet (ro) <- claim imagenet" in out
    assert "/var/run/stowage (rw) <- claim demo-stowage-scheduler-state" in out
    assert "nodeSelector: node-pool=core" in out
    assert "stowage: ok:" in out
