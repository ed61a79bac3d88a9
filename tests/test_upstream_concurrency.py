"""The concurrency model on the projects' own examples (tests/fixtures/third-party): which
of their pods run at once, the verdicts on shared claims, and what stowage cannot reach."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from checkhelpers import mounting
from conftest import THIRD_PARTY
from enginehelpers import dump_all, render
from stowage.pods import tekton
from stowage.pods.concurrency import flow_order, model

RWO = {
    "apiVersion": "v1",
    "kind": "PersistentVolumeClaim",
    "metadata": {"name": "my-existing-volume"},
    "spec": {"accessModes": ["ReadWriteOnce"]},
}
HOSTNAME = "kubernetes.io/hostname"
TARGETED = {
    "persistence": {"data": {"d": {"mountPath": "/d", "nfs": {"server": "s", "path": "/p"}}}},
    "targets": {"ml": {"matchLabels": {"team": "ml"}}},
}


def _docs(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((THIRD_PARTY / name).read_text()) if d]


def _groups(name: str, kind: str) -> list[tuple[int, list[str]]]:
    body = next(d for d in _docs(name) if d["kind"] == kind)
    return [(g.pods(), [m.label for m in g.members]) for g in model(body).groups]


# (fixture, kind, [(pods at once, uses)]) as each project documents its example
GROUPS = [
    ("argo-steps.yaml", "Workflow", [
        (1, ["step 'hello1'"]), (2, ["step 'hello2a'", "step 'hello2b'"])]),
    ("argo-dag-diamond.yaml", "Workflow", [
        (1, ["task 'A'"]), (2, ["task 'B'", "task 'C'"]), (1, ["task 'D'"])]),
    ("argo-loops.yaml", "Workflow", [(2, ["step 'print-message-loop'"])]),
    ("argo-loops-param-result.yaml", "Workflow", [
        (1, ["step 'generate'"]), (1_000_000, ["step 'sleep'"])]),
    ("argo-parallelism-limit.yaml", "Workflow", [(2, ["step 'sleep'"])]),
    ("argo-parallelism-template-limit.yaml", "Workflow", [(2, ["step 'sleep'"])]),
    ("argo-synchronization-mutex-tmpl-level.yaml", "Workflow", [
        (2, ["step 'synchronization-acquire-lock'", "step 'synchronization-acquire-lock1'"])]),
    ("argo-daemon-step.yaml", "Workflow", [
        (2, ["step 'influx'", "step 'init-database'"]),
        (4, ["step 'influx'", "step 'producer-1'", "step 'producer-2'", "step 'producer-3'"]),
        (2, ["step 'influx'", "step 'consumer'"])]),
    ("argo-volumes-existing.yaml", "Workflow", [(1, ["step 'generate'"]), (1, ["step 'print'"])]),
    ("jobset-depends-on.yaml", "JobSet", [(1, ["initializer"]), (5, ["launcher", "worker"])]),
    ("jobset-multiple-depends-on.yaml", "JobSet", [
        (2, ["dataset-initializer", "model-initializer"]), (4, ["worker"])]),
    ("jobset-single-pvc.yaml", "JobSet", [(1, ["initializer"]), (3, ["node"])]),
]  # fmt: skip


@pytest.mark.parametrize(("name", "kind", "expected"), GROUPS, ids=[g[0] for g in GROUPS])
def test_upstream_examples_run_their_pods_as_documented(
    name: str, kind: str, expected: list[tuple[int, list[str]]]
) -> None:
    assert _groups(name, kind) == expected


def test_argo_volumes_existing_two_steps_in_sequence_on_one_rwo_claim_pass() -> None:
    text = (THIRD_PARTY / "argo-volumes-existing.yaml").read_text()
    assert not render(dump_all(RWO) + text).findings


def test_argo_volumes_existing_with_its_steps_in_one_group_is_rejected() -> None:
    (workflow,) = _docs("argo-volumes-existing.yaml")
    main = workflow["spec"]["templates"][0]
    main["steps"] = [[step for group in main["steps"] for step in group]]
    (finding,) = render(dump_all(RWO, workflow)).findings
    assert finding.rule == "SW101"
    assert "steps 'generate' and 'print' are in the same step group" in finding.message


def test_the_only_upstream_example_sharing_a_rwo_claim_among_pods_at_once() -> None:
    """jobset single-pvc.yaml: three `node` pods at once mount each ReadWriteOnce claim of
    its volumeClaimPolicies (one claim per JobSet, not per pod)."""
    rejected = {}
    for path in sorted(THIRD_PARTY.glob("*.yaml")):
        found = [f for f in render(path.read_text()).findings if f.rule in ("SW101", "SW102")]
        if found:
            rejected[path.name] = sorted(f.resource.name for f in found)
    assert rejected == {"jobset-single-pvc.yaml": ["checkpoints", "initializer"]}


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("argo-k8s-orchestration.yaml", "template 'random-number-job' creates Job/rand-num-"),
        (
            "argo-k8s-resource-log-selector.yaml",
            "template 'tf-jobtmpl' creates TFJob/tfjob-examples",
        ),
        ("trainer-multi-node.yaml", "ClusterTrainingRuntime 'torch-distributed', which is not in"),
    ],
)
def test_pods_stowage_cannot_reach_are_named_with_the_fix(name: str, words: str) -> None:
    outcome = render((THIRD_PARTY / name).read_text(), TARGETED)
    (finding,) = [f for f in outcome.findings if f.rule == "SW905"]
    assert words in finding.message
    assert "stowage admission" in finding.fix


def test_a_train_job_whose_runtime_is_in_the_stream_gets_its_storage_there(
    third_party: Path,
) -> None:
    docs = _docs("trainer-multi-step.yaml")
    runtime = next(d for d in docs if d["kind"] == "TrainingRuntime")
    runtime["metadata"]["labels"]["team"] = "ml"
    outcome = render(dump_all(*docs), TARGETED)
    assert not [f for f in outcome.findings if f.rule == "SW905"]
    assert sorted(p.workload for p in outcome.placements) == [
        "TrainingRuntime/torch-with-dataset-init (dataset-initializer)",
        "TrainingRuntime/torch-with-dataset-init (node)",
    ]


def test_without_its_runtime_the_same_train_job_is_named() -> None:
    docs = [d for d in _docs("trainer-multi-step.yaml") if d["kind"] == "TrainJob"]
    (finding,) = [f for f in render(dump_all(*docs), TARGETED).findings if f.rule == "SW905"]
    assert "TrainingRuntime 'torch-with-dataset-init'" in finding.message


def test_tekton_runs_a_target_selects_are_named() -> None:
    run: dict[str, Any] = {
        "apiVersion": "tekton.dev/v1",
        "kind": "PipelineRun",
        "metadata": {"name": "build", "labels": {"team": "ml"}},
        "spec": {"pipelineSpec": {"tasks": [{"name": "a", "taskRef": {"name": "a"}}]}},
    }
    (finding,) = [f for f in render(dump_all(run), TARGETED).findings if f.rule == "SW905"]
    assert "PipelineRun/build runs pods that Tekton builds" in finding.message
    assert "workspaces" in finding.fix
    run["metadata"]["labels"] = {"team": "other"}
    assert not [f for f in render(dump_all(run), TARGETED).findings if f.rule == "SW905"]


def test_volcano_jobflow_runs_its_templates_in_dependency_order() -> None:
    pairs = flow_order(_docs("volcano-jobflow.yaml"))
    apart = sorted("".join(sorted(key[2] for key in pair)) for pair in pairs)
    assert apart == ["ab", "ac", "ad", "ae", "bc", "bd", "be", "ce", "de"]  # c and d overlap


def test_volcano_task_dependencies_start_on_running_so_tasks_overlap() -> None:
    (job,) = _docs("volcano-task-start-dependency.yaml")
    assert [g.pods() for g in model(job).groups] == [11]


def test_volcano_cronjob_with_forbid_runs_one_job_at_a_time() -> None:
    (cron,) = _docs("volcano-cronjob.yaml")
    assert [g.pods() for g in model(cron).groups] == [1]
    cron["spec"]["concurrencyPolicy"] = "Allow"
    (group,) = model(cron).groups
    assert group.pods() == 2 and "concurrencyPolicy Allow: runs overlap" in group.why()


def test_tekton_workspace_claim_of_one_run_is_shared_on_one_node_by_the_affinity_assistant() -> (
    None
):
    """tektoncd/pipeline workspaces.yaml binds a ReadWriteOnce claim to a PipelineRun's
    workspace: the affinity assistant (coschedule: workspaces, the default) keeps the
    run's pods on one node. Two runs binding the same claim are placed apart."""
    docs = _docs("tekton-workspaces.yaml")
    run = next(d for d in docs if d["kind"] == "PipelineRun")
    assert tekton.COSCHEDULED in model(run).notes
    assert not render(dump_all(*docs)).findings
    second = dict(run, metadata={"generateName": "recipe-again-"})
    (finding,) = [f for f in render(dump_all(*docs, second)).findings if f.rule == "SW101"]
    assert "'shared-task-storage'" in finding.message and "recipe-again-" in finding.message


