"""`stowage import`: Polyaxon, Owl and MLRun setups become stowage chart values.

Pure importer tests on the sample inputs under tests/data/import (written from
each system's documented format) and on small inline variants; the command's
exit codes and messages; and that nothing is dropped silently.
"""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from conftest import CHART, ROOT
from stowage.cli.main import main
from stowage.importers.base import Imported, ImportInputError, covers, leaf_paths
from stowage.importers.command import build
from stowage.importers.emit import to_yaml
from stowage.importers.load import parse, read_text
from stowage.importers.mlrun import import_mlrun
from stowage.importers.owl import import_owl
from stowage.importers.polyaxon import import_polyaxon
from stowage.plan.values import ChartValues

DATA = ROOT / "tests" / "data" / "import"
SCHEMA = json.loads((CHART / "values.schema.json").read_text())
# (system, file, polyaxonfile) for every sample that imports.
SAMPLES = [
    ("polyaxon", "polyaxon-values.yaml", "polyaxonfile.yaml"),
    ("polyaxon", "polyaxon-values.yaml", None),
    ("polyaxon", "polyaxonfile.yaml", None),
    ("owl", "owl-hostpath.yaml", None),
    ("owl", "owl-nfs.yaml", None),
    ("owl", "owl-nfs-docs.yaml", None),
    ("mlrun", "mlrun-config.yaml", None),
    ("mlrun", "mlrun.env", None),
]


def sample(system: str, name: str, extra: str | None = None) -> Imported:
    return build(system, DATA / name, DATA / extra if extra else None)


def sources_of(imported: Imported) -> list[str]:
    mapped = [source for entry in imported.mapped for source in entry.sources]
    return mapped + [item.source for item in imported.skipped]


def reasons(imported: Imported) -> dict[str, str]:
    return {item.source: item.reason for item in imported.skipped}


def cli(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["import", *args])
    out, err = capsys.readouterr()
    return code, out, err


# --- nothing dropped silently, output valid -------------------------------------------------


@pytest.mark.parametrize(("system", "name", "extra"), SAMPLES)
def test_every_leaf_is_mapped_or_listed(system: str, name: str, extra: str | None) -> None:
    imported = sample(system, name, extra)
    inputs = [parse(read_text(DATA / name), env_lines=system == "mlrun")]
    if extra:
        inputs.append(parse(read_text(DATA / extra)))
    leaves = [leaf for data in inputs for leaf in leaf_paths(data)]
    assert leaves
    known = sources_of(imported)
    lost = [leaf for leaf in leaves if not any(covers(src, leaf) for src in known)]
    assert lost == []


@pytest.mark.parametrize(("system", "name", "extra"), SAMPLES)
def test_output_passes_the_chart_schema_and_model(
    system: str, name: str, extra: str | None
) -> None:
    text = to_yaml(sample(system, name, extra), name)
    values = yaml.safe_load(text)
    ChartValues.model_validate(values)
    jsonschema.validate(values, SCHEMA)


@pytest.mark.parametrize(("system", "name", "extra"), SAMPLES)
def test_yaml_round_trips_and_lists_what_was_not_carried(
    system: str, name: str, extra: str | None
) -> None:
    imported = sample(system, name, extra)
    text = to_yaml(imported, name)
    assert yaml.safe_load(text) == imported.values
    assert text == to_yaml(sample(system, name, extra), name)  # deterministic
    header = text.split("\n\n", 2)
    for item in imported.skipped:
        assert f"  - {item.source}: " in "".join(header)
    for problem in imported.problems:
        assert f"  - {problem.source}: " in text


def comments(text: str) -> str:
    """All comment text of a YAML document, wrapped lines joined."""
    parts = [line.split("#", 1)[1].strip() for line in text.splitlines() if "#" in line]
    return " ".join(" ".join(parts).split())


