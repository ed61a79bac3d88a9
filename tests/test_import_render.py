"""Imported values, rendered with the chart and post-rendered by stowage, mount what the source
system mounted: same paths, same readOnly, same claims or host paths. Expected mounts are read
from each sample input, not written down here."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import CHART, ROOT, Helm
from stowage.importers.command import build
from stowage.importers.emit import to_yaml
from stowage.views.demo import owl_run_pods

DATA = ROOT / "tests" / "data" / "import"
STOWAGE = Path(sys.executable).parent / "stowage"
Pod = dict[str, Any]

pytestmark = pytest.mark.helm
OWL_OWN_MOUNTS = ("/etc/owl", "/etc/dask")  # Owl's config, not storage


def imported_file(tmp_path: Path, system: str, name: str, extra: str | None = None) -> Path:
    imported = build(system, DATA / name, DATA / extra if extra else None)
    out = tmp_path / "imported.yaml"
    out.write_text(to_yaml(imported, name))
    return out


def render(helm: Helm, values: Path, *, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Helm 3: the post-renderer path form; Helm 4: `helm template` piped into stowage."""
    args = ("template", "ml", str(CHART), "-n", "ml", "-f", str(values))
    if helm.major == 3:
        return helm.run(*args, "--post-renderer", str(STOWAGE), check=check)
    plain = helm.run(*args)
    return subprocess.run(
        [str(STOWAGE)], input=plain.stdout, capture_output=True, text=True, check=check
    )


def pods(text: str) -> dict[str, Pod]:
    """Pod specs by component: the scheduler and API Deployments, and the pipeline Job pod and
    Dask worker pod Owl builds from the post-rendered owl.yaml (`${USER}` left as it is)."""
    out: dict[str, Pod] = {}
    for doc in yaml.safe_load_all(text):
        if not isinstance(doc, dict):
            continue
        component = doc["metadata"].get("labels", {}).get("app.kubernetes.io/component")
        if doc["kind"] == "Deployment" and component in ("scheduler", "api"):
            out[component] = doc["spec"]["template"]["spec"]
    for label, pod in owl_run_pods(text, "${USER}"):
        if label.startswith("pipeline Job pod"):
            out["pipeline"] = pod
        elif label.startswith("Dask worker pod"):
            out["dask-worker"] = pod
    return out


def mounts(pod: Pod) -> dict[str, dict[str, Any]]:
    """mountPath -> {readOnly, subPath, source}, source being the volume without its name."""
    volumes = {
        v["name"]: {k: x for k, x in v.items() if k != "name"} for v in pod.get("volumes", [])
    }
    out = {}
    for mount in pod["containers"][0].get("volumeMounts", []):
        if mount["mountPath"] in OWL_OWN_MOUNTS:
            continue
        out[mount["mountPath"]] = {
            "readOnly": mount.get("readOnly", False),
            "subPath": mount.get("subPath"),
            "source": volumes[mount["name"]],
        }
    return out


def source_of(spec: dict[str, Any]) -> dict[str, Any]:
    if "hostPath" in spec:
        return {"hostPath": {"path": spec["hostPath"], "type": "Directory"}}
    return {"persistentVolumeClaim": {"claimName": spec["existingClaim"]}}


def expected_polyaxon(spec: dict[str, Any]) -> dict[str, Any]:
    got = source_of(spec)
    return {"readOnly": spec.get("readOnly", False), "subPath": spec.get("subPath"), "source": got}


def _normalise_host(entry: dict[str, Any]) -> dict[str, Any]:
    host = entry["source"].get("hostPath")
    if host is not None:
        entry = {**entry, "source": {"hostPath": {"path": host["path"]}}}
    return entry


def test_polyaxon_volumes_land_where_polyaxon_put_them(helm: Helm, tmp_path: Path) -> None:
    source = yaml.safe_load((DATA / "polyaxon-values.yaml").read_text())
    refs = yaml.safe_load((DATA / "polyaxonfile.yaml").read_text())["environment"]["data_refs"]
    values = imported_file(tmp_path, "polyaxon", "polyaxon-values.yaml", "polyaxonfile.yaml")
    rendered = pods(render(helm, values).stdout)
    volumes = {
        name: spec
        for name, spec in (source["persistence"]["data"] | source["persistence"]["outputs"]).items()
        if "mountPath" in spec
    }
    outputs = next(iter(source["persistence"]["outputs"]))
    for component, names in (
        ("pipeline", [*refs, outputs]),
        ("dask-worker", [*refs, outputs]),
        ("scheduler", list(volumes)),
    ):
        got = {path: _normalise_host(m) for path, m in mounts(rendered[component]).items()}
        want = {
            volumes[n]["mountPath"]: _normalise_host(expected_polyaxon(volumes[n])) for n in names
        }
        assert {p: got[p] for p in got if p in want or p.startswith(("/data", "/polyaxon"))} == want
    pipeline, worker = rendered["pipeline"], rendered["dask-worker"]
    # Owl's pipeline fragment has no place for node settings or env: the per-run Dask pods do.
    assert worker["nodeSelector"] == source["nodeSelector"]["experiments"]
    assert worker["tolerations"] == source["tolerations"]["experiments"]
    assert rendered["scheduler"]["nodeSelector"] == source["nodeSelector"]["core"]
    context = pipeline["securityContext"]
    assert (context["runAsUser"], context["fsGroup"]) == (
        source["securityContext"]["user"],
        source["securityContext"]["group"],
    )
    env = {e["name"]: e.get("value") for e in worker["containers"][0].get("env", [])}
    paths = json.loads(env["POLYAXON_RUN_DATA_PATHS"])
    assert {name: paths[name] for name in refs} == {n: volumes[n]["mountPath"] for n in refs}