def test_tekton_parallel_tasks_example_runs_upper_and_lower_together() -> None:
    """pipelinerun-with-parallel-tasks-using-pvc.yaml, its Pipeline inlined into the run:
    upper and lower both run after starter; reporter uses upper's result."""
    docs = _docs("tekton-parallel-tasks-using-pvc.yaml")
    pipeline = next(d for d in docs if d["kind"] == "Pipeline")
    run = next(d for d in docs if d["kind"] == "PipelineRun")
    run["spec"].pop("pipelineRef")
    run["spec"]["pipelineSpec"] = pipeline["spec"]
    groups = [[m.label for m in g.members] for g in model(run).groups]
    assert groups == [
        ["task 'starter'"],
        ["task 'upper'", "task 'lower'"],
        ["task 'lower'", "task 'reporter'"],
        ["task 'validator'"],
    ]


def _feature_flags(**data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "feature-flags", "namespace": "tekton-pipelines"},
        "data": data,
    }


def test_tekton_parallel_tasks_example_by_pipeline_ref_with_the_affinity_assistant_off() -> None:
    """The example as vendored: its run names the Pipeline beside it and binds `ws` to a
    volumeClaimTemplate (one ReadWriteOnce claim per run). With the assistant on (the
    default) its pods share a node; off, upper and lower write it at once from two nodes.
    reporter binds no workspace: it is not one of the claim's pods."""
    docs = _docs("tekton-parallel-tasks-using-pvc.yaml")
    assert not [f for f in render(dump_all(*docs)).findings if f.rule == "SW101"]
    off = render(dump_all(_feature_flags(coschedule="disabled"), *docs))
    (finding,) = [f for f in off.findings if f.rule == "SW101"]
    assert "claim 'parallel-pipelinerun- workspace ws'" in finding.message
    assert "created per run by PipelineRun/parallel-pipelinerun- from its volumeClaimTemplate" in (
        finding.message
    )
    assert "mounted by 2 pods" in finding.message
    assert "tasks 'upper' and 'lower' both depend only on 'starter'" in finding.message
    assert "reporter" not in finding.message


