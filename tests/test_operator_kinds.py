"""ML operator kinds (KubeRay, Kubeflow training, JobSet, LeaderWorkerSet, Volcano, Argo,
Spark) and kinds a config declares: storage reaches their pod specs, matched by API group
and kind, and the access-mode checks count the pods each runs at once. The manifests
follow the upstream examples' shapes."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from enginehelpers import dump_all, load_all, output, render
from stowage.checks.claims import Autoscalers, placement_of
from stowage.pods.groups import MANY
from stowage.pods.podspecs import get_in
from stowage.pods.reading import carried_loader, read
from stowage.pods.workloads import collect
from stowage.read.yamlload import Limits

CONCURRENCY_CASES = Path(__file__).parent / "fixtures" / "concurrency"
LABELS = {"team": "ml"}
META = {"name": "x", "labels": LABELS}


def pod(name: str = "main", **extra: Any) -> dict[str, Any]:
    return {"containers": [{"name": name, "image": "busybox"}], **extra}


def template(**extra: Any) -> dict[str, Any]:
    return {"metadata": {"labels": LABELS}, "spec": pod(**extra)}


RAY = {
    "headGroupSpec": {"rayStartParams": {}, "template": template()},
    "workerGroupSpecs": [
        {"groupName": "small", "replicas": 1, "maxReplicas": 5, "template": template()},
        {"groupName": "tpu", "replicas": 2, "numOfHosts": 4, "template": template()},
    ],
}


def kubeflow(kind: str, field: str) -> dict[str, Any]:
    return {
        "apiVersion": "kubeflow.org/v1",
        "kind": kind,
        "metadata": META,
        "spec": {
            field: {
                "Master": {"replicas": 1, "template": template()},
                "Worker": {"replicas": 3, "template": template()},
            }
        },
    }


def argo(kind: str, **spec: Any) -> dict[str, Any]:
    workflow = {
        "entrypoint": "main",
        "templates": [
            {
                "name": "main",
                "steps": [
                    [{"name": "a", "template": "train"}],
                    [{"name": "b", "template": "py"}, {"name": "c", "template": "set"}],
                ],
            },
            {"name": "train", "metadata": {"labels": LABELS}, "container": {"image": "busybox"}},
            {"name": "py", "metadata": {"labels": LABELS}, "script": {"image": "python"}},
            {
                "name": "set",
                "metadata": {"labels": LABELS},
                "containerSet": {"containers": [{"name": "a"}, {"name": "b"}]},
            },
        ],
        **spec,
    }
    body = (
        {"workflowSpec": workflow, "schedule": "* * * * *"} if kind == "CronWorkflow" else workflow
    )
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": kind, "metadata": META, "spec": body}


SPARK = {
    "apiVersion": "sparkoperator.k8s.io/v1beta2",
    "kind": "SparkApplication",
    "metadata": META,
    "spec": {
        "type": "Scala",
        "volumes": [{"name": "spark-local-dir-1", "emptyDir": {}}],
        "driver": {"labels": LABELS, "cores": 1},
        "executor": {"labels": LABELS, "instances": 4, "cores": 1},
    },
}

# (manifest, [(component, pods at once)])
CASES: list[tuple[dict[str, Any], list[tuple[str, int]]]] = [
    (
        {"apiVersion": "ray.io/v1", "kind": "RayCluster", "metadata": META, "spec": RAY},
        [("head", 1), ("worker", 5), ("worker", 8)],
    ),
    (
        {
            "apiVersion": "ray.io/v1",
            "kind": "RayJob",
            "metadata": META,
            "spec": {"rayClusterSpec": RAY, "submitterPodTemplate": template()},
        },
        [("head", 1), ("worker", 5), ("worker", 8), ("submitter", 1)],
    ),
    (
        {
            "apiVersion": "ray.io/v1",
            "kind": "RayService",
            "metadata": META,
            "spec": {"rayClusterConfig": RAY},
        },
        [("head", 1), ("worker", 5), ("worker", 8)],
    ),
    (kubeflow("PyTorchJob", "pytorchReplicaSpecs"), [("master", 1), ("worker", 3)]),
    (kubeflow("TFJob", "tfReplicaSpecs"), [("master", 1), ("worker", 3)]),
    (kubeflow("MPIJob", "mpiReplicaSpecs"), [("master", 1), ("worker", 3)]),
    (kubeflow("XGBoostJob", "xgbReplicaSpecs"), [("master", 1), ("worker", 3)]),
    (kubeflow("PaddleJob", "paddleReplicaSpecs"), [("master", 1), ("worker", 3)]),
    (kubeflow("JAXJob", "jaxReplicaSpecs"), [("master", 1), ("worker", 3)]),
    (
        {
            "apiVersion": "jobset.x-k8s.io/v1alpha2",
            "kind": "JobSet",
            "metadata": META,
            "spec": {
                "replicatedJobs": [
                    {"name": "leader", "template": {"spec": {"template": template()}}},
                    {
                        "name": "workers",
                        "replicas": 2,
                        "template": {"spec": {"parallelism": 4, "template": template()}},
                    },
                ]
            },
        },
        [("leader", 1), ("workers", 8)],
    ),
    (
        {
            "apiVersion": "leaderworkerset.x-k8s.io/v1",
            "kind": "LeaderWorkerSet",
            "metadata": META,
            "spec": {
                "replicas": 3,
                "leaderWorkerTemplate": {
                    "size": 4,
                    "leaderTemplate": template(),
                    "workerTemplate": template(),
                },
            },
        },
        [("leader", 3), ("worker", 12)],
    ),
    (
        {
            "apiVersion": "batch.volcano.sh/v1alpha1",
            "kind": "Job",
            "metadata": META,
            "spec": {
                "minAvailable": 3,
                "tasks": [{"replicas": 6, "name": "nginx", "template": template()}],
            },
        },
        [("nginx", 6)],
    ),
    (argo("Workflow"), [("train", 1), ("py", 1), ("set", 1)]),
    (argo("WorkflowTemplate"), [("train", MANY), ("py", MANY), ("set", MANY)]),
    (argo("ClusterWorkflowTemplate"), [("train", MANY), ("py", MANY), ("set", MANY)]),
    (argo("CronWorkflow"), [("train", 2), ("py", 2), ("set", 2)]),  # concurrencyPolicy Allow
    (SPARK, [("driver", 1), ("executor", 4)]),
    (
        {
            "apiVersion": "sparkoperator.k8s.io/v1beta2",
            "kind": "ScheduledSparkApplication",
            "metadata": META,
            "spec": {"schedule": "@hourly", "concurrencyPolicy": "Forbid", "template": {
                "type": "Scala", "driver": {"labels": LABELS},
                "executor": {"labels": LABELS, "instances": 2}}},
        },
        [("driver", 1), ("executor", 2)],
    ),
    (
        {
            "apiVersion": "sparkoperator.k8s.io/v1alpha1",
            "kind": "SparkConnect",
            "metadata": META,
            "spec": {"server": {"template": template()},
                     "executor": {"instances": 3, "template": template()}},
        },
        [("server", 1), ("executor", 3)],
    ),
    (
        {"apiVersion": "kubeflow.org/v1", "kind": "Notebook", "metadata": META,
         "spec": {"template": template()}},
        [("pod", 1)],
    ),
    ({"apiVersion": "v1", "kind": "PodTemplate", "metadata": META, "template": template()},
     [("pod", MANY)]),
    (
        {
            "apiVersion": "flink.apache.org/v1beta1",
            "kind": "FlinkDeployment",
            "metadata": META,
            "spec": {"podTemplate": template(),
                     "taskManager": {"replicas": 3, "podTemplate": template()}},
        },
        [("pod", 4), ("taskmanager", 3)],
    ),
    (
        {
            "apiVersion": "serving.kserve.io/v1beta1",
            "kind": "InferenceService",
            "metadata": META,
            "spec": {"predictor": {"maxReplicas": 2, **pod(),
                                   "workerSpec": {"pipelineParallelSize": 2, **pod()}}},
        },
        [("predictor", 2), ("worker", 4)],
    ),
    (
        {
            "apiVersion": "serving.kserve.io/v1alpha2",
            "kind": "LLMInferenceService",
            "metadata": META,
            "spec": {"replicas": 1, "template": pod(),
                     "prefill": {"replicas": 2, "template": pod()}},
        },
        [("decode", 1), ("prefill", 2)],
    ),
    (
        {
            "apiVersion": "trainer.kubeflow.org/v1alpha1",
            "kind": "ClusterTrainingRuntime",
            "metadata": META,
            "spec": {"template": {"spec": {"replicatedJobs": [
                {"name": "node", "template": {"spec": {"template": template()}}}]}}},
        },
        [("node", MANY)],
    ),
    (
        {
            "apiVersion": "batch.volcano.sh/v1alpha1",
            "kind": "CronJob",
            "metadata": META,
            "spec": {"schedule": "@hourly", "concurrencyPolicy": "Forbid", "jobTemplate": {
                "spec": {"tasks": [{"name": "t", "replicas": 2, "template": template()}]}}},
        },
        [("t", 2)],
    ),
    (
        {
            "apiVersion": "flow.volcano.sh/v1alpha1",
            "kind": "JobTemplate",
            "metadata": META,
            "spec": {"tasks": [{"name": "t", "replicas": 1, "template": template()}]},
        },
        [("t", 1)],
    ),
    (
        {
            "apiVersion": "workload.codeflare.dev/v1beta2",
            "kind": "AppWrapper",
            "metadata": META,
            "spec": {"components": [
                {"podSets": [{"replicas": 2, "path": "template.spec.template"}],
                 "template": {"apiVersion": "batch/v1", "kind": "Job",
                              "metadata": {"name": "train"},
                              "spec": {"template": template()}}},
                {"podSets": [{"path": "template.spec.replicatedJobs[0].template.spec.template"}],
                 "template": {"apiVersion": "jobset.x-k8s.io/v1alpha2", "kind": "JobSet",
                              "metadata": {"name": "set"}, "spec": {"replicatedJobs": [
                                  {"name": "w", "template": {"spec": {"template": template()}}}]}}},
            ]},
        },
        [("train", 2), ("set", 1)],
    ),
]  # fmt: skip
CONFIG = {
    "persistence": {
        "data": {
            "a": {
                "mountPath": "/data/a",
                "existingClaim": "a",
                "accessModes": ["ReadOnlyMany"],
                "readOnly": True,
            }
        },
        "outputs": {"out": {"mountPath": "/outputs", "nfs": {"server": "nfs", "path": "/o"}}},
    },
    "targets": {"ml": {"matchLabels": LABELS}},
}


def ids(case: Any) -> str:
    return str(case[0]["kind"]) if isinstance(case, tuple) else ""


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_operator_kinds_are_reached_and_counted(case: tuple[dict[str, Any], list[Any]]) -> None:
    manifest, expected = case
    stream = read(dump_all(manifest), Limits())
    workloads = list(collect(stream, carried_loader(Limits())))
    assert [(w.site.component, placement_of(w, Autoscalers()).pods) for w in workloads] == expected


@pytest.mark.parametrize("case", CASES, ids=ids)
def test_operator_pod_specs_get_the_storage(case: tuple[dict[str, Any], list[Any]]) -> None:
    manifest, expected = case
    outcome = render(dump_all(manifest), CONFIG)
    assert not outcome.rejected, outcome.findings
    assert len(outcome.placements) == len(expected)
    result = load_all(output(outcome))[0]
    for workload in outcome.workloads:
        pod_spec = workload.pod_spec
        assert [v["name"] for v in pod_spec["volumes"] if v["name"] in ("a", "out")] == ["a", "out"]
        for container in pod_spec["containers"]:
            assert {m["name"] for m in container["volumeMounts"]} == {"a", "out"}
    assert result["kind"] == manifest["kind"]


def test_argo_volumes_go_to_the_workflow_and_mounts_to_each_template() -> None:
    result = load_all(output(render(dump_all(argo("Workflow")), CONFIG)))[0]
    assert [v["name"] for v in result["spec"]["volumes"]] == ["a", "out"]
    templates = {t["name"]: t for t in result["spec"]["templates"]}
    assert "container" not in templates["main"]
    for container in (
        templates["train"]["container"],
        templates["py"]["script"],
        *templates["set"]["containerSet"]["containers"],
    ):
        assert [m["mountPath"] for m in container["volumeMounts"]] == ["/data/a", "/outputs"]


def test_spark_volumes_go_to_the_application_and_mounts_to_driver_and_executor() -> None:
    config = dict(CONFIG, securityContext={"enabled": True}, nodeSelector={"ml": {"pool": "ml"}})
    result = load_all(output(render(dump_all(SPARK), config)))[0]
    spec = result["spec"]
    assert [v["name"] for v in spec["volumes"]] == ["spark-local-dir-1", "a", "out"]
    for role in ("driver", "executor"):
        assert [m["name"] for m in spec[role]["volumeMounts"]] == ["a", "out"]
        assert spec[role]["podSecurityContext"]["fsGroup"] == 1000
        assert spec[role]["nodeSelector"] == {"pool": "ml"}
        assert spec[role]["securityContext"]["allowPrivilegeEscalation"] is False


def test_volcano_job_is_not_read_as_a_batch_job() -> None:
    volcano = next(m for m, _ in CASES if m["apiVersion"].startswith("batch.volcano.sh"))
    body = dict(volcano, spec=dict(volcano["spec"], template=template()))  # a batch/v1 Job's place
    result = load_all(output(render(dump_all(body), CONFIG)))[0]
    assert "volumes" not in result["spec"]["template"]["spec"]
    assert [v["name"] for v in result["spec"]["tasks"][0]["template"]["spec"]["volumes"]] == [
        "a",
        "out",
    ]


RWO_CLAIM = {
    "apiVersion": "v1",
    "kind": "PersistentVolumeClaim",
    "metadata": {"name": "shared"},
    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
}
SHARED = [{"name": "shared", "persistentVolumeClaim": {"claimName": "shared"}}]


def test_raycluster_head_and_workers_sharing_a_rwo_claim_is_rejected() -> None:
    cluster = {
        "apiVersion": "ray.io/v1",
        "kind": "RayCluster",
        "metadata": {"name": "rc"},
        "spec": {
            "headGroupSpec": {"template": {"spec": pod(volumes=SHARED)}},
            "workerGroupSpecs": [
                {"groupName": "w", "replicas": 1, "template": {"spec": pod(volumes=SHARED)}}
            ],
        },
    }
    outcome = render(dump_all(RWO_CLAIM, cluster))
    errors = [f for f in outcome.findings if f.rule == "SW101"]
    assert len(errors) == 1 and "RayCluster/rc (head)" in errors[0].message


JOBSET_SINGLE_PVC = {
    "apiVersion": "jobset.x-k8s.io/v1alpha2",
    "kind": "JobSet",
    "metadata": {"name": "volume-claim-trainjob"},
    "spec": {
        "volumeClaimPolicies": [
            {
                "templates": [
                    {
                        "metadata": {"name": "checkpoints"},
                        "spec": {"accessModes": ["ReadWriteOnce"]},
                    }
                ]
            }
        ],
        "replicatedJobs": [
            {
                "name": "node",
                "template": {
                    "spec": {
                        "parallelism": 3,
                        "completions": 3,
                        "template": {
                            "spec": {
                                "containers": [
                                    {
                                        "name": "node",
                                        "image": "busybox",
                                        "volumeMounts": [
                                            {"mountPath": "/ckpt", "name": "checkpoints"}
                                        ],
                                    }
                                ]
                            }
                        },
                    }
                },
            }
        ],
    },
}


def test_jobset_single_pvc_three_parallel_pods_on_one_rwo_claim_is_rejected() -> None:
    outcome = render(dump_all(JOBSET_SINGLE_PVC))
    assert [f.rule for f in outcome.findings] == ["SW101"]
    assert "mounted by 3 pods" in outcome.findings[0].message


def test_jobset_claim_message_names_the_template_it_comes_from() -> None:
    outcome = render(dump_all(JOBSET_SINGLE_PVC))
    assert outcome.findings[0].message.startswith(
        "ReadWriteOnce claim 'checkpoints' (a claim template of JobSet/volume-claim-trainjob) "
        "is mounted by 3 pods that can run on different nodes"
    )


@pytest.mark.parametrize("modes", [None, []])
def test_a_jobset_claim_template_without_access_modes_is_unknown(modes: Any) -> None:
    """A template no pod mounts comes first: the mounted one after it is still judged."""
    job_set: dict[str, Any] = copy.deepcopy(JOBSET_SINGLE_PVC)
    (policy,) = job_set["spec"]["volumeClaimPolicies"]
    policy["templates"][0]["spec"]["accessModes"] = modes
    policy["templates"].insert(0, {"metadata": {"name": "unmounted"}, "spec": {}})
    outcome = render(dump_all(job_set))
    assert [(f.rule, str(f.resource)) for f in outcome.findings] == [
        ("SW104", "PersistentVolumeClaim/checkpoints")
    ]


def test_a_claim_only_the_workers_mount_names_the_workers_alone() -> None:
    """The master runs beside the workers but does not mount the claim: the count and the
    why are the workers'."""
    job = kubeflow("PyTorchJob", "pytorchReplicaSpecs")
    job["spec"]["pytorchReplicaSpecs"]["Worker"]["template"]["spec"]["volumes"] = SHARED
    (finding,) = render(dump_all(RWO_CLAIM, job)).findings
    assert finding.message == (
        "ReadWriteOnce claim 'shared' (per its manifest) is mounted by 3 pods that can run on "
        "different nodes: PyTorchJob/x (worker) (3 PyTorchJob pods)"
    )


