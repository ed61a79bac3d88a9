"""The admission policies on a real kube-apiserver, controller-manager and scheduler (1.37).

What is proved here and nowhere else: the API server accepts every policy stowage
writes (it compiles the CEL and refuses a policy over the cost budget at creation);
pods the real controllers create from manifests stowage never saw get what the
post-renderer writes into templates; Owl's own pipeline Job and Dask pods get storage
and node pools; the shared ReadWriteOnce case is refused with SW101's message; a waiver
and `Warn` admit it; `helm uninstall` removes the policies.
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import kcluster  # cluster/, put on sys.path by tests/e2e/conftest.py
import pytest
import yaml

from conftest import CHART, EXAMPLES, ROOT, THIRD_PARTY, TOOLS, Helm, _helm_env
from e2e.admission_kube import Kube, dump, in_namespace, load, storage_view
from owl_oracle import ORACLE_PYTHON, owl_pods, owl_yaml_of
from stowage.admission.operators import OPERATORS

pytestmark = pytest.mark.slow
STOWAGE = ROOT / ".venv" / "bin" / "stowage"
TOKEN = "e2e-token-0123456789abcdef"
ADMITTED = "stowage.io/admitted-by"


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kube]:
    # A cluster of its own: the policies here are cluster-scoped, and other modules' pods
    # must not meet them.
    cluster = kcluster.Cluster.start(tmp_path_factory.mktemp("cluster"), kcluster.build())
    try:
        yield Kube(cluster.kubeconfig)
    finally:
        cluster.stop()


@pytest.fixture(scope="module", autouse=True)
def crds_installing() -> None:
    """Not the session cluster's CRDs (conftest starts their creation for every e2e test,
    on the session's `kube`, which this module replaces with its own cluster): the
    operator tests here create the CRDs they need in this module's cluster."""


def helm_template(tmp_path: Path, *args: str) -> str:
    env = _helm_env(tmp_path / "helm-home")
    proc = subprocess.run(
        [str(TOOLS / "helm3"), "template", *args],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    return without_fail_closed_guard(proc.stdout)


def without_fail_closed_guard(text: str) -> str:
    """The chart's render as the pods' creators see it here: these tests stand in for a
    release whose post-renderer was forgotten, which the guard (a kind no cluster serves)
    exists to stop at `helm install`; kubectl would refuse the whole apply on it."""
    docs = re.split(r"(?m)^(?=---\s*$)", text)
    return "".join(d for d in docs if "\nkind: PostRendererRequired\n" not in d)


def stowage(*args: str, stdin: str = "", check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [str(STOWAGE), *args], input=stdin, capture_output=True, text=True, check=False
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"stowage {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
    return proc


class Policies:
    """Policies applied for one test, removed after it."""

    def __init__(self, kube: Kube, text: str) -> None:
        self.kube, self.docs = kube, load(text)

    def __enter__(self) -> Policies:
        self.kube.apply(self.docs)
        return self

    def __exit__(self, *_: object) -> None:
        self.kube.run("delete", "-f", "-", "--wait=true", stdin=dump(self.docs))


def admitted(kube: Kube, pod: dict[str, Any], namespace: str) -> None:
    """Wait until the policies act on ``pod`` (the API server loads new policies
    asynchronously): a server-side dry run of it comes back annotated."""

    probe_pod = json.loads(json.dumps(pod))
    for key in ("serviceAccountName", "serviceAccount"):  # it may not exist yet
        probe_pod["spec"].pop(key, None)

    def acts() -> bool:
        probe = kube.run(
            "create", "--dry-run=server", "-o", "json", "-f", "-",
            stdin=dump(in_namespace([probe_pod], namespace)), check=False,
        )  # fmt: skip
        if probe.returncode != 0:
            return False
        return ADMITTED in (json.loads(probe.stdout)["metadata"].get("annotations") or {})

    kube.wait_for(f"the policies to act on {pod['metadata'].get('name')}", acts)


def pod_of(template_owner: dict[str, Any]) -> dict[str, Any]:
    """A bare Pod with the template of a Deployment, Job or StatefulSet."""
    template = template_owner["spec"]["template"]
    metadata = dict(template.get("metadata") or {})
    metadata["name"] = "probe-" + template_owner["metadata"]["name"]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": template["spec"]}


def create_pod(kube: Kube, pod: dict[str, Any], namespace: str) -> dict[str, Any]:
    """``pod`` created in ``namespace`` through the API server: the Pod it stored."""
    stdin = dump(in_namespace([pod], namespace))
    created: dict[str, Any] = json.loads(
        kube.run("create", "-o", "json", "-f", "-", stdin=stdin).stdout
    )
    return created


def refusing(kube: Kube, workload: dict[str, Any]) -> None:
    """Wait until the validating policy is live: a server-side dry run of ``workload``,
    which it must refuse, is refused (the API server loads new policies asynchronously)."""
    kube.wait_for(
        "the validating policy",
        lambda: kube.run("apply", "--dry-run=server", "-f", "-",
                         stdin=dump([workload]), check=False).returncode != 0,
    )  # fmt: skip


def owned_by(pod: dict[str, Any], owner: dict[str, Any]) -> dict[str, Any]:
    """``pod`` as ``owner``'s controller would create it: the Owl preset recognises Owl's
    pipeline pods by their Job. A dry run only: the uid is never looked up."""
    reference = {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": "00000000-0000-0000-0000-000000000000",
    }
    return {**pod, "metadata": {**pod["metadata"], "ownerReferences": [reference]}}


def pods_owned(kube: Kube, namespace: str, workload: dict[str, Any]) -> list[dict[str, Any]]:
    """The pods the controllers made for ``workload`` (its selector's labels)."""
    labels = workload["spec"]["selector"]["matchLabels"] if workload["kind"] != "Job" else {}
    if workload["kind"] == "Job":
        labels = {"batch.kubernetes.io/job-name": workload["metadata"]["name"]}
    selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))

    def found() -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = kube.get("pods", "-n", namespace, "-l", selector)["items"]
        return items

    return list(kube.wait_for(f"pods of {workload['kind']}/{workload['metadata']['name']}", found))


WORKLOAD_KINDS = ("Deployment", "StatefulSet", "Job")


def workloads(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in docs if d.get("kind") in WORKLOAD_KINDS]


def without_hooks(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        d
        for d in docs
        if "helm.sh/hook" not in ((d.get("metadata") or {}).get("annotations") or {})
    ]


# ---------------------------------------------------------------------------- acceptance


def accepted_examples() -> list[Path]:
    return sorted(p for p in EXAMPLES.glob("*.yaml") if not p.name.startswith("rejected-"))


def test_the_api_server_accepts_every_example_s_policies(kube: Kube, tmp_path: Path) -> None:
    """Creating a policy compiles its CEL and checks its cost against the API server's
    budget: any error there would refuse it. Server-side dry runs, so nothing stays."""
    for example in accepted_examples():
        rendered = helm_template(tmp_path, "ml", str(CHART), "-f", str(example))
        text = stowage("admission", "--quiet", stdin=rendered).stdout
        created = kube.run("create", "--dry-run=server", "-f", "-", stdin=text, check=False)
        assert created.returncode == 0, f"{example.name}: {created.stderr}"
        kinds = [d["kind"] for d in load(text)]
        assert kinds.count("MutatingAdmissionPolicy") >= 1, example.name
        assert kinds[-2:] == ["ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"]


# ---------------------------------------------------------------------------- the diff


def render_both(rendered: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str]:
    """The stream as Helm renders it, as stowage post-renders it, and its policies."""
    post = stowage("--quiet", stdin=rendered).stdout
    policies = stowage("admission", "--quiet", stdin=rendered).stdout
    return without_hooks(load(rendered)), without_hooks(load(post)), policies


