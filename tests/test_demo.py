"""`make demo`: the chart through the real Helm 3 post-renderer, summarized."""

from __future__ import annotations

import subprocess
import sys

from conftest import EXAMPLES
from stowage.views.demo import owl_run_pods, plan_names_templates


def run_demo(example: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "stowage.views.demo", "-f", str(EXAMPLES / example)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_demo_shows_where_storage_went() -> None:
    out = run_demo("production.yaml")
    assert "Deployment/demo-stowage-scheduler" in out
    assert "Deployment/demo-stowage-api" in out
    assert "/data/imagenet (ro) <- claim imagenet" in out
    assert "/var/run/owl (rw) <- claim demo-stowage-scheduler-state" in out
    assert "nodeSelector: node-pool=core" in out
    assert "stowage: ok:" in out


def test_demo_shows_the_pods_owl_creates_for_a_sample_user() -> None:
    out = run_demo("per-user-nfs.yaml")
    run_time = out.split("pods Owl creates at run time, for a sample user joe:", 1)[1]
    assert "pipeline Job pod for joe" in run_time
    assert "Dask scheduler pod of joe's run" in run_time
    assert "Dask worker pod of joe's run" in run_time
    assert "pipeline: /etc/owl (ro) <- configMap demo-stowage-owl-config" in run_time
    assert "the plan names no pod templates" not in run_time  # the plan names owl.yaml's


def test_plan_names_templates_reads_the_chart_plan() -> None:
    plan = """
kind: ConfigMap
metadata: {name: p, labels: {stowage.io/plan: "true"}}
data:
  plan.json: '{"templates": [{"preset": "owl"}]}'
"""
    assert plan_names_templates(plan)
    assert not plan_names_templates(plan.replace('"templates"', '"targets"'))
    assert not plan_names_templates(plan.replace('"true"', '"false"'))


OWL_CONFIG = """
kind: ConfigMap
metadata: {name: owl-config}
data:
  owl.yaml: |
    pipeline:
      volumeMounts:
        - name: home
          mountPath: /storage/${USER}
      volumes:
        - name: home
          persistentVolumeClaim:
            claimName: nfs-storage-${USER}
    dask:
      kubernetes:
        worker-template:
          spec:
            containers:
              - name: dask-worker
            volumes:
              - name: home
                hostPath:
                  path: /home/${USER}
"""


def test_run_pods_are_built_as_owl_builds_them_with_the_user_filled_in() -> None:
    pods = dict(owl_run_pods(OWL_CONFIG, "ann"))
    (pipeline,) = [
        pod for label, pod in pods.items() if label.startswith("pipeline Job pod for ann")
    ]
    assert pipeline["containers"][0]["volumeMounts"] == [
        {"name": "home", "mountPath": "/storage/ann"}
    ]
    assert pipeline["volumes"][0]["persistentVolumeClaim"] == {"claimName": "nfs-storage-ann"}
    (worker,) = [pod for label, pod in pods.items() if label.startswith("Dask worker pod")]
    assert worker["volumes"] == [{"name": "home", "hostPath": {"path": "/home/ann"}}]
    assert not [label for label in pods if label.startswith("Dask scheduler")]


def test_storage_reaches_the_run_pods_once_the_plan_names_owl_yaml() -> None:
    out = run_demo("per-user-nfs.yaml")
    run_time = out.split("pods Owl creates at run time", 1)[1]
    assert "pipeline: /storage/joe (rw) <- claim nfs-storage-joe" in run_time
    assert "dask-worker: /outputs (rw)" in run_time
