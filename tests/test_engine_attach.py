"""The engine attaches the plan to every kind, from every source, without duplicates."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from enginehelpers import (
    DATA_CLAIM,
    ROLE,
    TARGET,
    deployment,
    dump_all,
    load_all,
    output,
    plan_configmap,
    pod_spec_of,
    pod_template,
    render,
    simple_config,
)
from stowage.errors import UsageError
from stowage.pods.podspecs import CORE_GROUPS, get_in

POD_SPEC = pod_template(ROLE)["spec"]


def _kinds() -> list[tuple[str, dict[str, Any], list[tuple[str | int, ...]]]]:
    template = pod_template(ROLE)
    job_spec = {"template": template}
    dask_spec = {"metadata": {"labels": ROLE}, "spec": POD_SPEC}
    return [
        ("Pod", {"metadata": {"name": "p", "labels": ROLE}, "spec": POD_SPEC}, [("spec",)]),
        (
            "ReplicaSet",
            {"metadata": {"name": "r"}, "spec": {"template": template}},
            [("spec", "template", "spec")],
        ),
        (
            "StatefulSet",
            {"metadata": {"name": "s"}, "spec": {"template": template}},
            [("spec", "template", "spec")],
        ),
        (
            "DaemonSet",
            {"metadata": {"name": "d"}, "spec": {"template": template}},
            [("spec", "template", "spec")],
        ),
        ("Job", {"metadata": {"name": "j"}, "spec": job_spec}, [("spec", "template", "spec")]),
        (
            "CronJob",
            {"metadata": {"name": "cj"}, "spec": {"jobTemplate": {"spec": job_spec}}},
            [("spec", "jobTemplate", "spec", "template", "spec")],
        ),
        (
            "DaskCluster",
            {
                "metadata": {"name": "dc", "labels": ROLE},
                "spec": {"scheduler": dask_spec, "worker": {"replicas": 2, **dask_spec}},
            },
            [("spec", "scheduler", "spec"), ("spec", "worker", "spec")],
        ),
        (
            "DaskWorkerGroup",
            {
                "metadata": {"name": "wg", "labels": ROLE},
                "spec": {"worker": {"replicas": 2, **dask_spec}},
            },
            [("spec", "worker", "spec")],
        ),
        (
            "DaskJob",
            {
                "metadata": {"name": "dj", "labels": ROLE},
                "spec": {
                    "job": dask_spec,
                    "cluster": {"spec": {"scheduler": dask_spec, "worker": dask_spec}},
                },
            },
            [
                ("spec", "job", "spec"),
                ("spec", "cluster", "spec", "scheduler", "spec"),
                ("spec", "cluster", "spec", "worker", "spec"),
            ],
        ),
    ]


@pytest.mark.parametrize(("kind", "body", "paths"), _kinds(), ids=lambda v: str(v)[:20])
def test_every_pod_spec_location_gets_volumes_and_mounts(
    kind: str, body: dict[str, Any], paths: list[tuple[str | int, ...]]
) -> None:
    group = CORE_GROUPS[kind]
    doc = {"apiVersion": f"{group}/v1" if group else "v1", "kind": kind, **body}
    result = load_all(output(render(dump_all(doc), simple_config())))[0]
    for path in paths:
        spec = get_in(result, path)
        assert [v["name"] for v in spec["volumes"]] == ["a", "out"], (kind, path)
        mounts = spec["containers"][0]["volumeMounts"]
        assert {m["mountPath"] for m in mounts} == {"/data/a", "/outputs"}


def test_kind_list_items_are_found() -> None:
    listing = {"apiVersion": "v1", "kind": "List", "items": [deployment("w", ROLE)]}
    result = load_all(output(render(dump_all(listing), simple_config())))[0]
    assert [v["name"] for v in pod_spec_of(result["items"][0])["volumes"]] == ["a", "out"]


@pytest.mark.parametrize("kind", ["List", "DeploymentList"])
def test_list_items_are_workloads_named_by_their_own_metadata(kind: str) -> None:
    listing = {"apiVersion": "v1", "kind": kind, "items": [deployment("w", ROLE)]}
    outcome = render(dump_all(listing), simple_config())
    assert [p.workload for p in outcome.placements] == ["Deployment/w"]
    (result,) = load_all(output(outcome))
    assert [v["name"] for v in pod_spec_of(result["items"][0])["volumes"]] == ["a", "out"]


def test_typed_lists_are_read_and_checked_through_the_engine() -> None:
    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "db"},
        "spec": {"accessModes": ["ReadWriteOnce"]},
    }
    workers = deployment("w", {"app": "w"}, replicas=3, strategy={"type": "Recreate"})
    workers["spec"]["template"]["spec"]["volumes"] = [
        {"name": "d", "persistentVolumeClaim": {"claimName": "db"}}
    ]
    text = dump_all(
        {"apiVersion": "v1", "kind": "PersistentVolumeClaimList", "items": [claim]},
        {"apiVersion": "apps/v1", "kind": "DeploymentList", "items": [workers]},
    )
    assert [f.rule for f in render(text).findings] == ["SW101"]


def test_carried_template_inside_a_list_is_written_back_to_its_item() -> None:
    carrier = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "tpl", "labels": {"stowage.io/pod-template": "true"}},
        "data": {"job.yaml": dump_all(deployment("run", ROLE)).removeprefix("---\n")},
    }
    listing = {"apiVersion": "v1", "kind": "ConfigMapList", "items": [carrier]}
    (result,) = load_all(output(render(dump_all(listing), simple_config())))
    (carried,) = load_all(result["items"][0]["data"]["job.yaml"])
    assert [v["name"] for v in pod_spec_of(carried)["volumes"]] == ["a", "out"]


def test_a_carried_template_past_the_run_limits_once_attached_is_a_usage_error() -> None:
    from stowage.engine import Options, run
    from stowage.layers import Layer
    from stowage.read.yamlload import Limits

    job = dump_all(deployment("run", ROLE)).removeprefix("---\n")
    carrier = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "tpl", "labels": {"stowage.io/pod-template": "true"}},
        "data": {"job.yaml": job},
    }
    options = Options(layers=[Layer("test", simple_config())], limits=Limits(max_nodes=50))
    # the template as the chart wrote it fits in 50 nodes; with the plan's volumes it does not
    with pytest.raises(UsageError) as caught:
        run(dump_all(carrier), options)
    assert str(caught.value) == (
        "document 1 (ConfigMap/tpl) at line 1: carried pod template data.job.yaml, with the "
        "plan attached: document expands to more than 50 nodes (an alias bomb?); raise "
        "--max-nodes if it is genuine"
    )


def test_unknown_kinds_and_untargeted_workloads_pass_byte_for_byte() -> None:
    other = deployment("other", {"app": "x"})
    custom = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {"template": pod_template(ROLE)},
    }
    text = "# Source: keep me\n" + dump_all(other, custom)
    outcome = render(text, simple_config())
    assert output(outcome) == text
    assert outcome.placements == []


def test_skipped_workloads_and_helm_hooks_are_not_attached() -> None:
    config = simple_config()
    config["targets"]["a-site"] = {}  # a template site's target (no labels), sorted first
    skipped = deployment("skipped", ROLE)
    skipped["metadata"]["annotations"] = {"stowage.io/skip": "True"}
    hook = deployment("hook", ROLE)
    hook["metadata"]["annotations"] = {"helm.sh/hook": "pre-install"}
    outcome = render(dump_all(skipped, hook, deployment("w", ROLE)), config)
    assert [p.workload for p in outcome.placements] == ["Deployment/w"]
    assert [doc.changed for doc in outcome.stream.documents] == [False, False, True]


def test_a_workload_gets_the_first_target_whose_kinds_and_components_match() -> None:
    config = simple_config()
    config["targets"]["a-jobs"] = {"matchLabels": ROLE, "kinds": ["Job"]}
    config["targets"]["b-workers"] = {"matchLabels": ROLE, "components": ["worker"]}
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"}}
    job["spec"] = {"template": pod_template(ROLE)}
    dask_spec = {"metadata": {"labels": ROLE}, "spec": POD_SPEC}
    cluster = {
        "apiVersion": "kubernetes.dask.org/v1",
        "kind": "DaskCluster",
        "metadata": {"name": "dc", "labels": ROLE},
        "spec": {"scheduler": dask_spec, "worker": {"replicas": 2, **dask_spec}},
    }
    outcome = render(dump_all(deployment("w", ROLE), job, cluster), config)
    assert [(p.workload, p.role) for p in outcome.placements] == [
        ("Deployment/w", "dask"),
        ("Job/j", "a-jobs"),
        ("DaskCluster/dc (scheduler)", "dask"),
        ("DaskCluster/dc (worker)", "b-workers"),
    ]


SOURCES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    (
        {"mountPath": "/d", "hostPath": "/srv/d"},
        {"hostPath": {"path": "/srv/d", "type": "DirectoryOrCreate"}},
    ),
    (
        {"mountPath": "/d", "existingClaim": "c", "readOnly": True},
        {"persistentVolumeClaim": {"claimName": "c", "readOnly": True}},
    ),
    (
        {"mountPath": "/d", "nfs": {"server": "10.0.0.2", "path": "/exports/d"}},
        {"nfs": {"server": "10.0.0.2", "path": "/exports/d"}},
    ),
    (
        {"mountPath": "/d", "claim": {"size": "5Gi", "accessModes": ["ReadWriteMany"]}},
        {"persistentVolumeClaim": {"claimName": "stowage-d"}},
    ),
    (
        {"mountPath": "/d", "store": "gcs", "bucket": "gs://b", "secret": "s", "secretKey": "k"},
        {"secret": {"secretName": "s", "items": [{"key": "k", "path": "k"}]}},
    ),
]


@pytest.mark.parametrize(("spec", "volume_source"), SOURCES, ids=lambda v: str(v)[:30])
def test_each_source_becomes_the_right_pod_volume(
    spec: dict[str, Any], volume_source: dict[str, Any]
) -> None:
    config = {"persistence": {"data": {"d": spec}}, "targets": TARGET}
    docs = load_all(output(render(dump_all(deployment("w", ROLE)), config)))
    assert pod_spec_of(docs[0])["volumes"] == [{"name": "d", **volume_source}]


def test_claim_source_generates_one_kept_pvc_and_not_again() -> None:
    config = {
        "persistence": {"data": {"d": {"mountPath": "/d", "claim": {"size": "5Gi"}}}},
        "targets": TARGET,
    }
    first = output(render(dump_all(deployment("w", ROLE)), config))
    claims = [d for d in load_all(first) if d["kind"] == "PersistentVolumeClaim"]
    assert len(claims) == 1
    assert claims[0]["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert claims[0]["spec"]["resources"]["requests"]["storage"] == "5Gi"
    assert output(render(first, config)) == first


def test_generated_claims_are_checked_and_only_the_missing_ones_generated() -> None:
    rwo = {"size": "1Gi", "accessModes": ["ReadWriteOnce"]}
    data = {
        "d": {"mountPath": "/d", "claim": {"size": "5Gi"}},
        "e": {"mountPath": "/e", "claim": rwo},
    }
    config = {"persistence": {"data": data}, "targets": TARGET}
    own = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "stowage-d"},
        "spec": {"accessModes": ["ReadWriteMany"]},
    }
    outcome = render(dump_all(own, deployment("w", ROLE, replicas=3)), config)
    claims = [d for d in load_all(output(outcome)) if d["kind"] == "PersistentVolumeClaim"]
    assert claims[0] == own  # the chart's own, not generated again
    assert [c["metadata"]["name"] for c in claims] == ["stowage-d", "stowage-e"]
    # the generated claim is judged like the chart's own
    assert [f.message for f in outcome.findings] == [
        "ReadWriteOnce claim 'stowage-e' (per its manifest) is mounted by 3 pods that can run "
        "on different nodes: Deployment/w (3 replicas)"
    ]


def test_store_credentials_come_from_the_secret_key_and_bucket_goes_in_data_paths() -> None:
    store = {"store": "s3", "bucket": "s3://b", "secret": "creds", "secretKey": "aws"}
    config = {"persistence": {"data": {"raw": store}}, "targets": TARGET}
    spec = pod_spec_of(load_all(output(render(dump_all(deployment("w", ROLE)), config)))[0])
    env = {e["name"]: e for e in spec["containers"][0]["env"]}
    assert env["STOWAGE_STORE_RAW"]["valueFrom"] == {
        "secretKeyRef": {"name": "creds", "key": "aws"}
    }
    assert json.loads(env["STOWAGE_DATA_PATHS"]["value"]) == {"raw": "s3://b"}
    assert "volumes" not in spec  # no mountPath: env credentials only


def test_data_paths_env_maps_names_to_mount_paths_and_name_is_configurable() -> None:
    config = simple_config(dataPathsEnv="POLYAXON_RUN_DATA_PATHS")
    spec = pod_spec_of(load_all(output(render(dump_all(deployment("w", ROLE)), config)))[0])
    env = spec["containers"][0]["env"]
    assert env == [{"name": "POLYAXON_RUN_DATA_PATHS", "value": '{"a":"/data/a"}'}]


def test_read_only_is_honoured_on_volume_and_mount() -> None:
    config = simple_config()
    config["persistence"]["data"]["a"]["readOnly"] = True
    spec = pod_spec_of(load_all(output(render(dump_all(deployment("w", ROLE)), config)))[0])
    assert spec["volumes"][0]["persistentVolumeClaim"]["readOnly"] is True
    assert spec["containers"][0]["volumeMounts"][0]["readOnly"] is True
    assert "readOnly" not in spec["containers"][0]["volumeMounts"][1]  # outputs stay writable


def test_every_container_is_mounted_init_containers_only_by_option() -> None:
    doc = deployment("w", ROLE)
    pod_spec_of(doc)["containers"].append({"name": "sidecar", "image": "busybox"})
    pod_spec_of(doc)["initContainers"] = [{"name": "init", "image": "busybox"}]
    spec = pod_spec_of(load_all(output(render(dump_all(doc), simple_config())))[0])
    assert all("volumeMounts" in c for c in spec["containers"])
    assert "volumeMounts" not in spec["initContainers"][0]
    config = simple_config()
    config["targets"]["dask"]["initContainers"] = True
    spec = pod_spec_of(load_all(output(render(dump_all(doc), config)))[0])
    assert len(spec["initContainers"][0]["volumeMounts"]) == 2


def test_data_refs_from_target_and_annotation() -> None:
    config = simple_config()
    config["persistence"]["data"]["b"] = {"mountPath": "/data/b", "hostPath": "/srv/b"}
    config["targets"]["dask"]["dataRefs"] = ["b"]
    spec = pod_spec_of(load_all(output(render(dump_all(deployment("w", ROLE)), config)))[0])
    assert [v["name"] for v in spec["volumes"]] == ["b", "out"]
    annotated = deployment("w", ROLE)
    annotated["metadata"]["annotations"] = {"stowage.io/data-refs": "a"}
    spec = pod_spec_of(load_all(output(render(dump_all(annotated), config)))[0])
    assert [v["name"] for v in spec["volumes"]] == ["a", "out"]


def test_outputs_can_be_turned_off_per_target() -> None:
    config = simple_config()
    config["targets"]["dask"]["outputs"] = False
    spec = pod_spec_of(load_all(output(render(dump_all(deployment("w", ROLE)), config)))[0])
    assert [v["name"] for v in spec["volumes"]] == ["a"]


def test_existing_volume_of_that_name_is_kept_and_not_remounted() -> None:
    doc = deployment("w", ROLE)
    own = {"name": "a", "emptyDir": {}}
    pod_spec_of(doc)["volumes"] = [own]
    outcome = render(dump_all(doc), simple_config())
    spec = pod_spec_of(load_all(output(outcome))[0])
    assert spec["volumes"][0] == own
    assert [m["name"] for m in spec["containers"][0]["volumeMounts"]] == ["out"]
    skipped = outcome.placements[0].skipped
    assert any("kept the workload's own volume 'a'" in s["reason"] for s in skipped)


def test_mount_at_a_taken_path_is_a_conflict_not_an_overwrite() -> None:
    doc = deployment("w", ROLE)
    pod_spec_of(doc)["volumes"] = [{"name": "scratch", "emptyDir": {}}]
    pod_spec_of(doc)["containers"][0]["volumeMounts"] = [
        {"name": "scratch", "mountPath": "/data/a"}
    ]
    outcome = render(dump_all(doc), simple_config())
    assert outcome.rejected
    assert any("/data/a" in f.message for f in outcome.findings)
    mounts = pod_spec_of(outcome.stream.documents[0].body)["containers"][0]["volumeMounts"]
    assert {"name": "scratch", "mountPath": "/data/a"} in mounts
    assert all(m["name"] != "a" for m in mounts)


def test_read_only_disagreement_with_an_existing_mount_is_a_conflict() -> None:
    config = simple_config()
    config["persistence"]["data"]["a"]["readOnly"] = True
    doc = deployment("w", ROLE)
    pod_spec_of(doc)["containers"][0]["volumeMounts"] = [{"name": "a", "mountPath": "/data/a"}]
    outcome = render(dump_all(doc), config)
    assert outcome.rejected
    assert any("readOnly" in f.message for f in outcome.findings)


def test_node_pool_selectors_tolerations_affinity_merge() -> None:
    toleration = {"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}
    affinity: dict[str, Any] = {
        "nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": []}
    }
    config = simple_config(
        nodeSelector={"dask": {"pool": "dask"}},
        tolerations={"dask": [toleration]},
        affinity={"dask": affinity},
    )
    doc = deployment("w", ROLE)
    pod_spec_of(doc)["nodeSelector"] = {"zone": "a"}
    spec = pod_spec_of(load_all(output(render(dump_all(doc), config)))[0])
    assert spec["nodeSelector"] == {"zone": "a", "pool": "dask"}
    assert spec["tolerations"] == [toleration]
    assert spec["affinity"] == affinity


def test_pool_defaults_to_role_and_can_be_named() -> None:
    config = simple_config(nodeSelector={"core": {"pool": "core"}, "dask": {"pool": "d"}})
    config["targets"]["dask"]["pool"] = "core"
    spec = pod_spec_of(load_all(output(render(dump_all(deployment("w", ROLE)), config)))[0])
    assert spec["nodeSelector"] == {"pool": "core"}


def test_node_selector_conflict_keeps_author_value_and_is_a_finding() -> None:
    doc = deployment("w", ROLE)
    pod_spec_of(doc)["nodeSelector"] = {"pool": "cpu"}
    outcome = render(dump_all(doc), simple_config(nodeSelector={"dask": {"pool": "gpu"}}))
    conflict = [f for f in outcome.findings if "nodeSelector.pool" in f.message]
    assert conflict, outcome.findings
    assert "cpu" in conflict[0].message
    assert "gpu" in conflict[0].message


def test_security_context_sets_fsgroup_to_group_and_restricts_containers() -> None:
    config = simple_config(securityContext={"enabled": True, "user": 2000, "group": 3000})
    spec = pod_spec_of(load_all(output(render(dump_all(deployment("w", ROLE)), config)))[0])
    assert spec["securityContext"] == {
        "runAsUser": 2000,
        "runAsGroup": 3000,
        "fsGroup": 3000,
        "runAsNonRoot": True,
        "fsGroupChangePolicy": "OnRootMismatch",
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert spec["containers"][0]["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
    }


def test_security_context_conflict_with_author_is_reported() -> None:
    doc = deployment("w", ROLE)
    pod_spec_of(doc)["securityContext"] = {"runAsUser": 0}
    outcome = render(dump_all(doc), simple_config(securityContext={"enabled": True}))
    assert outcome.rejected
    assert any("runAsUser" in f.message for f in outcome.findings)


def test_plan_resource_drives_attach_and_config_layers_over_it() -> None:
    plan = plan_configmap(simple_config())
    text = dump_all(plan, deployment("w", ROLE))
    spec = pod_spec_of(load_all(output(render(text)))[1])
    assert [v["name"] for v in spec["volumes"]] == ["a", "out"]
    override: dict[str, Any] = {"targets": {"dask": {"dataRefs": []}}}
    spec = pod_spec_of(load_all(output(render(text, override)))[1])
    assert [v["name"] for v in spec["volumes"]] == ["out"]


def test_no_plan_and_no_config_passes_through_and_says_so() -> None:
    text = dump_all(deployment("w", ROLE))
    outcome = render(text)
    assert output(outcome) == text
    assert any("passed through untouched" in n for n in outcome.notes)


def test_invalid_config_names_the_key() -> None:
    config = {"persistence": {"data": {"a": {"mountPath": "data", "hostPath": "/x"}}}}
    with pytest.raises(UsageError, match=r"persistence\.data\.a\.mountPath"):
        render(dump_all(deployment("w", ROLE)), config)


def _auto(type_: str, params: object) -> dict[str, Any]:
    return simple_config(autoMount={"type": type_, "params": params})


PVC_PARAMS = {"pvc_name": "shared", "volume_mount_path": "/mnt/shared"}


@pytest.mark.parametrize(
    "params",
    [
        PVC_PARAMS,
        "pvc_name=shared, volume_mount_path=/mnt/shared,junk",
        base64.b64encode(json.dumps(PVC_PARAMS).encode()).decode(),
    ],
    ids=["map", "pairs", "base64-json"],
)
def test_auto_mount_pvc_params_in_every_form(params: object) -> None:
    spec = pod_spec_of(
        load_all(output(render(dump_all(deployment("w", ROLE)), _auto("pvc", params))))[0]
    )
    assert spec["volumes"][-1] == {
        "name": "pipeline",
        "persistentVolumeClaim": {"claimName": "shared"},
    }
    assert {"name": "pipeline", "mountPath": "/mnt/shared"} in spec["containers"][0]["volumeMounts"]


def test_auto_mount_auto_picks_pvc_or_host_path_or_nothing() -> None:
    def volumes(config: dict[str, Any]) -> list[str]:
        spec = pod_spec_of(load_all(output(render(dump_all(deployment("w", ROLE)), config)))[0])
        return [v["name"] for v in spec["volumes"]]

    assert volumes(_auto("auto", {"pvc_name": "p"})) == ["a", "out", "pipeline"]
    assert volumes(_auto("auto", {"host_path": "/srv/p"})) == ["a", "out", "pipeline"]
    assert volumes(_auto("auto", {})) == ["a", "out"]
    assert volumes(_auto("none", {"pvc_name": "p"})) == ["a", "out"]
    assert volumes(_auto("hostPath", "host_path=/srv/x,volume_name=x")) == ["a", "out", "x"]


def test_auto_mount_opt_outs() -> None:
    config = _auto("pvc", {"pvc_name": "p"})
    opted = deployment("w", ROLE)
    opted["metadata"]["annotations"] = {"stowage.io/auto-mount": "false"}
    explicit = deployment("x", ROLE)
    explicit["metadata"]["annotations"] = {"stowage.io/data-refs": "a"}
    docs = load_all(output(render(dump_all(opted, explicit), config)))
    for doc in docs:
        assert "pipeline" not in [v["name"] for v in pod_spec_of(doc)["volumes"]]
    config["targets"]["dask"]["autoMount"] = False
    spec = pod_spec_of(load_all(output(render(dump_all(deployment("w", ROLE)), config)))[0])
    assert "pipeline" not in [v["name"] for v in spec["volumes"]]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (base64.b64encode(b"not json at all").decode(), "base64-encoded JSON"),
        (base64.b64encode(b"[1, 2]").decode(), "decode to an object"),
        ({"pvc_name": "p", "bogus": "1"}, "unknown key"),
        ({"volume_mount_path": "/x"}, "needs the 'pvc_name'"),
        ({"pvc_name": "p", "volume_name": "pvc_volume"}, "not a valid volume name"),
    ],
)
def test_bad_auto_mount_params_are_usage_errors(params: object, expected: str) -> None:
    with pytest.raises(UsageError, match=expected) as caught:
        render(dump_all(deployment("w", ROLE)), _auto("pvc", params))
    assert caught.value.where == "test-config"  # names the config file they came from


def test_existing_claim_declared_modes_are_only_for_existing_claims() -> None:
    config = simple_config()
    config["persistence"]["data"]["b"] = {**DATA_CLAIM, "existingClaim": None, "hostPath": "/h"}
    with pytest.raises(UsageError, match="accessModes is only declared for an existingClaim"):
        render(dump_all(deployment("w", ROLE)), config)


def test_a_plan_volume_whose_name_the_pod_uses_for_another_source_is_a_conflict() -> None:
    doc = deployment("w", ROLE)
    pod_spec_of(doc)["volumes"] = [{"name": "a", "emptyDir": {}}]
    outcome = render(dump_all(doc), simple_config())
    (conflict,) = [f for f in outcome.findings if f.rule == "SW801"]
    assert conflict.message.startswith(
        "Deployment/w: volumes[a] is 'emptyDir' in the chart, the plan wants 'claim"
    )
    assert "volumes[a]" in conflict.fix
    env = pod_spec_of(load_all(output(outcome))[0])["containers"][0].get("env", [])
    paths = [e for e in env if e["name"] == "STOWAGE_DATA_PATHS"]
    assert paths == []  # the data-paths env does not point at the volume it did not mount


def test_shared_by_all_nodes_is_only_for_a_host_path() -> None:
    config = simple_config()
    config["persistence"]["data"]["b"] = {**DATA_CLAIM, "sharedByAllNodes": True}
    with pytest.raises(UsageError, match="sharedByAllNodes is only declared for a hostPath"):
        render(dump_all(deployment("w", ROLE)), config)


# An Owl pipeline fragment: its launcher reads `extraEnv` as name/value pairs, before it
# fills in the run's variables.
OWL_FRAGMENT = """\
pipeline:
  extraEnv:
    - name: OWN
      value: ${HOME}/x
  volumeMounts:
    - name: owl-config
      mountPath: /etc/owl
  volumes:
    - name: owl-config
      configMap:
        name: owl-owl-config