def assert_pods_match_templates(
    kube: Kube, raw: list[dict[str, Any]], post: list[dict[str, Any]], names: tuple[str, str]
) -> int:
    """Apply the raw stream in one namespace and the post-rendered one in another; every
    pod the controllers create from the raw workloads carries what the post-renderer
    wrote into the same workload's template, and a pod made from the post-rendered
    template is left as the template says (never doubled)."""
    bare, rendered = names
    for name in names:
        kube.namespace(name)
    first = next(w for w in workloads(raw))
    admitted(kube, pod_of(first), bare)
    kube.apply(raw, bare)
    kube.apply(post, rendered)
    compared = 0
    for raw_workload, post_workload in zip(workloads(raw), workloads(post), strict=True):
        template = storage_view(post_workload["spec"]["template"]["spec"])
        for namespace, workload in ((bare, raw_workload), (rendered, post_workload)):
            for pod in pods_owned(kube, namespace, workload):
                label = f"{workload['kind']}/{workload['metadata']['name']} in {namespace}"
                assert storage_view(pod["spec"]) == template, label
                assert pod["metadata"]["annotations"][ADMITTED].startswith("stowage-"), label
                compared += 1
    return compared


PLATFORM_EXAMPLES = [p.name for p in accepted_examples() if "storage-only" not in p.name]


@pytest.mark.parametrize("example", PLATFORM_EXAMPLES)
def test_controllers_pods_get_what_the_post_renderer_writes_owl_chart(
    kube: Kube, tmp_path: Path, example: str
) -> None:
    """Deployment -> ReplicaSet -> Pod for the chart's scheduler and API, for every
    values example (pools, per-target dataRefs, per-user and cloud storage, auto-mount,
    a non-root securityContext)."""
    stem = Path(example).stem
    rendered = helm_template(
        tmp_path,
        "owl",
        str(CHART),
        "-n",
        stem,
        "-f",
        str(EXAMPLES / example),
        "--set",
        "tests.enabled=false",
    )  # fmt: skip  (the namespace names the example's PersistentVolumes)
    raw, post, policies = render_both(rendered)
    with Policies(kube, policies):
        compared = assert_pods_match_templates(kube, raw, post, (f"{stem}-bare", f"{stem}-post"))
    assert compared >= 4  # scheduler and API, each in both namespaces


def test_controllers_pods_get_what_the_post_renderer_writes_dask_chart(
    kube: Kube, tmp_path: Path
) -> None:
    """A chart stowage does not own (dask/helm-chart) with the storage-only example."""
    storage = helm_template(
        tmp_path, "dask", str(CHART), "-f", str(EXAMPLES / "storage-only-dask.yaml")
    )
    rendered = storage + (THIRD_PARTY / "dask.rendered.yaml").read_text()
    raw, post, policies = render_both(rendered)
    with Policies(kube, policies):
        compared = assert_pods_match_templates(kube, raw, post, ("dask-bare", "dask-rendered"))
    assert compared >= 6  # scheduler, worker and Jupyter Deployments, in both namespaces


RUNS_CONFIG = """
persistence:
  data:
    ds: {mountPath: /data, hostPath: /srv/data, readOnly: true}
  outputs:
    out: {mountPath: /out, nfs: {server: 10.0.0.5, path: /x}}
targets:
  runs: {matchLabels: {team: ml}, pool: experiments}
nodeSelector:
  experiments: {node-pool: experiments}
tolerations:
  experiments:
  - {key: dedicated, operator: Equal, value: experiments, effect: NoSchedule}
affinity:
  experiments:
    podAntiAffinity:
      preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 10
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector: {matchLabels: {team: ml}}
securityContext: {enabled: true, user: 1234, group: 1234}
"""
RUNS = """
apiVersion: batch/v1
kind: Job
metadata: {name: train}
spec:
  template:
    metadata: {labels: {team: ml}}
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox, env: [{name: A, value: "1"}]}]
      initContainers: [{name: init, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata: {name: notebook, labels: {team: ml}}
spec:
  restartPolicy: Never
  containers: [{name: main, image: busybox, env: [{name: A, value: "1"}]}]
  initContainers: [{name: init, image: busybox}]
"""


def test_job_and_bare_pod_get_what_the_post_renderer_writes(kube: Kube, tmp_path: Path) -> None:
    """Job -> Pod and a bare Pod, selected by a config's targets (pool, affinity, a
    securityContext for init containers too)."""
    config = tmp_path / "storage.yaml"
    config.write_text(RUNS_CONFIG)
    manifests = load(RUNS)
    rendered = dump(manifests)
    post = load(stowage("--quiet", f"--config={config}", stdin=rendered).stdout)
    policies = stowage("admission", "--quiet", f"--config={config}", stdin=rendered).stdout
    kube.namespace("runs")
    with Policies(kube, policies):
        admitted(kube, pod_of(manifests[0]), "runs")
        kube.apply(manifests, "runs")
        job_pod = pods_owned(kube, "runs", manifests[0])[0]
        assert storage_view(job_pod["spec"]) == storage_view(post[0]["spec"]["template"]["spec"])
        bare = kube.get("pod", "notebook", "-n", "runs")
        assert storage_view(bare["spec"]) == storage_view(post[1]["spec"])
        # The scheduler follows the pool the policy set: an experiments node.
        placed = kube.wait_for(
            "the bare pod to be scheduled",
            lambda: kube.get("pod", "notebook", "-n", "runs")["spec"].get("nodeName"),
        )
        assert str(placed).startswith("experiments-")


# ---------------------------------------------------------------------------- Owl's own pods


OWL_EXAMPLES = ("production.yaml", "per-user-hostpath.yaml")


@pytest.mark.skipif(not ORACLE_PYTHON.exists(), reason="the Owl oracle venv is absent")
@pytest.mark.parametrize("example", OWL_EXAMPLES)
def test_owl_pipeline_job_and_dask_pods_get_storage_and_pools(
    kube: Kube, tmp_path: Path, example: str
) -> None:
    """Owl's Job builder and dask-kubernetes, run on an owl.yaml stowage never rewrote,
    build pods without storage or pools; at admission they get both, the same as the
    pods Owl builds from the post-rendered owl.yaml (where the fragment could carry no
    pool), and per-user storage for the user Owl records (env USER, label `user`)."""
    namespace = f"owl-{Path(example).stem}"
    rendered = helm_template(
        tmp_path, "owl", str(CHART), "-n", namespace, "-f", str(EXAMPLES / example),
        "--set", "tests.enabled=false",
    )  # fmt: skip
    raw, post, policies = render_both(rendered)
    env = ("--env", f"OWL_TOKEN={TOKEN}", "--namespace", namespace)
    (tmp_path / "raw").mkdir()
    (tmp_path / "post").mkdir()
    bare = owl_pods(owl_yaml_of(rendered), "joe", tmp_path / "raw", *env, manifest=rendered)
    post_text = dump(post)
    done = owl_pods(owl_yaml_of(post_text), "joe", tmp_path / "post", *env, manifest=post_text)
    for pod in (bare["daskSchedulerPod"], *bare["daskWorkerPods"]):
        pod.update({"apiVersion": "v1", "kind": "Pod"})  # the client's dict has neither
    config = json.loads(next(d for d in raw if d["kind"] == "ConfigMap" and
                             "plan.json" in d.get("data", {}))["data"]["plan.json"])  # fmt: skip
    kube.namespace(namespace)
    with Policies(kube, policies):
        kube.apply([d for d in raw if d["kind"] in ("ServiceAccount", "ConfigMap")], namespace)
        admitted(kube, bare["daskWorkerPods"][0], namespace)
        job = bare["pipelineJob"]
        # Each target has its own policy, loaded on its own: wait for the pipeline's too.
        admitted(kube, owned_by(pod_of(job), job), namespace)
        kube.apply([job], namespace)
        pod = pods_owned(kube, namespace, job)[0]["spec"]
        view = storage_view(pod)
        expected = storage_view(done["pipelineJob"]["spec"]["template"]["spec"])
        assert view["volumes"] == expected["volumes"]
        # What the post-renderer wrote into the fragment; Owl 0.8.3's Job builder drops
        # its seccompProfile, admission gives it back.
        fragment = yaml.safe_load(owl_yaml_of(post_text))["pipeline"]
        assert view["securityContext"] == fragment["securityContext"]
        mounts = view["containers"]["jobcontainer"]["mounts"]
        assert mounts == expected["containers"]["jobcontainer"]["mounts"]
        assert view["nodeSelector"] == config["nodeSelector"].get("pipeline", {})
        wanted_tolerations = config["tolerations"].get("pipeline", [])
        assert len(view["tolerations"]) == len(wanted_tolerations)
        if "per-user" in example:
            assert any("/storage/joe" in json.dumps(v) for v in view["volumes"].values())
        for built, reference in zip(
            [bare["daskSchedulerPod"], *bare["daskWorkerPods"]],
            [done["daskSchedulerPod"], *done["daskWorkerPods"]],
            strict=True,
        ):
            created = create_pod(kube, built, namespace)
            got, want = storage_view(created["spec"]), storage_view(reference["spec"])
            for key in ("volumes", "nodeSelector", "tolerations"):
                assert got[key] == want[key], (created["metadata"]["name"], key)
            # dask-kubernetes' 2021 client drops seccompProfile too; admission restores it
            assert got["securityContext"] == fragment["securityContext"]


