"""The claim index of analysis/claims.py: built once per stream, same answers as a scan."""

from __future__ import annotations

from typing import Any

import yaml

from checkhelpers import pvc
from stowage.checks.claims import ClaimIndex, access_modes, claim_index, is_nfs_claim
from stowage.plan.configdata import Config
from stowage.pods.reading import read
from stowage.read.manifests import Stream
from stowage.read.yamlload import Limits


def volume(name: str, labels: dict[str, str] | None = None, nfs: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = {"accessModes": ["ReadWriteMany"], "capacity": {"storage": "1Gi"}}
    if nfs:
        spec["nfs"] = {"server": "nfs.example.org", "path": f"/{name}"}
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": spec,
    }


def stream_of(*docs: dict[str, Any]) -> Stream:
    limits = Limits()
    stream = read("".join("---\n" + yaml.safe_dump(d) for d in docs), limits)
    stream.read([doc for doc in stream.documents if not doc.parsed])
    return stream


def test_the_index_is_built_once_per_stream_and_shared_by_every_lookup() -> None:
    stream = stream_of(pvc("db", "ReadWriteOnce"))
    first = claim_index(stream)
    access_modes(stream, Config(), "db", "")
    is_nfs_claim(stream, "db", "")
    assert claim_index(stream) is first


def test_the_index_is_rebuilt_when_documents_are_added_or_parsed() -> None:
    stream = stream_of(pvc("db", "ReadWriteOnce"))
    before = claim_index(stream)
    stream.documents.extend(stream_of(pvc("logs", "ReadWriteMany")).documents)
    assert access_modes(stream, Config(), "logs", "").modes == ("ReadWriteMany",)
    assert claim_index(stream) is not before


def test_bound_volume_is_the_first_in_stream_order_by_name_or_selector() -> None:
    by_selector = volume("pv-a", {"tier": "fast"}, nfs=True)
    by_name = volume("pv-b")
    claim = pvc("db", volumeName="pv-b", selector={"matchLabels": {"tier": "fast"}})
    index = ClaimIndex(stream_of(by_selector, by_name, claim))
    assert index.bound_volume(claim["spec"]) == by_selector
    index = ClaimIndex(stream_of(by_name, by_selector, claim))
    assert index.bound_volume(claim["spec"]) == by_name


def test_selector_needs_every_label_and_volume_name_must_match_exactly() -> None:
    partial = volume("pv-a", {"tier": "fast"})
    full = volume("pv-b", {"tier": "fast", "zone": "a"}, nfs=True)
    claim = pvc("db", selector={"matchLabels": {"tier": "fast", "zone": "a"}})
    stream = stream_of(partial, full, claim)
    assert ClaimIndex(stream).bound_volume(claim["spec"]) == full
    assert is_nfs_claim(stream, "db", "")
    assert ClaimIndex(stream).bound_volume({"volumeName": "pv"}) is None


def test_claims_in_another_namespace_are_not_found() -> None:
    claim = pvc("db", "ReadWriteOnce")
    claim["metadata"]["namespace"] = "team-a"
    stream = stream_of(claim)
    assert access_modes(stream, Config(), "db", "team-a").modes == ("ReadWriteOnce",)
    assert access_modes(stream, Config(), "db", "team-b").modes is None
    assert access_modes(stream, Config(), "db", "").modes == ("ReadWriteOnce",)


def test_claims_and_volumes_inside_a_list_are_indexed() -> None:
    claim = pvc("db", volumeName="pv-nfs")
    del claim["spec"]["accessModes"]
    items = [volume("pv-nfs", nfs=True), claim]
    stream = stream_of({"apiVersion": "v1", "kind": "List", "items": items})
    modes = access_modes(stream, Config(), "db", "")
    assert modes.modes == ("ReadWriteMany",)
    assert modes.origin == "per its PersistentVolume"
    assert is_nfs_claim(stream, "db", "")


def test_a_claim_that_names_and_selects_the_same_volume_binds_to_it() -> None:
    both = volume("pv-a", {"tier": "fast"}, nfs=True)
    claim = pvc("db", volumeName="pv-a", selector={"matchLabels": {"tier": "fast"}})
    assert ClaimIndex(stream_of(both, claim)).bound_volume(claim["spec"]) == both


def test_a_selector_no_volume_matches_binds_to_nothing() -> None:
    labelled = volume("pv-a", {"tier": "fast"})
    for selector in ({"tier": "slow"}, {"tier": "fast", "zone": "b"}):
        claim = pvc("db", selector={"matchLabels": selector})
        assert ClaimIndex(stream_of(labelled, claim)).bound_volume(claim["spec"]) is None


def test_an_nfs_claim_is_found_in_its_namespace_only() -> None:
    claim = pvc("db", volumeName="pv-nfs")
    claim["metadata"]["namespace"] = "team-a"
    stream = stream_of(volume("pv-nfs", nfs=True), claim)
    assert is_nfs_claim(stream, "db", "team-a")
    assert not is_nfs_claim(stream, "db", "team-b")


def test_a_claim_bound_to_an_nfs_volume_is_known_to_be_on_nfs() -> None:
    stream = stream_of(volume("pv-nfs", nfs=True), pvc("db", "ReadWriteMany", volumeName="pv-nfs"))
    assert access_modes(stream, Config(), "db", "").nfs
    stream = stream_of(volume("pv-local"), pvc("db", "ReadWriteMany", volumeName="pv-local"))
    assert not access_modes(stream, Config(), "db", "").nfs