def _train_job(spec: dict[str, Any]) -> dict[str, Any]:
    """A TrainJob of example.com: a kind stowage reaches only when the config declares it."""
    meta = {"name": "t", "labels": LABELS}
    return {"apiVersion": "example.com/v1", "kind": "TrainJob", "metadata": meta, "spec": spec}


def test_a_declared_kind_s_pod_specs_all_count_toward_its_claim() -> None:
    """A declared kind with two podSpecs runs them together, as a kind stowage does not know."""
    train = _train_job(
        {
            "leader": {"template": {"spec": pod(volumes=SHARED)}},
            "workers": {"replicas": 3, "template": {"spec": pod(volumes=SHARED)}},
        }
    )
    specs = [
        {"component": "leader", "path": "spec.leader.template.spec"},
        {
            "component": "worker",
            "path": "spec.workers.template.spec",
            "replicas": "spec.workers.replicas",
        },
    ]
    kinds = [{"group": "example.com", "kind": "TrainJob", "podSpecs": specs}]
    (finding,) = render(dump_all(RWO_CLAIM, train), dict(CONFIG, kinds=kinds)).findings
    assert finding.message == (
        "ReadWriteOnce claim 'shared' (per its manifest) is mounted by 4 pods that can run on "
        "different nodes: TrainJob/t (leader), TrainJob/t (worker) (1 TrainJob pod + 3 "
        "TrainJob pods (they run together))"
    )


