"""Owl's own code as the judge of the pods it builds from an owl.yaml.

Run with the oracle venv's Python (`make owl-oracle` creates `.tools/owl-oracle`):

    .tools/owl-oracle/bin/python tests/oracle/owl_pods.py OWL_YAML USER [options]

It loads OWL_YAML the way owl-pipeline-server 0.8.3 does (its config module, with the
`${VAR}` expansion of plain scalars and its schema), then drives Owl's own code paths
without a cluster:

1. the scheduler: `Scheduler.__init__` and `Scheduler.start_pipeline` for a pipeline
   submitted by USER, which sets `USER`, reloads the config and builds the pipeline
   Job with `owl_server.k8s.kube_create_job_object`;
2. the pipeline pod: the process environment becomes the service links plus the
   Job's container env (what Kubernetes gives that pod; the links are the Owl chart's,
   or those of the release given with --manifest), the config is reloaded and
   checked against Owl's schema, `Pipeline.dask_config` fills dask's config, and
   dask-kubernetes' `KubeCluster` builds the Dask scheduler and worker pods
   (`make_pod_from_dict`, `clean_pod_template`, its `Scheduler` and `Worker`).

Only the calls that would talk to a cluster or to Owl's API are stubbed: loading
cluster credentials, `BatchV1Api.create_namespaced_job`, `CoreV1Api.create_namespaced_pod`
(the bodies are captured instead of sent), the API's pipeline lookups, the log
handler, and the dask-kubernetes cluster start-up (scheduler process, adaptivity).
The random suffix dask-kubernetes puts in cluster names is fixed for determinism.

Prints one JSON object on stdout: {"pipelineJob": Job, "daskSchedulerPod": Pod,
"daskWorkerPods": [Pod, ...]} with keys as the Kubernetes API spells them.
Exit 0 on success, 2 (message on stderr, nothing on stdout) when OWL_YAML cannot be
read or fails Owl's schema, or on a usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import builtins
import contextlib
import importlib
import json
import os
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, NoReturn

# What Kubernetes gives pods of the Owl chart (release "owl"): the service links of the
# owl-scheduler and owl-api Services (every pod in the namespace gets them), and the
# scheduler container's own env. IPs, so Owl's schema does not resolve host names.
DEFAULT_SERVICE_LINKS = {
    "OWL_SCHEDULER_SERVICE_HOST": "10.96.0.11",
    "OWL_SCHEDULER_SERVICE_PORT": "7001",
    "OWL_SCHEDULER_SERVICE_PORT_PIPE": "7001",
    "OWL_SCHEDULER_SERVICE_PORT_LOGS": "7002",
    "OWL_SCHEDULER_SERVICE_PORT_ADMIN": "7003",
    "OWL_API_SERVICE_HOST": "10.96.0.12",
    "OWL_API_SERVICE_PORT": "8002",
    "OWL_API_SERVICE_PORT_API": "8002",
}
DEFAULT_SERVICES = frozenset({"owl-scheduler", "owl-api"})
DEFAULT_SCHEDULER_ENV = {"OWL_IMAGE_SPEC": "imaxt/owl-server:0.8.3", "LOGLEVEL": "DEBUG"}
DEFAULT_PIPELINE = {"name": "oracle", "resources": {"workers": 2, "memory": 7, "cores": 2}}
SCHEDULER_ADDRESS = "tcp://oracle-dask-scheduler:8786"


class OracleError(Exception):
    """A problem with the input, reported with exit code 2."""


class _StopAfterCaptureError(Exception):
    """Raised by a stubbed API call once it has the body that would have been sent."""


def fail(message: str) -> NoReturn:
    print(f"owl-oracle: {message}", file=sys.stderr)
    raise SystemExit(2)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="owl_pods.py",
        description="Print the pipeline Job and Dask pods Owl 0.8.3 builds from an owl.yaml.",
    )
    parser.add_argument("owl_yaml", type=Path, help="path of owl.yaml (Owl's config file)")
    parser.add_argument("user", help="the user who submits the pipeline, e.g. joe")
    parser.add_argument("--namespace", default="owl", help="namespace Owl runs in (owl)")
    parser.add_argument("--pipeline-id", type=int, default=1, help="pipeline id (1)")
    parser.add_argument(
        "--pipeline",
        default=json.dumps(DEFAULT_PIPELINE),
        help="the submitted pipeline definition, JSON (default: %(default)s)",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set or override one variable of the pods' environment (repeatable)",
    )
    parser.add_argument(
        "--manifest",
        type=Path,
        help="a rendered release: take the service links of its Services and the env of "
        "its `owl-server scheduler` container instead of the Owl chart's defaults",
    )
    return parser.parse_args(argv)


@dataclass(frozen=True)
class PodEnvironment:
    """The environment variables Owl's pods start with, before Owl adds its own."""

    service_links: dict[str, str]
    scheduler_env: dict[str, str]
    overrides: dict[str, str]
    services: frozenset[str]  # Service names cluster DNS resolves

    def scheduler(self) -> dict[str, str]:
        return {**self.service_links, **self.scheduler_env, **self.overrides}

    def pipeline(self, job_env: dict[str, str]) -> dict[str, str]:
        return {**self.service_links, **job_env, **self.overrides}


