"""Cases the mutation run (make mutate) found untested in the checks: each fails when the
rule's logic is changed in the way named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from checkhelpers import claim_volume, context, findings, mounting, pod, pvc, workload
from stowage.findings import ResourceRef

RWO = pvc("db", "ReadWriteOnce")
MOUNT = [{"name": "data", "mountPath": "/data"}]


def sw101(*docs: dict[str, Any]) -> list[str]:
    return [f.message for f in findings(context(*docs), "SW101")]


def _node_affinity(term: dict[str, Any]) -> dict[str, Any]:
    required = {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}
    return {"affinity": {"nodeAffinity": required}}


def test_pinning_by_node_name_field_counts_like_the_hostname_label() -> None:
    # matchFields on metadata.name is how the DaemonSet controller pins pods to a node.
    by_name = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}
    assert not sw101(RWO, mounting("w", "db", replicas=3, pod_extra=_node_affinity(by_name)))
    two = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1", "n2"]}]}
    assert sw101(RWO, mounting("w", "db", replicas=3, pod_extra=_node_affinity(two)))


def _dask_cluster(worker: dict[str, Any], scheduler: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "kubernetes.dask.org/v1",
        "kind": "DaskCluster",
        "metadata": {"name": "dask"},
        "spec": {"worker": worker, "scheduler": scheduler},
    }


def test_the_dask_scheduler_is_one_pod_whatever_the_workers() -> None:
    scheduler = {"spec": pod([claim_volume("db")], MOUNT)}
    assert not sw101(RWO, _dask_cluster({"replicas": 5, "spec": pod()}, scheduler))


def test_dask_workers_without_replicas_are_one_worker() -> None:
    worker = {"spec": pod([claim_volume("db")], MOUNT)}
    assert not sw101(RWO, _dask_cluster(worker, {"spec": pod()}))
    (message,) = sw101(RWO, _dask_cluster({**worker, "replicas": 2}, {"spec": pod()}))
    assert "2 Dask workers" in message


# SW905: pods a resource makes at run time from specs stowage cannot see.
TARGETS = {"targets": {"ml": {"matchLabels": {"team": "ml"}}}}
TRAINER = "trainer.kubeflow.org/v1alpha1"


def sw905(*docs: dict[str, Any], config: dict[str, Any] | None = TARGETS) -> list[Any]:
    return findings(context(*docs, config=config), "SW905")


def _train_job(namespace: str = "ml", **runtime_ref: str) -> dict[str, Any]:
    meta = {"name": "train", "namespace": namespace}
    return {
        "apiVersion": TRAINER,
        "kind": "TrainJob",
        "metadata": meta,
        "spec": {"runtimeRef": runtime_ref},
    }


def _runtime(kind: str, name: str, namespace: str = "", api: str = TRAINER) -> dict[str, Any]:
    meta = {"name": name, **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": api, "kind": kind, "metadata": meta, "spec": {}}


def test_a_train_job_without_its_runtime_in_the_stream_is_named_with_the_runtime() -> None:
    (finding,) = sw905(_train_job(name="torch", kind="TrainingRuntime"))
    assert finding.resource == ResourceRef("TrainJob", "ml", "train")
    assert finding.message.startswith("TrainJob/train takes its pods from TrainingRuntime 'torch'")
    assert finding.fix.startswith("render the TrainingRuntime in the same stream")
    assert finding.related == (ResourceRef("TrainingRuntime", "ml", "torch"),)
    # no kind: a ClusterTrainingRuntime, which has no namespace
    (cluster,) = sw905(_train_job(name="torch"))
    assert cluster.related == (ResourceRef("ClusterTrainingRuntime", "", "torch"),)


def test_a_train_job_whose_runtime_is_in_the_stream_is_not_named() -> None:
    local = _train_job(name="torch", kind="TrainingRuntime")
    assert not sw905(local, _runtime("TrainingRuntime", "torch", "ml"))
    assert not sw905(local, _runtime("TrainingRuntime", "torch"))  # the release's namespace
    assert not sw905(_train_job(name="torch"), _runtime("ClusterTrainingRuntime", "torch"))
    # another namespace's runtime, another name, another API group: not its runtime
    assert sw905(local, _runtime("TrainingRuntime", "torch", "other"))
    assert sw905(local, _runtime("TrainingRuntime", "tf", "ml"))
    assert sw905(local, _runtime("TrainingRuntime", "torch", "ml", api="kubeflow.org/v1"))
    assert not sw905(local, config={})  # nothing to attach: nothing missed


def _workflow(manifest: str, kind: str = "Workflow") -> dict[str, Any]:
    templates = [
        {"name": "run", "container": {"image": "busybox"}},
        {"name": "make", "resource": {"action": "create", "manifest": manifest}},
    ]
    spec: dict[str, Any] = {"entrypoint": "run", "templates": templates}
    if kind == "CronWorkflow":
        spec = {"schedule": "@daily", "workflowSpec": spec}
    meta = {"generateName": "flow-"}
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": kind, "metadata": meta, "spec": spec}


JOB = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: rand-\nspec:\n" + (
    "  template:\n    spec:\n      containers: [{name: c, image: busybox}]\n"
)


def test_an_argo_resource_step_that_creates_pods_is_named_with_what_it_creates() -> None:
    (finding,) = sw905(_workflow(JOB))
    assert finding.message.startswith(
        "Workflow/flow- template 'make' creates Job/rand- at run time (a resource step)"
    )
    assert "stowage admission" in finding.fix
    (cron,) = sw905(_workflow(JOB, kind="CronWorkflow"))
    assert "template 'make' creates Job/rand-" in cron.message
    # a manifest Argo fills in at run time: its kind line and `containers:` tell
    filled = JOB.replace("[{name: c, image: busybox}]", "{{inputs.parameters.c}}")
    (templated,) = sw905(_workflow(filled))
    assert "creates Job/rand- at run time" in templated.message
    nameless = filled.replace("  generateName: rand-\n", "")
    assert "creates Job/? at run time" in sw905(_workflow(nameless))[0].message


def test_an_argo_resource_step_that_creates_no_pods_is_not_named() -> None:
    config_map = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata: {a: b}\n"
    assert not sw905(_workflow(config_map))
    assert not sw905(_workflow("kind: Job\nspec: {{x}}\n"))  # no containers: key
    assert not sw905(_workflow("- a list\n"))


def _pinned_by_affinity(name: str, host: str) -> dict[str, Any]:
    term = {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In",
                                  "values": [host]}]}  # fmt: skip
    return mounting(name, "db", replicas=1, pod_extra=_node_affinity(term))


def test_pods_pinned_by_node_affinity_share_a_claim_only_on_the_same_node() -> None:
    assert not sw101(RWO, _pinned_by_affinity("a", "n1"), _pinned_by_affinity("b", "n1"))
    assert sw101(RWO, _pinned_by_affinity("a", "n1"), _pinned_by_affinity("b", "n2"))


def _sw103(*docs: dict[str, Any]) -> list[Any]:
    return findings(context(*docs), "SW103")


def _following_web() -> dict[str, Any]:
    """A one-replica Deployment that a required pod affinity keeps on web's node."""
    term = {
        "topologyKey": "kubernetes.io/hostname",
        "labelSelector": {"matchLabels": {"app": "web"}},
    }
    affinity = {
        "affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}
    }
    return mounting("sidecar", "db", replicas=1, pod_extra=affinity)