def test_a_declared_kind_is_reached_and_its_replicas_counted() -> None:
    train = _train_job({"workers": [{"replicas": 3, "template": {"spec": pod(volumes=SHARED)}}]})
    kinds = [
        {
            "group": "example.com",
            "kind": "TrainJob",
            "podSpecs": [
                {
                    "component": "worker",
                    "path": "spec.workers[*].template.spec",
                    "replicas": "spec.workers[*].replicas",
                }
            ],
        }
    ]
    undeclared = render(dump_all(RWO_CLAIM, train), CONFIG)
    assert [f.rule for f in undeclared.findings] == ["SW901", "SW902"]  # target ml: nothing
    assert (
        "kind: TrainJob, podSpecs: [{path: spec.workers[*].template.spec, "
        "replicas: spec.workers[*].replicas}]"
    ) in undeclared.findings[1].fix
    outcome = render(dump_all(RWO_CLAIM, train), dict(CONFIG, kinds=kinds))
    assert [f.rule for f in outcome.findings] == ["SW101"]
    assert "3 TrainJob pods" in outcome.findings[0].message
    spec = get_in(load_all(output(outcome))[1], ("spec", "workers", 0, "template", "spec"))
    assert [v["name"] for v in spec["volumes"]] == ["shared", "a", "out"]


