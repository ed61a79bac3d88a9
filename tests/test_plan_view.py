"""`stowage plan`: JSON as data checked against docs/plan.schema.json, text with every source."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from conftest import CHART, EXAMPLES, ROOT, Helm
from enginehelpers import ROLE, TARGET, deployment, dump_all, pod_spec_of, render
from stowage.engine import Options, run
from stowage.views import report
from stowage.views.demo import describe

SCHEMA = json.loads((ROOT / "docs" / "plan.schema.json").read_text())
VALIDATOR = Draft202012Validator(SCHEMA)
RENDERED_EXAMPLES = sorted(
    p.name for p in EXAMPLES.glob("*.yaml") if p.stem not in {
        "rejected-relative-mountpath", "rejected-tolerations-map", "rejected-two-outputs",
        "rejected-two-sources", "rejected-unknown-key",  # the chart's schema refuses these
    }
)  # fmt: skip


def _plan_json(outcome: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(report.plan_json(outcome))
    return document


def test_the_schema_is_a_valid_json_schema() -> None:
    Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("example", RENDERED_EXAMPLES)
def test_plan_json_of_every_values_example_follows_the_schema(helm4: Helm, example: str) -> None:
    rendered = helm4.run("template", "ml", str(CHART), "-f", str(EXAMPLES / example)).stdout
    document = _plan_json(run(rendered, Options()))
    errors = [e.message for e in VALIDATOR.iter_errors(document)]
    assert errors == []
    if not example.startswith("storage-only"):  # storage-only renders storage, no workloads
        assert document["placements"], "every example targets some workload"


def test_the_schema_refuses_the_old_sentences() -> None:
    old = {"stowage": "0", "placements": [{"workload": "Deployment/w", "role": "dask",
                                           "reason": "x", "mounts": ["a -> /data/a"]}]}  # fmt: skip
    assert not VALIDATOR.is_valid(old)


def _config(**extra: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "persistence": {
            "data": {
                "a": {"mountPath": "/data/a", "existingClaim": "data-a", "readOnly": True,
                      "accessModes": ["ReadWriteMany"]},
                "s3": {"store": "s3", "bucket": "s3://b", "secret": "creds", "secretKey": "aws",
                       "secretExternal": True},
            },
            "outputs": {"out": {"mountPath": "/outputs", "nfs": {"server": "nfs", "path": "/o"}}},
        },
        "targets": TARGET,
        "nodeSelector": {"dask": {"pool": "gpu"}},
        "tolerations": {"dask": [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]},
        "securityContext": {"enabled": True},
    }  # fmt: skip
    config.update(extra)
    return config


def test_plan_json_is_data_not_sentences() -> None:
    document = _plan_json(render(dump_all(deployment("w", ROLE)), _config()))
    assert VALIDATOR.is_valid(document)
    (placement,) = document["placements"]
    assert (placement["kind"], placement["name"], placement["pool"]) == ("Deployment", "w", "dask")
    volumes = {v["volume"]: v for v in placement["volumes"]}
    assert volumes["a"] == {
        "volume": "a", "purpose": "data", "source": {"kind": "claim", "ref": "data-a"},
        "mountPath": "/data/a", "readOnly": True, "subPath": None, "env": [],
    }  # fmt: skip
    assert volumes["out"]["source"] == {"kind": "nfs", "ref": "nfs:/o"}
    assert volumes["s3"]["source"] == {"kind": "store", "ref": "s3://b"}
    assert volumes["s3"]["mountPath"] is None
    assert volumes["s3"]["env"] == ["STOWAGE_STORE_S3"]
    env = {e["name"]: e for e in placement["env"]}
    assert env["STOWAGE_STORE_S3"]["secretKeyRef"] == {"name": "creds", "key": "aws"}
    assert json.loads(env["STOWAGE_DATA_PATHS"]["value"]) == {"a": "/data/a", "s3": "s3://b"}
    assert placement["nodeSelector"] == {"pool": "gpu"}
    assert placement["tolerations"] == [
        {"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}
    ]
    assert placement["securityContext"]["runAsUser"] == 1000
    assert placement["securityContext"]["runAsNonRoot"] is True


def test_plan_json_says_why_a_volume_was_skipped() -> None:
    doc = deployment(
        "w",
        {**ROLE},
    )
    doc["metadata"]["annotations"] = {"stowage.io/data-refs": "a,missing"}
    pod_spec_of(doc)["volumes"] = [{"name": "out", "emptyDir": {}}]
    config = _config(
        autoMount={
            "type": "pvc",
            "params": "pvc_name=shared,volume_name=shared,volume_mount_path=/s",
        }
    )
    (placement,) = _plan_json(render(dump_all(doc), config))["placements"]
    reasons = {s["volume"]: s["reason"] for s in placement["skipped"]}
    assert "kept the workload's own volume 'out'" in reasons["out"]
    assert "no data volume of that name" in reasons["missing"]
    assert "chose its own data" in reasons["shared"]
    assert [v["volume"] for v in placement["volumes"]] == ["a"]


def test_plan_text_shows_the_source_of_every_mount() -> None:
    text = report.plan_text(render(dump_all(deployment("w", ROLE)), _config()))
    assert "  mount: /data/a (ro) <- claim data-a [data a]" in text
    assert "  mount: /outputs (rw) <- nfs nfs:/o [outputs out]" in text
    assert "  store: s3://b <- env STOWAGE_STORE_S3 [data s3]" in text
    assert "  env: STOWAGE_STORE_S3 from secret creds key aws" in text
    assert "  scheduling: nodeSelector pool=gpu" in text
    assert "  scheduling: toleration gpu exists:NoSchedule" in text
    assert "  security: runs as 1000:1000, fsGroup 1000" in text


def test_plan_text_and_make_demo_describe_a_mount_alike() -> None:
    outcome = render(dump_all(deployment("w", ROLE)), _config())
    workload = outcome.workloads[0]
    demo_lines = describe(workload.label, workload.pod_spec)
    assert "  c0: /data/a (ro) <- claim data-a" in demo_lines
    assert "  mount: /data/a (ro) <- claim data-a [data a]" in report.plan_text(outcome)


def test_plan_json_command_writes_the_document(tmp_path: Path) -> None:
    import subprocess
    import sys

    config = tmp_path / "c.json"
    config.write_text(json.dumps(_config()))
    proc = subprocess.run(
        [sys.executable, "-m", "stowage", "plan", "--format", "json", "--config", str(config)],
        input=dump_all(deployment("w", ROLE)), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert VALIDATOR.is_valid(json.loads(proc.stdout))


def _parallel_workflow() -> dict[str, Any]:
    use = {"name": "use", "metadata": {"labels": ROLE}, "container": {"image": "busybox"}}
    steps = [[{"name": "a", "template": "use"}, {"name": "b", "template": "use"}],
             [{"name": "c", "template": "use"}]]  # fmt: skip
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "wf"},
        "spec": {"entrypoint": "main", "templates": [{"name": "main", "steps": steps}, use]},
    }


def test_plan_json_shows_which_pods_run_at_once_and_why() -> None:
    docs = dump_all(_parallel_workflow(), deployment("w", ROLE, replicas=3))
    document = _plan_json(render(docs, _config()))
    assert VALIDATOR.is_valid(document), list(VALIDATOR.iter_errors(document))
    workflow, dep = document["concurrency"]
    assert workflow["object"] == "Workflow/wf"
    groups = [(g["pods"], g["why"], [m["use"] for m in g["members"]]) for g in workflow["groups"]]
    assert groups == [
        (2, "steps 'a' and 'b' are in the same step group", ["step 'a'", "step 'b'"]),
        (1, "1 pod", ["step 'c'"]),
    ]
    assert [(g["pods"], g["why"]) for g in dep["groups"]] == [(3, "3 replicas")]


def test_plan_text_ends_with_who_runs_at_once() -> None:
    text = report.plan_text(render(dump_all(_parallel_workflow()), _config()))
    tail = text.split("who runs at once:\n", 1)[1]
    assert tail.splitlines()[0] == (
        "  Workflow/wf: 2 pods (steps 'a' and 'b' are in the same step group): "
        "step 'a' runs use, step 'b' runs use"
    )


def _tekton_run(coschedule: str) -> str:
    """A PipelineRun by pipelineRef (the Pipeline beside it): a, then b and c at once; only
    a and b bind workspace ws, bound to claim work; the feature flags set `coschedule`."""
    step = {"taskSpec": {"steps": [{"name": "s", "image": "busybox"}]}}
    bind = {"workspaces": [{"name": "w", "workspace": "ws"}]}
    pipeline = {
        "apiVersion": "tekton.dev/v1",
        "kind": "Pipeline",
        "metadata": {"name": "build"},
        "spec": {"workspaces": [{"name": "ws"}], "tasks": [
            {"name": "a", **bind, **step},
            {"name": "b", "runAfter": ["a"], **bind, **step},
            {"name": "c", "runAfter": ["a"], **step}]},
    }  # fmt: skip
    run = {
        "apiVersion": "tekton.dev/v1",
        "kind": "PipelineRun",
        "metadata": {"name": "build-1", "labels": ROLE},
        "spec": {"pipelineRef": {"name": "build"},
                 "workspaces": [{"name": "ws", "persistentVolumeClaim": {"claimName": "work"}}]},
    }  # fmt: skip
    flags = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "feature-flags", "namespace": "tekton-pipelines"},
        "data": {"coschedule": coschedule},
    }
    return dump_all(flags, pipeline, run)


def test_plan_json_says_where_a_pipeline_runs_tasks_came_from_and_what_places_them() -> None:
    document = _plan_json(render(_tekton_run("disabled"), _config()))
    assert VALIDATOR.is_valid(document), list(VALIDATOR.iter_errors(document))
    (run,) = document["concurrency"]
    uses = [[m["use"] for m in g["members"]] for g in run["groups"]]
    assert uses == [["task 'a'"], ["task 'b'", "task 'c'"]]  # the Pipeline in the stream
    assert run["notes"] == [
        "its tasks come from Pipeline 'build' (pipelineRef, found in the stream)",
        "Tekton's affinity assistant (coschedule: disabled, ConfigMap "
        "tekton-pipelines/feature-flags) is off: tasks that share a workspace's claim can "
        "run on different nodes unless runAfter or results order them",
        "workspace 'ws' (claim 'work') reaches the tasks that bind it: task 'a', task 'b'",
    ]


def test_plan_text_notes_the_affinity_assistant_mode_it_read() -> None:
    text = report.plan_text(render(_tekton_run("isolate-pipelinerun"), _config()))
    assert (
        "  note: PipelineRun/build-1: Tekton's affinity assistant (coschedule: "
        "isolate-pipelinerun, ConfigMap tekton-pipelines/feature-flags) puts all the pods of "
        "a PipelineRun on one node, one run per node"
    ) in text.splitlines()