@pytest.mark.parametrize(("system", "name", "extra"), SAMPLES)
def test_every_mapped_value_carries_a_provenance_comment(
    system: str, name: str, extra: str | None
) -> None:
    imported = sample(system, name, extra)
    text = comments(to_yaml(imported, name))
    sourced = [entry for entry in imported.mapped if entry.target and entry.sources]
    assert sourced
    for entry in sourced:
        assert f"from {', '.join(entry.sources)}" in text


def test_provenance_sits_on_the_key() -> None:
    text = to_yaml(sample("polyaxon", "polyaxon-values.yaml"), "x")
    assert "    data1:  # from persistence.data.data1\n" in text
    assert "  user: 2222  # from securityContext.user\n" in text


# --- Polyaxon ---------------------------------------------------------------------------------


def _without_access_modes(volumes: dict[str, Any]) -> dict[str, Any]:
    return {name: {k: v for k, v in spec.items() if k != "accessModes"} for name, spec in
            volumes.items()}  # fmt: skip


def test_polyaxon_persistence_carries_over_one_to_one() -> None:
    source = parse(read_text(DATA / "polyaxon-values.yaml"))
    values = sample("polyaxon", "polyaxon-values.yaml").values
    for group in ("data", "outputs"):
        imported = _without_access_modes(values["persistence"][group])
        assert imported == source["persistence"][group]
    assert values["dataPathsEnv"] == "POLYAXON_RUN_DATA_PATHS"
    assert "persistence.logs" in reasons(sample("polyaxon", "polyaxon-values.yaml"))


def test_polyaxon_node_pools_follow_the_roles() -> None:
    imported = sample("polyaxon", "polyaxon-values.yaml")
    selectors = imported.values["nodeSelector"]
    assert selectors == {
        "core": {"polyaxon": "core"},
        "pipeline": {"polyaxon": "experiments"},
        "dask": {"polyaxon": "experiments"},
    }
    assert "builds" in reasons(imported)["nodeSelector.builds"]
    notes = [e.note for e in imported.mapped if e.sources == ("nodeSelector.tensorboards",)]
    assert notes == ["tensorboards identical to experiments"]
    assert imported.values["tolerations"]["dask"][0]["value"] == "experiments"


def test_polyaxon_jobs_differing_from_experiments_is_listed() -> None:
    imported = import_polyaxon(
        {"nodeSelector": {"experiments": {"pool": "gpu"}, "jobs": {"pool": "cpu"}}}
    )
    assert imported.values["nodeSelector"]["pipeline"] == {"pool": "gpu"}
    assert "one pipeline pool" in reasons(imported)["nodeSelector.jobs"]


def test_polyaxon_jobs_alone_feed_the_pipeline_pool() -> None:
    imported = import_polyaxon({"affinity": {"jobs": {"nodeAffinity": {"x": 1}}}})
    assert imported.values["affinity"]["pipeline"] == {"nodeAffinity": {"x": 1}}


def test_polyaxon_global_scheduling_applies_to_every_pool() -> None:
    tolerations = [{"key": "gpu", "operator": "Exists"}]
    imported = import_polyaxon({"nodeSelector": {"pool": "ml"}, "tolerations": tolerations})
    assert imported.values["nodeSelector"] == {
        p: {"pool": "ml"} for p in ("core", "pipeline", "dask")
    }
    assert imported.values["tolerations"]["core"] == tolerations


def test_polyaxon_tolerations_given_as_a_map_is_an_error() -> None:
    with pytest.raises(ImportInputError) as err:
        import_polyaxon({"tolerations": {"experiments": {"key": "gpu"}}})
    assert err.value.key == "tolerations.experiments"
    assert "expected array" in err.value.message


def test_polyaxon_security_context_needs_both_ids() -> None:
    both = import_polyaxon({"securityContext": {"enabled": True, "user": 5, "group": 6}})
    assert both.values["securityContext"] == {"enabled": True, "user": 5, "group": 6}
    one = import_polyaxon({"securityContext": {"enabled": True, "user": 5}})
    assert one.values["securityContext"] == {"enabled": False}
    assert "without the other id" in reasons(one)["securityContext.user"]