def test_a_rolling_deployment_is_named_after_a_workload_that_does_not_roll() -> None:
    # the follower keeps to the rolling Deployment's node: one node, so SW103's, not SW101's
    follower = _following_web()
    web = mounting("web", "db", replicas=1, strategy="RollingUpdate")
    assert not sw101(RWO, follower, web)
    assert [f.resource.name for f in _sw103(RWO, follower, web)] == ["web"]


def test_pinning_is_offered_as_a_fix_only_where_it_helps() -> None:
    (rwo,) = _sw103(RWO, mounting("web", "db", replicas=1, strategy="RollingUpdate"))
    assert "pin the pod to one node" in rwo.fix
    solo = pvc("solo", "ReadWriteOncePod")
    (rwop,) = _sw103(solo, mounting("web", "solo", replicas=1, strategy="RollingUpdate"))
    assert "pin the pod" not in rwop.fix  # ReadWriteOncePod admits one pod even on one node
    assert rwop.fix.startswith("set spec.strategy.type: Recreate")


def test_pods_following_a_multi_replica_deployment_do_not_pin_it() -> None:
    follower = _following_web()
    assert sw101(RWO, follower, mounting("web", "db", replicas=2))


def _job_template(name: str) -> dict[str, Any]:
    task = {"name": "t", "replicas": 1, "template": {"spec": pod([claim_volume("db")], MOUNT)}}
    return {
        "apiVersion": "flow.volcano.sh/v1alpha1",
        "kind": "JobTemplate",
        "metadata": {"name": name},
        "spec": {"minAvailable": 1, "tasks": [task]},
    }