# ---------------------------------------------------------------------------- SW101


def rwo_case(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    config = tmp_path / "rwo.yaml"
    config.write_text(
        json.dumps(
            {
                "persistence": {"data": {"features": {"mountPath": "/features",
                                                      "claim": {"size": "1Gi"}}}},
                "targets": {"workers": {"matchLabels": {"app": "workers"}}},
            }
        )
    )  # fmt: skip
    labels = {"app": "workers"}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "workers", "namespace": "rwo"},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "w", "image": "busybox"}]},
            },
        },
    }
    return config, deployment


def test_a_shared_read_write_once_claim_is_refused_with_sw101(kube: Kube, tmp_path: Path) -> None:
    config, deployment = rwo_case(tmp_path)
    rendered = dump([deployment])
    check = stowage("check", f"--config={config}", stdin=rendered, check=False)
    assert check.returncode == 1 and "SW101" in check.stderr
    policies = stowage("admission", f"--config={config}", stdin=rendered, check=False)
    assert policies.returncode == 1 and policies.stdout == ""  # rejected: nothing printed
    text = stowage("admission", f"--config={config}", stdin="").stdout
    kube.namespace("rwo")
    with Policies(kube, text):

        def refused() -> str:
            proc = kube.run("apply", "--dry-run=server", "-f", "-", stdin=rendered, check=False)
            return proc.stderr if proc.returncode != 0 else ""

        message = kube.wait_for("the validating policy to refuse the Deployment", refused)
        assert "SW101 Deployment/workers -n rwo: ReadWriteOnce claim 'stowage-features'" in message
        assert "is mounted by 3 pods that can run on different nodes" in message
        assert "fix: use ReadWriteMany storage" in message
        # One replica, or pinned to one node, is fine; so is a waiver with its reason.
        one = json.loads(json.dumps(deployment))
        one["spec"]["replicas"] = 1
        kube.run("apply", "--dry-run=server", "-f", "-", stdin=dump([one]))
        pinned = json.loads(json.dumps(deployment))
        pinned["spec"]["template"]["spec"]["nodeSelector"] = {"kubernetes.io/hostname": "core-1"}
        kube.run("apply", "--dry-run=server", "-f", "-", stdin=dump([pinned]))
        waived = json.loads(json.dumps(deployment))
        waived["metadata"]["annotations"] = {"waive.stowage.io/SW101": "scratch data, one node"}
        kube.run("apply", "--dry-run=server", "-f", "-", stdin=dump([waived]))
        opted_out = json.loads(json.dumps(deployment))
        opted_out["spec"]["template"]["metadata"]["annotations"] = {"stowage.io/skip": "true"}
        kube.run("apply", "--dry-run=server", "-f", "-", stdin=dump([opted_out]))


def test_warn_admits_a_shared_claim_with_sw101_as_a_warning(kube: Kube, tmp_path: Path) -> None:
    config, deployment = rwo_case(tmp_path)
    layered = tmp_path / "warn.yaml"
    layered.write_text(json.dumps({"admission": {"validationActions": ["Warn"], "name": "warn"}}))
    text = stowage("admission", f"--config={config}", f"--config={layered}", stdin="").stdout
    kube.namespace("rwo")
    with Policies(kube, text):

        def warned() -> str:
            proc = kube.run("apply", "--dry-run=server", "-f", "-", stdin=dump([deployment]))
            return proc.stderr if "SW101" in proc.stderr else ""

        assert "Warning" in kube.wait_for("the SW101 warning", warned)


# ---------------------------------------------------------------------------- the release


POLICY_RESOURCES = (
    "mutatingadmissionpolicies",
    "mutatingadmissionpolicybindings",
    "validatingadmissionpolicies",
    "validatingadmissionpolicybindings",
)


def test_helm_uninstall_removes_the_policies(kube: Kube, helm: Helm) -> None:
    """Helm 3 (the executable) and Helm 4 (the plugin): the release carries the
    policies, bound to its namespace, and uninstall removes them."""
    helm.env["KUBECONFIG"] = str(kube.kubeconfig)
    if helm.major == 4:
        helm.run("plugin", "install", str(ROOT / "postrenderer"))
    renderer = "stowage" if helm.major == 4 else str(STOWAGE)
    release, namespace = f"rel{helm.major}", f"release{helm.major}"

    def ours() -> list[str]:
        names = []
        for kind in POLICY_RESOURCES:
            names += [i["metadata"]["name"] for i in kube.get(kind)["items"]]
        return sorted(n for n in names if n.startswith(f"{release}-stowage-"))

    helm.run(
        "install", release, str(CHART), "-n", namespace, "--create-namespace",
        "--set", "admission.enabled=true", "--set", "tests.enabled=false",
        "--post-renderer", renderer,
    )  # fmt: skip
    installed = ours()
    assert f"{release}-stowage-checks" in installed
    assert f"{release}-stowage-scheduler" in installed
    binding = kube.get("validatingadmissionpolicybinding", f"{release}-stowage-checks")
    selector = binding["spec"]["matchResources"]["namespaceSelector"]["matchExpressions"]
    assert {"key": "kubernetes.io/metadata.name", "operator": "In", "values": [namespace]} in (
        selector
    )
    helm.run("uninstall", release, "-n", namespace, "--wait")
    assert ours() == []


# ---------------------------------------------------------------------------- per-user, cost

HOMES_CONFIG = """
persistence:
  data:
    home: {mountPath: "/home/${USER}", hostPath: "/srv/home/${USER}"}
targets:
  notebooks: {matchLabels: {app: notebook}}
"""


def notebook(name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [{"name": "nb", "image": "jupyter"}]},
    }


def test_per_user_storage_comes_from_the_user_label(kube: Kube, tmp_path: Path) -> None:
    """`${USER}` is the pod's stowage.io/user label; a pod without a safe one is refused
    with SW401's rule ID rather than mounting /home/ (every user's data)."""
    config = tmp_path / "homes.yaml"
    config.write_text(HOMES_CONFIG)
    text = stowage("admission", f"--config={config}", stdin="").stdout
    kube.namespace("homes")
    with Policies(kube, text):
        ann = notebook("ann", {"app": "notebook", "stowage.io/user": "ann"})
        admitted(kube, ann, "homes")
        created = create_pod(kube, ann, "homes")
        view = storage_view(created["spec"])
        assert view["volumes"]["home"]["hostPath"]["path"] == "/srv/home/ann"
        assert view["containers"]["nb"]["mounts"] == [("home", "/home/ann", False, "")]
        # The API server loads each policy on its own: the mutating one acting (above)
        # does not mean the validating one does yet, so wait for its first refusal.
        for name, labels in (("nobody", {"app": "notebook"}),
                             ("bad", {"app": "notebook", "stowage.io/user": "a.b"})):  # fmt: skip
            pod = dump(in_namespace([notebook(name, labels)], "homes"))
            refusal = kube.wait_for(f"the validating policy to refuse {name}",
                                    partial(_refusal, kube, pod))  # fmt: skip
            assert "SW401 Pod/" in refusal and "stowage.io/user" in refusal, name


