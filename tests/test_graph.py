"""`stowage graph`: the storage map in DOT (Graphviz), Mermaid and SVG, with findings shown."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from enginehelpers import ROLE, TARGET, deployment, dump_all, plan_configmap, pod_spec_of, render
from stowage.engine import Options, run
from stowage.views import graph

SVG = "{http://www.w3.org/2000/svg}"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot not installed")


def _shared_rwo(replicas: int, strategy: str = "Recreate") -> str:
    config = {
        "persistence": {"data": {"db": {"mountPath": "/db", "existingClaim": "db",
                                        "accessModes": ["ReadWriteOnce"]}}},
        "targets": {"dask": {"matchLabels": ROLE}},
    }  # fmt: skip
    worker = deployment("workers", ROLE, replicas=replicas, strategy={"type": strategy})
    return dump_all(plan_configmap(config), worker)


def _graph(text: str, config: dict[str, Any] | None = None, **kw: bool) -> graph.Graph:
    return graph.build(render(text, config), **kw)


def test_rwo_claim_shared_across_nodes_is_red_with_its_rule_on_both_boxes() -> None:
    drawing = graph.build(run(_shared_rwo(3), Options()))
    text = graph.mermaid(drawing)
    assert 's0[("<b>claim db</b><br/><small>ReadWriteOnce</small><br/><small>error: SW101 ' in text
    assert 'w0 -- "/db (rw)" --> s0' in text
    assert "class s0 error" in text
    assert "class w0 error" in text
    assert "3 replicas" in text
    rule = "SW101 A ReadWriteOnce claim mounted by pods that can run on different nodes"
    assert ("error", rule) in drawing.storage[0].findings
    assert ("error", rule) in drawing.workloads[0].findings
    assert any("SW101: " in m for m in drawing.storage[0].messages)  # the full message: tooltip


def test_safe_layout_is_not_highlighted_and_rolling_update_is() -> None:
    text = graph.mermaid(graph.build(run(_shared_rwo(1), Options())))
    assert "class s0 storage" in text
    assert "class w0 workload" in text
    rolling = graph.mermaid(graph.build(run(_shared_rwo(1, "RollingUpdate"), Options())))
    assert "class w0 error" in rolling  # SW103 names the Deployment


def test_a_warning_about_a_volume_colours_its_storage_amber_too() -> None:
    # SW702 names the workloads only and quotes the volume: the NFS box turns amber as well.
    config = {"persistence": {"outputs": {"out": {"mountPath": "/out",
                                                  "nfs": {"server": "nfs", "path": "/o"}}}},
              "targets": TARGET, "securityContext": {"enabled": True}}  # fmt: skip
    drawing = _graph(dump_all(deployment("w", ROLE)), config)
    (nfs,) = drawing.storage
    assert nfs.title == "NFS nfs:/o"
    assert nfs.severity == "warning"
    assert nfs.findings[0][1].startswith("SW702 ")
    assert drawing.workloads[0].severity == "warning"


def test_every_mount_is_its_own_labelled_edge() -> None:
    doc = deployment("w", {"app": "w"})
    spec = pod_spec_of(doc)
    spec["volumes"] = [{"name": "h", "hostPath": {"path": "/srv/h"}},
                       {"name": "n", "nfs": {"server": "s", "path": "/e"}},
                       {"name": "cfg", "configMap": {"name": "c"}}]  # fmt: skip
    spec["containers"][0]["volumeMounts"] = [
        {"name": "h", "mountPath": "/h", "readOnly": True},
        {"name": "h", "mountPath": "/h2"},
        {"name": "n", "mountPath": "/n"},
        {"name": "cfg", "mountPath": "/cfg"},
    ]
    drawing = _graph(dump_all(doc))
    titles = {node.key: node.title for node in drawing.storage}
    edges = {(titles[e.storage], e.label) for e in drawing.edges}
    assert edges == {("hostPath /srv/h", "/h (ro)"), ("hostPath /srv/h", "/h2 (rw)"),
                     ("NFS s:/e", "/n (rw)")}  # fmt: skip
    assert "cfg" not in graph.mermaid(drawing)  # configuration volumes are not storage


def test_mermaid_labels_escape_quotes_hashes_and_markup() -> None:
    doc = deployment("w", {"app": "w"})
    spec = pod_spec_of(doc)
    spec["volumes"] = [{"name": "h", "hostPath": {"path": '/srv/a"b#c<d>'}}]
    spec["containers"][0]["volumeMounts"] = [{"name": "h", "mountPath": "/h"}]
    text = graph.mermaid(_graph(dump_all(doc)))
    assert "<b>hostPath /srv/a#quot;b#35;c&lt;d&gt;</b>" in text
    assert "one node's directory" in text  # an apostrophe needs no escape in a quoted label


def test_cloud_buckets_are_drawn_from_their_credentials_env_and_mount() -> None:
    stores = {
        "gcs": {"store": "gcs", "bucket": "gs://b", "secret": "creds", "secretKey": "k.json",
                "secretExternal": True, "mountPath": "/var/secrets/gcs"},
        "s3": {"store": "s3", "bucket": "s3://d", "secret": "creds", "secretKey": "aws",
               "secretExternal": True},
    }  # fmt: skip
    config = {"persistence": {"data": stores}, "targets": TARGET}
    drawing = _graph(dump_all(deployment("w", ROLE)), config)
    labels = {node.title: node.kind for node in drawing.storage}
    assert labels == {"gcs bucket gs://b": "bucket", "s3 bucket s3://d": "bucket"}
    by_title = {n.key: n.title for n in drawing.storage}
    edges = {by_title[e.storage]: e.label for e in drawing.edges}
    assert edges["s3 bucket s3://d"] == "env STOWAGE_STORE_S3"
    # one edge per workload and bucket: the credentials mount and env share it
    assert (
        edges["gcs bucket gs://b"] == "credentials at /var/secrets/gcs (ro)\nenv STOWAGE_STORE_GCS"
    )


def test_auto_mount_and_per_user_storage_are_marked() -> None:
    config = {"autoMount": {"type": "pvc", "params": "pvc_name=shared,volume_mount_path=/shared"},
              "persistence": {"data": {"home": {"mountPath": "/home/me",
                                                "hostPath": "/home/${USER}"}}},
              "targets": TARGET, "cluster": {"singleNode": True}}  # fmt: skip
    doc = deployment("w", {**ROLE, "stowage.io/user": "ann"})
    drawing = _graph(dump_all(doc), config)
    tags = {node.title: node.tags for node in drawing.storage}
    assert tags["claim shared"] == ["auto-mount"]
    assert tags["hostPath /home/ann"] == ["per-user"]
    assert 'style="filled,dashed"' in graph.dot(drawing)


def test_per_user_claim_names_the_claims_it_stands_for() -> None:
    template = deployment("runs", {"app": "r"})
    pod_spec_of(template)["volumes"] = [
        {"name": "home", "persistentVolumeClaim": {"claimName": "home-${USER}"}}
    ]
    pod_spec_of(template)["containers"][0]["volumeMounts"] = [{"name": "home", "mountPath": "/h"}]
    claims = [{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": n},
               "spec": {"accessModes": ["ReadWriteMany"]}}
              for n in ("home-joe", "home-ann", "other")]  # fmt: skip
    (node,) = _graph(dump_all(template, *claims)).storage
    assert node.detail == "one claim per user: home-ann, home-joe"
    assert node.tags == ["per-user"]


def _hooked() -> str:
    test_pod = {"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "test-x", "annotations": {"helm.sh/hook": "test"}},
                "spec": {"containers": [{"name": "t", "image": "busybox:1.37"}]}}  # fmt: skip
    return dump_all(deployment("w", {"app": "w"}), test_pod)


def test_hooks_and_test_pods_are_left_out_unless_asked() -> None:
    default = _graph(_hooked())
    assert [n.title for n in default.workloads] == ["Deployment/w"]
    assert default.hidden_hooks == ["Pod/test-x"]
    assert "--include-hooks" in graph.dot(default)
    assert "Pod/test-x" in graph.mermaid(default)  # named in a comment, not drawn
    everything = _graph(_hooked(), include_hooks=True)
    assert [n.title for n in everything.workloads] == ["Deployment/w", "Pod/test-x"]
    assert everything.workloads[1].tags == ["Helm hook"]
    assert "--include-hooks" not in graph.dot(everything)


def _long_names() -> str:
    name = "a-very-long-deployment-name-that-a-fifty-character-box-used-to-cut"
    return _shared_rwo(3).replace("name: workers", f"name: {name}")


def test_dot_keeps_full_names_a_tooltip_and_a_legend_of_what_is_drawn() -> None:
    source = graph.dot(graph.build(run(_long_names(), Options())))
    assert "a-very-long-deployment-name-that-a-fifty-c" in source
    assert "aracter-box-used-to-cut" in source  # wrapped, not clipped
    assert "…" not in source
    assert 'tooltip="Deployment/a-very-long-deployment-name-that-a-fifty-character-box' in source
    assert "legend" in source and "PersistentVolumeClaim" in source
    assert "NFS export" not in source  # only the kinds on the map


@needs_dot
def test_dot_source_lays_out_into_svg_with_graphviz() -> None:
    source = graph.dot(graph.build(run(_long_names(), Options())))
    done = subprocess.run(
        ["dot", "-Tsvg"], input=source, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    root = ET.fromstring(done.stdout.split("\n", 3)[3])  # after the XML prolog and DOCTYPE
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "/db (rw)" in texts and "SW101" in texts


def test_builtin_svg_is_well_formed_with_tooltips_and_findings() -> None:
    drawing = graph.svg(graph.build(run(_long_names(), Options())))
    root = ET.fromstring(drawing)
    fills = {r.get("fill") for r in root.iter(f"{SVG}rect")}
    assert graph.COLORS["error"][0] in fills
    titles = [t.text or "" for t in root.iter(f"{SVG}title")]
    assert any("character-box-used-to-cut" in t and "SW101:" in t for t in titles)
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert "/db (rw)" in texts
    assert any(t.startswith("SW101 ") for t in texts)
    assert drawing == graph.svg(graph.build(run(_long_names(), Options())))  # deterministic


def _graph_cli(
    tmp_path: Path, *args: str, path: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [sys.executable, "-m", "stowage", "graph", *args],
        input=_shared_rwo(3), capture_output=True, text=True, check=False, env=env,
    )  # fmt: skip


@needs_dot
def test_graph_command_lays_out_svg_and_png_with_graphviz(tmp_path: Path) -> None:
    out = tmp_path / "map.svg"
    proc = _graph_cli(tmp_path, "--format", "svg", "--output", str(out))
    assert proc.returncode == 1, proc.stderr  # rejected, and the map is drawn all the same
    assert proc.stdout == ""
    assert "Generated by graphviz" in out.read_text()
    assert "error SW101" in proc.stderr
    png = tmp_path / "map.png"
    assert _graph_cli(tmp_path, "--format", "png", "--output", str(png)).returncode == 1
    assert png.read_bytes().startswith(b"\x89PNG")


def test_graph_command_without_graphviz_draws_the_builtin_svg_and_says_so(tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    proc = _graph_cli(tmp_path, "--format", "svg", path=str(empty))
    assert proc.returncode == 1, proc.stderr  # the stream is rejected; the view is printed
    assert proc.stdout.startswith("<svg")
    assert "Graphviz's `dot` is not on PATH" in proc.stderr
    png = _graph_cli(tmp_path, "--format", "png", path=str(empty))
    assert png.returncode == 2
    assert png.stdout == ""
    assert "--format png needs Graphviz" in png.stderr


def test_graph_command_writes_dot_source(tmp_path: Path) -> None:
    proc = _graph_cli(tmp_path, "--format", "dot")
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith("digraph storage {")


def test_graph_command_will_not_write_a_png_to_a_terminal() -> None:
    import pty

    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "stowage", "graph", "--format", "png"],
            input=_shared_rwo(3).encode(), stdout=follower, stderr=subprocess.PIPE, check=False,
        )  # fmt: skip
    finally:
        os.close(follower)
        os.close(leader)
    assert proc.returncode == 2
    assert b"not writing a PNG to a terminal" in proc.stderr