def test_polyaxon_invalid_volume_name_names_the_key() -> None:
    with pytest.raises(ImportInputError) as err:
        import_polyaxon(
            {"persistence": {"data": {"Data_1": {"mountPath": "/d", "hostPath": "/d"}}}}
        )
    assert err.value.key == "persistence.data.Data_1"


def test_polyaxon_volume_with_two_sources_is_an_error() -> None:
    spec = {"mountPath": "/d", "hostPath": "/d", "existingClaim": "c"}
    with pytest.raises(ImportInputError) as err:
        import_polyaxon({"persistence": {"data": {"d": spec}}})
    assert "exactly one source" in err.value.message


def test_polyaxon_second_outputs_is_listed() -> None:
    outputs = {
        "outputs1": {"mountPath": "/o/1", "existingClaim": "o1"},
        "outputs2": {"mountPath": "/o/2", "existingClaim": "o2"},
    }
    imported = import_polyaxon({"persistence": {"outputs": outputs}})
    assert list(imported.values["persistence"]["outputs"]) == ["outputs1"]
    assert "one outputs store" in reasons(imported)["persistence.outputs.outputs2"]


def test_polyaxonfile_data_refs_become_data_refs() -> None:
    imported = sample("polyaxon", "polyaxon-values.yaml", "polyaxonfile.yaml")
    assert imported.values["pipeline"]["dataRefs"] == ["data1", "data-foo"]
    assert imported.values["dask"]["dataRefs"] == ["data1", "data-foo"]
    alone = sample("polyaxon", "polyaxonfile.yaml")  # detected as a polyaxonfile
    assert alone.values["pipeline"]["dataRefs"] == ["data1", "data-foo"]


def test_polyaxonfile_ref_to_a_missing_volume_is_polyaxons_error() -> None:
    values = {"persistence": {"data": {"d1": {"mountPath": "/d", "hostPath": "/d"}}}}
    with pytest.raises(ImportInputError) as err:
        import_polyaxon(values, {"environment": {"data_refs": ["d2"]}})
    assert "Volume with name d2 was defined in specification, but was not found" in str(err.value)
    assert err.value.origin == "polyaxonfile"


# --- Owl --------------------------------------------------------------------------------------


def test_owl_hostpath_per_user_becomes_user_storage() -> None:
    imported = sample("owl", "owl-hostpath.yaml")
    values = imported.values
    assert values["userStorage"] == {
        "type": "hostPath",
        "mountPath": "/storage/${USER}",
        "hostPath": "/storage/${USER}",
    }
    assert [v["name"] for v in values["pipeline"]["extraVolumes"]] == ["meds1a"]
    assert values["dask"]["extraVolumeMounts"] == values["pipeline"]["extraVolumeMounts"]
    assert values["persistence"]["scheduler"] == {
        "mountPath": "/var/run/owl",
        "existingClaim": "owl-home",
        "accessModes": ["ReadWriteOnce"],
        "storageClassName": "fast-ssd",
        "size": "10Gi",
    }
    assert values["securityContext"] == {"enabled": True, "user": 1000, "group": 1000}
    assert values["nodeSelector"] == {"core": {"node-pool": "core"}}
    assert values["owl"] == {"loglevel": "DEBUG"}  # dbi is the chart's own SQLite path
    assert values["api"] == {"dataRefs": [], "outputs": False}
    assert "api" not in reasons(imported)


def test_owl_server_settings_go_to_owl_yaml_and_the_token_stays_out_of_values() -> None:
    imported = import_owl(
        {
            "loglevel": "WARNING",
            "heartbeat": 20,
            "prometheus": "http://prometheus:9090",
            "dbi": "postgresql://owl@db/owl",
            "token": "a-shared-token-of-more-than-twenty-chars",
            "dask": {"distributed": {"worker": {"daemon": False}}},
        }
    )
    assert imported.values["owl"] == {
        "loglevel": "WARNING",
        "heartbeat": 20,
        "prometheus": "http://prometheus:9090",
        "dbi": "postgresql://owl@db/owl",
    }
    assert "a-shared-token" not in str(imported.values)
    why = reasons(imported)
    assert "owl.token.existingSecret" in why["token"]
    assert "dask-config" in why["dask"]