def _refusal(kube: Kube, manifest: str) -> str:
    """The API server's refusal of ``manifest`` (a server-side dry run), "" if admitted."""
    proc = kube.run("create", "--dry-run=server", "-f", "-", stdin=manifest, check=False)
    return proc.stderr if proc.returncode != 0 else ""


def test_a_large_plan_stays_within_the_cel_cost_budget(kube: Kube, tmp_path: Path) -> None:
    """40 data volumes, 20 targets, stores, pools and a securityContext: the API server
    estimates each expression's worst-case cost at creation and refuses a policy over its
    budget; these are accepted, and a pod with many containers is mutated in budget as
    the post-renderer would."""
    data = {
        f"d{i:02}": {"mountPath": f"/data/d{i:02}", "existingClaim": f"claim-{i:02}",
                     "accessModes": ["ReadWriteOnce"]}
        for i in range(40)
    }  # fmt: skip
    data["bucket"] = {"store": "s3", "bucket": "s3://b", "secret": "s3", "secretKey": "creds"}
    targets = {f"t{i:02}": {"matchLabels": {"team": f"t{i:02}"}, "pool": "experiments"}
               for i in range(20)}  # fmt: skip
    config = tmp_path / "large.yaml"
    config.write_text(
        json.dumps(
            {
                "persistence": {"data": data, "outputs": {"out": {"mountPath": "/out",
                                                                  "claim": {"size": "1Gi"}}}},
                "targets": targets,
                "nodeSelector": {"experiments": {"node-pool": "experiments"}},
                "tolerations": {"experiments": [{"key": "dedicated", "operator": "Exists"}]},
                "securityContext": {"enabled": True},
            }
        )
    )  # fmt: skip
    text = stowage("admission", f"--config={config}", stdin="").stdout
    created = kube.run("create", "--dry-run=server", "-f", "-", stdin=text, check=False)
    assert created.returncode == 0, created.stderr
    kube.namespace("large")
    with Policies(kube, text):
        pod = notebook("wide", {"team": "t19"})
        pod["spec"]["containers"] = [{"name": f"c{i}", "image": "busybox"} for i in range(20)]
        admitted(kube, pod, "large")
        made = create_pod(kube, pod, "large")
        view = storage_view(made["spec"])
        rendered = stowage("--quiet", f"--config={config}", stdin=dump([pod])).stdout
        assert view == storage_view(load(rendered)[0]["spec"])
        assert len(view["volumes"]) == 41  # 40 claims and outputs; the bucket is env only
        env = view["containers"]["c7"]["env"]
        assert env["STOWAGE_STORE_BUCKET"] == {"secretKeyRef": {"name": "s3", "key": "creds"}}