"""
DATA_TRAINING = {"training": {"mountPath": "/data/t", "existingClaim": "training"}}
PER_USER = {
    "home": {"mountPath": "/home/${USER}", "hostPath": "/storage/${USER}"},
    "scratch": {"mountPath": "/scratch/${USER}", "hostPath": "/scratch/${USER}"},
}
S3_DATA = {"s3data": {"store": "s3", "bucket": "s3://bkt", "secret": "creds", "secretKey": "k"}}


def _owl_fragment(
    data: dict[str, Any], fragment: str = OWL_FRAGMENT, **extra: Any
) -> tuple[Any, dict[str, Any]]:
    """The Owl pipeline fragment's placement and the pipeline as the ConfigMap holds it."""
    config = {
        "persistence": {"data": data},
        "targets": {"pipeline": {}},
        "templates": [{"preset": "owl", "configMap": {"name": "owl-owl-config"}}],
        **extra,
    }
    configmap = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "owl-owl-config"},
        "data": {"owl.yaml": fragment},
    }
    outcome = render(dump_all(configmap), config)
    (placement,) = outcome.placements
    owl = load_all(output(outcome))[0]["data"]["owl.yaml"]
    return placement, load_all(owl)[0]["pipeline"]


def test_a_fragment_gets_only_the_env_values_its_launcher_can_use() -> None:
    placement, pipeline = _owl_fragment(
        {**DATA_TRAINING, **PER_USER, **S3_DATA},
        nodeSelector={"pipeline": {"pool": "gpu"}},
        tolerations={"pipeline": [{"key": "gpu", "operator": "Exists"}]},
    )
    # the chart's own entry as written; the data paths without the per-user one (Owl would
    # fill in the previous run's user); no Secret reference (extraEnv takes values only)
    assert pipeline["extraEnv"] == [
        {"name": "OWN", "value": "${HOME}/x"},
        {"name": "STOWAGE_DATA_PATHS", "value": '{"s3data":"s3://bkt","training":"/data/t"}'},
    ]
    assert placement.notes == [
        "keeps ${USER} for the launcher to fill at run time",
        "left out STOWAGE_STORE_S3DATA: it is read from a Secret, and the fragment's "
        "extraEnv takes only values",
        "left out of STOWAGE_DATA_PATHS: home, scratch (Owl reads extraEnv before it fills in the "
        "run's variables)",
    ]
    # what `stowage plan` reports is what the fragment holds
    assert placement.env == [pipeline["extraEnv"][1]]
    assert {v.volume: v.env for v in placement.volumes}["s3data"] == []
    assert (placement.node_selector, placement.tolerations) == ({}, [])