def test_owl_api_settings_and_extra_env_reach_the_api() -> None:
    env = [{"name": "TZ", "value": "UTC"}]
    imported = import_owl(
        {
            "extraEnv": env,
            "api": {
                "resources": {"limits": {"cpu": 1}},
                "affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": []}},
            },
            "serviceAccount": {"create": False, "name": "owl"},
        }
    )
    values = imported.values
    assert values["api"]["resources"] == {"limits": {"cpu": 1}}
    for component in ("scheduler", "api", "pipeline", "dask"):
        assert values[component]["extraEnv"] == env
    assert values["serviceAccount"] == {"name": "owl", "create": False}
    assert "scheduler's node" in reasons(imported)["api.affinity"]


def test_owl_nfs_claim_per_user_becomes_user_storage() -> None:
    values = sample("owl", "owl-nfs.yaml").values
    assert values["userStorage"] == {"type": "nfs", "mountPath": "/storage/${USER}"}
    assert values["users"] == []
    assert "extraVolumes" not in values.get("pipeline", {})


def test_owl_documented_nfs_example_is_flagged_not_fixed() -> None:
    imported = sample("owl", "owl-nfs-docs.yaml")
    [problem] = imported.problems
    assert problem.source == "pipeline.extraVolumeMounts[0].name"
    assert "names no volume" in problem.message
    assert "'nfs-storage'" in problem.fix
    source = parse(read_text(DATA / "owl-nfs-docs.yaml"))["pipeline"]
    assert imported.values["pipeline"]["extraVolumes"] == source["extraVolumes"]
    assert imported.values["pipeline"]["extraVolumeMounts"] == source["extraVolumeMounts"]
    assert "userStorage" not in imported.values


def test_owl_other_hostpath_types_stay_verbatim() -> None:
    volume = {"name": "u", "hostPath": {"path": "/s/${USER}", "type": "DirectoryOrCreate"}}
    mount = {"name": "u", "mountPath": "/s/${USER}"}
    imported = import_owl({"pipeline": {"extraVolumes": [volume], "extraVolumeMounts": [mount]}})
    assert "userStorage" not in imported.values
    assert imported.values["pipeline"]["extraVolumes"] == [volume]
    assert imported.values["dask"]["extraVolumes"] == [volume]  # Owl's per-run Dask pods had it


def test_owl_shared_extra_volumes_go_to_every_component() -> None:
    volume = {"name": "cfg", "configMap": {"name": "x"}}
    mount = {"name": "cfg", "mountPath": "/etc/x"}
    values = import_owl({"extraVolumes": [volume], "extraVolumeMounts": [mount]}).values
    for component in ("scheduler", "api", "pipeline", "dask"):
        assert values[component]["extraVolumes"] == [volume]


def test_owl_fs_group_wins_over_a_different_run_as_group() -> None:
    imported = import_owl(
        {"podSecurityContext": {"fsGroup": 3000}, "securityContext": {"runAsGroup": 2000}}
    )
    assert imported.values["securityContext"]["group"] == 3000
    assert "fsGroup" in reasons(imported)["securityContext.runAsGroup"]


def test_owl_keeps_stowage_default_volumes_off() -> None:
    values = sample("owl", "owl-nfs.yaml").values
    for component in ("scheduler", "pipeline", "dask"):
        assert values[component]["outputs"] is False
        assert values[component]["dataRefs"] == []


# --- MLRun ------------------------------------------------------------------------------------

PVC = {
    "pvc_name": "my-pvc-mount",
    "volume_name": "pvc-volume",
    "volume_mount_path": "/mnt/storage/nfs",
}


@pytest.mark.parametrize("name", ["mlrun-config.yaml", "mlrun.env"])
def test_mlrun_pvc_params_in_both_forms(name: str) -> None:
    values = sample("mlrun", name).values
    assert values["autoMount"] == {"type": "pvc", "params": PVC, "accessModes": ["ReadWriteMany"]}
    assert values["scheduler"]["autoMount"] is False