def _kind_variant(deployment: dict[str, Any], kind: str, **spec: Any) -> dict[str, Any]:
    """The RWO case's pod template in another workload kind."""
    template = deployment["spec"]["template"]
    template = {**template, "spec": {**template["spec"], "restartPolicy": "Never"}}
    meta = {"name": f"{kind.lower()}-case", "namespace": "rwo"}
    selector = deployment["spec"]["selector"]
    if kind == "Job":
        return {"apiVersion": "batch/v1", "kind": kind, "metadata": meta,
                "spec": {"template": template, **spec}}  # fmt: skip
    if kind == "CronJob":
        cron = {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": template}}}
        return {"apiVersion": "batch/v1", "kind": kind, "metadata": meta,
                "spec": {**cron, **spec}}  # fmt: skip
    template = deployment["spec"]["template"]
    body: dict[str, Any] = {"selector": selector, "template": template, **spec}
    if kind == "StatefulSet":
        body["serviceName"] = "workers"
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": meta, "spec": body}


SW101_CASES: list[tuple[str, dict[str, Any], str | None]] = [
    ("ReplicaSet", {"replicas": 2}, "2 replicas"),
    ("StatefulSet", {"replicas": 2}, "2 replicas"),
    ("DaemonSet", {}, "a DaemonSet: one pod per node"),
    ("Job", {"parallelism": 3}, "Job parallelism 3"),
    ("Job", {"parallelism": 3, "completions": 1}, None),
    ("CronJob", {}, "a CronJob with concurrencyPolicy Allow: runs overlap"),
    ("CronJob", {"concurrencyPolicy": "Forbid"}, None),
]


def test_sw101_counts_pods_at_once_as_render_time_does(kube: Kube, tmp_path: Path) -> None:
    """Each kind's pods-at-once count, at admission and at render time alike."""
    config, deployment = rwo_case(tmp_path)
    text = stowage("admission", f"--config={config}", stdin="").stdout
    kube.namespace("rwo")
    with Policies(kube, text):
        refusing(kube, deployment)
        for kind, spec, why in SW101_CASES:
            workload = _kind_variant(deployment, kind, **spec)
            manifest = dump([workload])
            proc = kube.run("apply", "--dry-run=server", "-f", "-", stdin=manifest, check=False)
            rendered = stowage("check", f"--config={config}", stdin=manifest, check=False)
            label = f"{kind} {spec}"
            if why is None:
                assert proc.returncode == 0, (label, proc.stderr)
                assert rendered.returncode == 0, (label, rendered.stderr)
            else:
                assert proc.returncode != 0 and f"({why})" in proc.stderr, (label, proc.stderr)
                assert rendered.returncode == 1 and f"({why})" in rendered.stderr, label


def test_an_update_is_judged_only_when_it_changes_the_spec_or_waiver(
    kube: Kube, tmp_path: Path
) -> None:
    """A workload that was admitted before the policy (or under a waiver) keeps being
    updated by its controllers; a change to its spec, or dropping the waiver, is judged."""
    config, deployment = rwo_case(tmp_path)
    deployment["metadata"]["name"] = "updated"
    deployment["metadata"]["annotations"] = {"waive.stowage.io/SW101": "migration window"}
    text = stowage("admission", f"--config={config}", stdin="").stdout
    kube.namespace("rwo")
    with Policies(kube, text):
        kube.wait_for(
            "the validating policy",
            lambda: "SW101" in kube.run("apply", "--dry-run=server", "-f", "-",
                                        stdin=dump([rwo_case(tmp_path)[1]]), check=False).stderr,
        )  # fmt: skip
        kube.apply([deployment])
        target = ["deployment/updated", "-n", "rwo"]
        kube.run("annotate", *target, "owner=data-team")  # metadata only: admitted
        refused = kube.run("annotate", *target, "waive.stowage.io/SW101-", check=False)
        assert refused.returncode != 0 and "SW101" in refused.stderr
        scaled = kube.run(
            "patch", *target, "--type=merge", "-p", '{"spec": {"replicas": 4}}', check=False
        )
        assert scaled.returncode == 0  # still waived
        kube.run("delete", *target)


def test_opt_out_and_data_refs_by_pod_annotation(kube: Kube, tmp_path: Path) -> None:
    """`stowage.io/skip` leaves a pod alone; `stowage.io/data-refs` chooses its data, as
    the same annotations do at render time."""
    config = tmp_path / "storage.yaml"
    config.write_text(RUNS_CONFIG)
    text = stowage("admission", f"--config={config}", stdin="").stdout
    kube.namespace("choices")
    pods = {
        "skipped": {"stowage.io/skip": "true"},
        "chosen": {"stowage.io/data-refs": ""},
    }
    with Policies(kube, text):
        admitted(kube, notebook("probe", {"team": "ml"}), "choices")
        for name, annotations in pods.items():
            pod = notebook(name, {"team": "ml"})
            pod["metadata"]["annotations"] = annotations
            made = create_pod(kube, pod, "choices")
            rendered = stowage("--quiet", f"--config={config}", stdin=dump([pod])).stdout
            assert storage_view(made["spec"]) == storage_view(load(rendered)[0]["spec"]), name
            if name == "skipped":
                assert ADMITTED not in made["metadata"].get("annotations", {})
                assert storage_view(made["spec"])["volumes"] == {}
            else:  # no data chosen: outputs only, and no data-paths env
                assert list(storage_view(made["spec"])["volumes"]) == ["out"]


# ---------------------------------------------------------------------------- config waivers


WAIVERS = [
    {"rule": "SW101", "kind": "Deployment", "name": "train-*", "reason": "scratch data"},
    {"rule": "SW101", "namespace": "rw?", "matchLabels": {"tier": "batch"},
     "reason": "batch tier, one node"},
    {"rule": "SW101", "name": "old-*", "reason": "lapsed", "expires": "2020-01-01"},
]  # fmt: skip
WAIVER_CASES: list[tuple[str, str, dict[str, str], bool]] = [
    ("Deployment", "train-a", {}, True),  # waivers[0]
    ("StatefulSet", "train-b", {}, False),  # waivers[0] is for Deployments only
    ("Deployment", "serve", {}, False),
    ("StatefulSet", "serve", {"tier": "batch"}, True),  # waivers[1], by labels
    ("Deployment", "old-x", {}, False),  # waivers[2] has expired
]


def test_config_waivers_admit_what_render_time_waives(kube: Kube, tmp_path: Path) -> None:
    """The config's `waivers:` list gives the same verdict at admission as `stowage check`."""
    config, deployment = rwo_case(tmp_path)
    layered = tmp_path / "waivers.yaml"
    layered.write_text(json.dumps({"waivers": WAIVERS, "admission": {"name": "waivers"}}))
    configs = (f"--config={config}", f"--config={layered}")
    text = stowage("admission", *configs, stdin="").stdout
    kube.namespace("rwo")
    with Policies(kube, text):
        refusing(kube, deployment)
        for kind, name, labels, waived in WAIVER_CASES:
            workload = _kind_variant(deployment, kind, replicas=3)
            workload["metadata"].update(name=name, labels=labels)
            manifest = dump([workload])
            proc = kube.run("apply", "--dry-run=server", "-f", "-", stdin=manifest, check=False)
            rendered = stowage("check", *configs, stdin=manifest, check=False)
            label = f"{kind}/{name} {labels}"
            assert (rendered.returncode == 0) is waived, (label, rendered.stderr)
            assert (proc.returncode == 0) is waived, (label, proc.stderr)
            if not waived:
                assert f"SW101 {kind}/{name} -n rwo" in proc.stderr, label


# ---------------------------------------------------------------------------- v1beta1

BETA_API = "--runtime-config=admissionregistration.k8s.io/v1beta1=true"


class BetaCluster(kcluster.Cluster):
    """The same control plane, with admissionregistration.k8s.io/v1beta1 served (off by
    default, as on 1.34 and 1.35 clusters that enable MutatingAdmissionPolicy)."""

    def _spawn(self, name: str, args: list[str]) -> None:
        super()._spawn(name, [*args, BETA_API] if name == "kube-apiserver" else args)


def mutated(kube: Kube, version: str, config: Path, pod: dict[str, Any]) -> dict[str, Any]:
    """The spec ``pod`` gets from the API server under the ``version`` policies."""
    assert f"admissionregistration.k8s.io/{version}" in kube.run("api-versions").stdout.split()
    text = stowage("admission", f"--config={config}", "--api-version", version).stdout
    assert {d["apiVersion"] for d in load(text) if "Mutating" in d["kind"]} == {
        f"admissionregistration.k8s.io/{version}"
    }
    kube.namespace("beta")
    with Policies(kube, text):
        admitted(kube, pod, "beta")
        out = kube.run(
            "create", "--dry-run=server", "-o", "json", "-f", "-",
            stdin=dump(in_namespace([pod], "beta")),
        ).stdout  # fmt: skip
    spec: dict[str, Any] = json.loads(out)["spec"]
    return spec


def test_v1beta1_policies_mutate_a_pod_as_v1_does(
    kube: Kube, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """`--api-version v1beta1` (Kubernetes 1.34, 1.35): the API server accepts the
    policies and a pod comes out exactly as under the v1 policies."""
    config = tmp_path / "storage.yaml"
    config.write_text(RUNS_CONFIG)
    pod = notebook("beta", {"team": "ml"})
    v1 = mutated(kube, "v1", config, pod)
    beta_cluster = BetaCluster.start(tmp_path_factory.mktemp("beta-cluster"), kcluster.build())
    try:
        beta = mutated(Kube(beta_cluster.kubeconfig), "v1beta1", config, pod)
    finally:
        beta_cluster.stop()
    assert storage_view(beta) == storage_view(v1)
    assert beta["nodeSelector"] == v1["nodeSelector"] == {"node-pool": "experiments"}
    rendered = stowage("--quiet", f"--config={config}", stdin=dump([pod])).stdout
    assert storage_view(beta) == storage_view(load(rendered)[0]["spec"])


# ---------------------------------------------------------------------------- operator kinds

CRDS = ROOT / "tests" / "fixtures" / "crds"
OPERATOR_CRDS = (
    *(f"training-operator-kubeflow.org_{k}jobs.yaml.gz"
      for k in ("pytorch", "tf", "mpi", "xgboost", "paddle", "jax")),
    *(f"kuberay-ray.io_{k}.yaml.gz" for k in ("rayclusters", "rayjobs", "rayservices")),
    "jobset-jobset.x-k8s.io_jobsets.yaml.gz",
    "lws-leaderworkerset.x-k8s.io_leaderworkersets.yaml.gz",
    "volcano-batch.volcano.sh_jobs.yaml.gz",
    *(f"spark-operator-sparkoperator.k8s.io_{k}.yaml.gz"
      for k in ("sparkapplications", "scheduledsparkapplications", "sparkconnects")),
    *(f"dask-kubernetes-{k}.yaml.gz" for k in ("daskcluster", "daskworkergroup", "daskjob")),
    "argo-workflows-argoproj.io_workflows.yaml.gz",
    "flink-kubernetes-operator-flinkdeployments.flink.apache.org-v1.yaml.gz",
    *(f"kserve-serving.kserve.io_{k}.yaml.gz" for k in (
        "inferenceservices", "servingruntimes", "clusterservingruntimes", "llminferenceservices")),
)  # fmt: skip


def install_crds(kube: Kube) -> None:
    texts = [gzip.decompress((CRDS / name).read_bytes()).decode() for name in OPERATOR_CRDS]
    for text in (*texts, dump([DECLARED_CRD])):
        kube.run("apply", "--server-side", "-f", "-", stdin=text)
        crd = load(text)[0]["metadata"]["name"]
        kube.wait_for(f"CRD {crd} Established", partial(kube.crd_established, crd))


# A kind the config declares (`kinds:`): its CRD is this test's own, like a platform's.
DECLARED_KIND = {
    "group": "example.com",
    "kind": "Trainer",
    "podSpecs": [
        {"component": "worker", "path": "spec.workers[*].template.spec",
         "replicas": "spec.workers[*].replicas"},
        {"component": "role", "path": "spec.roles[*].template.spec",
         "replicas": "spec.roles[*].replicas"},
        {"component": "chief", "path": "spec.chief.template.spec"},
    ],
}  # fmt: skip
DECLARED_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "trainers.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"kind": "Trainer", "plural": "trainers", "singular": "trainer",
                  "listKind": "TrainerList"},
        "versions": [{"name": "v1", "served": True, "storage": True, "schema": {
            "openAPIV3Schema": {"type": "object", "properties": {"spec": {
                "type": "object", "x-kubernetes-preserve-unknown-fields": True}}}}}],
    },
}  # fmt: skip


