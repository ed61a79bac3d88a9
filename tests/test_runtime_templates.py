"""Pod templates kept in ConfigMap data: Owl's owl.yaml, dask-kubernetes' classic config,
Airflow's pod_template_file.yaml, explicit sites, JSON keys. The consumer must read the
key as before: only what stowage added changes, `${VAR}` stays a plain scalar."""

from __future__ import annotations

import difflib
import json
import re
from typing import Any

import pytest
import yaml

from enginehelpers import DATA, OUTPUTS, deployment, dump_all, load_all, output, render
from stowage.engine import Outcome
from stowage.pods.podspecs import get_in

# owl.yaml as the Owl chart (charts/owl, examples/imaxt) renders it: a pipeline
# fragment (volumes, volumeMounts, a pod-level securityContext, an empty extraEnv)
# and the per-run Dask templates, with comments and ${VAR} in plain scalars.
OWL_YAML = """\
token: "fixture-token"
loglevel: DEBUG
dbi: sqlite:////var/run/owl/sqlite.db

env:
  OWL_API_SERVICE_HOST: ${OWL_API_SERVICE_HOST}

pipeline:
  securityContext:
    runAsUser: 1000
  resources:
    limits: {cpu: 2, memory: 7G}
  serviceAccountName: owl
  extraEnv:
  volumeMounts:
    - name: owl-config
      mountPath: /etc/owl
    - mountPath: /storage/${USER}
      name: user-storage
  volumes:
    - name: owl-config
      configMap:
        name: owl-owl-config
    - hostPath:
        path: /storage/${USER}
        type: Directory
      name: user-storage

dask:
  kubernetes:
      # See: https://github.com/dask/dask-kubernetes/blob/main/dask_kubernetes/kubernetes.yaml
      name: dask-${JOBID}-{uuid}
      scheduler-template:
        spec:
          restartPolicy: Never
          containers:
            - name: dask-scheduler
              image: ${DASK_IMAGE_SPEC}
              args: [dask-scheduler]
      worker-template:
        metadata:
          labels: {app: dask-worker}
        spec:
          restartPolicy: Never
          containers:
            - name: dask-worker
              image: ${DASK_IMAGE_SPEC}  # set by the launcher
              env:
                - name: JOBID
                  value: ${JOBID}
"""
DASK_YAML = "distributed:\n  worker:\n    daemon: false\n"


def configmap(name: str, data: dict[str, str], labels: dict[str, str] | None = None) -> str:
    meta: dict[str, Any] = {"name": name, **({"labels": labels} if labels else {})}
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}
    return "---\n" + yaml.safe_dump(body, sort_keys=False, width=1000)


def config(templates: list[dict[str, Any]], **targets: dict[str, Any]) -> dict[str, Any]:
    return {
        "persistence": {"data": DATA, "outputs": OUTPUTS},
        "targets": targets,
        "templates": templates,
    }


OWL_CONFIG = config(
    [{"preset": "owl", "configMap": {"name": "owl-owl-config"}}],
    pipeline={},
    dask={},
)


def data_of(outcome: Outcome, name: str) -> dict[str, str]:
    for doc in load_all(output(outcome)):
        if doc["kind"] == "ConfigMap" and doc["metadata"]["name"] == name:
            data: dict[str, str] = doc["data"]
            return data
    raise AssertionError(f"no ConfigMap {name}")