def test_mlrun_config_map_of_env_vars() -> None:
    encoded = base64.b64encode(json.dumps(PVC).encode()).decode()
    data = {
        "kind": "ConfigMap",
        "metadata": {"name": "mlrun-common-env"},
        "data": {
            "MLRUN_STORAGE__AUTO_MOUNT_TYPE": "pvc",
            "MLRUN_STORAGE__AUTO_MOUNT_PARAMS": encoded,
        },
    }
    imported = import_mlrun(data)
    assert imported.values["autoMount"]["params"] == PVC
    assert "metadata" in reasons(imported)


def test_mlrun_pvc_mount_env_fills_the_claim_for_auto() -> None:
    imported = import_mlrun({"MLRUN_PVC_MOUNT": "shared:/mnt/shared"})
    assert imported.values["autoMount"] == {
        "type": "auto",
        "params": {"pvc_name": "shared", "volume_mount_path": "/mnt/shared"},
        "accessModes": ["ReadWriteMany"],
    }


def test_mlrun_pairs_without_equals_are_listed() -> None:
    imported = import_mlrun(
        {"storage": {"auto_mount_type": "pvc", "auto_mount_params": "pvc_name=data, junk"}}
    )
    assert imported.values["autoMount"]["params"] == {"pvc_name": "data"}
    assert any("junk" in source for source in reasons(imported))


@pytest.mark.parametrize("kind", ["v3io_credentials", "v3io_fuse", "s3", "env"])
def test_mlrun_types_without_equivalent_are_listed(kind: str) -> None:
    imported = import_mlrun({"storage": {"auto_mount_type": kind, "auto_mount_params": "a=b"}})
    assert "autoMount" not in imported.values
    assert f"auto_mount_type {kind}" in reasons(imported)["storage.auto_mount_type"]
    assert "storage.auto_mount_params" in reasons(imported)


def test_mlrun_invalid_type_names_the_valid_ones() -> None:
    with pytest.raises(ImportInputError) as err:
        import_mlrun({"storage": {"auto_mount_type": "nfs"}})
    assert err.value.key == "storage.auto_mount_type"
    assert "none, auto, v3io_credentials, v3io_fuse, pvc, s3, env" in err.value.message


def test_mlrun_base64_that_is_not_json_is_a_clear_error() -> None:
    garbage = base64.b64encode(b"not json at all").decode()
    with pytest.raises(ImportInputError) as err:
        import_mlrun({"storage": {"auto_mount_type": "pvc", "auto_mount_params": garbage}})
    assert "valid base64 but does not decode to JSON" in err.value.message


def test_mlrun_unknown_pvc_parameter_is_an_error() -> None:
    with pytest.raises(ImportInputError) as err:
        import_mlrun(
            {"storage": {"auto_mount_type": "pvc", "auto_mount_params": "pvc_name=a,size=1"}}
        )
    assert "size" in err.value.message


def test_mlrun_documented_params_with_underscores_are_rejected() -> None:
    with pytest.raises(ImportInputError) as err:
        sample("mlrun", "mlrun-docs-pvc-params.yaml")
    assert err.value.key == "storage.auto_mount_params"
    assert "pvc_volume" in err.value.message


# --- the command ------------------------------------------------------------------------------


