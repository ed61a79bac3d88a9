"""SW2xx-SW8xx: each rule's bad case and the look-alike that must pass."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from checkhelpers import context, findings, pod, pvc, workload
from stowage.checks import Conflict, rule_modules
from stowage.checks.docs import DOCS_FILE, explain, render_markdown
from stowage.findings import ResourceRef, Severity

DATA_HOST = {"persistence": {"data": {"data": {"mountPath": "/data", "hostPath": "/srv/data"}}}}


def host_workload(path: str, name: str = "w", volume: str = "data", **extra: Any) -> dict[str, Any]:
    spec = pod(
        [{"name": volume, "hostPath": {"path": path}}],
        [{"name": volume, "mountPath": "/data"}],
        **extra,
    )
    return workload(name, spec=spec)


def test_sw201_host_path_data_in_multi_node_cluster_warns() -> None:
    (finding,) = findings(
        context(host_workload("/srv/data"), config=DATA_HOST, targeted=("w",)), "SW201"
    )
    assert finding.severity is Severity.WARNING
    assert "single-node only" in finding.message
    single = {**DATA_HOST, "cluster": {"singleNode": True}}
    assert not findings(
        context(host_workload("/srv/data"), config=single, targeted=("w",)), "SW201"
    )
    pinned = host_workload("/srv/data", nodeName="n1")
    assert not findings(context(pinned, config=DATA_HOST, targeted=("w",)), "SW201")
    assert not findings(context(host_workload("/srv/data"), config=DATA_HOST), "SW201")


def test_sw201_trusts_a_host_path_every_node_shares() -> None:
    shared = {"mountPath": "/data", "hostPath": "/srv/data", "sharedByAllNodes": True}
    config = {"persistence": {"data": {"data": shared}}}
    assert not findings(
        context(host_workload("/srv/data"), config=config, targeted=("w",)), "SW201"
    )
    (finding,) = findings(
        context(host_workload("/srv/data"), config=DATA_HOST, targeted=("w",)), "SW201"
    )
    assert "sharedByAllNodes: true" in finding.fix


def test_sw201_covers_the_auto_mount_volume_by_its_configured_name() -> None:
    auto = {"autoMount": {"type": "hostPath", "params": "host_path=/srv/p,volume_name=scratch"}}
    scratch = host_workload("/srv/p", volume="scratch")
    (finding,) = findings(context(scratch, config=auto, targeted=("w",)), "SW201")
    assert "volume 'scratch' is hostPath /srv/p" in finding.message
    # A workload's own hostPath volume is not stowage's: no auto-mount, no finding.
    own = host_workload("/srv/p", volume="pipeline")
    assert not findings(context(own, targeted=("w",)), "SW201")


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/etc",
        "/etc/",
        "//etc/kubernetes",
        "/srv/../etc",
        "/proc/1",
        "/var/run/docker.sock",
        "/run/containerd/containerd.sock",
        "/var/lib/kubelet/pods",
        "/root",
        "/dev",
        "/boot",
    ],
)
def test_sw202_sensitive_host_paths_are_errors_anywhere(path: str) -> None:
    (finding,) = findings(context(host_workload(path)), "SW202")
    assert finding.severity is Severity.ERROR
    assert path in finding.message
    assert "hostPathAllow" in finding.fix


# "/Xetc": a sensitive name with a letter before it is another directory
@pytest.mark.parametrize("path", ["/srv/data", "/data/etc", "/etcetera", "/var/lib/data", "/Xetc"])
def test_sw202_ordinary_paths_pass(path: str) -> None:
    assert not findings(context(host_workload(path)), "SW202")


def test_sw202_allow_list_exact_and_prefix() -> None:
    allow = {"hostPathAllow": ["/var/lib/kubelet/plugins"]}
    assert not findings(context(host_workload("/var/lib/kubelet/plugins/x"), config=allow), "SW202")
    assert findings(context(host_workload("/var/lib/kubelet/pods"), config=allow), "SW202")
    # an allowed directory does not open its parent; allowing / allows every path
    subdir = {"hostPathAllow": ["/etc/X"]}
    assert not findings(context(host_workload("/etc/X/conf"), config=subdir), "SW202")
    assert findings(context(host_workload("/etc/passwd"), config=subdir), "SW202")
    assert not findings(context(host_workload("/etc"), config={"hostPathAllow": ["/"]}), "SW202")


def test_sw202_persistent_volume_host_path() -> None:
    nfs = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": "exports"},
        "spec": {"nfs": {"server": "s", "path": "/etc"}, "capacity": {"storage": "1Gi"}},
    }
    pv = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": "node-etc"},
        "spec": {
            "hostPath": {"path": "/etc"},
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
        },
    }
    (finding,) = findings(context(nfs, pv), "SW202")  # an NFS path is the server's
    assert "PersistentVolume/node-etc" in finding.message


def test_sw301_two_mounts_at_one_path() -> None:
    volumes = [{"name": "a", "emptyDir": {}}, {"name": "b", "emptyDir": {}}]
    same = pod(volumes, [{"name": "a", "mountPath": "/x"}, {"name": "b", "mountPath": "/x"}])
    (finding,) = findings(context(workload("w", spec=same)), "SW301")
    assert "'a'" in finding.message
    assert "'b'" in finding.message
    apart = pod(volumes, [{"name": "a", "mountPath": "/x"}, {"name": "b", "mountPath": "/y"}])
    assert not findings(context(workload("w", spec=apart)), "SW301")
    one_volume_two_paths = pod(
        volumes, [{"name": "a", "mountPath": "/x"}, {"name": "a", "mountPath": "/y"}]
    )
    assert not findings(context(workload("w", spec=one_volume_two_paths)), "SW301")


def test_sw302_volume_defined_twice() -> None:
    differ = pod([{"name": "a", "emptyDir": {}}, {"name": "a", "hostPath": {"path": "/x"}}])
    (finding,) = findings(context(workload("w", spec=differ)), "SW302")
    assert finding.message == "Deployment/w defines volume 'a' with different sources"
    assert finding.fix == "rename one of the volumes (and its mounts) or remove one of them"
    same = pod([{"name": "a", "emptyDir": {}}, {"name": "a", "emptyDir": {}}])
    (twice,) = findings(context(workload("w", spec=same)), "SW302")
    assert twice.message == "Deployment/w defines volume 'a' twice, identically"
    unique = pod([{"name": "a", "emptyDir": {}}, {"name": "b", "emptyDir": {}}])
    assert not findings(context(workload("w", spec=unique)), "SW302")


def test_sw303_mount_nested_in_a_stowage_volume_warns() -> None:
    volumes = [{"name": "data", "hostPath": {"path": "/srv/data"}}, {"name": "tmp", "emptyDir": {}}]
    nested = pod(
        volumes, [{"name": "data", "mountPath": "/data"}, {"name": "tmp", "mountPath": "/data/tmp"}]
    )
    (finding,) = findings(context(workload("w", spec=nested), config=DATA_HOST), "SW303")
    assert finding.severity is Severity.WARNING
    beside = pod(
        volumes, [{"name": "data", "mountPath": "/data"}, {"name": "tmp", "mountPath": "/data-tmp"}]
    )
    assert not findings(context(workload("w", spec=beside), config=DATA_HOST), "SW303")


def test_sw304_owl_docs_mount_naming_no_volume() -> None:
    owl = pod(
        [{"name": "nfs-storage", "persistentVolumeClaim": {"claimName": "nfs-storage-joe"}}],
        [{"name": "user-storage", "mountPath": "/storage/joe"}],
    )
    (finding,) = findings(context(workload("w", spec=owl)), "SW304")
    assert "'user-storage'" in finding.message
    assert "nfs-storage" in finding.message
    fixed = pod(
        [{"name": "user-storage", "emptyDir": {}}],
        [{"name": "user-storage", "mountPath": "/storage/joe"}],
    )
    assert not findings(context(workload("w", spec=fixed)), "SW304")


def test_sw304_statefulset_claim_templates_count_as_volumes() -> None:
    sts = workload("s", kind="StatefulSet", spec=pod(mounts=[{"name": "data", "mountPath": "/d"}]))
    sts["spec"]["volumeClaimTemplates"] = [pvc("data", "ReadWriteOnce")]
    assert not findings(context(sts), "SW304")


OUTPUTS = {"persistence": {"outputs": {"out": {"mountPath": "/outputs", "hostPath": "/srv/o"}}}}


def test_sw305_outputs_mounted_read_only() -> None:
    volumes = [{"name": "out", "hostPath": {"path": "/srv/o"}}]
    ro = pod(volumes, [{"name": "out", "mountPath": "/outputs", "readOnly": True}])
    (finding,) = findings(context(workload("w", spec=ro), config=OUTPUTS), "SW305")
    assert "read-only" in finding.message
    rw = pod(volumes, [{"name": "out", "mountPath": "/outputs"}])
    assert not findings(context(workload("w", spec=rw), config=OUTPUTS), "SW305")


def _user_storage(name: str = "w", labels: dict[str, str] | None = None) -> dict[str, Any]:
    spec = pod(
        [{"name": "u", "hostPath": {"path": "/storage/${USER}"}}],
        [{"name": "u", "mountPath": "/storage/${USER}"}],
    )
    return workload(name, spec=spec, labels=labels)


def test_sw401_undefined_variable_in_a_targeted_workload() -> None:
    (finding,) = findings(context(_user_storage(), targeted=("w",)), "SW401")
    assert "${USER}" in finding.message
    assert "empty string" in finding.message
    assert "--var USER=" in finding.fix
    assert not findings(context(_user_storage()), "SW401")  # not targeted: not ours
    labelled = _user_storage(labels={"app": "w", "stowage.io/user": "joe"})
    assert not findings(context(labelled, targeted=("w",)), "SW401")


def test_sw401_unsafe_value() -> None:
    ctx = context(_user_storage(), targeted=("w",), variables={"USER": "../root"})
    (finding,) = findings(ctx, "SW401")
    assert "unsafe value '../root'" in finding.message


def _store(**fields: Any) -> dict[str, Any]:
    spec = {"store": "s3", "bucket": "s3://b", **fields}
    return {"persistence": {"data": {"raw": spec}}}


def test_sw501_store_without_secret_or_key() -> None:
    (finding,) = findings(context(config=_store(secret="s")), "SW501")
    assert finding.message == "persistence.data.raw (s3 store s3://b) has no secretKey"
    assert finding.fix == "set secretKey: the Secret and key holding the s3 credentials"
    results = {"store": "s3", "bucket": "s3://o", "mountPath": "/o"}
    outputs = {"persistence": {"outputs": {"results": results}}}
    (output,) = findings(context(config=outputs), "SW501")
    assert output.message == (
        "persistence.outputs.results (s3 store s3://o) has no secret and no secretKey"
    )
    assert not findings(context(config=_store(secret="s", secretKey="k")), "SW501")


def test_sw502_store_secret_not_in_the_release_warns_unless_external() -> None:
    (finding,) = findings(context(config=_store(secret="creds", secretKey="k")), "SW502")
    assert finding.severity is Severity.WARNING
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "creds"},
        "stringData": {"k": "v"},
    }
    assert not findings(context(secret, config=_store(secret="creds", secretKey="k")), "SW502")
    external = _store(secret="creds", secretKey="k", secretExternal=True)
    assert not findings(context(config=external), "SW502")


def test_sw503_data_refs_to_missing_volumes() -> None:
    config = {**DATA_HOST, "targets": {"dask": {"matchLabels": {"a": "b"}, "dataRefs": ["nope"]}}}
    (finding,) = findings(context(config=config), "SW503")
    assert "'nope' was defined in specification, but was not found" in finding.message
    assert "defined: data" in finding.message
    annotated = workload("w")
    annotated["metadata"]["annotations"] = {"stowage.io/data-refs": "data, ghost"}
    (finding,) = findings(context(annotated, config=DATA_HOST, targeted=("w",)), "SW503")
    assert "'ghost'" in finding.message
    ok = {**DATA_HOST, "targets": {"dask": {"matchLabels": {"a": "b"}, "dataRefs": ["data"]}}}
    assert not findings(context(config=ok), "SW503")


def test_sw504_more_than_one_outputs_store() -> None:
    two = {
        "persistence": {
            "outputs": {
                "a": {"mountPath": "/a", "hostPath": "/a"},
                "b": {"mountPath": "/b", "hostPath": "/b"},
            }
        }
    }
    (finding,) = findings(context(config=two), "SW504")
    assert "a, b" in finding.message
    assert not findings(context(config=OUTPUTS), "SW504")


def _state(claim_modes: tuple[str, ...], nfs: bool = False) -> list[dict[str, Any]]:
    claim = pvc("state", *claim_modes)
    docs: list[dict[str, Any]] = [claim]
    if nfs:
        claim["spec"]["volumeName"] = "nfs-pv"
        docs.append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {"name": "nfs-pv"},
                "spec": {
                    "nfs": {"server": "s", "path": "/p"},
                    "accessModes": list(claim_modes),
                    "capacity": {"storage": "1Gi"},
                },
            }
        )
    spec = pod(
        [{"name": "state", "persistentVolumeClaim": {"claimName": "state"}}],
        [{"name": "state", "mountPath": "/var/run/stowage"}],
    )
    docs.append(workload("scheduler", spec=spec))
    return docs


STATE = {"stateMountPath": "/var/run/stowage"}


def test_sw601_sqlite_state_on_nfs_or_rwx_warns() -> None:
    (finding,) = findings(context(*_state(("ReadWriteMany",)), config=STATE), "SW601")
    assert "SQLite" in finding.message
    assert findings(context(*_state(("ReadWriteOnce",), nfs=True), config=STATE), "SW601")
    assert not findings(context(*_state(("ReadWriteOnce",)), config=STATE), "SW601")


def test_sw601_names_where_the_state_sits() -> None:
    volumes = [
        {"name": "tmp", "emptyDir": {}},
        {"name": "state", "nfs": {"server": "s", "path": "/p"}},
    ]
    nfs = pod(volumes, [{"name": "state", "mountPath": "/var/run/stowage"}])
    (inline,) = findings(context(workload("scheduler", spec=nfs), config=STATE), "SW601")
    assert inline.message == (
        "Deployment/scheduler keeps its SQLite state at /var/run/stowage on an nfs volume: "
        "SQLite locking over NFS corrupts databases"
    )
    assert inline.fix == (
        "put the state on a ReadWriteOnce block volume (persistence.scheduler) with strategy "
        "Recreate"
    )
    # a claim the plan declares ReadWriteMany, not rendered in the stream
    declared = {
        **STATE,
        "persistence": {
            "data": {
                "state": {
                    "mountPath": "/d",
                    "existingClaim": "state",
                    "accessModes": ["ReadWriteMany"],
                }
            }
        },
    }
    *_, scheduler = _state(())
    (planned,) = findings(context(scheduler, config=declared), "SW601")
    assert "at /var/run/stowage on ReadWriteMany claim 'state': SQLite" in planned.message


def test_sw601_reads_the_claim_of_the_schedulers_namespace() -> None:
    """Claim 'state' is on NFS (ReadWriteMany) in another namespace, ReadWriteOnce in ml."""
    elsewhere, volume, scheduler = _state(("ReadWriteMany",), nfs=True)
    elsewhere["metadata"]["namespace"] = "other"
    local = pvc("state", "ReadWriteOnce")
    local["metadata"]["namespace"] = "ml"
    scheduler["metadata"]["namespace"] = "ml"
    assert not findings(context(elsewhere, volume, local, scheduler, config=STATE), "SW601")
    scheduler["metadata"]["namespace"] = "other"
    (finding,) = findings(context(elsewhere, volume, local, scheduler, config=STATE), "SW601")
    assert "on claim 'state', bound to an NFS PersistentVolume: SQLite" in finding.message


SECURE = {"securityContext": {"enabled": True}}


def test_sw701_targeted_pod_running_as_root() -> None:
    root = workload("w", spec=pod(securityContext={"runAsUser": 0, "runAsNonRoot": True}))
    (finding,) = findings(context(root, config=SECURE, targeted=("w",)), "SW701")
    assert "runAsUser 0" in finding.message
    unset = workload("w", spec=pod())
    assert findings(context(unset, config=SECURE, targeted=("w",)), "SW701")
    fine = workload("w", spec=pod(securityContext={"runAsUser": 1000, "runAsNonRoot": True}))
    assert not findings(context(fine, config=SECURE, targeted=("w",)), "SW701")
    assert not findings(context(unset, targeted=("w",)), "SW701")  # plan does not ask


def _nfs_pod(sc: dict[str, Any]) -> dict[str, Any]:
    return pod(
        [{"name": "n", "nfs": {"server": "s", "path": "/e"}}],
        [{"name": "n", "mountPath": "/n"}],
        securityContext=sc,
    )


def test_sw702_fs_group_on_host_path_and_nfs_warns_with_ids() -> None:
    spec = _nfs_pod({"runAsUser": 1000, "fsGroup": 2000})
    (finding,) = findings(
        context(workload("w", spec=spec), config=SECURE, targeted=("w",)), "SW702"
    )
    assert "fsGroup 2000" in finding.message
    assert "uid 1000 / gid 2000" in finding.fix
    block = pod(
        [{"name": "c", "persistentVolumeClaim": {"claimName": "c"}}],
        [{"name": "c", "mountPath": "/c"}],
        securityContext={"runAsUser": 1000, "fsGroup": 2000},
    )
    assert not findings(
        context(
            pvc("c", "ReadWriteOnce"), workload("w", spec=block), config=SECURE, targeted=("w",)
        ),
        "SW702",
    )


def test_sw702_respects_security_context_disabled() -> None:
    spec = _nfs_pod({"runAsUser": 1000, "fsGroup": 2000})
    assert not findings(context(workload("w", spec=spec), targeted=("w",)), "SW702")


def test_sw702_says_only_the_known_ids_once_per_volume() -> None:
    no_uid = workload("a", spec=_nfs_pod({"fsGroup": 2000}))
    (finding,) = findings(context(no_uid, config=SECURE, targeted=("a",)), "SW702")
    assert "?" not in finding.fix
    assert "uid" not in finding.fix
    assert "gid 2000" in finding.fix
    with_uid = workload("b", spec=_nfs_pod({"runAsUser": 1000, "fsGroup": 2000}))
    (shared,) = findings(context(no_uid, with_uid, config=SECURE, targeted=("a", "b")), "SW702")
    assert "Deployment/a" in shared.message and "Deployment/b" in shared.message
    assert "gid 2000; uid 1000 / gid 2000" in shared.fix


def test_sw702_takes_the_uid_containers_share() -> None:
    spec = _nfs_pod({"fsGroup": 2000})
    spec["containers"][0]["securityContext"] = {"runAsUser": 1500}
    (finding,) = findings(
        context(workload("w", spec=spec), config=SECURE, targeted=("w",)), "SW702"
    )
    assert "uid 1500 / gid 2000" in finding.fix


def _custom(kind: str, name: str) -> dict[str, Any]:
    meta = {"name": name, "labels": {"team": "ml"}}
    spec = {"template": {"metadata": {"labels": {"team": "ml"}}, "spec": pod()}}
    return {"apiVersion": "example.com/v1", "kind": kind, "metadata": meta, "spec": spec}


def test_sw902_names_only_the_kinds_it_does_not_know() -> None:
    """A Deployment, a kind the config declares and a List are no unknown kinds, in a
    List or not; a Gadget is, whether it is a List's item or a document of its own."""
    declared = {
        "group": "example.com",
        "kind": "TrainJob",
        "podSpecs": [{"path": "spec.template.spec"}],
    }
    config = {"targets": {"ml": {"matchLabels": {"team": "ml"}}}, "kinds": [declared]}
    deployment = workload("w", labels={"team": "ml"})
    items = [workload("lw", labels={"team": "ml"}), _custom("TrainJob", "lt")]
    listed = {"apiVersion": "v1", "kind": "List", "items": [*items, _custom("Gadget", "listed")]}
    docs = (deployment, _custom("TrainJob", "t"), listed, _custom("Gadget", "g"))
    found = findings(context(*docs, config=config), "SW902")
    assert sorted(str(f.resource) for f in found) == ["Gadget/g", "Gadget/listed"]
    (item,) = [f for f in found if f.resource.name == "listed"]
    assert item.message.startswith("Gadget/listed (group 'example.com') is a kind")


def test_sw801_reports_conflicts_with_both_values() -> None:
    conflict = Conflict(
        ResourceRef("Deployment", "", "w"), "Deployment/w", "nodeSelector.pool", "cpu", "gpu"
    )
    (finding,) = findings(context(conflicts=[conflict]), "SW801")
    assert "'cpu'" in finding.message
    assert "'gpu'" in finding.message
    assert not findings(context(), "SW801")


def test_every_rule_is_documented_and_explained() -> None:
    ids = [m.ID for m in rule_modules()]
    assert len(ids) == len(set(ids))
    for module in rule_modules():
        text = explain(module.ID)
        assert text.startswith(f"{module.ID} {module.NAME}")
        assert "How to fix it" in text
        assert explain(module.NAME) == text
    with pytest.raises(LookupError, match="SW101"):
        explain("SW999")


def test_docs_checks_md_is_generated_and_fresh() -> None:
    assert DOCS_FILE.read_text() == render_markdown()


def test_explain_command() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "stowage", "explain", "sw101"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0
    assert "ReadWriteOnce" in proc.stdout
    unknown = subprocess.run(
        [sys.executable, "-m", "stowage", "explain", "nope"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert unknown.returncode == 2
    assert "known rules" in unknown.stderr