def test_jobs_a_volcano_job_flow_runs_one_after_the_other_may_share_a_claim() -> None:
    flows: list[dict[str, Any]] = [{"name": "a"}, {"name": "b", "dependsOn": {"targets": ["a"]}}]
    flow = {
        "apiVersion": "flow.volcano.sh/v1alpha1",
        "kind": "JobFlow",
        "metadata": {"name": "flow"},
        "spec": {"flows": flows},
    }
    assert not sw101(RWO, flow, _job_template("a"), _job_template("b"))
    flows[1].pop("dependsOn")
    assert sw101(RWO, flow, _job_template("a"), _job_template("b"))


def test_one_pipeline_run_s_tasks_share_its_workspace_claim_on_one_node() -> None:
    """Tekton's affinity assistant keeps one run's pods on one node; two runs are apart."""
    fixture = Path(__file__).parent / "fixtures" / "third-party" / "tekton-workspaces.yaml"
    docs = [d for d in yaml.safe_load_all(fixture.read_text()) if d]
    run = next(d for d in docs if d["kind"] == "PipelineRun")
    assert not sw101(*docs)
    assert sw101(*docs, dict(run, metadata={"generateName": "recipe-again-"}))


def _argo_workflow(second_step: str, reader_mounts: bool = True) -> dict[str, Any]:
    """Two steps in parallel; `reader` mounts the workflow's claim, `unused` is never run."""
    mounting_container = {"image": "busybox", "volumeMounts": MOUNT}
    reader = mounting_container if reader_mounts else {"image": "busybox"}
    templates = [
        {
            "name": "main",
            "steps": [
                [{"name": "a", "template": "reader"}, {"name": "b", "template": second_step}]
            ],
        },
        {"name": "reader", "container": reader},
        {"name": "other", "container": {"image": "busybox"}},
        {"name": "unused", "container": mounting_container},
    ]
    spec = {"entrypoint": "main", "templates": templates, "volumes": [claim_volume("db")]}
    meta = {"name": "flow"}
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": meta,
        "spec": spec,
    }


def test_only_the_steps_that_mount_a_claim_count_toward_its_pods() -> None:
    assert not sw101(RWO, _argo_workflow("other"))
    assert sw101(RWO, _argo_workflow("reader"))
    # a template no step runs mounts it: its pods never run, the one Deployment's pod does
    never_run = _argo_workflow("other", reader_mounts=False)
    assert not sw101(RWO, never_run, mounting("web", "db", replicas=1))


def test_read_only_mounts_of_a_read_only_many_claim_may_run_anywhere() -> None:
    """The claim's volume is writable; every container mounts it readOnly: read-only users."""
    rox = pvc("db", "ReadWriteOnce", "ReadOnlyMany")
    read_only = [{"name": "data", "mountPath": "/data", "readOnly": True}]
    other = {"name": "scratch", "emptyDir": {}}
    spec = pod([other, claim_volume("db")], read_only)
    assert not sw101(rox, workload("readers", replicas=3, spec=spec))
    writer = pod([other, claim_volume("db")], [*read_only, {"name": "data", "mountPath": "/w"}])
    assert sw101(rox, workload("readers", replicas=3, spec=writer))