@pytest.mark.parametrize(
    ("data", "mode"),
    [
        ({}, "workspaces"),
        ({"coschedule": "pipelineruns"}, "pipelineruns"),
        ({"coschedule": "isolate-pipelinerun"}, "isolate-pipelinerun"),
        ({"coschedule": "disabled"}, "disabled"),
        ({"disable-affinity-assistant": "false"}, "workspaces"),
        ({"disable-affinity-assistant": "true"}, "disabled"),
        ({"disable-affinity-assistant": "true", "coschedule": "workspaces"}, "disabled"),
        ({"disable-affinity-assistant": "true", "coschedule": "pipelineruns"}, "pipelineruns"),
        (
            {"disable-affinity-assistant": "true", "coschedule": "isolate-pipelinerun"},
            "isolate-pipelinerun",
        ),
    ],
)
def test_tekton_affinity_assistant_mode_follows_the_docs_migration_table(
    data: dict[str, str], mode: str
) -> None:
    """docs/affinityassistants.md: `coschedule`, and the older `disable-affinity-assistant`
    as the releases that still read it combine them."""
    assert tekton.affinity([_feature_flags(**data)]).mode == mode


def test_tekton_feature_flags_of_another_namespace_or_name_are_not_tektons() -> None:
    other = _feature_flags(coschedule="disabled")
    other["metadata"]["namespace"] = "my-app"
    assert tekton.affinity([other]) == tekton.DEFAULT
    unplaced = _feature_flags(coschedule="disabled")
    del unplaced["metadata"]["namespace"]
    assert tekton.affinity([unplaced]) == tekton.DEFAULT
    unplaced["metadata"]["labels"] = {"app.kubernetes.io/part-of": "tekton-pipelines"}
    assert tekton.affinity([unplaced]).mode == "disabled"