def test_a_fragment_whose_data_paths_all_wait_for_the_run_gets_no_data_paths_env() -> None:
    placement, pipeline = _owl_fragment(dict(PER_USER))
    assert pipeline["extraEnv"] == [{"name": "OWN", "value": "${HOME}/x"}]
    assert placement.env == []
    assert placement.notes[-1].startswith("left out of STOWAGE_DATA_PATHS: home, scratch (")
    _, shared_only = _owl_fragment(dict(DATA_TRAINING))
    assert shared_only["extraEnv"][1:] == [
        {"name": "STOWAGE_DATA_PATHS", "value": '{"training":"/data/t"}'}
    ]


def test_a_fragment_that_sets_the_data_paths_env_itself_keeps_it_and_what_follows() -> None:
    own = "    - name: STOWAGE_DATA_PATHS\n      value: /data\n"
    fragment = OWL_FRAGMENT.replace("  volumeMounts:\n", own + "  volumeMounts:\n", 1)
    _, pipeline = _owl_fragment(dict(DATA_TRAINING), fragment)
    # a merge conflict (SW801): the chart's value stays, as it wrote it
    assert pipeline["extraEnv"] == [
        {"name": "OWN", "value": "${HOME}/x"},
        {"name": "STOWAGE_DATA_PATHS", "value": "/data"},
    ]
    # its own per-user path is left out as the plan's would be; the entries after it stay
    own = '    - name: STOWAGE_DATA_PATHS\n      value: \'{"h":"/home/${USER}","t":"/t"}\'\n'
    fragment = OWL_FRAGMENT.replace("  extraEnv:\n", "  extraEnv:\n" + own, 1)
    _, pipeline = _owl_fragment(dict(DATA_TRAINING), fragment)
    assert pipeline["extraEnv"] == [
        {"name": "STOWAGE_DATA_PATHS", "value": '{"t":"/t"}'},
        {"name": "OWN", "value": "${HOME}/x"},
    ]