def _volcano_job(replicas: int) -> dict[str, Any]:
    task = {"name": "w", "replicas": replicas, "template": {"spec": pod()}}
    return {
        "apiVersion": "batch.volcano.sh/v1alpha1",
        "kind": "Job",
        "metadata": {"name": "vj"},
        "spec": {"volumes": [{"mountPath": "/data", "volumeClaimName": "db"}], "tasks": [task]},
    }


def test_a_volcano_job_s_own_claim_reaches_every_pod_writable() -> None:
    rox = pvc("db", "ReadWriteOnce", "ReadOnlyMany")
    assert sw101(rox, _volcano_job(2))
    assert not sw101(rox, _volcano_job(1))


def _spark(executor_mounts: bool) -> dict[str, Any]:
    executor: dict[str, Any] = {"instances": 3, "cores": 1}
    if executor_mounts:
        executor["volumeMounts"] = MOUNT
    return {
        "apiVersion": "sparkoperator.k8s.io/v1beta2",
        "kind": "SparkApplication",
        "metadata": {"name": "spark"},
        "spec": {
            "volumes": [claim_volume("db")],
            "driver": {"cores": 1, "volumeMounts": MOUNT},
            "executor": executor,
        },
    }


def test_a_spark_application_s_volume_reaches_only_the_pods_that_mount_it() -> None:
    assert not sw101(RWO, _spark(executor_mounts=False))
    assert sw101(RWO, _spark(executor_mounts=True))


def _job_set() -> list[dict[str, Any]]:
    fixture = Path(__file__).parent / "fixtures" / "third-party" / "jobset-single-pvc.yaml"
    return [d for d in yaml.safe_load_all(fixture.read_text()) if d]


def test_each_claim_a_job_set_creates_is_judged_on_its_own() -> None:
    """jobset's single-pvc.yaml: one claim per volumeClaimPolicies template, per JobSet."""
    docs = _job_set()
    found = findings(context(*docs), "SW101")
    assert sorted((f.resource.namespace, f.resource.name) for f in found) == [
        ("", "checkpoints"),
        ("", "initializer"),
    ]
    for doc in docs:
        doc.setdefault("metadata", {})["namespace"] = "team"
    found = findings(context(*docs), "SW101")
    assert {f.resource.namespace for f in found} == {"team"}


def test_a_claim_a_volcano_job_creates_is_judged_by_its_template_s_modes() -> None:
    def created(*modes: str) -> dict[str, Any]:
        job = _volcano_job(2)
        claim = {"accessModes": list(modes), "resources": {"requests": {"storage": "1Gi"}}}
        job["spec"]["volumes"] = [{"mountPath": "/scratch", "volumeClaim": claim}]
        return job

    (finding,) = findings(context(created("ReadWriteOnce")), "SW101")
    assert finding.resource.name == "vj spec.volumes[0]"
    assert "created by Job/vj from its spec.volumes" in finding.message
    assert not findings(context(created("ReadWriteMany")), "SW101")
    assert not findings(context(created("ReadWriteMany")), "SW104")
    assert findings(context(created()), "SW104")  # no modes: unknown


def test_two_job_sets_get_a_claim_each_from_the_same_template() -> None:
    first, second = _job_set()[0], _job_set()[0]
    second["metadata"]["name"] = "another"
    found = findings(context(first, second), "SW101")
    assert sorted(f.resource.name for f in found) == ["checkpoints", "checkpoints",
                                                      "initializer", "initializer"]  # fmt: skip