def test_a_node_pool_key_naming_no_pool_warns_listing_the_pools() -> None:
    config = dict(CONFIG, nodeSelector={"dsak": {"pool": "dask"}, "ml": {"pool": "ml"}})
    outcome = render(dump_all(SPARK), config)
    found = [f for f in outcome.findings if f.rule == "SW903"]
    assert len(found) == 1
    assert "nodeSelector.dsak" in found[0].message and "(node pools: ml)" in found[0].message


def test_a_target_matching_nothing_warns() -> None:
    config = dict(
        CONFIG, targets={"ml": {"matchLabels": LABELS}, "gpu": {"matchLabels": {"a": "b"}}}
    )
    outcome = render(dump_all(SPARK), config)
    assert [f.message for f in outcome.findings if f.rule == "SW901"] == [
        "target 'gpu' matches no workload (matchLabels {'a': 'b'})"
    ]


def test_a_workflow_named_by_generate_name_is_named_so_in_messages() -> None:
    workflow = argo("Workflow")
    workflow["metadata"] = {"generateName": "volumes-pvc-", "labels": LABELS}
    outcome = render(dump_all(workflow), CONFIG)
    assert {p.workload for p in outcome.placements} == {
        "Workflow/volumes-pvc- (train)",
        "Workflow/volumes-pvc- (py)",
        "Workflow/volumes-pvc- (set)",
    }