def owl_load(text: str, env: dict[str, str]) -> Any:
    """Owl's loader: ${VAR} is expanded from the environment in plain scalars only."""

    class Loader(yaml.SafeLoader):
        pass

    pattern = re.compile(r".*\$\{([^}]+)\}.*")

    def expand(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> str:
        value = loader.construct_scalar(node)
        return re.sub(r"\$\{([^}]+)\}", lambda m: env.get(m.group(1), ""), str(value))

    Loader.add_implicit_resolver("!env", pattern, None)
    Loader.add_constructor("!env", expand)
    return yaml.load(text, Loader=Loader)


def run_owl() -> tuple[Outcome, str]:
    text = configmap("owl-owl-config", {"owl.yaml": OWL_YAML, "other.yaml": "a: 1 # kept\n"})
    text += configmap("owl-dask-config", {"dask.yaml": DASK_YAML})
    outcome = render(text, OWL_CONFIG)
    assert not outcome.rejected, outcome.findings
    return outcome, data_of(outcome, "owl-owl-config")["owl.yaml"]


def test_owl_preset_attaches_storage_at_the_three_owl_sites() -> None:
    _, text = run_owl()
    owl = yaml.safe_load(text)
    pipeline = owl["pipeline"]
    assert [v["name"] for v in pipeline["volumes"]][-2:] == ["training", "results"]
    assert {m["mountPath"] for m in pipeline["volumeMounts"]} >= {"/data/training", "/outputs"}
    for template in ("scheduler-template", "worker-template"):
        spec = owl["dask"]["kubernetes"][template]["spec"]
        assert [v["name"] for v in spec["volumes"]] == ["training", "results"], template
        mounts = spec["containers"][0]["volumeMounts"]
        assert [m["mountPath"] for m in mounts] == ["/data/training", "/outputs"], template
        env = {e["name"]: e.get("value") for e in spec["containers"][0]["env"]}
        assert json.loads(env["STOWAGE_DATA_PATHS"]) == {"training": "/data/training"}


def test_owl_yaml_changes_only_where_storage_was_added() -> None:
    _, text = run_owl()
    matcher = difflib.SequenceMatcher(None, OWL_YAML.splitlines(), text.splitlines(), False)
    ops = {tag for tag, *_ in matcher.get_opcodes()}
    assert ops == {"equal", "insert"}  # every original line kept, in order, comments too
    added = [
        line
        for tag, _, _, j1, j2 in matcher.get_opcodes()
        if tag == "insert"
        for line in text.splitlines()[j1:j2]
    ]
    assert all(
        re.search(
            r"training|results|outputs|nfs|claim|/o$|STOWAGE|readOnly|server|path|name|env:|volume",
            a,
            re.I,
        )
        for a in added
    ), added


def test_owl_expands_user_in_the_rewritten_owl_yaml() -> None:
    _, text = run_owl()
    owl = owl_load(text, {"USER": "joe", "JOBID": "42"})
    assert {"mountPath": "/storage/joe", "name": "user-storage"} in owl["pipeline"]["volumeMounts"]
    assert owl["dask"]["kubernetes"]["name"] == "dask-42-{uuid}"
    assert "/storage/${USER}" in text and '"/storage/${USER}"' not in text


def test_other_keys_and_configmaps_stay_byte_identical() -> None:
    outcome, _ = run_owl()
    assert data_of(outcome, "owl-owl-config")["other.yaml"] == "a: 1 # kept\n"
    assert [d.ref.name for d in outcome.changed] == ["owl-owl-config"]


def test_fragment_carries_the_env_and_warns_about_node_settings() -> None:
    cfg = dict(OWL_CONFIG, securityContext={"enabled": True}, nodeSelector={"pipeline": {"a": "b"}})
    outcome = render(configmap("owl-owl-config", {"owl.yaml": OWL_YAML}), cfg)
    pipeline = yaml.safe_load(data_of(outcome, "owl-owl-config")["owl.yaml"])["pipeline"]
    assert pipeline["securityContext"]["fsGroup"] == 1000
    assert "nodeSelector" not in pipeline
    # Owl 0.8.3 reads pipeline.extraEnv as name/value pairs: the data-paths env goes there
    assert pipeline["extraEnv"] == [
        {"name": "STOWAGE_DATA_PATHS", "value": '{"training":"/data/training"}'}
    ]
    (finding,) = [f for f in outcome.findings if f.rule == "SW906"]
    assert finding.severity.value == "warning"
    assert "no place for nodeSelector" in finding.message
    placement = next(p for p in outcome.placements if p.workload.startswith("pipeline"))
    assert any("container securityContext" in n for n in placement.notes)
    # the plan reports only what the fragment holds: the env, no node selector
    assert placement.node_selector == {}
    assert [e["name"] for e in placement.env] == ["STOWAGE_DATA_PATHS"]


def test_owl_templates_count_as_many_pods_for_the_access_mode_checks() -> None:
    rwo = {"mountPath": "/data/x", "existingClaim": "x", "accessModes": ["ReadWriteOnce"]}
    cfg = dict(OWL_CONFIG, persistence={"data": {"x": rwo}})
    outcome = render(configmap("owl-owl-config", {"owl.yaml": OWL_YAML}), cfg)
    (finding,) = [f for f in outcome.findings if f.severity.value == "error"]
    assert finding.rule == "SW101"
    where = "template in ConfigMap/owl-owl-config data.owl.yaml"
    why = "(a pod template launched once per run: many at once)"
    assert finding.message == (
        "ReadWriteOnce claim 'x' (declared in the storage plan) is mounted by many pods that "
        f"can run on different nodes: pipeline {where}: pipeline {why}, scheduler {where}: "
        f"dask.kubernetes.scheduler-template.spec {why}, worker {where}: "
        f"dask.kubernetes.worker-template.spec {why}"
    )


def test_running_twice_changes_nothing_more() -> None:
    outcome, _ = run_owl()
    again = render(output(outcome), OWL_CONFIG)
    assert output(again) == output(outcome)


def test_dask_kubernetes_preset_reaches_whole_pod_templates() -> None:
    classic = (
        "kubernetes:\n  worker-template:\n    kind: Pod\n    metadata:\n      labels: {a: b}\n"
        "    spec:\n      containers:\n      - name: dask\n        image: daskdev/dask\n"
        "  scheduler-template:\n    kind: Pod\n    spec:\n      containers:\n"
        "      - name: dask\n        image: daskdev/dask\n"
    )
    cfg = config([{"preset": "dask-kubernetes", "configMap": {"name": "dask-conf"}}], dask={})
    outcome = render(configmap("dask-conf", {"kubernetes.yaml": classic}), cfg)
    loaded = yaml.safe_load(data_of(outcome, "dask-conf")["kubernetes.yaml"])["kubernetes"]
    for template in ("worker-template", "scheduler-template"):
        mounts = loaded[template]["spec"]["containers"][0]["volumeMounts"]
        assert [m["name"] for m in mounts] == ["training", "results"]
    assert loaded["worker-template"]["kind"] == "Pod"


AIRFLOW_POD = """
---
apiVersion: v1
kind: Pod
metadata:
  name: placeholder-name
  labels:
    tier: airflow
    component: worker
    release: airflow
spec:
  containers:
    - envFrom: []
      env:
        - name: AIRFLOW__CORE__EXECUTOR
          value: LocalExecutor
      image: apache/airflow:3.1.6
      imagePullPolicy: IfNotPresent
      name: base
  restartPolicy: Never
"""


def test_airflow_preset_completes_the_pod_template_file() -> None:
    cfg = config(
        [{"preset": "airflow", "configMap": {"name": "airflow-config"}}],
        workers={"matchLabels": {"component": "worker", "tier": "airflow"}},
    )
    outcome = render(configmap("airflow-config", {"pod_template_file.yaml": AIRFLOW_POD}), cfg)
    text = data_of(outcome, "airflow-config")["pod_template_file.yaml"]
    assert text.startswith("\n---\napiVersion: v1\n")
    pod = yaml.safe_load(text)
    assert [v["name"] for v in pod["spec"]["volumes"]] == ["training", "results"]
    assert pod["spec"]["containers"][0]["envFrom"] == []
    assert [p.role for p in outcome.placements] == ["workers"]


def test_explicit_sites_with_a_list_wildcard_and_a_json_key_stay_json() -> None:
    runners = {"runners": [{"pod": {"containers": [{"name": "a"}]}}, {"pod": {"containers": []}}]}
    site = {"path": "runners[*].pod", "target": "runs", "component": "runner"}
    cfg = config([{"configMap": {"name": "c"}, "key": "runners.json", "sites": [site]}], runs={})
    outcome = render(configmap("c", {"runners.json": json.dumps(runners, indent=2)}), cfg)
    text = data_of(outcome, "c")["runners.json"]
    loaded = json.loads(text)
    assert text.startswith('{\n  "runners"')
    for runner in loaded["runners"]:
        assert [v["name"] for v in runner["pod"]["volumes"]] == ["training", "results"]


def test_chart_pod_template_label_goes_through_the_manifests_preset() -> None:
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "p", "labels": {"r": "p"}},
        "spec": {"template": {"spec": {"containers": [{"name": "p"}]}}},
    }
    text = configmap("tpl", {"job.yaml": yaml.safe_dump(job)}, {"stowage.io/pod-template": "true"})
    cfg = config([], pipeline={"matchLabels": {"r": "p"}})
    outcome = render(text, cfg)
    carried = yaml.safe_load(data_of(outcome, "tpl")["job.yaml"])
    spec = get_in(carried, ("spec", "template", "spec"))
    assert [v["name"] for v in spec["volumes"]] == ["training", "results"]


