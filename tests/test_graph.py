"""`stowage graph`: the storage map in Mermaid and SVG, with findings highlighted."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from enginehelpers import ROLE, deployment, dump_all, plan_configmap, pod_spec_of
from stowage import graph
from stowage.engine import Options, run


def _shared_rwo(replicas: int, strategy: str = "Recreate") -> str:
    config = {
        "persistence": {"data": {"db": {"mountPath": "/db", "existingClaim": "db",
                                        "accessModes": ["ReadWriteOnce"]}}},
        "targets": {"dask": {"matchLabels": ROLE}},
    }  # fmt: skip
    worker = deployment("workers", ROLE, replicas=replicas, strategy={"type": strategy})
    return dump_all(plan_configmap(config), worker)


def test_rwo_claim_shared_across_nodes_is_red_in_mermaid() -> None:
    text = graph.mermaid(graph.build(run(_shared_rwo(3), Options())))
    assert 's0[("claim db<br/><small>ReadWriteOnce</small>")]' in text
    assert 'w0 -- "/db" --> s0' in text
    assert "class s0 error" in text
    assert "class w0 error" in text
    assert "3 replicas" in text


def test_safe_layout_is_not_highlighted_and_rolling_update_is() -> None:
    text = graph.mermaid(graph.build(run(_shared_rwo(1), Options())))
    assert "class s0 storage" in text
    assert "class w0 workload" in text
    rolling = graph.mermaid(graph.build(run(_shared_rwo(1, "RollingUpdate"), Options())))
    assert "class w0 error" in rolling  # SW103 names the Deployment


def test_svg_is_well_formed_and_marks_the_error() -> None:
    drawing = graph.svg(graph.build(run(_shared_rwo(3), Options())))
    root = ET.fromstring(drawing)
    assert root.tag.endswith("svg")
    fills = {r.get("fill") for r in root.iter("{http://www.w3.org/2000/svg}rect")}
    assert graph.COLORS["error"][0] in fills
    assert "claim db" in drawing
    assert drawing == graph.svg(graph.build(run(_shared_rwo(3), Options())))  # deterministic


def test_other_sources_and_read_only_paths(tmp_path: Path) -> None:
    doc = deployment("w", {"app": "w"})
    spec = pod_spec_of(doc)
    spec["volumes"] = [{"name": "h", "hostPath": {"path": "/srv/h"}},
                       {"name": "n", "nfs": {"server": "s", "path": "/e"}},
                       {"name": "cfg", "configMap": {"name": "c"}}]  # fmt: skip
    spec["containers"][0]["volumeMounts"] = [
        {"name": "h", "mountPath": "/h", "readOnly": True},
        {"name": "n", "mountPath": "/n"},
        {"name": "cfg", "mountPath": "/cfg"},
    ]
    text = graph.mermaid(graph.build(run(dump_all(doc), Options())))
    assert "hostPath /srv/h" in text
    assert "nfs s:/e" in text
    assert '"/h (ro)"' in text
    assert "cfg" not in text  # configuration volumes are not storage


def test_graph_command_writes_svg_file(tmp_path: Path) -> None:
    out = tmp_path / "map.svg"
    proc = subprocess.run(
        [sys.executable, "-m", "stowage", "graph", "--format", "svg", "--output", str(out)],
        input=_shared_rwo(3), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr  # rejected, and the map is drawn all the same
    assert proc.stdout == ""
    assert out.read_text().startswith("<svg")
    assert "error SW101" in proc.stderr
