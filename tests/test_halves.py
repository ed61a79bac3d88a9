"""A large stream attached in two processes (stowage.attach.halves) gives exactly what one
process gives: the same output bytes, findings, placements, report, diff and plan,
and the same error message, whichever half the error is in."""

from __future__ import annotations

import json
import os
import random
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enginehelpers import DATA, OUTPUTS, dump_all, plan_configmap
from stowage import parallel
from stowage.attach import halves
from stowage.engine import Options, run
from stowage.errors import UsageError
from stowage.layers import Layer
from stowage.plan.plan import validate
from stowage.pods import reading as pods_reading
from stowage.read import manifests
from stowage.read.manifests import split
from stowage.views import report
from stowage.write.stream import write

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux only")

TESTS = Path(__file__).parent
WEB = {"app": "web"}
CONFIG: dict[str, Any] = {
    "persistence": {
        "data": DATA,
        "outputs": {
            **OUTPUTS,
            "scratch": {
                "mountPath": "/scratch/${TEAM}",
                "existingClaim": "scratch",
                "accessModes": ["ReadWriteOnce"],
            },
        },
    },
    "targets": {
        "web": {"matchLabels": WEB, "outputs": True},
        "batch": {"matchLabels": {"app": "batch"}, "kinds": ["Job", "CronJob"]},
    },
    "nodeSelector": {"web": {"pool": "web"}, "batch": {"pool": "batch"}},
    "securityContext": {"enabled": True, "user": 1000, "group": 100},
    "vars": {"TEAM": "ml"},
}


@pytest.fixture(autouse=True)
def two_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "cpus", lambda: 2)  # CI may give one


class Runs:
    """Counts the runs that really went through two processes."""

    def __init__(self) -> None:
        self.in_halves = 0


def everything(text: str, options: Options) -> dict[str, Any]:
    """All a user can see of a run: output, report, diff, plan, or the error."""
    try:
        outcome = run(text, options)
    except UsageError as err:
        return {"error": str(err)}
    return {
        "output": write(outcome.stream),
        "report": report.as_json(outcome),
        "text": report.as_text(outcome),
        "diff": report.diff_text(outcome),
        "plan": report.plan_json(outcome),
        "changed": [doc.index for doc in outcome.changed],
        "workloads": [(w.label, w.doc.index, w.site.path) for w in outcome.workloads],
    }


def both_ways(
    text: str, options: Options, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[str, Any], dict[str, Any], Runs]:
    """(one process, two processes, how many runs used two)."""
    runs = Runs()
    tried = halves.attach_in_halves

    def counted(stream: Any, plan: Any) -> Any:
        attached = tried(stream, plan)
        runs.in_halves += attached is not None
        return attached

    with monkeypatch.context() as patched:
        patched.setattr(halves, "MIN_DOCUMENTS", 1 << 30)
        one = everything(text, options)
    with monkeypatch.context() as patched:
        patched.setattr(halves, "MIN_DOCUMENTS", 2)
        patched.setattr(halves, "attach_in_halves", counted)
        two = everything(text, options)
    return one, two, runs


def options(config: dict[str, Any] | None = CONFIG) -> Options:
    return Options(layers=[Layer("test", config)] if config is not None else [])


def workload(kind: str, name: str, labels: dict[str, str], pod: dict[str, Any]) -> dict[str, Any]:
    template = {"metadata": {"labels": labels}, "spec": pod}
    spec: dict[str, Any] = {"selector": {"matchLabels": labels}, "template": template}
    if kind == "Pod":
        spec = pod
    elif kind == "Job":
        spec = {"template": template}
    elif kind == "CronJob":
        spec = {"schedule": "@daily", "jobTemplate": {"spec": {"template": template}}}
    api = {"Job": "batch/v1", "CronJob": "batch/v1", "Pod": "v1"}.get(kind, "apps/v1")
    meta = {"name": name, "labels": labels}
    return {"apiVersion": api, "kind": kind, "metadata": meta, "spec": spec}