def test_a_fragment_notes_that_only_the_pod_security_context_reaches_its_launcher() -> None:
    placement, pipeline = _owl_fragment(dict(DATA_TRAINING), securityContext={"enabled": True})
    assert pipeline["securityContext"]["runAsNonRoot"] is True
    assert placement.notes[1:] == [
        "the fragment has no place for the container securityContext (only the pod's)"
    ]


def test_the_plan_says_why_a_workload_was_not_auto_mounted() -> None:
    def skipped(annotations: dict[str, str], auto_mount: bool = True) -> list[dict[str, str]]:
        config = _auto("pvc", {"pvc_name": "p"})
        config["targets"]["dask"]["autoMount"] = auto_mount
        doc = deployment("w", ROLE)
        doc["metadata"]["annotations"] = annotations
        (placement,) = render(dump_all(doc), config).placements
        return placement.skipped

    assert skipped({}, auto_mount=False) == [
        {"volume": "pipeline", "reason": "auto-mount: target dask has autoMount false"}
    ]
    assert skipped({"stowage.io/auto-mount": "False"}) == [
        {
            "volume": "pipeline",
            "reason": "auto-mount: the workload opts out (annotation stowage.io/auto-mount)",
        }
    ]
    assert skipped({"stowage.io/data-refs": "a"}) == [
        {
            "volume": "pipeline",
            "reason": "auto-mount: the workload chose its own data (annotation "
            "stowage.io/data-refs)",
        }
    ]
    assert skipped({"stowage.io/auto-mount": "true"}) == []


