"""`${NAME}` expansion: strict, per workload, and kept for the launcher in pod templates."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from enginehelpers import ROLE, TARGET, deployment, dump_all, load_all, output, pod_spec_of, render
from stowage.errors import UsageError
from stowage.plan.configload import parse_vars
from stowage.plan.variables import expand, unsafe_reason


def _with_paths(doc: dict[str, Any], *paths: str, mounts_only: bool = False) -> dict[str, Any]:
    """A volume per path (hostPath, or emptyDir with ``mounts_only``), mounted at it."""
    spec = pod_spec_of(doc)
    names = [f"v{i}" for i in range(len(paths))]
    if mounts_only:
        spec["volumes"] = [{"name": n, "emptyDir": {}} for n in names]
    else:
        spec["volumes"] = [
            {"name": n, "hostPath": {"path": p}} for n, p in zip(names, paths, strict=True)
        ]
    spec["containers"][0]["volumeMounts"] = [
        {"name": n, "mountPath": p} for n, p in zip(names, paths, strict=True)
    ]
    return doc


def _user_storage(doc: dict[str, Any]) -> dict[str, Any]:
    return _with_paths(doc, "/storage/${USER}")


def _paths(doc: dict[str, Any]) -> tuple[str, str]:
    spec = pod_spec_of(doc)
    return spec["volumes"][0]["hostPath"]["path"], spec["containers"][0]["volumeMounts"][0][
        "mountPath"
    ]


CONFIG: dict[str, Any] = {"targets": TARGET}


def test_var_from_command_line_expands_volumes_and_mounts() -> None:
    doc = _user_storage(deployment("w", ROLE))
    result = load_all(output(render(dump_all(doc), CONFIG, USER="joe")))[0]
    assert _paths(result) == ("/storage/joe", "/storage/joe")


def test_var_from_config_and_user_label_which_wins() -> None:
    doc = _user_storage(deployment("w", {**ROLE, "stowage.io/user": "ann"}))
    config = {**CONFIG, "vars": {"USER": "joe"}}
    result = load_all(output(render(dump_all(doc), config)))[0]
    assert _paths(result) == ("/storage/ann", "/storage/ann")


def test_untargeted_workloads_are_not_expanded() -> None:
    doc = _user_storage(deployment("w", {"app": "other"}))
    text = dump_all(doc)
    assert output(render(text, CONFIG, USER="joe")) == text


def test_undefined_variable_is_never_an_empty_string() -> None:
    doc = _user_storage(deployment("w", ROLE))
    outcome = render(dump_all(doc), CONFIG)
    assert _paths(outcome.stream.documents[0].body) == ("/storage/${USER}", "/storage/${USER}")
    assert outcome.rejected
    assert any("USER" in f.message for f in outcome.findings)


def _template_configmap() -> dict[str, Any]:
    job: dict[str, Any] = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "pipeline"},
        "spec": {
            "template": _user_storage(deployment("x", {"stowage.io/role": "pipeline"}))["spec"][
                "template"
            ]
        },
    }
    pod = job["spec"]["template"]["spec"]
    pod["volumes"].append({"name": "team", "hostPath": {"path": "/teams/${TEAM}"}})
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "rel-pipeline-template",
            "labels": {"stowage.io/role": "pipeline", "stowage.io/pod-template": "true"},
        },
        "data": {"job.yaml": yaml.safe_dump(job), "notes.txt": "not a manifest"},
    }


def test_pipeline_template_keeps_user_for_the_launcher_and_completes_the_rest() -> None:
    config = {
        "targets": {"pipeline": {"matchLabels": {"stowage.io/role": "pipeline"}}},
        "persistence": {"data": {"a": {"mountPath": "/data/a", "hostPath": "/srv/a"}}},
    }
    outcome = render(dump_all(_template_configmap()), config, USER="joe", TEAM="vision")
    assert not outcome.rejected, outcome.findings
    carrier = load_all(output(outcome))[0]
    job = yaml.safe_load(carrier["data"]["job.yaml"])
    pod = job["spec"]["template"]["spec"]
    paths = [v["hostPath"]["path"] for v in pod["volumes"] if "hostPath" in v]
    assert paths == ["/storage/${USER}", "/teams/vision", "/srv/a"]
    assert carrier["data"]["notes.txt"] == "not a manifest"
    assert outcome.placements[0].workload == "Job/pipeline in ConfigMap/rel-pipeline-template"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "empty"),
        ("a/b", "'/'"),
        ("..", "'..'"),
        ("joe smith", "whitespace"),
        ("x" * 64, "longer than 63"),
        ("Joe!", "not a DNS-1123 label"),
    ],
)
def test_unsafe_values_are_refused_with_a_reason(value: str, reason: str) -> None:
    assert reason in (unsafe_reason(value) or "")
    with pytest.raises(UsageError, match="not a safe value"):
        parse_vars([f"USER={value}"])


@pytest.mark.parametrize("value", ["joe", "j-doe", "svc_ml", "a1", "x" * 63])
def test_safe_values_pass(value: str) -> None:
    assert unsafe_reason(value) is None
    assert expand("/storage/${USER}", {"USER": value}).value == f"/storage/{value}"


def test_bad_var_syntax_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="expected NAME=VALUE"):
        parse_vars(["USER"])
    with pytest.raises(UsageError, match="expected NAME=VALUE"):
        parse_vars(["1X=a"])


def test_expand_reports_undefined_and_unsafe_and_leaves_them() -> None:
    result = expand(["/a/${X}", {"p": "/b/${Y}"}, "${}"], {"Y": "a/b"})
    assert result.value == ["/a/${X}", {"p": "/b/${Y}"}, "${}"]
    assert result.undefined == {"X", ""}
    assert "Y" in result.unsafe


def _data_paths(spec: dict[str, Any]) -> dict[str, str]:
    (env,) = [e for e in spec["containers"][0]["env"] if e["name"] == "STOWAGE_DATA_PATHS"]
    paths: dict[str, str] = json.loads(env["value"])
    return paths


HOME_CONFIG: dict[str, Any] = {
    "targets": TARGET,
    "persistence": {"data": {"home": {"mountPath": "/home/${USER}", "hostPath": "/srv/${USER}"}}},
}


def test_data_paths_env_holds_the_values_the_mounts_got() -> None:
    result = load_all(output(render(dump_all(deployment("w", ROLE)), HOME_CONFIG, USER="joe")))[0]
    spec = pod_spec_of(result)
    assert _data_paths(spec) == {"home": "/home/joe"}
    assert spec["containers"][0]["volumeMounts"][0]["mountPath"] == "/home/joe"


def test_data_paths_env_keeps_user_for_the_launcher_like_the_mounts() -> None:
    config = {
        **HOME_CONFIG,
        "targets": {"pipeline": {"matchLabels": {"stowage.io/role": "pipeline"}}},
    }
    outcome = render(dump_all(_template_configmap()), config, USER="joe", TEAM="vision")
    job = yaml.safe_load(load_all(output(outcome))[0]["data"]["job.yaml"])
    spec = job["spec"]["template"]["spec"]
    assert _data_paths(spec) == {"home": "/home/${USER}"}
    assert {"name": "home", "mountPath": "/home/${USER}"} in spec["containers"][0]["volumeMounts"]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "it is empty"),
        ("a/b", "it contains '/' or '..'"),
        ("a b", "it contains whitespace"),
        (
            "Joe!",
            "it is not a DNS-1123 label or POSIX user name (lowercase letters, digits, '-', '_')",
        ),
    ],
)
def test_unsafe_reasons_read_exactly(value: str, reason: str) -> None:
    assert unsafe_reason(value) == reason
    assert expand("/home/${USER}", {"USER": value}).unsafe == {"USER": reason}


def test_a_value_without_variables_comes_back_as_the_same_object() -> None:
    # Expanding thousands of pod specs copies only what changes.
    spec = {"volumes": [{"name": "v", "hostPath": {"path": "/srv/${USER}"}}], "other": {"a": [1]}}
    out = expand(spec, {"USER": "joe"}).value
    assert out["volumes"][0]["hostPath"]["path"] == "/srv/joe"
    assert out["other"] is spec["other"]
    same = {"volumes": [{"name": "v"}], "note": "${UNDEFINED}"}
    assert expand(same, {}).value is same


# SW401, whole: where a variable is read, in which workloads, and which names it skips.
def _sw401(outcome: Any) -> list[tuple[str, str]]:
    return [(f.message, f.fix) for f in outcome.findings if f.rule == "SW401"]


def _undefined(workload: str, name: str) -> tuple[str, str]:
    return (
        f"{workload}: variable ${{{name}}} in its volumes or mounts is not defined "
        "(it would expand to an empty string)",
        f"pass a safe value: --var {name}=VALUE, vars.{name} in the config, "
        "or the stowage.io/user label for USER",
    )


def test_sw401_names_the_workload_the_variable_and_the_three_ways_to_set_it() -> None:
    outcome = render(dump_all(_user_storage(deployment("w", ROLE))), CONFIG)
    assert _sw401(outcome) == [_undefined("Deployment/w", "USER")]


def test_sw401_reads_a_variable_the_plan_brought_into_a_plain_manifest() -> None:
    user = {"mountPath": "/storage/${USER}", "hostPath": "/storage/${USER}"}
    config = {**CONFIG, "persistence": {"data": {"user": user}}}
    text = dump_all(deployment("w", ROLE))
    assert "${" not in text
    assert _sw401(render(text, config)) == [_undefined("Deployment/w", "USER")]
    assert not _sw401(render(text, config, USER="joe"))


def test_sw401_reads_a_variable_that_only_a_mount_path_holds() -> None:
    doc = _with_paths(deployment("w", ROLE), "/scratch/${USER}", mounts_only=True)
    assert _sw401(render(dump_all(doc), CONFIG)) == [_undefined("Deployment/w", "USER")]


def test_sw401_goes_on_past_workloads_it_does_not_judge() -> None:
    untargeted = _user_storage(deployment("other", {"app": "other"}))
    plain = deployment("plain", ROLE)
    late = _user_storage(deployment("w", ROLE))
    outcome = render(dump_all(untargeted, plain, late), CONFIG)
    assert _sw401(outcome) == [_undefined("Deployment/w", "USER")]


def test_sw401_reports_an_unset_name_beside_a_set_one_and_one_kept_for_the_launcher() -> None:
    doc = _with_paths(deployment("w", ROLE), "/groups/${GROUP}", "/storage/${USER}")
    outcome = render(dump_all(doc), CONFIG, GROUP="ml")
    assert _sw401(outcome) == [_undefined("Deployment/w", "USER")]
    carrier = _template_configmap()
    job = yaml.safe_load(carrier["data"]["job.yaml"])
    job["spec"]["template"]["spec"]["volumes"].append(
        {"name": "zone", "hostPath": {"path": "/zones/${ZONE}"}}
    )
    carrier["data"]["job.yaml"] = yaml.safe_dump(job)
    config = {"targets": {"pipeline": {"matchLabels": {"stowage.io/role": "pipeline"}}}}
    messages = [m for m, _ in _sw401(render(dump_all(carrier), config, TEAM="vision"))]
    # USER is the launcher's to fill; ZONE, sorted after it, is still judged
    assert len(messages) == 1 and "${ZONE}" in messages[0], messages