@pytest.mark.parametrize(
    ("templates", "expected"),
    [
        ([{"preset": "owl", "configMap": {"name": "nope"}}], "no ConfigMap with name 'nope'"),
        (
            [{"preset": "owl", "configMap": {"name": "owl-owl-config"}, "key": "x.yaml"}],
            "finds no pod spec",
        ),
        (
            [
                {
                    "configMap": {"name": "owl-owl-config"},
                    "key": "owl.yaml",
                    "sites": [{"path": "pipeline", "shape": "fragment", "target": "ghost"}],
                }
            ],
            "names target 'ghost', which is not in targets",
        ),
    ],
)
def test_template_sources_and_sites_that_match_nothing_warn(
    templates: list[dict[str, Any]], expected: str
) -> None:
    outcome = render(configmap("owl-owl-config", {"owl.yaml": OWL_YAML}), config(templates))
    messages = [f.message for f in outcome.findings if f.rule == "SW901"]
    assert any(expected in m for m in messages), messages


def test_bad_site_path_is_a_usage_error_naming_the_field() -> None:
    from stowage.errors import UsageError

    bad = config([{"configMap": {"name": "c"}, "key": "k", "sites": [{"path": "a..b"}]}])
    with pytest.raises(UsageError, match=r"templates.0.sites.0.path"):
        render(configmap("c", {"k": "a: 1\n"}), bad)