@pytest.mark.parametrize(
    ("body", "kinds", "expected"),
    [
        (
            {
                "apiVersion": "kubeflow.org/v1",
                "kind": "TFJob",
                "metadata": META,
                "spec": {"tfReplicaSpecs": {"Worker": {"template": {"spec": {"volumes": True}}}}},
            },
            [],
            "spec.tfReplicaSpecs.Worker.template.spec.volumes must be a list",
        ),
        (
            {
                "apiVersion": "example.com/v1",
                "kind": "TrainJob",
                "metadata": META,
                "spec": {"workers": [{"template": {"spec": {"containers": {"a": 1}}}}]},
            },
            [
                {
                    "group": "example.com",
                    "kind": "TrainJob",
                    "podSpecs": [{"path": "spec.workers[*].template.spec"}],
                }
            ],
            "spec.workers[0].template.spec.containers must be a list",
        ),
    ],
)
def test_operator_and_declared_kinds_with_fields_of_the_wrong_type_are_refused(
    body: dict[str, Any], kinds: list[dict[str, Any]], expected: str
) -> None:
    from stowage.errors import UsageError

    with pytest.raises(UsageError, match=re.escape(expected)):
        render(dump_all(body), dict(CONFIG, kinds=kinds))


def test_argo_security_and_pool_settings_keep_the_templates_list() -> None:
    config = dict(CONFIG, securityContext={"enabled": True}, nodeSelector={"ml": {"pool": "ml"}})
    result = load_all(output(render(dump_all(argo("Workflow")), config)))[0]
    templates = result["spec"]["templates"]
    assert [t["name"] for t in templates] == ["main", "train", "py", "set"]
    assert templates[1]["securityContext"]["fsGroup"] == 1000
    assert templates[1]["nodeSelector"] == {"pool": "ml"}
    assert "securityContext" not in templates[0]  # a steps template runs no pod