def test_without_its_pipeline_a_pipeline_run_is_named_with_the_fix() -> None:
    """Like a TrainJob without its runtime: the run's tasks are unknown (counted as many)."""
    docs = [d for d in _docs("tekton-parallel-tasks-using-pvc.yaml") if d["kind"] != "Pipeline"]
    (finding,) = [f for f in render(dump_all(*docs), TARGETED).findings if f.rule == "SW905"]
    assert finding.message.startswith(
        "PipelineRun/parallel-pipelinerun- runs the tasks of Pipeline 'parallel-pipeline', "
        "which is not in the stream"
    )
    assert finding.fix.startswith("render the Pipeline in the same stream and namespace")
    assert [str(r) for r in finding.related] == ["Pipeline/parallel-pipeline"]
    with_it = _docs("tekton-parallel-tasks-using-pvc.yaml")
    assert not [f for f in render(dump_all(*with_it), TARGETED).findings if f.rule == "SW905"]


def test_a_pipeline_run_whose_pipeline_a_resolver_fetches_is_named() -> None:
    run: dict[str, Any] = {
        "apiVersion": "tekton.dev/v1",
        "kind": "PipelineRun",
        "metadata": {"name": "remote"},
        "spec": {"pipelineRef": {"resolver": "git", "params": []}},
    }
    (finding,) = [f for f in render(dump_all(run), TARGETED).findings if f.rule == "SW905"]
    assert "takes its Pipeline from the git resolver at run time" in finding.message
    assert "many" in model(run).notes[0]


def _parallel_run(**changes: Any) -> list[dict[str, Any]]:
    """The vendored parallel-tasks example with the affinity assistant off, so its
    workspace's claim is shared by two pods that can run on two nodes."""
    docs = [_feature_flags(coschedule="disabled"), *_docs("tekton-parallel-tasks-using-pvc.yaml")]
    run = next(d for d in docs if d["kind"] == "PipelineRun")
    run["metadata"].update(changes)
    return docs


@pytest.mark.parametrize("modes", [None, []])
def test_a_workspace_template_without_access_modes_is_reported_unknown(modes: Any) -> None:
    docs = _parallel_run()
    run = next(d for d in docs if d["kind"] == "PipelineRun")
    spec = run["spec"]["workspaces"][0]["volumeClaimTemplate"]["spec"]
    spec["accessModes"] = modes
    (finding,) = [f for f in render(dump_all(*docs)).findings if f.rule.startswith("SW10")]
    assert finding.rule == "SW104"
    assert finding.message.startswith(
        "claim 'parallel-pipelinerun- workspace ws' has unknown access modes and is mounted "
        "by 2 pods"
    )