def declared_case(tmp_path: Path) -> Path:
    """rwo_case's config, declaring the Trainer kind."""
    config, _ = rwo_case(tmp_path)
    data = json.loads(config.read_text())
    config.write_text(json.dumps({**data, "kinds": [DECLARED_KIND]}))
    return config


def _pod(labels: str = "workers", claim: bool = False) -> dict[str, Any]:
    """A pod template the `workers` target selects (``labels`` workers), or its own claim."""
    spec: dict[str, Any] = {"containers": [{"name": "main", "image": "busybox"}]}
    if claim:
        spec["volumes"] = [
            {"name": "f", "persistentVolumeClaim": {"claimName": "stowage-features"}}
        ]
    return {"metadata": {"labels": {"app": labels}}, "spec": spec}


def _job(name: str, replicas: int = 1, parallelism: int = 1, **extra: Any) -> dict[str, Any]:
    template = {"spec": {"parallelism": parallelism, "template": _pod()}}
    return {"name": name, "replicas": replicas, "template": template, **extra}


def _operator(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    meta = {"name": name, "namespace": "rwo"}
    return {"apiVersion": OPERATOR_VERSIONS[kind], "kind": kind, "metadata": meta, "spec": spec}


OPERATOR_VERSIONS = {
    **dict.fromkeys(("PyTorchJob", "TFJob", "MPIJob", "XGBoostJob", "PaddleJob", "JAXJob"),
                    "kubeflow.org/v1"),
    **dict.fromkeys(("RayCluster", "RayJob", "RayService"), "ray.io/v1"),
    "JobSet": "jobset.x-k8s.io/v1alpha2", "LeaderWorkerSet": "leaderworkerset.x-k8s.io/v1",
    "Job": "batch.volcano.sh/v1alpha1",
    **dict.fromkeys(("SparkApplication", "ScheduledSparkApplication"),
                    "sparkoperator.k8s.io/v1beta2"),
    **dict.fromkeys(("DaskCluster", "DaskWorkerGroup", "DaskJob"), "kubernetes.dask.org/v1"),
    "Workflow": "argoproj.io/v1alpha1",
    "Trainer": "example.com/v1",
    "FlinkDeployment": "flink.apache.org/v1beta1",
    "InferenceService": "serving.kserve.io/v1beta1",
    **dict.fromkeys(("ServingRuntime", "ClusterServingRuntime"), "serving.kserve.io/v1alpha1"),
    "LLMInferenceService": "serving.kserve.io/v1alpha2",
    "SparkConnect": "sparkoperator.k8s.io/v1alpha1",
}  # fmt: skip


def _pytorch(worker_labels: str) -> dict[str, Any]:
    worker = {"replicas": 2, "template": _pod(worker_labels)}
    return {"pytorchReplicaSpecs": {"Master": {"replicas": 1, "template": _pod()},
                                    "Worker": worker}}  # fmt: skip


def _ray(head_labels: str, replicas: int) -> dict[str, Any]:
    worker = {"groupName": "w", "replicas": replicas, "template": _pod()}
    return {"headGroupSpec": {"rayStartParams": {}, "template": _pod(head_labels)},
            "workerGroupSpecs": [worker]}  # fmt: skip


def _lws(size: int) -> dict[str, Any]:
    return {"replicas": 1, "leaderWorkerTemplate": {"size": size, "workerTemplate": _pod()}}


ARGO_PARALLEL = {
    "entrypoint": "main",
    "volumes": [{"name": "f", "persistentVolumeClaim": {"claimName": "stowage-features"}}],
    "templates": [
        {"name": "main", "steps": [[{"name": "a", "template": "use"},
                                    {"name": "b", "template": "use"}]]},
        {"name": "use", "container": {"image": "busybox",
                                      "volumeMounts": [{"name": "f", "mountPath": "/f"}]}},
    ],
}  # fmt: skip
AFTER_A = [{"name": "a", "status": "Complete"}]
JS_AFTER = {"replicatedJobs": [_job("a"), _job("b", dependsOn=AFTER_A)]}
# (resource, refused at render time, refused at admission)
OPERATOR_CASES: list[tuple[dict[str, Any], bool, bool]] = [
    (_operator("PyTorchJob", "pt-all", _pytorch("workers")), True, True),  # 1 + 2 pods
    (_operator("PyTorchJob", "pt-master", _pytorch("other")), False, False),  # the master only
    (_operator("RayCluster", "ray-both", _ray("workers", 1)), True, True),  # head + 1 worker
    (_operator("RayCluster", "ray-one", _ray("other", 1)), False, False),
    (_operator("JobSet", "js-together", {"replicatedJobs": [_job("a"), _job("b")]}), True, True),
    (_operator("JobSet", "js-wide", {"replicatedJobs": [_job("a", 2, 2)]}), True, True),
    (_operator("JobSet", "js-after", JS_AFTER), False, False),  # b waits for a
    (_operator("LeaderWorkerSet", "lws-two", _lws(2)), True, True),
    (_operator("LeaderWorkerSet", "lws-one", _lws(1)), False, False),
    # Argo's step groups and DAGs are render time's alone: never refused at admission.
    (_operator("Workflow", "argo-parallel", ARGO_PARALLEL), True, False),
]


def test_sw101_on_operator_kinds_answers_as_render_time(kube: Kube, tmp_path: Path) -> None:
    """PyTorchJob, RayCluster, JobSet and LeaderWorkerSet: refused at admission exactly
    when `stowage check` refuses them, with SW101's rule ID; Argo is not judged."""
    install_crds(kube)
    config, deployment = rwo_case(tmp_path)
    text = stowage("admission", f"--config={config}", stdin="").stdout
    kube.namespace("rwo")
    with Policies(kube, text):
        refusing(kube, deployment)
        for resource, at_render, at_admission in OPERATOR_CASES:
            manifest = dump([resource])
            label = f"{resource['kind']}/{resource['metadata']['name']}"
            rendered = stowage("check", f"--config={config}", stdin=manifest, check=False)
            assert rendered.returncode == (1 if at_render else 0), (label, rendered.stderr)
            proc = kube.run("create", "--dry-run=server", "-f", "-", stdin=manifest, check=False)
            if at_admission:
                assert f"SW101 {label} -n rwo: ReadWriteOnce claim" in proc.stderr, label
            else:
                assert proc.returncode == 0, (label, proc.stderr)


# The kinds added after the first four: each a shared claim (refused) and a safe case
# (admitted), the claim attached by the `workers` target (app=workers) or mounted by
# the template itself. The API server must answer as `stowage check` does, word for word.


def _kubeflow(field: str, roles: dict[str, tuple[int, str]]) -> dict[str, Any]:
    """Replica specs, role -> (replicas, labels), in the order of their names (the API
    server keeps no order of a mapping's keys; admission lists them by name)."""
    return {field: {role: {"replicas": n, "template": _pod(labels)}
                    for role, (n, labels) in sorted(roles.items())}}  # fmt: skip


def _bare_replicas(replicas: int) -> dict[str, Any]:
    template = _pod(claim=True)
    del template["metadata"]
    return {"replicas": replicas, "template": template}


def _ray_cluster(head: str, workers: str, replicas: int = 1) -> dict[str, Any]:
    groups = [{"groupName": g, "replicas": replicas, "template": _pod(workers)} for g in "vw"]
    return {"headGroupSpec": {"rayStartParams": {}, "template": _pod(head)},
            "workerGroupSpecs": groups}  # fmt: skip


def _task(name: str, replicas: int, labels: str = "workers") -> dict[str, Any]:
    template = _pod(labels)
    template["spec"]["restartPolicy"] = "Never"
    return {"name": name, "replicas": replicas, "template": template}


def _spark(driver: str, executor: str, instances: int = 0, **extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "type": "Python", "mode": "cluster", "sparkVersion": "3.5.0", "image": "spark:3.5.0",
        "mainApplicationFile": "local:///opt/spark/examples/src/main/python/pi.py",
        "driver": {"labels": {"app": driver}}, "executor": {"labels": {"app": executor}},
        **extra,
    }  # fmt: skip
    if instances:
        spec["executor"]["instances"] = instances
    return spec


def _spark_own_claim() -> dict[str, Any]:
    """Both Spark pods mount the application's claim; executors up to maxExecutors."""
    spec = _spark("other", "other", dynamicAllocation={"enabled": True, "maxExecutors": 4})
    spec["volumes"] = [{"name": "f", "persistentVolumeClaim": {"claimName": "stowage-features"}}]
    for role in ("driver", "executor"):
        spec[role]["volumeMounts"] = [{"name": "f", "mountPath": "/f"}]
    return spec


def _dask_scheduler(labels: str) -> dict[str, Any]:
    service = {"ports": [{"name": "tcp-comm", "port": 8786, "targetPort": "tcp-comm"}]}
    return {**_pod(labels), "service": service}


def _dask_worker(labels: str, replicas: int) -> dict[str, Any]:
    return {"replicas": replicas, **_pod(labels)}


def _dask_job(workers: str, replicas: int) -> dict[str, Any]:
    cluster = {"scheduler": _dask_scheduler("other"), "worker": _dask_worker(workers, replicas)}
    return {"job": _pod(), "cluster": {"spec": cluster}}


def _flink(job: bool = True, **spec: Any) -> dict[str, Any]:
    """A FlinkDeployment: an application (a job of parallelism 3 on 2-slot task managers:
    2 of them) unless ``job`` is False (a session cluster)."""
    slots = {"taskmanager.numberOfTaskSlots": "2"}
    base: dict[str, Any] = {"image": "flink:1.20", "flinkVersion": "v1_20",
                            "flinkConfiguration": slots}  # fmt: skip
    if job:
        base["job"] = {"jarURI": "local:///opt/flink/job.jar", "parallelism": 3}
    return {**base, **spec}


def _labelled(resource: dict[str, Any], app: str) -> dict[str, Any]:
    resource["metadata"]["labels"] = {"app": app}
    return resource


def _isvc(name: str, labels: str, raw: bool = True, **spec: Any) -> dict[str, Any]:
    """An InferenceService labelled ``labels`` (KServe's components carry no labels of
    their own), a raw Deployment unless ``raw`` is False (serverless: the default)."""
    resource = _labelled(_operator("InferenceService", name, spec), labels)
    if raw:
        resource["metadata"]["annotations"] = {"serving.kserve.io/deploymentMode": "Standard"}
    return resource


SERVER = {"containers": [{"name": "kserve-container", "image": "busybox"}]}


def _cluster_scoped(resource: dict[str, Any]) -> dict[str, Any]:
    del resource["metadata"]["namespace"]
    return resource


def _llm(name: str, labels: str, replicas: int, **spec: Any) -> dict[str, Any]:
    body = {"model": {"uri": "hf://org/model"}, "replicas": replicas, "template": SERVER}
    return _labelled(_operator("LLMInferenceService", name, {**body, **spec}), labels)


MODEL_ON_CLAIM = {"modelFormat": {"name": "sklearn"}, "storageUri": "pvc://stowage-features/m"}


def _spark_connect(server: str, executor: str, instances: int) -> dict[str, Any]:
    return {"sparkVersion": "4.0.0", "server": {"template": _pod(server)},
            "executor": {"instances": instances, "template": _pod(executor)}}  # fmt: skip


FLINK_OWN = {"spec": {"containers": [{"name": "flink-main-container"}]}}
RAY_JOB = {"entrypoint": "python main.py"}
JOB_VOLUMES = [{"mountPath": "/f", "volumeClaimName": "stowage-features"}]
BOTH = {"Master": (1, "workers"), "Worker": (2, "workers")}
MASTER_ONLY = {"Master": (1, "workers"), "Worker": (2, "other")}
# (resource, refused): refused at render time and at admission, with the same message
PARITY_CASES: list[tuple[dict[str, Any], bool]] = [
    (_operator("TFJob", "tf-all", _kubeflow("tfReplicaSpecs", {
        "Chief": (1, "workers"), "PS": (1, "workers"), "Worker": (2, "workers")})), True),
    (_operator("TFJob", "tf-chief", _kubeflow("tfReplicaSpecs", {
        "Chief": (1, "workers"), "Worker": (2, "other")})), False),
    # a template with no metadata, mounting the claim itself
    (_operator("TFJob", "tf-bare", {"tfReplicaSpecs": {"Worker": _bare_replicas(2)}}), True),
    (_operator("TFJob", "tf-bare-one", {"tfReplicaSpecs": {"Worker": _bare_replicas(1)}}), False),
    (_operator("MPIJob", "mpi-all", _kubeflow("mpiReplicaSpecs", {
        "Launcher": (1, "workers"), "Worker": (2, "workers")})), True),
    (_operator("MPIJob", "mpi-launcher", _kubeflow("mpiReplicaSpecs", {
        "Launcher": (1, "workers"), "Worker": (2, "other")})), False),
    (_operator("XGBoostJob", "xgb-all", _kubeflow("xgbReplicaSpecs", BOTH)), True),
    (_operator("XGBoostJob", "xgb-master", _kubeflow("xgbReplicaSpecs", MASTER_ONLY)), False),
    (_operator("PaddleJob", "paddle-all", _kubeflow("paddleReplicaSpecs", BOTH)), True),
    (_operator("PaddleJob", "paddle-master", _kubeflow("paddleReplicaSpecs", MASTER_ONLY)), False),
    (_operator("JAXJob", "jax-two", _kubeflow("jaxReplicaSpecs", {"Worker": (2, "workers")})),
     True),
    (_operator("JAXJob", "jax-one", _kubeflow("jaxReplicaSpecs", {"Worker": (1, "workers")})),
     False),
    (_operator("RayJob", "rayjob-all",
               {**RAY_JOB, "rayClusterSpec": _ray_cluster("workers", "workers")}), True),
    (_operator("RayJob", "rayjob-submitter",
               {**RAY_JOB, "rayClusterSpec": _ray_cluster("workers", "other"),
                "submitterPodTemplate": _pod()}), True),  # head + the submitter pod
    (_operator("RayJob", "rayjob-head",
               {**RAY_JOB, "rayClusterSpec": _ray_cluster("workers", "other"),
                "submitterPodTemplate": _pod("other")}), False),
    (_operator("RayService", "rayservice-workers",
               {"rayClusterConfig": _ray_cluster("other", "workers", 2)}), True),
    (_operator("RayService", "rayservice-head",
               {"rayClusterConfig": _ray_cluster("workers", "other")}), False),
    (_operator("Job", "volcano-wide", {"tasks": [_task("a", 2), _task("b", 1, "other")]}), True),
    (_operator("Job", "volcano-one", {"tasks": [_task("a", 1), _task("b", 3, "other")]}), False),
    # the job's own volumes reach every pod of the job
    (_operator("Job", "volcano-job-volume", {"volumes": JOB_VOLUMES, "tasks": [
        _task("a", 1, "other"), _task("b", 1, "other")]}), True),
    (_operator("Job", "volcano-job-volume-one",
               {"volumes": JOB_VOLUMES, "tasks": [_task("a", 1, "other")]}), False),
    (_operator("SparkApplication", "spark-all", _spark("workers", "workers", 2)), True),
    (_operator("SparkApplication", "spark-driver", _spark("workers", "other", 2)), False),
    (_operator("SparkApplication", "spark-own-claim", _spark_own_claim()), True),
    # runs overlap unless concurrencyPolicy says otherwise: each pod counts twice
    (_operator("ScheduledSparkApplication", "spark-every-5m",
               {"schedule": "@every 5m", "template": _spark("workers", "other", 2)}), True),
    (_operator("ScheduledSparkApplication", "spark-every-5m-forbid",
               {"schedule": "@every 5m", "concurrencyPolicy": "Forbid",
                "template": _spark("workers", "other", 2)}), False),
    (_operator("DaskCluster", "dask-all", {"scheduler": _dask_scheduler("workers"),
                                           "worker": _dask_worker("workers", 2)}), True),
    (_operator("DaskCluster", "dask-no-workers", {"scheduler": _dask_scheduler("workers"),
                                                  "worker": _dask_worker("workers", 0)}), False),
    (_operator("DaskWorkerGroup", "dask-group-two",
               {"cluster": "c", "worker": _dask_worker("workers", 2)}), True),
    (_operator("DaskWorkerGroup", "dask-group-one",
               {"cluster": "c", "worker": _dask_worker("workers", 1)}), False),
    (_operator("DaskJob", "daskjob-all", _dask_job("workers", 1)), True),
    (_operator("DaskJob", "daskjob-job", _dask_job("other", 3)), False),
    # the first four kinds' messages are render time's too
    (_operator("PyTorchJob", "pt-elastic", {**_kubeflow("pytorchReplicaSpecs", {
        "Master": (1, "other"), "Worker": (1, "workers")}), "elasticPolicy": {"maxReplicas": 3}}),
     True),
    (_operator("RayCluster", "ray-groups", _ray_cluster("workers", "workers", 2)), True),
    (_operator("LeaderWorkerSet", "lws-size", _lws(3)), True),
    # the config's own kind: `[*]` over a list and over a mapping, replicas bound to each item
    (_operator("Trainer", "trainer-workers", {"workers": [{"replicas": 2, "template": _pod()}],
                                              "chief": _pod("other")}), True),
    (_operator("Trainer", "trainer-roles", {"roles": {"a": {"template": _pod()},
                                                      "b": {"replicas": 1, "template": _pod()}}}),
     True),
    # every manager's pod is the shared template's: job manager + task managers
    (_operator("FlinkDeployment", "flink-shared", _flink(podTemplate=_pod())), True),
    # a manager's own template merged over the shared one: the managers counted once
    (_operator("FlinkDeployment", "flink-merged", _flink(
        podTemplate=_pod("other", claim=True), jobManager={"podTemplate": FLINK_OWN})), True),
    (_operator("FlinkDeployment", "flink-session", _flink(job=False, podTemplate=_pod())), True),
    # no template at all: stowage writes the shared one, selected by the object's labels
    (_labelled(_operator("FlinkDeployment", "flink-created", _flink()), "workers"), True),
    (_operator("FlinkDeployment", "flink-job-manager", _flink(
        jobManager={"podTemplate": _pod()},
        taskManager={"replicas": 2, "podTemplate": _pod("other")})), False),
    # KServe: each component's larger of min and maxReplicas; serverless without
    # maxReplicas scales without a limit; a `pvc://` model URI is a claim the predictor mounts
    (_isvc("isvc-raw", "workers", predictor={"minReplicas": 2, **SERVER}), True),
    (_isvc("isvc-serverless", "other", raw=False, predictor={"model": MODEL_ON_CLAIM}), True),
    (_isvc("isvc-together", "workers", predictor={"model": {"modelFormat": {"name": "x"}}},
           transformer=SERVER), True),
    (_isvc("isvc-one", "other", predictor={"maxReplicas": 1, "model": MODEL_ON_CLAIM}), False),
    # a serving runtime runs for every InferenceService that uses it: many
    (_labelled(_operator("ServingRuntime", "runtime-shared", SERVER), "workers"), True),
    (_labelled(_operator("ServingRuntime", "runtime-other", SERVER), "other"), False),
    (_cluster_scoped(_labelled(_operator("ClusterServingRuntime", "cluster-runtime", SERVER),
                               "workers")), True),
    (_cluster_scoped(_labelled(_operator("ClusterServingRuntime", "cluster-runtime-other",
                                         SERVER), "other")), False),
    (_llm("llm-two", "workers", 2), True),
    (_llm("llm-prefill", "other", 1, model={"uri": "pvc://stowage-features/m"},
          prefill={"replicas": 1, "template": SERVER}), True),
    (_llm("llm-one", "workers", 1), False),
    (_operator("SparkConnect", "connect-all", _spark_connect("workers", "workers", 2)), True),
    (_operator("SparkConnect", "connect-server", _spark_connect("workers", "other", 2)), False),
    (_operator("Trainer", "trainer-chief", {"workers": [{"replicas": 3, "template": _pod("other")}],
                                            "chief": _pod()}), False),
]  # fmt: skip


def render_time_sw101(config: Path, resource: dict[str, Any]) -> str | None:
    """`stowage check`'s SW101 for ``resource``, as admission words it (the resource
    named first, then the claim's finding and its fix), or None when it passes."""
    proc = stowage("check", "--report=json", f"--config={config}", stdin=dump([resource]),
                   check=False)  # fmt: skip
    findings = [f for f in json.loads(proc.stderr)["findings"] if f["rule"] == "SW101"]
    assert proc.returncode == (1 if findings else 0), proc.stderr
    if not findings:
        return None
    (finding,) = findings
    namespace = resource["metadata"].get("namespace")
    ref = f"{resource['kind']}/{resource['metadata']['name']}"
    ref += f" -n {namespace}" if namespace else ""
    return f"SW101 {ref}: {finding['message']}; fix: {finding['fix']}"


def admission_sw101(kube: Kube, resource: dict[str, Any]) -> str | None:
    """The API server's refusal of ``resource`` (a server-side dry run), None if admitted."""
    proc = kube.run("create", "--dry-run=server", "-f", "-", stdin=dump([resource]), check=False)
    if proc.returncode == 0:
        return None
    denied = "denied request: "
    assert denied in proc.stderr, proc.stderr  # refused by the policy, not by the schema
    return proc.stderr.split(denied, 1)[1].strip()


def test_sw101_on_every_operator_kind_says_what_render_time_says(
    kube: Kube, tmp_path: Path
) -> None:
    """TFJob, MPIJob, XGBoostJob, PaddleJob, JAXJob, RayJob, RayService, Volcano Job,
    (Scheduled)SparkApplication, SparkConnect, the Dask kinds, FlinkDeployment, KServe's
    kinds and a kind the config declares: the API server (with each kind's CRD) refuses exactly what
    `stowage check` refuses, with the same SW101 message and fix, and admits the safe case
    of each; a waived one is admitted."""
    install_crds(kube)
    _, deployment = rwo_case(tmp_path)
    config = declared_case(tmp_path)
    text = stowage("admission", f"--config={config}", stdin="").stdout
    kube.namespace("rwo")
    with Policies(kube, text):
        refusing(kube, deployment)
        kinds = set()
        for resource, refused in PARITY_CASES:
            label = f"{resource['kind']}/{resource['metadata']['name']}"
            expected = render_time_sw101(config, resource)
            assert (expected is not None) == refused, (label, "render time")
            assert admission_sw101(kube, resource) == expected, label
            kinds.add(resource["kind"])
        # every kind admission judges but JobSet (its own test: its why is shorter)
        assert kinds == {o.kind for o in OPERATORS} - {"JobSet"} | {"Trainer"}
        waived = json.loads(json.dumps(PARITY_CASES[0][0]))
        waived["metadata"]["annotations"] = {"waive.stowage.io/SW101": "one node, by hand"}
        assert admission_sw101(kube, waived) is None
