"""Flink's job and task manager pod templates are laid over the FlinkDeployment's shared
one by the operator (by position, its default): stowage reads a manager's pod as that
merge and writes the storage where the merge keeps it. Found by the e2e tier: stowage
refused the operator's own `pod-template.yaml` example (SW304 on the job manager's
partial template) and wrote its volumes into the manager's template too, where the
operator would have merged them over the shared template's own."""

from __future__ import annotations

from typing import Any

from conftest import THIRD_PARTY
from enginehelpers import DATA, OUTPUTS, dump_all, load_all, output, render
from stowage.pods.flink import merged_pod

CONFIG = {
    "persistence": {"data": DATA, "outputs": OUTPUTS},
    "securityContext": {"enabled": True},
    "targets": {"ml": {"matchLabels": {"team": "ml"}}},
}


def labelled(name: str) -> str:
    docs = load_all((THIRD_PARTY / name).read_text())
    for doc in docs:
        doc.setdefault("metadata", {}).setdefault("labels", {})["team"] = "ml"
    return dump_all(*docs)


def test_the_merge_is_by_position_as_the_operator_does_by_default() -> None:
    shared: dict[str, Any] = {
        "volumes": [{"name": "logs", "emptyDir": {}}],
        "containers": [{"name": "flink-main-container", "args": ["a", "b"]}],
    }
    own: dict[str, Any] = {
        "volumes": [{"name": "cache"}, {"name": "extra", "emptyDir": {}}],
        "containers": [{"name": "flink-main-container", "args": ["x", "y", "z"]}],
        "initContainers": [{"name": "fetch", "image": "busybox"}],
    }
    merged = merged_pod(shared, own)
    # item 0 merged field by field, item 1 appended; scalars in both keep the shared one's
    assert merged["volumes"] == [{"name": "cache", "emptyDir": {}}, own["volumes"][1]]
    assert merged["containers"][0]["args"] == ["a", "b", "z"]
    assert merged["initContainers"][0] is own["initContainers"][0]  # taken whole
    assert shared["volumes"] == [{"name": "logs", "emptyDir": {}}]  # neither is changed
    assert own["volumes"][0] == {"name": "cache"}


def test_a_partial_job_manager_template_is_accepted_and_storage_goes_to_the_shared_one() -> None:
    outcome = render(labelled("flink-pod-template.yaml"), CONFIG)
    assert not outcome.rejected, [f.message for f in outcome.findings if f.blocking]
    (deployment,) = load_all(output(outcome))
    shared = deployment["spec"]["podTemplate"]["spec"]
    assert [v["name"] for v in shared["volumes"]] == [
        "flink-logs", "downloads", "training", "results"
    ]  # fmt: skip
    own = deployment["spec"]["jobManager"]["podTemplate"]["spec"]
    # Written here too, the operator's merge by position would lay `training` over
    # `flink-logs` (a volume with an emptyDir and a claim) and lose both of the shared ones.
    assert "volumes" not in own
    (busybox,) = own["initContainers"]  # only the job manager has it: completed in place
    assert busybox["securityContext"]["allowPrivilegeEscalation"] is False
    assert [m["name"] for m in busybox["volumeMounts"]] == ["downloads"]
    job_manager = next(w for w in outcome.workloads if w.site.component == "jobmanager")
    pod: dict[str, Any] = job_manager.pod_spec  # the pod the operator builds
    assert [c["name"] for c in pod["initContainers"]] == ["busybox"]
    mounts = {m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
    assert {"/opt/flink/downloads", "/data/training", "/outputs"} <= mounts


def test_a_manager_template_longer_than_the_shared_one_is_refused_with_the_lost_volume() -> None:
    deployment = {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {"name": "fd", "labels": {"team": "ml"}},
        "spec": {
            "podTemplate": {"spec": {"containers": [{"name": "flink-main-container"}]}},
            "jobManager": {
                "podTemplate": {
                    "spec": {
                        "containers": [{"name": "flink-main-container"}],
                        "volumes": [{"name": "scratch", "emptyDir": {}}],
                    }
                }
            },
        },
    }
    outcome = render(dump_all(deployment), CONFIG)
    # The shared template's first volume is now stowage's `training`: the operator would
    # merge `scratch` over it, and the job manager's mount of `training` would find none.
    (finding,) = [f for f in outcome.findings if f.rule == "SW304"]
    assert "(jobmanager)" in finding.message and "'training'" in finding.message


def test_a_manager_template_without_a_shared_one_is_the_pod_itself() -> None:
    deployment = {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {"name": "fd", "labels": {"team": "ml"}},
        "spec": {
            "taskManager": {
                "podTemplate": {"spec": {"containers": [{"name": "flink-main-container"}]}}
            }
        },
    }
    (written,) = load_all(output(render(dump_all(deployment), CONFIG)))
    own = written["spec"]["taskManager"]["podTemplate"]["spec"]
    assert [v["name"] for v in own["volumes"]] == ["training", "results"]


def test_a_flink_deployment_without_a_pod_template_gets_one_with_flinks_main_container() -> None:
    """Flink's basic example has no pod template: its pods still run, from the image. The
    storage goes into a `podTemplate` stowage writes, on the container Flink merges with
    its own (`flink-main-container`); run again, stowage changes nothing."""
    outcome = render(labelled("flink-basic.yaml"), CONFIG)
    assert [p.workload for p in outcome.placements] == ["FlinkDeployment/basic-example"]
    written = output(outcome)
    (deployment,) = load_all(written)
    spec = deployment["spec"]["podTemplate"]["spec"]
    (main,) = spec["containers"]
    assert main["name"] == "flink-main-container"
    assert [m["mountPath"] for m in main["volumeMounts"]] == ["/data/training", "/outputs"]
    assert [v["name"] for v in spec["volumes"]] == ["training", "results"]
    assert output(render(written, CONFIG)) == written


def test_a_flink_deployment_no_target_selects_is_left_as_it_is() -> None:
    text = (THIRD_PARTY / "flink-basic.yaml").read_text()  # no team=ml label
    assert output(render(text, CONFIG)) == text