def _owl_pipeline_lists(name: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    pipeline = yaml.safe_load((DATA / name).read_text())["pipeline"]
    return pipeline["extraVolumes"], pipeline["extraVolumeMounts"]


def _owl_expected(name: str, user_only: bool = False) -> dict[str, dict[str, Any]]:
    volumes, mount_list = _owl_pipeline_lists(name)
    by_name = {v["name"]: {k: x for k, x in v.items() if k != "name"} for v in volumes}
    for source in by_name.values():  # per-user storage: stowage creates a missing directory
        if "${USER}" in str(source.get("hostPath", {}).get("path")):
            source["hostPath"] = {**source["hostPath"], "type": "DirectoryOrCreate"}
    return {
        m["mountPath"]: {
            "readOnly": m.get("readOnly", False),
            "subPath": m.get("subPath"),
            "source": by_name[m["name"]],
        }
        for m in mount_list
        if not user_only or "${USER}" not in m["mountPath"]
    }


OWL_STATE = {
    "/var/run/owl": {
        "readOnly": False,
        "subPath": None,
        "source": {"persistentVolumeClaim": {"claimName": "owl-home"}},
    }
}


@pytest.mark.parametrize("name", ["owl-hostpath.yaml", "owl-nfs.yaml"])
def test_owl_scheduler_and_api_keep_owls_state_claim(helm: Helm, tmp_path: Path, name: str) -> None:
    rendered = pods(render(helm, imported_file(tmp_path, "owl", name)).stdout)
    assert mounts(rendered["scheduler"]) == OWL_STATE
    assert mounts(rendered["api"]) == OWL_STATE


@pytest.mark.parametrize("name", ["owl-hostpath.yaml", "owl-nfs.yaml"])
def test_owl_pipeline_and_dask_pods_mount_what_owl_mounted(
    helm: Helm, tmp_path: Path, name: str
) -> None:
    rendered = pods(render(helm, imported_file(tmp_path, "owl", name)).stdout)
    assert mounts(rendered["pipeline"]) == _owl_expected(name)
    assert mounts(rendered["dask-worker"]) == _owl_expected(name)


def test_owl_documented_nfs_example_is_refused_at_render(helm: Helm, tmp_path: Path) -> None:
    result = render(helm, imported_file(tmp_path, "owl", "owl-nfs-docs.yaml"), check=False)
    assert result.returncode != 0
    assert "SW304" in result.stderr
    assert "user-storage" in result.stderr


def _mlrun_params(name: str) -> dict[str, str]:
    if name.endswith(".env"):
        line = next(x for x in (DATA / name).read_text().splitlines() if "AUTO_MOUNT_PARAMS" in x)
        encoded = line.split("=", 1)[1].strip('"')
        params: dict[str, str] = json.loads(base64.b64decode(encoded))
        return params
    text = yaml.safe_load((DATA / name).read_text())["storage"]["auto_mount_params"]
    return dict(item.split("=", 1) for item in text.split(","))


@pytest.mark.parametrize("name", ["mlrun-config.yaml", "mlrun.env"])
def test_mlrun_auto_mount_stays_off_the_scheduler(helm: Helm, tmp_path: Path, name: str) -> None:
    params = _mlrun_params(name)
    rendered = pods(render(helm, imported_file(tmp_path, "mlrun", name)).stdout)
    assert params["volume_mount_path"] not in mounts(rendered["scheduler"])


def test_mlrun_import_mounts_nothing_into_the_api(helm: Helm, tmp_path: Path) -> None:
    """MLRun never mounts storage into its API server: no claim, no /tmp/stowage host path."""
    rendered = pods(render(helm, imported_file(tmp_path, "mlrun", "mlrun-config.yaml")).stdout)
    api = rendered["api"]
    own = (*OWL_OWN_MOUNTS, "/var/run/owl")  # Owl's config and the chart's state claim
    assert [path for path in mounts(api) if path not in own] == []


@pytest.mark.parametrize("name", ["mlrun-config.yaml", "mlrun.env"])
def test_mlrun_auto_mount_lands_on_function_pods_only(
    helm: Helm, tmp_path: Path, name: str
) -> None:
    params = _mlrun_params(name)
    rendered = pods(render(helm, imported_file(tmp_path, "mlrun", name)).stdout)
    want = {
        params["volume_mount_path"]: {
            "readOnly": False,
            "subPath": None,
            "source": {"persistentVolumeClaim": {"claimName": params["pvc_name"]}},
        }
    }
    for component in ("pipeline", "dask-worker"):
        assert mounts(rendered[component]) == want
        names = [v["name"] for v in rendered[component]["volumes"]]
        assert params["volume_name"] in names
    assert params["volume_mount_path"] not in mounts(rendered["scheduler"])


@pytest.mark.parametrize(
    ("system", "name"), [("mlrun", "mlrun-config.yaml"), ("polyaxon", "polyaxon-values.yaml")]
)
def test_imported_claims_declare_access_modes_so_strict_passes_sw104(
    helm4: Helm, tmp_path: Path, system: str, name: str
) -> None:
    values = imported_file(tmp_path, system, name)
    plain = helm4.run("template", "ml", str(CHART), "-n", "ml", "-f", str(values)).stdout
    proc = subprocess.run(
        [str(STOWAGE), "check", "--strict"], input=plain, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert "SW104" not in proc.stderr
