"""The real PV controller binds per-user claims: with per-user-nfs.yaml each user's claim
nfs-storage-<user> binds to that user's PersistentVolume and no other (the chart selects
by the labels `username` and the release), and the pipeline pod Owl runs for a user mounts
that user's claim."""

from __future__ import annotations

from pathlib import Path

import yaml

from e2e.kube import EXAMPLES, ClusterHelm, Kube, values
from e2e.owl import job_pods, launch, owl_objects, token_of
from owl_oracle import requires_owl_oracle

USERS = yaml.safe_load((EXAMPLES / "per-user-nfs.yaml").read_text())["users"]


def test_each_users_claim_binds_to_that_users_volume(
    khelm: ClusterHelm, kube: Kube, namespace: str
) -> None:
    release = f"users{khelm.major}"
    khelm.release("install", release, namespace, *values("per-user-nfs.yaml"))
    assert len(USERS) >= 2
    bound = {}
    for user in USERS:
        claim = kube.bound_claim(namespace, f"nfs-storage-{user}")
        volume = kube.get("pv", claim["spec"]["volumeName"])
        assert volume["metadata"]["labels"]["username"] == user
        assert volume["spec"]["nfs"]["path"] == f"/storage/{user}"
        assert volume["spec"]["claimRef"]["name"] == f"nfs-storage-{user}"
        bound[user] = volume["metadata"]["name"]
    assert bound == {u: f"{namespace}-nfs-storage-{u}" for u in USERS}


@requires_owl_oracle[0]
@requires_owl_oracle[1]
def test_owls_pipeline_pod_for_a_user_mounts_that_users_claim(
    khelm: ClusterHelm, kube: Kube, namespace: str, tmp_path: Path
) -> None:
    release = f"userpod{khelm.major}"
    khelm.release("install", release, namespace, *values("per-user-nfs.yaml"))
    token = token_of(kube, namespace, f"{release}-stowage-owl-token")
    manifest = khelm.manifest(release, namespace)
    for user in USERS[:2]:
        built = owl_objects(
            manifest, user, tmp_path / user, namespace=namespace, token=token, workers=1
        )
        built["pipelineJob"]["metadata"]["name"] = f"pipeline-{user}"
        created = launch(kube, namespace, built)
        (pod,) = job_pods(kube, namespace, created["job"][0]["metadata"]["name"])
        claims = {v["persistentVolumeClaim"]["claimName"] for v in pod["spec"]["volumes"]
                  if "persistentVolumeClaim" in v}  # fmt: skip
        assert f"nfs-storage-{user}" in claims
        assert not {f"nfs-storage-{u}" for u in USERS if u != user} & claims
        kube.bound_claim(namespace, f"nfs-storage-{user}")