def test_a_template_site_of_the_wrong_shape_is_refused_naming_the_key() -> None:
    from stowage.errors import UsageError

    broken = OWL_YAML.replace("  extraEnv:\n", "  extraEnv:\n  volumeMounts: 3\n").replace(
        "  volumeMounts:\n    - name: owl-config\n      mountPath: /etc/owl\n"
        "    - mountPath: /storage/${USER}\n      name: user-storage\n",
        "",
    )
    with pytest.raises(UsageError, match=r"data.owl.yaml: pipeline.volumeMounts must be a list"):
        render(configmap("owl-owl-config", {"owl.yaml": broken}), OWL_CONFIG)


@pytest.mark.parametrize(
    ("labels", "selected"),
    [({"app": "launcher"}, True), ({"app": "Launcher"}, False), ({"app": "launcher-2"}, False)],
)
def test_template_configmaps_are_selected_by_exact_labels(
    labels: dict[str, str], selected: bool
) -> None:
    site = {"path": "pod", "target": "runs"}
    source = {"configMap": {"matchLabels": {"app": "launcher"}}, "key": "k", "sites": [site]}
    cfg = config([source], runs={})
    text = configmap("c", {"k": "pod:\n  containers:\n  - name: a\n"}, labels)
    outcome = render(text, cfg)
    assert bool(outcome.placements) is selected


def test_a_configmap_with_malformed_labels_selects_nothing_and_does_not_crash() -> None:
    """Found by the fuzz property: a ConfigMap with `labels: true` whose data mentions
    `containers:` was parsed without its shape check (as if of an unknown kind) and
    crashed the built-in template selector. Known kinds are only read checked."""
    config = {"persistence": {"data": DATA}, "targets": {"any": {"matchLabels": {"app": "x"}}}}
    broken = {"apiVersion": "v1", "kind": "ConfigMap",
              "metadata": {"labels": True, "name": "c"},
              "data": {"pod.yaml": "kind: Pod\nspec:\n  containers: []\n"}}  # fmt: skip
    outcome = render(dump_all(broken), config)
    assert not outcome.changed


def test_sw906_judges_every_fragment_after_workloads_and_fragments_it_passes() -> None:
    fragments = "plain:\n  volumes: []\npooled:\n  volumes: []\n"
    sites = [
        {"path": "plain", "shape": "fragment", "target": "plain"},
        {"path": "pooled", "shape": "fragment", "target": "pooled"},
    ]
    role = {"stowage.io/role": "web"}
    web = deployment("web", role)
    cfg = {
        **config([{"configMap": {"name": "launcher"}, "key": "pods.yaml", "sites": sites}]),
        "targets": {"web": {"matchLabels": role}, "plain": {}, "pooled": {}},
        "nodeSelector": {"web": {"pool": "web"}, "pooled": {"pool": "gpu"}},
        "tolerations": {"pooled": [{"key": "gpu", "operator": "Exists"}]},
    }
    text = dump_all(web) + configmap("launcher", {"pods.yaml": fragments})
    outcome = render(text, cfg)
    found = [(f.message, f.fix) for f in outcome.findings if f.rule == "SW906"]
    assert found == [
        (
            "pod template in ConfigMap/launcher data.pods.yaml: pooled: the launcher builds "
            "its pods from this fragment, which has no place for nodeSelector, tolerations: "
            "the planned settings never reach those pods",
            "enforce them with admission policies (`stowage admission`), or drop the node "
            "pool's settings if these pods may run on any node",
        )
    ]