def parse_overrides(items: list[str]) -> dict[str, str]:
    overrides = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise OracleError(f"--env {item!r}: expected NAME=VALUE")
        overrides[name] = value
    return overrides


def link_name(name: str) -> str:
    return name.upper().replace("-", "_")


def service_links(services: list[dict[str, Any]]) -> dict[str, str]:
    """The {SVC}_SERVICE_HOST/_PORT/_PORT_{NAME} variables the kubelet sets for SERVICES.

    Rendered Services have no cluster IP yet: each gets a made-up one, in order.
    Headless Services (clusterIP: None) get no variables, as in a cluster.
    """
    links: dict[str, str] = {}
    for number, service in enumerate(services, start=11):
        spec = service.get("spec") or {}
        ports = spec.get("ports") or []
        if spec.get("clusterIP") == "None" or not ports:
            continue
        prefix = link_name(str(service["metadata"]["name"]))
        links[f"{prefix}_SERVICE_HOST"] = f"10.96.0.{number}"
        links[f"{prefix}_SERVICE_PORT"] = str(ports[0]["port"])
        for port in ports:
            if port.get("name"):
                links[f"{prefix}_SERVICE_PORT_{link_name(port['name'])}"] = str(port["port"])
    return links


def runs_owl_scheduler(container: dict[str, Any]) -> bool:
    words = [str(w) for w in (container.get("command") or []) + (container.get("args") or [])]
    return "owl-server" in words and "scheduler" in words


def scheduler_container_env(workloads: list[dict[str, Any]]) -> dict[str, str] | None:
    """The literal env of the container that runs `owl-server scheduler`, if any."""
    for workload in workloads:
        pod = ((workload.get("spec") or {}).get("template") or {}).get("spec") or {}
        for container in pod.get("containers") or []:
            if runs_owl_scheduler(container):
                env = container.get("env") or []
                return {e["name"]: str(e["value"]) for e in env if "value" in e}
    return None


def environment_from_manifest(path: Path, overrides: dict[str, str]) -> PodEnvironment:
    yaml = importlib.import_module("yaml")
    try:
        docs = [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)]
    except (OSError, yaml.YAMLError) as err:
        raise OracleError(f"--manifest {path}: {err}") from err
    services = [d for d in docs if d.get("kind") == "Service" and d.get("metadata")]
    workloads = [d for d in docs if d.get("kind") in ("Deployment", "StatefulSet")]
    scheduler_env = scheduler_container_env(workloads)
    if scheduler_env is None:
        raise OracleError(f"--manifest {path}: no Deployment runs `owl-server scheduler`")
    names = frozenset(str(d["metadata"]["name"]) for d in services)
    return PodEnvironment(service_links(services), scheduler_env, overrides, names)


def environment(args: argparse.Namespace) -> PodEnvironment:
    overrides = parse_overrides(args.env)
    if args.manifest is not None:
        return environment_from_manifest(args.manifest, overrides)
    return PodEnvironment(
        dict(DEFAULT_SERVICE_LINKS), dict(DEFAULT_SCHEDULER_ENV), overrides, DEFAULT_SERVICES
    )


def pipeline_definition(text: str) -> dict[str, Any]:
    try:
        pdef = json.loads(text)
    except json.JSONDecodeError as err:
        raise OracleError(f"--pipeline is not JSON: {err}") from err
    if not isinstance(pdef, dict) or not isinstance(pdef.get("name"), str):
        raise OracleError('--pipeline must be a JSON object with a "name"')
    return pdef


def isolate_process_env(owl_yaml: Path, home: Path, env: dict[str, str]) -> None:
    """Make Owl read only OWL_YAML (no ~/.owl, no /etc/owl) under the pod's environment."""
    keep = {k: os.environ[k] for k in ("PATH", "LANG", "LC_ALL", "TZ") if k in os.environ}
    os.environ.clear()
    os.environ.update(keep)
    os.environ.update(env)
    os.environ["HOME"] = str(home)
    os.environ["OWL_ROOT_CONFIG"] = str(owl_yaml)


def schema_message(err: Exception) -> str:
    return f"{os.environ['OWL_ROOT_CONFIG']} fails Owl's schema: {err}"