def test_sw902_suggests_every_nested_pod_template_with_its_replicas_and_it_works() -> None:
    """KServe-like: a predictor with its containers and a workerSpec nested in it, and a
    template with init containers only. The suggested `kinds:` entry, used as written,
    reaches all three and counts their pods."""
    serving = {
        "apiVersion": "example.com/v1",
        "kind": "Serving",
        "metadata": {"name": "s", "labels": LABELS},
        "spec": {
            "predictor": {
                "maxReplicas": 3,
                "containers": [{"name": "kserve-container", "image": "x"}],
                "workerSpec": {"size": 2, "containers": [{"name": "worker", "image": "x"}]},
            },
            "warmup": {"template": {"spec": {"initContainers": [{"name": "w", "image": "x"}]}}},
        },
    }
    (finding,) = [f for f in render(dump_all(serving), CONFIG).findings if f.rule == "SW902"]
    entry = finding.fix.split("kinds: ", 1)[1].split("] (", 1)[0] + "]"
    kinds = yaml.safe_load(entry)
    assert kinds[0]["podSpecs"] == [
        {"path": "spec.predictor", "replicas": "spec.predictor.maxReplicas"},
        {"path": "spec.predictor.workerSpec", "replicas": "spec.predictor.workerSpec.size"},
        {"path": "spec.warmup.template.spec"},
    ]
    outcome = render(dump_all(serving), dict(CONFIG, kinds=kinds))
    assert len(outcome.placements) == 3
    counts = [placement_of(w, Autoscalers()).pods for w in outcome.workloads]
    assert counts == [3, 2, 1]