def test_each_placement_reads_as_docs_plan_schema_describes_it() -> None:
    """`stowage plan --format json` and the JSON report carry these objects."""
    from pathlib import Path

    from jsonschema import Draft202012Validator

    schema = json.loads((Path(__file__).parents[1] / "docs" / "plan.schema.json").read_text())
    placement_schema = {"$defs": schema["$defs"], "$ref": "#/$defs/placement"}
    config = simple_config(
        nodeSelector={"dask": {"pool": "gpu"}},
        securityContext={"enabled": True},
    )
    config["persistence"]["data"].update(S3_DATA)
    config["persistence"]["data"]["a"]["subPath"] = "team"
    (placement,) = render(dump_all(deployment("w", ROLE)), config).placements
    document = placement.as_json()
    Draft202012Validator(placement_schema).validate(document)
    assert document["volumes"][0] == {
        "volume": "a",
        "purpose": "data",
        "source": {"kind": "claim", "ref": "data-a"},
        "mountPath": "/data/a",
        "readOnly": False,
        "subPath": "team",
        "env": [],
    }
    assert document["volumes"][1]["env"] == ["STOWAGE_STORE_S3DATA"]
    assert {k: document[k] for k in ("workload", "kind", "namespace", "name", "role")} == {
        "workload": "Deployment/w",
        "kind": "Deployment",
        "namespace": "",
        "name": "w",
        "role": "dask",
    }
    assert document["pool"] == "dask"
    assert document["nodeSelector"] == {"pool": "gpu"}
    assert document["securityContext"]["runAsNonRoot"] is True
    assert document["reason"] == "matchLabels stowage.io/role=dask"