def cluster_dns(services: frozenset[str], namespace: str) -> Callable[[str], str]:
    """Resolve host names as cluster DNS would for SERVICES in NAMESPACE, and nothing else."""
    suffixes = ("", f".{namespace}", f".{namespace}.svc", f".{namespace}.svc.cluster.local")
    known = {f"{name}{suffix}" for name in services for suffix in suffixes}

    def gethostbyname(host: str) -> str:
        if not host:
            raise OSError("an empty host name (a ${VAR} the pod's environment does not set?)")
        if host not in known:
            raise OSError(f"host name {host!r} names no Service of the release")
        return "10.96.0.10"

    return gethostbyname


def load_owl_config(env: PodEnvironment, namespace: str) -> Any:
    """Import Owl's config module: it reads owl.yaml and checks it against its schema."""
    voluptuous = importlib.import_module("voluptuous")
    yaml = importlib.import_module("yaml")
    # Owl's schema resolves host names (socket.gethostbyname); there is no cluster DNS here.
    schema = importlib.import_module("owl_server.schema")
    stub(schema.socket, "gethostbyname", cluster_dns(env.services, namespace))
    try:
        return importlib.import_module("owl_server.config")
    except voluptuous.Invalid as err:
        raise OracleError(schema_message(err)) from err
    except OSError as err:  # Owl's Hostname check lets resolver errors through
        raise OracleError(schema_message(err)) from err
    except yaml.YAMLError as err:
        raise OracleError(f"{os.environ['OWL_ROOT_CONFIG']} is not valid YAML: {err}") from err


def serialize(obj: Any) -> Any:
    """The JSON body the Kubernetes client would send for OBJ."""
    utils = importlib.import_module("owl_server.utils")
    return utils.SERIALIZATION_API_CLIENT.sanitize_for_serialization(obj)