def test_an_elastic_pytorchjob_counts_its_workers_up_to_max_replicas() -> None:
    job = kubeflow("PyTorchJob", "pytorchReplicaSpecs")
    job["spec"]["elasticPolicy"] = {"minReplicas": 1, "maxReplicas": 8}
    workloads = list(collect(read(dump_all(job), Limits()), carried_loader(Limits())))
    counts = [(w.site.component, placement_of(w, Autoscalers()).pods) for w in workloads]
    assert counts == [("master", 1), ("worker", 8)]
    assert placement_of(workloads[1], Autoscalers()).why == "elasticPolicy.maxReplicas 8 workers"


def test_a_model_on_a_rwo_claim_counts_every_inference_pod() -> None:
    llm = {
        "apiVersion": "serving.kserve.io/v1alpha2",
        "kind": "LLMInferenceService",
        "metadata": {"name": "llm"},
        "spec": {"model": {"uri": "pvc://shared/models/x"}, "replicas": 1, "template": pod(),
                 "prefill": {"replicas": 2, "template": pod()}},
    }  # fmt: skip
    (finding,) = render(dump_all(RWO_CLAIM, llm)).findings
    assert finding.rule == "SW101" and "mounted by 3 pods" in finding.message
    assert "1 decode pod + 2 prefill pods" in finding.message


def test_sw902_sees_an_unknown_kind_whose_only_pod_spec_has_init_containers_only() -> None:
    """The stream parses an unknown kind only when its text hints at pod specs: a pod
    spec with `initContainers` alone (no `containers:` anywhere) must count as a hint."""
    warmup = {
        "apiVersion": "example.com/v1",
        "kind": "Warmup",
        "metadata": {"name": "w", "labels": LABELS},
        "spec": {"template": {"spec": {"initContainers": [{"name": "w", "image": "x"}]}}},
    }
    text = dump_all(warmup)
    assert "containers:" not in text  # only `initContainers:`: the case the hint missed
    (finding,) = [f for f in render(text, CONFIG).findings if f.rule == "SW902"]
    assert "{path: spec.template.spec}" in finding.fix


@pytest.mark.parametrize(
    ("version", "where"),
    [
        ("tekton.dev/v1", ("spec", "taskRunTemplate", "podTemplate")),
        ("tekton.dev/v1beta1", ("spec", "podTemplate")),
    ],
)
def test_a_tekton_run_pod_template_gets_the_plan_but_the_fix_says_mount_by_workspace(
    version: str, where: tuple[str, ...]
) -> None:
    config = dict(CONFIG, securityContext={"enabled": True}, nodeSelector={"ml": {"pool": "gpu"}})
    run = {
        "apiVersion": version,
        "kind": "PipelineRun",
        "metadata": {"name": "train", "labels": LABELS},
        "spec": {"pipelineRef": {"name": "train"}},
    }
    task_run = {
        "apiVersion": "tekton.dev/v1",
        "kind": "TaskRun",
        "metadata": {"name": "once", "labels": LABELS},
        "spec": {"taskRef": {"name": "train"}},
    }
    pipeline = {
        "apiVersion": "tekton.dev/v1",
        "kind": "Pipeline",
        "metadata": {"name": "train"},
        "spec": {"tasks": [{"name": "fit", "taskRef": {"name": "fit"}}]},
    }
    outcome = render(dump_all(run, task_run, pipeline), config)
    pipeline_run, single, _ = load_all(output(outcome))
    for body, path in ((pipeline_run, where), (single, ("spec", "podTemplate"))):
        template = get_in(body, path)
        assert [v["name"] for v in template["volumes"]] == ["a", "out"]
        assert template["nodeSelector"] == {"pool": "gpu"}
        assert template["securityContext"]["runAsNonRoot"] is True
        assert "containers" not in template
    found = [f for f in outcome.findings if f.rule == "SW905"]
    assert [f.resource.name for f in found] == ["train", "once"]
    assert all("has no containers" in f.message for f in found)
    assert all(f.fix.startswith("mount through a workspace") for f in found)


