"""The chart's values, as pydantic models built from the same pieces as the post-renderer's config.

`chart/values.schema.json` and `chart/README.md` are generated from
:class:`ChartValues` (``python -m stowage.plan.schema``), so Helm rejects the same
mistakes the post-renderer would, with the key named, and every value is
documented in one place.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from stowage.plan.config import (
    AbsolutePath,
    AccessMode,
    Admission,
    Affinities,
    AutoMount,
    ClaimName,
    Cluster,
    HostPathAllow,
    KindSpec,
    NodeSelectors,
    Persistence,
    SecurityContext,
    Strict,
    Target,
    TemplateSource,
    Tolerations,
    UserName,
    ValidationAction,
    Vars,
    Waivers,
)
from stowage.plan.validators import ENV_NAME

PullPolicy = Literal["Always", "IfNotPresent", "Never"]
ExtraList = list[dict[str, Any]] | dict[str, dict[str, Any]]


class Image(Strict):
    repository: str = Field(description="Image repository.")
    tag: str = Field(description="Image tag.")
    pullPolicy: PullPolicy = Field("IfNotPresent", description="Image pull policy.")


def _platform_image() -> Image:
    return Image(repository="imaxt/owl-server", tag="0.8.3")


class Images(Strict):
    platform: Image = Field(
        default_factory=_platform_image,
        description="The Owl pipeline server image: scheduler, API, pipeline runs and, "
        "unless a pipeline names its own image, their Dask pods (`OWL_IMAGE_SPEC`).",
    )


class SchedulerStorage(Strict):
    mountPath: AbsolutePath = Field(
        "/var/run/owl",
        description="Where the scheduler and API keep Owl's SQLite database (`dbi`). Owl "
        "0.8.3 writes pipeline logs and run configs to /var/run/owl whatever this says: "
        "keep the default unless you know your Owl build reads it.",
    )
    size: str = Field("1Gi", description="Size of the state claim the chart creates.")
    storageClassName: str | None = Field(None, description="StorageClass of the state claim.")
    accessModes: list[AccessMode] = Field(
        default_factory=lambda: list[AccessMode](["ReadWriteOnce"]),
        min_length=1,
        description="Access modes of the state claim.",
    )
    existingClaim: ClaimName | None = Field(
        None, description="Use this claim for the state instead of creating one."
    )


class StorageDefaults(Strict):
    dataHostPath: AbsolutePath = Field(
        "/tmp/stowage/data",
        description="Host directory for data when `data` and `outputs` are empty and "
        "`cluster.singleNode` is true.",
    )
    dataMountPath: AbsolutePath = Field("/data", description="Its mount path.")
    outputsHostPath: AbsolutePath = Field(
        "/tmp/stowage/outputs",
        description="Host directory for outputs when `data` and `outputs` are empty and "
        "`cluster.singleNode` is true.",
    )
    outputsMountPath: AbsolutePath = Field("/outputs", description="Its mount path.")


class ChartPersistence(Persistence):
    resourcePolicy: str | None = Field(
        "keep",
        description="`helm.sh/resource-policy` of every claim and volume the chart creates: "
        "`keep` means `helm uninstall` never deletes data. Null removes the annotation.",
    )
    scheduler: SchedulerStorage = Field(default_factory=SchedulerStorage)
    defaults: StorageDefaults = Field(
        default_factory=StorageDefaults,
        description="Host-path fallback when no data or outputs are given, on a single-node "
        "cluster only (`cluster.singleNode: true`); elsewhere nothing is mounted until "
        "`data` or `outputs` say where the storage lives.",
    )


class UserNfs(Strict):
    server: str = Field("", description="NFS server of the per-user exports.")
    path: AbsolutePath = Field(
        "/storage/${USER}", description="Export path; `${USER}` becomes each user name."
    )
    storageClassName: str = Field(
        "nfs-direct", description="StorageClass name binding each user's PV and PVC."
    )
    size: str = Field("10Mi", description="Nominal size of each user's volume.")


class UserStorage(Strict):
    type: Literal["none", "hostPath", "nfs"] = Field(
        "none", description="Per-user storage for pipeline runs: none, hostPath or nfs."
    )
    mountPath: AbsolutePath = Field(
        "/storage/${USER}",
        description="Mount path in pipeline and Dask pods; Owl fills ${USER} per run.",
    )
    hostPath: AbsolutePath = Field(
        "/storage/${USER}", description="Host directory for type hostPath."
    )
    sharedByAllNodes: bool = Field(
        False,
        description="Type hostPath: every node mounts the same share at that path (Owl's "
        "option 1), so SW201 trusts it.",
    )
    nfs: UserNfs = Field(
        default_factory=UserNfs,
        description="For type nfs: a PV and a PVC `nfs-storage-<user>` per entry of `users`.",
    )


EnvList = list[dict[str, Any]]


def _env_field() -> Any:
    return Field(
        default_factory=list, description="Extra environment variables (Kubernetes `env` items)."
    )


class Component(Strict):
    extraVolumes: ExtraList = Field(
        default_factory=list,
        description="Extra pod volumes that are not storage (a list, or a map of name to "
        "volume, which layers better across values files). Storage belongs in "
        "`persistence`, `userStorage` and `autoMount`.",
    )
    extraVolumeMounts: ExtraList = Field(
        default_factory=list, description="Extra volumeMounts for the component's containers."
    )
    dataRefs: list[str] | None = Field(
        None, description="Only these data volumes (Polyaxon's data_refs); null means all."
    )
    outputs: bool = Field(True, description="Attach the outputs store.")
    autoMount: bool = Field(True, description="Apply autoMount (false opts out).")


class OwlService(Component):
    extraEnv: EnvList = _env_field()
    resources: dict[str, Any] = Field(default_factory=dict, description="Container resources.")


class ApiService(Strict):
    type: Literal["ClusterIP", "NodePort", "LoadBalancer"] = Field(
        "ClusterIP", description="Type of the API Service (port 8002)."
    )


class ApiValues(OwlService):
    service: ApiService = Field(default_factory=ApiService)


def _pipeline_resources() -> dict[str, Any]:
    amount = {"cpu": "2", "memory": "7G"}
    return {"requests": dict(amount), "limits": dict(amount)}


class OwlEnvVar(Strict):
    name: str = Field(pattern=ENV_NAME.pattern, description="Variable name.")
    value: str = Field(description="Its value; `${VAR}` in it is filled by Owl's scheduler.")


class PipelineValues(Component):
    extraEnv: list[OwlEnvVar] = Field(
        default_factory=list,
        description="Extra environment of each run's pod: `name`/`value` pairs only (Owl "
        "0.8.3 copies `value`; `valueFrom` would stop the scheduler).",
    )
    resources: dict[str, Any] = Field(
        default_factory=_pipeline_resources,
        description="Resources of each pipeline run's pod. Owl 0.8.3 reads "
        "requests.cpu, requests.memory, limits.cpu and limits.memory: give all four, or "
        "an empty map for none.",
    )


class DaskScheduler(Strict):
    resources: dict[str, Any] = Field(
        default_factory=dict,
        description="Resources of each run's Dask scheduler pod; empty means the "
        "pipeline's. (Owl sizes the workers per run from the pipeline's request.)",
    )


class DaskValues(Component):
    extraEnv: EnvList = _env_field()
    scheduler: DaskScheduler = Field(default_factory=DaskScheduler)


class OwlToken(Strict):
    existingSecret: str = Field(
        "",
        description="Secret holding Owl's API token (at least 20 characters). Empty: the "
        "chart generates one on first install and keeps it across upgrades (`lookup`); "
        "`helm template` and GitOps tools have no cluster and must name a Secret here.",
    )
    key: str = Field("token", description="Key of the token in `existingSecret`.")


class OwlSettings(Strict):
    loglevel: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Owl's log level."
    )
    heartbeat: int = Field(30, ge=10, le=100, description="Seconds between scheduler polls.")
    maxPipelines: int = Field(
        6, ge=1, le=100, description="Pipeline runs at once (`max_pipelines`)."
    )
    prometheus: str = Field("", description="Prometheus URL for cluster metrics; empty: none.")
    dbi: str = Field(
        "",
        description="Owl's database URL (`dbi`). Empty: SQLite at "
        "`<persistence.scheduler.mountPath>/sqlite.db` on the state claim, as Owl's chart does.",
    )
    token: OwlToken = Field(default_factory=OwlToken)


class ServiceAccount(Strict):
    create: bool = Field(
        True,
        description="Create the account, Role and RoleBinding Owl needs (Jobs, pods, "
        "services, PodDisruptionBudgets for per-run Dask).",
    )
    name: str = Field("", description="Account name; empty: the release's full name.")


class Tests(Strict):
    enabled: bool = Field(True, description="Render the `helm test` hook pod.")


def _admission_field(name: str) -> Any:
    return Admission.model_fields[name]


class ChartAdmission(Strict):
    """The plan as native admission policies (docs/admission.md): the post-renderer adds
    them to the release, named after it and bound to its namespace."""

    enabled: bool = _admission_field("enabled")
    apiVersion: Literal["v1", "v1beta1"] = _admission_field("apiVersion")
    validationActions: list[ValidationAction] = _admission_field("validationActions")
    failurePolicy: Literal["Fail", "Ignore"] = _admission_field("failurePolicy")


class ChartValues(Strict):
    """Values of the stowage chart."""

    mode: Literal["platform", "storage-only"] = Field(
        "platform",
        description="`platform`: a working Owl plus its storage. `storage-only`: only the "
        "storage (claims, volumes, per-user NFS, the plan), for another platform's release "
        "that lists this chart as a dependency; `targets` selects its workloads.",
    )
    nameOverride: str = Field("", description="Override the chart name in resource names.")
    fullnameOverride: str = Field("", description="Override the full resource name prefix.")
    image: Images = Field(default_factory=Images)
    cluster: Cluster = Field(default_factory=Cluster)
    persistence: ChartPersistence = Field(default_factory=ChartPersistence)
    users: list[UserName] = Field(
        default_factory=list, description="User names that get per-user storage."
    )
    userStorage: UserStorage = Field(default_factory=UserStorage)
    dataPathsEnv: str = Field(
        "STOWAGE_DATA_PATHS",
        pattern=ENV_NAME.pattern,
        description="Env var with JSON {name: mountPath}; `POLYAXON_RUN_DATA_PATHS` keeps "
        "Polyaxon code working.",
    )
    vars: Vars = Field(default_factory=dict)
    hostPathAllow: HostPathAllow = Field(default_factory=list)
    targets: dict[str, Target] = Field(
        default_factory=dict,
        description="More roles and the workloads they select (the post-renderer's "
        "`targets`): in storage-only mode the only ones, in platform mode added to "
        "`scheduler`, `api`, `pipeline` and `dask`.",
    )
    templates: list[TemplateSource] = Field(
        default_factory=list,
        description="More pod templates carried in ConfigMap data (the post-renderer's "
        "`templates`, e.g. `{preset: airflow, configMap: {name: airflow-config}}` beside "
        "Airflow); in platform mode added to the `owl` preset entry for the chart's owl.yaml.",
    )
    kinds: list[KindSpec] = Field(
        default_factory=list,
        description="Custom resource kinds that carry pod specs (the post-renderer's `kinds`).",
    )
    nodeSelector: NodeSelectors = Field(default_factory=dict)
    tolerations: Tolerations = Field(default_factory=dict)
    affinity: Affinities = Field(default_factory=dict)
    securityContext: SecurityContext = Field(
        default_factory=lambda: SecurityContext(enabled=True),
        description="Non-root pods; fsGroup = group so mounted volumes belong to it.",
    )
    autoMount: AutoMount = Field(default_factory=AutoMount)
    owl: OwlSettings = Field(default_factory=OwlSettings)
    serviceAccount: ServiceAccount = Field(default_factory=ServiceAccount)
    scheduler: OwlService = Field(default_factory=OwlService)
    api: ApiValues = Field(default_factory=ApiValues)
    pipeline: PipelineValues = Field(default_factory=PipelineValues)
    dask: DaskValues = Field(default_factory=DaskValues)
    tests: Tests = Field(default_factory=Tests)
    waivers: Waivers = Field(default_factory=list)
    admission: ChartAdmission = Field(default_factory=ChartAdmission)