def test_command_prints_values_and_lists_what_was_not_carried(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = cli("owl", str(DATA / "owl-hostpath.yaml"), capsys=capsys)
    assert code == 0
    assert yaml.safe_load(out)["userStorage"]["type"] == "hostPath"
    assert "# NOT CARRIED OVER:" in out
    assert "stowage: not carried over: service: " in err


def test_command_reports_problems_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli("owl", str(DATA / "owl-nfs-docs.yaml"), capsys=capsys)
    assert code == 0
    assert "stowage: problem: pipeline.extraVolumeMounts[0].name:" in err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["nomad", "owl-nfs.yaml"], "unknown system 'nomad'"),
        (["owl", "missing.yaml"], "missing.yaml: cannot read the file"),
        (
            ["mlrun", "mlrun-docs-pvc-params.yaml"],
            "mlrun-docs-pvc-params.yaml: storage.auto_mount_params",
        ),
        (
            ["owl", "owl-nfs.yaml", "--polyaxonfile", "polyaxonfile.yaml"],
            "with `stowage import polyaxon` only",
        ),
    ],
)
def test_command_unusable_input_exits_2(
    args: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    resolved = [str(DATA / a) if a.endswith(".yaml") else a for a in args]
    code, out, err = cli(*resolved, capsys=capsys)
    assert code == 2
    assert out == ""
    assert needle in err


def test_command_bad_yaml_names_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "values.yaml"
    bad.write_text("persistence:\n  data: [\n")
    code, _, err = cli("polyaxon", str(bad), capsys=capsys)
    assert code == 2
    assert f"{bad}: not valid YAML: line" in err


def test_command_names_the_polyaxonfile_for_its_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pfile = tmp_path / "polyaxonfile.yaml"
    pfile.write_text("version: 1\nenvironment:\n  data_refs: [nope]\n")
    code, _, err = cli(
        "polyaxon", str(DATA / "polyaxon-values.yaml"), "--polyaxonfile", str(pfile), capsys=capsys
    )
    assert code == 2
    assert f"{pfile}: environment.data_refs[0]: Volume with name nope" in err


def test_command_value_rejected_by_the_chart_names_the_source_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "values.yaml"
    bad.write_text("securityContext: {enabled: true, user: 0, group: 10}\n")
    code, _, err = cli("polyaxon", str(bad), capsys=capsys)
    assert code == 2
    assert "securityContext.user" in err


def test_command_reads_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("MLRUN_STORAGE__AUTO_MOUNT_TYPE=none\n"))
    code, out, _ = cli("mlrun", "-", capsys=capsys)
    assert code == 0
    assert yaml.safe_load(out)["autoMount"] == {"type": "none"}


def _leaves(data: Any) -> list[str]:
    return list(leaf_paths(data))


def test_leaf_paths_and_covers() -> None:
    assert _leaves({"a": {"b": 1, "c": []}, "d": [{"e": 2}]}) == ["a.b", "a.c", "d[0].e"]
    assert covers("a", "a.b") and covers("d", "d[0].e") and covers("a.b", "a.b")
    assert not covers("a", "ab.c")


def test_mlrun_pvc_claim_gets_assumed_access_modes(capsys: pytest.CaptureFixture[str]) -> None:
    imported = sample("mlrun", "mlrun-config.yaml")
    assert imported.values["autoMount"]["accessModes"] == ["ReadWriteMany"]
    code, out, err = cli("mlrun", str(DATA / "mlrun-config.yaml"), capsys=capsys)
    assert code == 0
    assert "stowage: assumed: autoMount.accessModes: [ReadWriteMany]" in err
    assert "kubectl get pvc my-pvc-mount -o jsonpath='{.spec.accessModes}'" in err
    assert "# ASSUMED (the source does not record these; check them):" in out


def test_polyaxon_claims_get_assumed_access_modes_read_only_for_read_only_data() -> None:
    source = {"persistence": {"data": {
        "ro": {"mountPath": "/ro", "existingClaim": "ro-pvc", "readOnly": True},
        "rw": {"mountPath": "/rw", "existingClaim": "rw-pvc"},
        "host": {"mountPath": "/h", "hostPath": "/srv/h"},
    }}}  # fmt: skip
    from stowage.importers.polyaxon import import_polyaxon

    data = import_polyaxon(source).values["persistence"]["data"]
    assert data["ro"]["accessModes"] == ["ReadOnlyMany"]
    assert data["rw"]["accessModes"] == ["ReadWriteMany"]
    assert "accessModes" not in data["host"]