def test_each_run_s_workspace_template_is_its_own_claim_in_the_run_s_namespace() -> None:
    """Tekton makes a claim per run: two runs of one Pipeline do not share it, and a TaskRun
    named like a PipelineRun is another object with another claim."""
    docs = _parallel_run(namespace="team-a")
    run = next(d for d in docs if d["kind"] == "PipelineRun")
    again = {**run, "metadata": {"name": "nightly", "namespace": "team-a"}}
    task_run = {
        "apiVersion": "tekton.dev/v1",
        "kind": "TaskRun",
        "metadata": {"generateName": "parallel-pipelinerun-", "namespace": "team-a"},
        "spec": {
            "taskSpec": {
                "steps": [{"name": "s", "image": "busybox"}],
                "workspaces": [{"name": "ws"}],
            },
            "workspaces": run["spec"]["workspaces"],
        },
    }
    findings = [f for f in render(dump_all(*docs, again, task_run)).findings if f.rule == "SW101"]
    assert sorted(str(f.resource) for f in findings) == [
        "PersistentVolumeClaim/nightly workspace ws -n team-a",
        "PersistentVolumeClaim/parallel-pipelinerun- workspace ws -n team-a",
    ]
    for finding in findings:
        assert "mounted by 2 pods" in finding.message
        assert "TaskRun" not in finding.message


def test_a_task_run_is_one_pod_whatever_the_affinity_assistant_does() -> None:
    """The assistant places a PipelineRun's pods; a TaskRun beside it is one pod, and the
    message says no more about it than that."""
    api = mounting("d", "my-existing-volume", replicas=2)
    task_run = {
        "apiVersion": "tekton.dev/v1",
        "kind": "TaskRun",
        "metadata": {"name": "t"},
        "spec": {
            "taskSpec": {
                "steps": [{"name": "s", "image": "busybox"}],
                "workspaces": [{"name": "ws"}],
            },
            "workspaces": [
                {"name": "ws", "persistentVolumeClaim": {"claimName": "my-existing-volume"}}
            ],
        },
    }
    pipeline_run = {
        "apiVersion": "tekton.dev/v1",
        "kind": "PipelineRun",
        "metadata": {"name": "beside"},
        "spec": {"pipelineSpec": {"tasks": [{"name": "a", "taskRef": {"name": "t"}}]}},
    }
    flags = _feature_flags(coschedule="disabled")  # read because a PipelineRun is beside it
    (finding,) = render(dump_all(flags, RWO, api, task_run, pipeline_run)).findings
    assert finding.message == (
        "ReadWriteOnce claim 'my-existing-volume' (per its manifest) is mounted by 3 pods that "
        "can run on different nodes: Deployment/d (2 replicas), TaskRun/t (1 TaskRun pod)"
    )


def test_a_pipeline_ref_name_of_the_wrong_type_names_no_pipeline() -> None:
    """Found by tests/test_fuzz_properties.py: a list where the name goes was hashed."""
    run = {
        "apiVersion": "tekton.dev/v1",
        "kind": "PipelineRun",
        "metadata": {"name": "r"},
        "spec": {"pipelineRef": {"name": []}},
    }
    assert [f.rule for f in render(dump_all(run)).findings] == []


def _task(name: str, binds: bool = True) -> dict[str, Any]:
    """An inline task; ``binds``: it binds the pipeline workspace `shared` as its `ws`."""
    task: dict[str, Any] = {
        "name": name,
        "taskSpec": {"steps": [{"name": "s", "image": "busybox"}]},
    }
    if binds:
        task["workspaces"] = [{"name": "ws", "workspace": "shared"}]
        task["taskSpec"]["workspaces"] = [{"name": "ws"}]
    return task


def _claim_run(name: str, *tasks: dict[str, Any], **binding: Any) -> dict[str, Any]:
    """A PipelineRun binding claim `c` to its pipeline's workspace `shared`."""
    return {
        "apiVersion": "tekton.dev/v1",
        "kind": "PipelineRun",
        "metadata": {"name": name},
        "spec": {
            "pipelineSpec": {"workspaces": [{"name": "shared"}], "tasks": list(tasks)},
            "workspaces": [
                {"name": "shared", "persistentVolumeClaim": {"claimName": "c", **binding}}
            ],
        },
    }


def test_a_task_running_beside_the_workspace_s_tasks_is_not_named_with_them() -> None:
    """Tasks a, b and lint all start together; lint binds no workspace, so the claim's
    pods are a's and b's, and the message says why those two overlap, not lint."""
    claim = {**RWO, "metadata": {"name": "c"}}
    run = _claim_run("r", _task("a"), _task("b"), _task("lint", binds=False))
    flags = _feature_flags(coschedule="disabled")
    (finding,) = render(dump_all(flags, claim, run)).findings
    assert finding.message == (
        "ReadWriteOnce claim 'c' (per its manifest) is mounted by 2 pods that can run on "
        "different nodes: PipelineRun/r (tasks 'a' and 'b' wait for nothing: they start "
        "together; Tekton's affinity assistant is off (coschedule: disabled, ConfigMap "
        "tekton-pipelines/feature-flags))"
    )