def test_a_kserve_predictor_given_only_model_gets_mounts_and_env_on_the_model() -> None:
    isvc = {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "sk", "labels": LABELS},
        "spec": {
            "predictor": {
                "maxReplicas": 2,
                "model": {"modelFormat": {"name": "sklearn"}, "storageUri": "s3://m/x"},
            }
        },
    }
    outcome = render(dump_all(isvc), CONFIG)
    predictor = load_all(output(outcome))[0]["spec"]["predictor"]
    assert [m["mountPath"] for m in predictor["model"]["volumeMounts"]] == ["/data/a", "/outputs"]
    assert predictor["model"]["env"][0]["name"] == "STOWAGE_DATA_PATHS"
    assert [v["name"] for v in predictor["volumes"]] == ["a", "out"]
    assert "containers" not in predictor
    assert [placement_of(w, Autoscalers()).pods for w in outcome.workloads] == [2]


def test_a_kserve_predictor_with_model_and_containers_is_one_pod_spec_that_all_get_storage() -> (
    None
):
    """KServe's collocation example: the model and a transformer container in one pod
    (tests/fixtures/concurrency/kserve-model-and-containers.yaml). Both get the mounts and
    the data-paths env; the predictor's pods are counted once, from maxReplicas."""
    text = (CONCURRENCY_CASES / "kserve-model-and-containers.yaml").read_text()
    outcome = render(text, CONFIG)
    predictor = load_all(output(outcome))[1]["spec"]["predictor"]
    (transformer,) = predictor["containers"]
    for container in (predictor["model"], transformer):
        assert [m["mountPath"] for m in container["volumeMounts"]] == ["/data/a", "/outputs"]
        assert container["env"][0]["name"] == "STOWAGE_DATA_PATHS"
    assert [v["name"] for v in predictor["volumes"]] == ["a", "out"]
    assert [w.site.component for w in outcome.workloads] == ["predictor"]
    assert [placement_of(w, Autoscalers()).pods for w in outcome.workloads] == [1]
    assert not [f for f in outcome.findings if f.rule in ("SW101", "SW902")]


FLINK_SESSION_JOB = {
    "apiVersion": "flink.apache.org/v1beta1",
    "kind": "FlinkSessionJob",
    "metadata": {"name": "wordcount", "labels": LABELS},
    "spec": {"deploymentName": "session", "job": {"jarURI": "https://x/job.jar"}},
}


def test_a_flink_session_job_without_its_session_cluster_is_out_of_reach() -> None:
    (finding,) = [
        f for f in render(dump_all(FLINK_SESSION_JOB), CONFIG).findings if f.rule == "SW905"
    ]
    assert "runs its job in FlinkDeployment 'session'" in finding.message
    assert "render the FlinkDeployment in the same stream" in finding.fix


def test_a_flink_session_job_with_its_session_cluster_gets_storage_there() -> None:
    session = {
        "apiVersion": "flink.apache.org/v1beta1",
        "kind": "FlinkDeployment",
        "metadata": {"name": "session", "labels": LABELS},
        "spec": {"podTemplate": {"spec": pod()}},
    }
    outcome = render(dump_all(session, FLINK_SESSION_JOB), CONFIG)
    assert not [f for f in outcome.findings if f.rule == "SW905"]
    assert [p.workload for p in outcome.placements] == ["FlinkDeployment/session"]