KINDS = ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"]
LABELS = [WEB, {"app": "batch"}, {"app": "other"}]
EXTRAS = ["shared-claim", "own-pool", "own-env", "own-mount", "root", "init", "", "", ""]
Pick = Callable[[list[Any]], Any]


def pod_spec(extras: set[str]) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "main", "image": "python:3.12"}
    pod: dict[str, Any] = {"containers": [container]}
    if "shared-claim" in extras:  # one ReadWriteOnce claim for many pods: SW101
        pod["volumes"] = [{"name": "state", "persistentVolumeClaim": {"claimName": "scratch"}}]
        container["volumeMounts"] = [{"name": "state", "mountPath": "/state"}]
    if "own-pool" in extras:  # the plan wants another value: a conflict
        pod["nodeSelector"] = {"pool": "gpu"}
    if "own-env" in extras:
        container["env"] = [{"name": "DATA_PATHS", "value": "{}"}]
    if "own-mount" in extras:
        container["volumeMounts"] = [{"name": "mine", "mountPath": "/outputs"}]
        pod["volumes"] = [{"name": "mine", "emptyDir": {}}]
    if "root" in extras:
        pod["securityContext"] = {"runAsUser": 0}
    if "init" in extras:
        pod["initContainers"] = [{"name": "init", "image": "busybox"}]
    return pod


def build_stream(pick: Pick) -> str:
    """Workloads of every plain kind, some targeted, with what makes findings and
    conflicts, some in Lists; a few Services, and sometimes the ReadWriteOnce claim
    they share."""
    docs = []
    for index in range(pick(list(range(2, 15)))):
        pod = pod_spec({pick(EXTRAS), pick(EXTRAS)})
        made = workload(pick(KINDS), f"w{index}", pick(LABELS), pod)
        if pick(list(range(5))) == 0:  # a List stays in this process, wherever it is
            made = {"apiVersion": "v1", "kind": "List", "items": [made]}
        docs.append(made)
        if pick(list(range(6))) == 0:
            docs.append({"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"s{index}"}})
    if pick([True, False]):
        claim = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
        meta = {"name": "scratch"}
        docs.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta})
        docs[-1]["spec"] = claim
    return dump_all(*docs)


@st.composite
def streams(draw: st.DrawFn) -> str:
    return build_stream(lambda choices: draw(st.sampled_from(choices)))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=streams())