def _placement_text(outcome: Any) -> list[str]:
    """`stowage plan`'s lines for the placements, without the concurrency section."""
    from stowage.views.report import plan_text

    text = plan_text(outcome)
    return text[: text.index("who runs at once:")].splitlines()


def test_the_plan_shows_each_source_env_and_skipped_ref_as_the_pod_gets_them() -> None:
    toleration = {"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}
    config = simple_config(
        nodeSelector={"dask": {"pool": "gpu"}},
        tolerations={"dask": [toleration]},
        affinity={
            "dask": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": []}}
        },
    )
    data = config["persistence"]["data"]
    data["a"]["readOnly"] = True
    data["raw"] = {"store": "s3", "bucket": "s3://b", "secret": "creds", "secretKey": "aws"}
    data["keys"] = {
        "mountPath": "/keys",
        **{"store": "gcs", "bucket": "gs://k", "secret": "gk", "secretKey": "k"},
    }
    doc = deployment("w", ROLE)
    doc["metadata"]["annotations"] = {"stowage.io/data-refs": "a,raw,keys,nope"}
    assert _placement_text(render(dump_all(doc), config)) == [
        "Deployment/w  [role dask, pool dask]",
        "  why: matchLabels stowage.io/role=dask; dataRefs from annotation stowage.io/data-refs",
        "  mount: /data/a (ro) <- claim data-a [data a]",
        "  store: s3://b <- env STOWAGE_STORE_RAW [data raw]",
        "  store: gs://k <- credentials at /keys (ro), env STOWAGE_STORE_KEYS [data keys]",
        "  mount: /outputs (rw) <- nfs nfs:/o [outputs out]",
        "  skipped: nope: no data volume of that name in the plan (rule SW503)",
        "  env: STOWAGE_STORE_RAW from secret creds key aws",
        "  env: STOWAGE_STORE_KEYS from secret gk key k",
        '  env: STOWAGE_DATA_PATHS={"a":"/data/a","keys":"gs://k","raw":"s3://b"}',
        "  scheduling: nodeSelector pool=gpu",
        "  scheduling: toleration gpu exists:NoSchedule",
        "  scheduling: affinity nodeAffinity",
    ]


def test_the_plan_says_which_labels_and_refs_chose_each_workload() -> None:
    config = _auto("pvc", {"pvc_name": "p"})
    config["targets"]["dask"] = {"matchLabels": {**ROLE, "team": "ml"}, "dataRefs": ["a"]}
    labels = {**ROLE, "team": "ml"}
    annotated = deployment("x", labels)
    annotated["metadata"]["annotations"] = {"stowage.io/data-refs": "a"}
    outcome = render(dump_all(deployment("w", labels), annotated), config)
    assert [p.reason for p in outcome.placements] == [
        "matchLabels stowage.io/role=dask, team=ml; dataRefs of target dask; auto-mount",
        "matchLabels stowage.io/role=dask, team=ml; dataRefs from annotation stowage.io/data-refs",
    ]
    (kept,) = render(dump_all(_with_own_volume_a()), simple_config()).placements
    assert kept.skipped == [
        {"volume": "a", "reason": "kept the workload's own volume 'a'; stowage's is not mounted"}
    ]


def _with_own_volume_a() -> dict[str, Any]:
    doc = deployment("w", ROLE)
    pod_spec_of(doc)["volumes"] = [{"name": "a", "emptyDir": {}}]
    return doc


def test_each_merge_conflict_names_the_container_field_and_both_values() -> None:
    config = simple_config(
        affinity={
            "dask": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": []}}
        },
        securityContext={"enabled": True, "user": 2000},
    )
    data = config["persistence"]["data"]
    data["a"]["readOnly"] = True
    data["b"] = {"mountPath": "/data/b", "hostPath": "/srv/b"}
    data["c"] = {"mountPath": "/data/c", "hostPath": "/srv/c"}
    doc = deployment("w", ROLE)
    spec = pod_spec_of(doc)
    spec["securityContext"] = {"runAsUser": 0}
    spec["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {}}}
    spec["containers"][0].update(
        securityContext={"allowPrivilegeEscalation": True},
        volumeMounts=[
            {"name": "a", "mountPath": "/data/a"},
            {"name": "b", "mountPath": "/data/b", "readOnly": True},
            {"name": "scratch", "mountPath": "/data/c"},
        ],
        env=[{"name": "STOWAGE_DATA_PATHS", "value": "{}"}],
    )
    from_config_map = {"configMapKeyRef": {"name": "paths", "key": "json"}}
    spec["containers"].append(
        {
            "name": "side",
            "image": "x",
            "env": [{"name": "STOWAGE_DATA_PATHS", "valueFrom": from_config_map}],
        }
    )
    outcome = render(dump_all(doc), config)
    paths = '\'{"a":"/data/a","b":"/data/b","c":"/data/c"}\''
    assert [f.message for f in outcome.findings if f.rule == "SW801"] == [
        "Deployment/w: affinity.nodeAffinity is {'requiredDuringSchedulingIgnoredDuringExecution':"
        " {}} in the chart, the plan wants {'preferredDuringSchedulingIgnoredDuringExecution': []};"
        " kept the chart's value",
        f"Deployment/w: containers[c0].env[STOWAGE_DATA_PATHS] is '{{}}' in the chart, the plan "
        f"wants {paths}; kept the chart's value",
        "Deployment/w: containers[c0].securityContext.allowPrivilegeEscalation is True in the "
        "chart, the plan wants False; kept the chart's value",
        "Deployment/w: containers[c0].volumeMounts[/data/a].readOnly is False in the chart, the "
        "plan wants True; kept the chart's value",
        "Deployment/w: containers[c0].volumeMounts[/data/b].readOnly is True in the chart, the "
        "plan wants False; kept the chart's value",
        "Deployment/w: containers[c0].volumeMounts[/data/c] is 'scratch' in the chart, the plan "
        "wants 'c'; kept the chart's value",
        f"Deployment/w: containers[side].env[STOWAGE_DATA_PATHS] is {from_config_map!r} in the "
        f"chart, the plan wants {paths}; kept the chart's value",
        "Deployment/w: securityContext.runAsUser is 0 in the chart, the plan wants 2000; kept the "
        "chart's value",
    ]


def test_init_containers_are_always_restricted_and_get_the_data_paths_env_by_option() -> None:
    config = simple_config(securityContext={"enabled": True}, vars={"TEAM": "ml"})
    doc = deployment("w", ROLE)
    spec = pod_spec_of(doc)
    spec["volumes"] = [{"name": "scratch", "hostPath": {"path": "/scratch/${TEAM}"}}]
    scratch = {"name": "scratch", "mountPath": "/scratch/${TEAM}"}
    spec["initContainers"] = [{"name": "fetch", "image": "busybox", "volumeMounts": [scratch]}]
    restricted = {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}
    (init,) = pod_spec_of(load_all(output(render(dump_all(doc), config)))[0])["initContainers"]
    # the chart's own mount has its ${TEAM} filled in like the chart's own volume
    assert init["volumeMounts"] == [{"name": "scratch", "mountPath": "/scratch/ml"}]
    assert init["securityContext"] == restricted
    assert "env" not in init
    config["targets"]["dask"]["initContainers"] = True
    (init,) = pod_spec_of(load_all(output(render(dump_all(doc), config)))[0])["initContainers"]
    assert init["env"] == [{"name": "STOWAGE_DATA_PATHS", "value": '{"a":"/data/a"}'}]
    assert [m["mountPath"] for m in init["volumeMounts"]] == ["/scratch/ml", "/data/a", "/outputs"]