def test_mlrun_wrapped_base64_params_say_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrapped = base64.encodebytes(
        json.dumps({"pvc_name": "a" * 40, "volume_mount_path": "/mnt/" + "b" * 40}).encode()
    ).decode()
    source = tmp_path / "mlrun.yaml"
    source.write_text(
        json.dumps({"storage": {"auto_mount_type": "pvc", "auto_mount_params": wrapped}})
    )
    code, out, err = cli("mlrun", str(source), capsys=capsys)
    assert code == 2
    assert out == ""
    assert "storage.auto_mount_params: look like base64 JSON but do not decode" in err
    assert "wrapped over several lines" in err


LINT_SAMPLES = [
    ("mlrun", "mlrun-config.yaml"), ("mlrun", "mlrun.env"), ("owl", "owl-hostpath.yaml"),
    ("owl", "owl-nfs.yaml"), ("owl", "owl-nfs-docs.yaml"), ("polyaxon", "polyaxon-values.yaml"),
]  # fmt: skip


@pytest.mark.parametrize(("system", "name"), LINT_SAMPLES)
def test_output_is_yamllint_clean_with_the_default_rules(
    tmp_path: Path, system: str, name: str
) -> None:
    out = tmp_path / "values.yaml"
    out.write_text(to_yaml(sample(system, name), str(DATA / name)))
    yamllint = Path(sys.executable).parent / "yamllint"
    proc = subprocess.run(
        [str(yamllint), "-d", "default", "-s", str(out)], capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout


@pytest.mark.parametrize("system", ["polyaxon", "owl", "mlrun"])
def test_empty_input_is_an_error_and_prints_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], system: str
) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing here\n")
    code, out, err = cli(system, str(empty), capsys=capsys)
    assert (code, out) == (2, "")
    assert f"stowage: error: {empty} is empty: there is nothing to import" in err


def test_empty_stdin_is_an_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, out, err = cli("mlrun", "-", capsys=capsys)
    assert (code, out) == (2, "")
    assert "stowage: error: standard input is empty: there is nothing to import" in err


def test_output_file_is_written_only_when_the_import_succeeds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    values, broken = tmp_path / "values.yaml", tmp_path / "broken.yaml"
    broken.write_text("pipeline: [\n")
    code, out, _ = cli("owl", str(broken), "-o", str(values), capsys=capsys)
    assert (code, out) == (2, "")
    assert not values.exists()
    code, out, _ = cli(
        "owl", str(DATA / "owl-hostpath.yaml"), "--output", str(values), capsys=capsys
    )
    assert (code, out) == (0, "")
    assert "userStorage:" in values.read_text()


@pytest.mark.parametrize(
    ("system", "name", "other"),
    [("owl", "mlrun-config.yaml", "mlrun"), ("mlrun", "owl-nfs.yaml", "owl")],
)
def test_a_file_of_another_system_warns(
    capsys: pytest.CaptureFixture[str], system: str, name: str, other: str
) -> None:
    code, _, err = cli(system, str(DATA / name), capsys=capsys)
    assert code == 0
    assert f"the file looks like {other}'s, not {system}'s" in err
    assert f"did you mean `stowage import {other}`?" in err


def test_a_failing_import_of_another_systems_file_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = cli("owl", str(DATA / "polyaxon-values.yaml"), capsys=capsys)
    assert code == 2
    assert out == ""
    assert "the file looks like polyaxon's, not owl's" in err


@pytest.mark.parametrize(
    ("system", "message"),
    [
        ("foo", "stowage: error: unknown system 'foo'; stowage imports polyaxon, owl, mlrun"),
        ("polyaxn", "unknown system 'polyaxn'; did you mean 'polyaxon'?"),
    ],
)
def test_unknown_system_blames_the_system_not_the_file(
    capsys: pytest.CaptureFixture[str], system: str, message: str
) -> None:
    code, out, err = cli(system, "no-such-file.yaml", capsys=capsys)
    assert (code, out) == (2, "")
    assert message in err
    assert "no-such-file.yaml" not in err