def test_read_only_users_of_a_read_only_many_claim_template_may_run_anywhere() -> None:
    (job_set,) = [d for d in _job_set() if d["kind"] == "JobSet"]
    for policy in job_set["spec"]["volumeClaimPolicies"]:
        for template in policy["templates"]:
            template["spec"]["accessModes"] = ["ReadWriteOnce", "ReadOnlyMany"]
    assert findings(context(job_set), "SW101")  # the pods write to them
    for job in job_set["spec"]["replicatedJobs"]:
        for container in job["template"]["spec"]["template"]["spec"]["containers"]:
            for mount in container.get("volumeMounts", []):
                mount["readOnly"] = True
    assert not findings(context(job_set), "SW101")


def test_a_pod_s_own_volume_of_a_claim_template_s_name_is_its_own() -> None:
    (job_set,) = [d for d in _job_set() if d["kind"] == "JobSet"]
    for job in job_set["spec"]["replicatedJobs"]:
        pod_spec = job["template"]["spec"]["template"]["spec"]
        pod_spec["volumes"] = [{"name": "checkpoints", "emptyDir": {}}]
    found = findings(context(job_set), "SW101")
    assert [f.resource.name for f in found] == ["initializer"]


def _flink(kind: str, namespace: str = "", api: str = "flink.apache.org/v1beta1") -> dict[str, Any]:
    meta = {"name": "session", **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": api, "kind": kind, "metadata": meta, "spec": {}}


def test_a_flink_session_job_is_named_unless_its_own_session_cluster_is_in_the_stream() -> None:
    job = {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkSessionJob",
        "metadata": {"name": "wordcount", "namespace": "team", "labels": {"team": "ml"}},
        "spec": {"deploymentName": "session"},
    }
    assert not sw905(job, _flink("FlinkDeployment", "team"))
    assert not sw905(job, _flink("FlinkDeployment"))  # the release's namespace
    assert sw905(job, _flink("FlinkDeployment", "other"))
    assert sw905(job, _flink("FlinkSessionJob", "team"))
    assert sw905(job, _flink("FlinkDeployment", "team", api="example.com/v1"))
    (finding,) = sw905(job)
    # the session cluster it names is looked for in the job's own namespace
    assert finding.related == (ResourceRef("FlinkDeployment", "team", "session"),)


# SW303: a mount nested inside a stowage data or outputs mount.
def _nested(mounts: list[dict[str, Any]], config: dict[str, Any]) -> list[Any]:
    volumes = [{"name": "data", "hostPath": {"path": "/srv/data"}}, {"name": "tmp", "emptyDir": {}}]
    return findings(context(workload("w", spec=pod(volumes, mounts)), config=config), "SW303")


def _data_at(mount_path: str) -> dict[str, Any]:
    return {"persistence": {"data": {"data": {"mountPath": mount_path, "hostPath": "/srv/data"}}}}


def test_sw303_names_the_inner_mount_the_outer_volume_and_its_root() -> None:
    mounts = [{"name": "data", "mountPath": "/data"}, {"name": "tmp", "mountPath": "/data/tmp"}]
    (finding,) = _nested(mounts, _data_at("/data"))
    assert finding.message == (
        "Deployment/w container 'main' mounts 'tmp' at /data/tmp, inside stowage volume "
        "'data' at /data"
    )
    assert finding.fix == "mount 'tmp' outside /data"


def test_sw303_a_data_path_with_a_trailing_slash_still_holds_what_is_below_it() -> None:
    mounts = [{"name": "data", "mountPath": "/data/"}, {"name": "tmp", "mountPath": "/data/tmp"}]
    (finding,) = _nested(mounts, _data_at("/data/"))
    assert finding.message.endswith("inside stowage volume 'data' at /data")


def test_sw303_strips_only_slashes_from_the_end_of_a_data_path() -> None:
    mounts = [{"name": "data", "mountPath": "/mnt/X"}, {"name": "tmp", "mountPath": "/mnt/X/tmp"}]
    (finding,) = _nested(mounts, _data_at("/mnt/X"))
    assert finding.message.endswith("inside stowage volume 'data' at /mnt/X")


def test_sw303_the_stowage_volume_itself_mounted_below_its_path_is_not_nested() -> None:
    # one volume at two paths (a subPath view of the same store) hides nothing of it
    mounts = [
        {"name": "data", "mountPath": "/data"},
        {"name": "data", "mountPath": "/data/cache", "subPath": "cache"},
    ]
    assert not _nested(mounts, _data_at("/data"))


def test_sw303_counts_only_a_volume_at_its_planned_path() -> None:
    # `data` mounted somewhere else than the plan says is not the stowage mount
    mounts = [
        {"name": "data", "mountPath": "/elsewhere"},
        {"name": "tmp", "mountPath": "/data/tmp"},
    ]
    assert not _nested(mounts, _data_at("/data"))


# SW305: the outputs store mounted read-only.
def _outputs(mount: dict[str, Any], claim_read_only: bool = False) -> list[Any]:
    volumes = [claim_volume("results", name="out", read_only=claim_read_only)]
    spec = pod(volumes, [{"name": "out", "mountPath": "/outputs", **mount}])
    outputs = {"out": {"mountPath": "/outputs", "existingClaim": "results"}}
    config = {"persistence": {"outputs": outputs}}
    return findings(context(workload("w", spec=spec), config=config), "SW305")


def test_sw305_names_the_container_the_store_and_its_path() -> None:
    (finding,) = _outputs({"readOnly": True})
    assert finding.message == (
        "Deployment/w container 'main' mounts the outputs store 'out' read-only at /outputs"
    )
    assert finding.fix == "remove readOnly from the outputs mount; outputs must be writable"


def test_sw305_a_read_only_claim_volume_makes_a_writable_mount_read_only() -> None:
    (finding,) = _outputs({}, claim_read_only=True)
    assert "mounts the outputs store 'out' read-only" in finding.message
    assert not _outputs({})


def test_sw301_names_the_container_both_volumes_and_the_path() -> None:
    volumes = [{"name": "a", "emptyDir": {}}, {"name": "b", "emptyDir": {}}]
    same = pod(volumes, [{"name": "a", "mountPath": "/x"}, {"name": "b", "mountPath": "/x"}])
    (finding,) = findings(context(workload("w", spec=same)), "SW301")
    assert finding.message == "Deployment/w container 'main' mounts both 'a' and 'b' at /x"
    assert finding.fix == "mount one of the volumes at another path, or remove the duplicate mount"


def test_sw201_names_every_unpinned_user_after_a_pinned_one() -> None:
    config = _data_at("/data")
    spec = pod([{"name": "data", "hostPath": {"path": "/srv/data"}}], MOUNT)
    pinned = workload("pinned", spec={**spec, "nodeName": "n1"})
    docs = (pinned, workload("b", spec=spec), workload("c", spec=spec))
    ctx = context(*docs, config=config, targeted=("pinned", "b", "c"))
    (finding,) = findings(ctx, "SW201")
    assert finding.message == (
        "volume 'data' is hostPath /srv/data on whichever node each pod lands (single-node "
        "only), mounted by Deployment/b, Deployment/c"
    )


def test_sw101_a_claim_that_also_offers_read_write_many_may_be_shared() -> None:
    both = pvc("db", "ReadWriteOnce", "ReadWriteMany")
    assert not sw101(both, mounting("w", "db", replicas=3))
    assert sw101(RWO, mounting("w", "db", replicas=3))


def test_sw101_goes_on_past_a_read_only_many_claim_every_user_reads() -> None:
    rox = pvc("a-rox", "ReadOnlyMany", "ReadWriteOnce")
    volumes = [claim_volume("a-rox", name="ro", read_only=True), claim_volume("db")]
    mounts: list[dict[str, Any]] = [{"name": "ro", "mountPath": "/ro", "readOnly": True}, *MOUNT]
    (message,) = sw101(rox, RWO, workload("w", spec=pod(volumes, mounts), replicas=3))
    assert message.startswith("ReadWriteOnce claim 'db' ")