class _Recorder:
    """Stands in for one kubernetes_asyncio API class: keeps bodies, sends nothing."""

    sent: ClassVar[list[tuple[str, Any]]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        del args, kwargs

    async def create_namespaced_job(self, namespace: str, body: Any, **kwargs: Any) -> Any:
        del kwargs
        body.metadata.namespace = body.metadata.namespace or namespace
        self.sent.append(("Job", body))
        return body

    async def create_namespaced_pod(self, namespace: str, body: Any, **kwargs: Any) -> Any:
        del kwargs
        body.metadata.namespace = body.metadata.namespace or namespace
        self.sent.append(("Pod", body))
        raise _StopAfterCaptureError


class _NoApiClient:
    async def __aenter__(self) -> _NoApiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


def stub(owner: Any, name: str, replacement: Any) -> None:
    """Replace one of Owl's or its libraries' attributes for the rest of this process."""
    if not hasattr(owner, name) and name != "open":
        raise OracleError(f"cannot stub {owner!r}.{name}: not there (another Owl version?)")
    setattr(owner, name, replacement)


async def _nothing(*args: Any, **kwargs: Any) -> None:
    del args, kwargs


def stub_cluster_calls(conf_dir: Path) -> None:
    k8s = importlib.import_module("owl_server.k8s")
    stub(k8s.config, "load_incluster_config", lambda *a, **k: None)
    stub(k8s, "ApiClient", _NoApiClient)
    stub(k8s.client, "BatchV1Api", _Recorder)

    scheduler_module = importlib.import_module("owl_server.daemon.scheduler")

    def redirected_open(path: str, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        # start_pipeline keeps the submitted definition under /var/run/owl/conf.
        return builtins.open(conf_dir / Path(path).name, mode, *args, **kwargs)

    stub(scheduler_module, "open", redirected_open)


def build_pipeline_job(user: str, pipeline_id: int, pdef: dict[str, Any], namespace: str) -> Any:
    """Owl's scheduler builds the Job for USER's pipeline (Scheduler.start_pipeline)."""
    scheduler_module = importlib.import_module("owl_server.daemon.scheduler")
    scheduler_class = scheduler_module.Scheduler
    stub(scheduler_class, "start", _nothing)  # its sockets, API session and loops
    scheduler = scheduler_class()
    scheduler._namespace = namespace  # read from the service-account file in a pod

    async def pipedef(name: str) -> dict[str, Any]:
        del name
        return {"active": True, "extra_pip_packages": ""}

    async def stopped(uid: int) -> bool:
        del uid
        return True

    scheduler.get_pipedef = pipedef
    scheduler.update_pipeline = _nothing
    scheduler.heartbeat_pipeline = stopped
    scheduler._add_handler = lambda uid: None
    pipe = {"id": pipeline_id, "user": user, "config": pdef}
    _Recorder.sent.clear()
    scheduler.loop.run_until_complete(scheduler.start_pipeline(pipe))
    scheduler.loop.run_until_complete(asyncio.sleep(0))
    jobs = [body for kind, body in _Recorder.sent if kind == "Job"]
    if len(jobs) != 1:
        raise OracleError(f"Owl's scheduler sent {len(jobs)} Jobs, expected 1")
    return jobs[0]


def job_environment(job: Any) -> dict[str, str]:
    container = job.spec.template.spec.containers[0]
    return {var.name: var.value for var in container.env or [] if var.value is not None}


def enter_pipeline_pod(job: Any, env: PodEnvironment, owl_yaml: Path, home: Path) -> Any:
    """Become the pipeline pod: its env, Owl's config reloaded and checked as it would be."""
    isolate_process_env(owl_yaml, home, env.pipeline(job_environment(job)))
    owl_config = importlib.import_module("owl_server.config")
    voluptuous = importlib.import_module("voluptuous")
    owl_config.refresh()
    try:
        owl_config.schema_server(owl_config.config)
    except voluptuous.Invalid as err:
        raise OracleError(schema_message(err)) from err
    return owl_config


def build_dask_pods(pdef: dict[str, Any], namespace: str) -> tuple[Any, list[Any]]:
    """Owl's pipeline fills dask's config; dask-kubernetes builds the pods from it."""
    pipeline_module = importlib.import_module("owl_server.daemon.pipeline")
    schema = importlib.import_module("owl_server.schema")
    core = importlib.import_module("dask_kubernetes.core")
    spec = importlib.import_module("distributed.deploy.spec")

    voluptuous = importlib.import_module("voluptuous")
    pipeline = pipeline_module.Pipeline.__new__(pipeline_module.Pipeline)
    try:
        pipeline.pdef = schema.schema_pipeline(pdef)
    except voluptuous.Invalid as err:
        raise OracleError(f"--pipeline fails Owl's pipeline schema: {err}") from err
    pipeline.dask_config()

    stub(core.ClusterAuth, "load_first", staticmethod(_nothing))
    stub(core.kubernetes.client, "CoreV1Api", _Recorder)
    stub(core.kubernetes.client, "PolicyV1beta1Api", _Recorder)
    stub(core, "namespace_default", lambda: namespace)
    stub(core.uuid, "uuid4", lambda: uuid.UUID(int=0))
    stub(spec.SpecCluster, "_start", _nothing)  # the scheduler process and adaptivity

    async def build() -> tuple[Any, list[Any]]:
        cluster = core.KubeCluster(asynchronous=True)
        await cluster._start()
        _Recorder.sent.clear()
        options = cluster.scheduler_spec["options"]
        await _start_pod(core.Scheduler(**options))
        for name in range(pipeline.pdef["resources"]["workers"]):
            worker_options = cluster.new_spec["options"]
            await _start_pod(core.Worker(SCHEDULER_ADDRESS, name=name, **worker_options))
        pods = [body for kind, body in _Recorder.sent if kind == "Pod"]
        spec.SpecCluster._instances.discard(cluster)  # nothing to close at exit
        return pods[0], pods[1:]

    return asyncio.new_event_loop().run_until_complete(build())


async def _start_pod(pod: Any) -> None:
    try:
        await pod.start()
    except _StopAfterCaptureError:
        return


@contextlib.contextmanager
def owl_stage(what: str) -> Iterator[None]:
    """Owl's code failing on this owl.yaml is an input error: say where, without a traceback."""
    try:
        yield
    except OracleError:
        raise
    except Exception as err:
        config = os.environ.get("OWL_ROOT_CONFIG", "owl.yaml")
        raise OracleError(f"{what} from {config}: {type(err).__name__}: {err}") from err


def run(args: argparse.Namespace) -> dict[str, Any]:
    owl_yaml = args.owl_yaml.resolve()
    if not owl_yaml.is_file():
        raise OracleError(f"{args.owl_yaml}: no such file")
    env = environment(args)
    pdef = pipeline_definition(args.pipeline)
    with tempfile.TemporaryDirectory(prefix="owl-oracle-") as tmp:
        home, conf_dir = Path(tmp) / "home", Path(tmp) / "conf"
        home.mkdir()
        conf_dir.mkdir()
        isolate_process_env(owl_yaml, home, env.scheduler())
        load_owl_config(env, args.namespace)
        stub_cluster_calls(conf_dir)
        with owl_stage("Owl's scheduler could not build the pipeline Job"):
            job = build_pipeline_job(args.user, args.pipeline_id, pdef, args.namespace)
        enter_pipeline_pod(job, env, owl_yaml, home)
        with owl_stage("Owl's pipeline could not build the Dask pods"):
            scheduler_pod, worker_pods = build_dask_pods(pdef, args.namespace)
    return {
        "pipelineJob": serialize(job),
        "daskSchedulerPod": serialize(scheduler_pod),
        "daskWorkerPods": [serialize(pod) for pod in worker_pods],
    }


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        with contextlib.redirect_stdout(sys.stderr):  # dask's progress messages
            result = run(args)
    except OracleError as err:
        fail(str(err))
    print(json.dumps(result, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