def test_random_streams_give_the_same_run_in_one_process_or_two(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two, _ = both_ways(text, options(), monkeypatch)
    assert two == one


def test_most_random_streams_really_ran_in_two_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Guards the test above: a split that always declined would pass it trivially."""
    rng = random.Random(16)
    texts = [build_stream(rng.choice) for _ in range(20)]
    used = sum(both_ways(text, options(), monkeypatch)[2].in_halves for text in texts)
    assert used >= 15


def big_stream(count: int = 40, extras: frozenset[str] = frozenset({"shared-claim"})) -> list[str]:
    return [
        dump_all(workload("Deployment", f"w{i}", WEB, pod_spec(set(extras)))) for i in range(count)
    ]


def test_a_shared_read_write_once_claim_is_refused_the_same_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    one, two, runs = both_ways("".join(big_stream()), options(), monkeypatch)
    assert runs.in_halves == 1
    assert two == one
    assert '"rule": "SW101"' in one["report"]


def test_stowage_s_own_output_is_left_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    first = everything("".join(big_stream(extras=frozenset())), options())
    one, two, runs = both_ways(first["output"], options(), monkeypatch)
    assert runs.in_halves == 1
    assert two == one
    assert two["changed"] == []


@pytest.mark.parametrize("at", [3, 35], ids=["in this process's half", "in the child's half"])
def test_a_bad_document_is_refused_with_the_same_message(
    at: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = big_stream()
    docs[at] = docs[at].replace("containers:\n", "containers: 7\n  unused:\n", 1)
    one, two, _ = both_ways("".join(docs), options(), monkeypatch)
    assert two == one
    assert f"document {at + 1} (Deployment/w{at})" in one["error"]


def test_a_kind_the_text_does_not_show_whole_goes_back_to_one_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The split goes by a document's `kind:` line; YAML may read more than that line
    (a plain scalar folded over two lines). The child then hands the run back."""
    docs = big_stream(extras=frozenset())
    docs[30] = docs[30].replace("kind: Deployment\n", "kind: Deployment\n  Set\n")
    one, two, runs = both_ways("".join(docs), options(), monkeypatch)
    assert runs.in_halves == 0
    assert two == one
    assert one["workloads"][-1][1] == 39 and len(one["workloads"]) == 39


def test_duplicate_kind_lines_are_refused_the_same_way(monkeypatch: pytest.MonkeyPatch) -> None:
    docs = big_stream(extras=frozenset())
    docs[30] += "kind: ConfigMap\n"
    one, two, _ = both_ways("".join(docs), options(), monkeypatch)
    assert two == one
    assert "duplicate key 'kind'" in one["error"]


def test_a_plan_in_json_style_is_read_before_the_split(monkeypatch: pytest.MonkeyPatch) -> None:
    """A document with no block-style `kind:` line may be the plan ConfigMap."""
    plan = "---\n" + json.dumps(plan_configmap(CONFIG)) + "\n"
    one, two, runs = both_ways(plan + "".join(big_stream()), options(None), monkeypatch)
    assert runs.in_halves == 1
    assert two == one
    assert "/outputs" in two["output"]


def test_kinds_the_config_declares_stay_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    config = json.loads(json.dumps(CONFIG))
    config["kinds"] = [
        {"group": "apps", "kind": "Deployment", "podSpecs": [{"path": "spec.template.spec"}]}
    ]
    assert halves.second_half(split("".join(big_stream())), _merged(config)) == []
    one, two, _ = both_ways("".join(big_stream()), options(config), monkeypatch)
    assert two == one


def _merged(config: dict[str, Any]) -> Any:
    from stowage.plan import plan

    return plan.merge_layers([Layer("test", config)], {})


def test_a_failing_child_leaves_the_run_to_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    parent = os.getpid()
    real = halves.attach_part

    def fails_in_the_child(*args: Any) -> Any:
        if os.getpid() != parent:
            os._exit(3)
        return real(*args)

    monkeypatch.setattr(halves, "attach_part", fails_in_the_child)
    one, two, runs = both_ways("".join(big_stream()), options(), monkeypatch)
    assert runs.in_halves == 0
    assert two == one


def test_workloads_that_do_not_line_up_leave_the_run_to_one_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = halves.attach_part

    def shifted(*args: Any) -> halves.Part:
        part = real(*args)
        part.sites = part.sites[1:]
        return part

    monkeypatch.setattr(halves, "attach_part", shifted)
    one, two, runs = both_ways("".join(big_stream()), options(), monkeypatch)
    assert runs.in_halves == 0
    assert two == one


def test_one_cpu_never_forks(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fork() -> int:
        raise AssertionError("forked")

    monkeypatch.setattr(parallel, "cpus", lambda: 1)
    monkeypatch.setattr(os, "fork", no_fork)
    monkeypatch.setattr(halves, "MIN_DOCUMENTS", 2)
    assert not halves.worth_trying(split("".join(big_stream())), validate(CONFIG, "test"))
    assert "/outputs" in everything("".join(big_stream()), options())["output"]


def rendered_charts() -> Iterator[Path]:
    yield from sorted((TESTS / "golden" / "helm4").glob("*.yaml"))


@pytest.mark.parametrize("chart", list(rendered_charts()), ids=lambda p: p.stem)
def test_our_chart_s_renders_run_again_the_same_way(
    chart: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chart's plan comes from the stream; owl's templates stay in this process."""
    text = chart.read_text()
    plain = [d for d in yaml.safe_load_all(text) if d and d.get("kind") in halves.PLAIN_KINDS]
    one, two, runs = both_ways(text, options(None), monkeypatch)
    assert two == one
    assert runs.in_halves == (len(plain) >= 2), len(plain)


@pytest.mark.parametrize("config", [None, {"persistence": CONFIG["persistence"]}])
def test_a_stream_with_nothing_to_attach_is_split_once(
    config: dict[str, Any] | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Declining costs no second copy of the stream (100,000 documents: 50 MB)."""
    splits: list[int] = []
    real = manifests.split_input

    def counted(text: str, limits: Any, reading: Any) -> Any:
        splits.append(1)
        return real(text, limits, reading)

    monkeypatch.setattr(halves, "MIN_DOCUMENTS", 2)
    monkeypatch.setattr(pods_reading, "split_input", counted)
    outcome = run("".join(big_stream()), options(config))
    assert not outcome.changed
    assert len(splits) == 1


@pytest.mark.parametrize("config", [None, {"targets": {}}], ids=["no-plan", "no-targets"])
def test_a_large_stream_with_nothing_to_attach_is_parsed_once(
    config: dict[str, Any] | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no target there is nothing for a second process to attach: the stream is not
    handed to it, so what the checks parsed is never forgotten and parsed again (it once
    was, and 30,000 untargeted documents took 60% more CPU)."""
    monkeypatch.setattr(halves, "MIN_DOCUMENTS", 2)
    monkeypatch.setattr(parallel, "cpus", lambda: 2)
    text = "".join(big_stream(count=20))
    before = manifests.parse_count()
    everything(text, options(config))
    assert manifests.parse_count() - before == 20


def test_the_child_sends_back_each_document_attached_and_rendered() -> None:
    """What the second process returns is what one process makes of its documents."""
    from stowage.plan import plan

    web = workload("Deployment", "w0", WEB, pod_spec(set()))
    other = workload("Job", "other", {"app": "other"}, pod_spec(set()))
    part = halves.attach_part(split(dump_all(web, other)), plan.build(_merged(CONFIG)))
    assert part.changed == [True, False]
    assert part.rendered[1] is None
    rendered = part.rendered[0]
    assert rendered is not None
    assert rendered == write(run(dump_all(web), options()).stream)
    assert yaml.safe_load(rendered) == part.bodies[0]
    assert part.sites == [(0, ("spec", "template", "spec")), (1, ("spec", "template", "spec"))]
    assert [a.role if a else None for a in part.each] == ["web", None]


def test_the_child_refuses_a_document_whose_kind_its_text_does_not_show_whole() -> None:
    from stowage.plan import plan

    text = dump_all(workload("Deployment", "w0", WEB, pod_spec(set())))
    folded = text.replace("kind: Deployment\n", "kind: Deployment\n  Set\n")
    with pytest.raises(ValueError, match="not the kind its text first names"):
        halves.attach_part(split(folded), plan.build(_merged(CONFIG)))


def test_template_sources_are_matched_the_same_in_two_processes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The Owl ConfigMap stays in this process; SW901 still sees what its source reached."""
    from test_engine_attach import OWL_FRAGMENT

    owl = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "owl-owl-config"},
        "data": {"owl.yaml": OWL_FRAGMENT},
    }
    config = json.loads(json.dumps(CONFIG))
    config["targets"]["pipeline"] = {}
    config["templates"] = [{"preset": "owl", "configMap": {"name": "owl-owl-config"}}]
    text = dump_all(owl) + "".join(big_stream(extras=frozenset()))
    one, two, runs = both_ways(text, options(config), monkeypatch)
    assert runs.in_halves == 1
    assert two == one
    assert "matches no ConfigMap" not in one["text"]