@pytest.mark.parametrize("writer", [False, True])
def test_runs_binding_a_read_only_many_claim_read_only_may_run_anywhere(writer: bool) -> None:
    """Two runs in one namespace bind a ReadWriteOnce+ReadOnlyMany claim: read-only
    bindings (`persistentVolumeClaim.readOnly`) pass, one writing run is rejected."""
    claim = {
        **RWO,
        "metadata": {"name": "c", "namespace": "ci"},
        "spec": {"accessModes": ["ReadWriteOnce", "ReadOnlyMany"]},
    }
    runs = [
        _claim_run("r1", _task("a"), readOnly=True),
        _claim_run("r2", _task("a"), readOnly=not writer),
    ]
    for run in runs:
        run["metadata"]["namespace"] = "ci"
    found = [f.message for f in render(dump_all(claim, *runs)).findings]
    assert found == (
        [
            "ReadWriteOnce claim 'c' (per its manifest) is mounted by 2 pods that can run on "
            "different nodes: PipelineRun/r1 (1 pod), PipelineRun/r2 (1 pod)"
        ]
        if writer
        else []
    )


@pytest.mark.parametrize("parallel", [False, True])
def test_a_deployment_following_a_pipeline_s_pod_shares_its_claim_on_that_node(
    parallel: bool,
) -> None:
    """The run takes its tasks from the Pipeline its pipelineRef names in the stream. With
    one task it runs one pod at a time, and a Deployment whose pods follow it (required pod
    affinity on the hostname) stays on that node. Two tasks at once, with the assistant off,
    can be on two nodes, and the Deployment's pods can follow either."""
    claim = {**RWO, "metadata": {"name": "c"}}
    tasks = [_task("a"), _task("b")] if parallel else [_task("a")]
    pipeline = {
        "apiVersion": "tekton.dev/v1",
        "kind": "Pipeline",
        "metadata": {"name": "p"},
        "spec": {"workspaces": [{"name": "shared"}], "tasks": tasks},
    }
    run = _claim_run("r")
    run["metadata"]["labels"] = {"app": "ci"}
    del run["spec"]["pipelineSpec"]
    run["spec"]["pipelineRef"] = {"name": "p"}
    same_node = {"labelSelector": {"matchLabels": {"app": "ci"}}, "topologyKey": HOSTNAME}
    follows = {"affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        same_node]}}}  # fmt: skip
    follower = mounting("d", "c", replicas=2, pod_extra=follows)
    flags = _feature_flags(coschedule="disabled")
    found = [f.message for f in render(dump_all(flags, claim, pipeline, run, follower)).findings]
    assert found == (
        [
            "ReadWriteOnce claim 'c' (per its manifest) is mounted by 4 pods that can run on "
            "different nodes: PipelineRun/r (tasks 'a' and 'b' wait for nothing: they start "
            "together; Tekton's affinity assistant is off (coschedule: disabled, ConfigMap "
            "tekton-pipelines/feature-flags)), Deployment/d (2 replicas)"
        ]
        if parallel
        else []
    )


def test_job_set_single_pvc_counts_the_nodes_after_the_initializer_completes() -> None:
    """jobset single-pvc.yaml: `node` (3 pods) waits for `initializer` to complete, so the
    claim both mount has 3 pods at once, all the nodes'; the initializer is not named."""
    found = [f.message for f in render(dump_all(*_docs("jobset-single-pvc.yaml"))).findings]
    assert found == [
        f"ReadWriteOnce claim '{name}' (a claim template of JobSet/volume-claim-trainjob) is "
        "mounted by 3 pods that can run on different nodes: JobSet/volume-claim-trainjob "
        "(node) (Job parallelism 3)"
        for name in ("checkpoints", "initializer")
    ]
