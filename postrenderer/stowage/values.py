"""The chart's values, as pydantic models built from the same pieces as the post-renderer's config.

`chart/values.schema.json` and `chart/README.md` are generated from
:class:`ChartValues` (``python -m stowage.schema``), so Helm rejects the same
mistakes the post-renderer would, with the key named, and every value is
documented in one place.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from stowage.config import (
    AbsolutePath,
    AccessMode,
    Affinities,
    AutoMount,
    ClaimName,
    Cluster,
    HostPathAllow,
    NodeSelectors,
    Persistence,
    SecurityContext,
    Strict,
    Tolerations,
    UserName,
    Vars,
)
from stowage.validators import ENV_NAME

PullPolicy = Literal["Always", "IfNotPresent", "Never"]
ExtraList = list[dict[str, Any]] | dict[str, dict[str, Any]]


class Image(Strict):
    repository: str = Field(description="Image repository.")
    tag: str = Field(description="Image tag.")
    pullPolicy: PullPolicy = Field("IfNotPresent", description="Image pull policy.")


def _platform_image() -> Image:
    return Image(repository="imaxt/owl-server", tag="0.8.3")


def _dask_image() -> Image:
    return Image(repository="ghcr.io/dask/dask", tag="2025.11.0")


class Images(Strict):
    platform: Image = Field(
        default_factory=_platform_image,
        description="The Owl pipeline server image, for the scheduler and pipeline pods.",
    )
    dask: Image = Field(default_factory=_dask_image, description="The official Dask image.")


class SchedulerStorage(Strict):
    mountPath: AbsolutePath = Field(
        "/var/run/stowage",
        description="Where the scheduler keeps its SQLite database and pipeline logs "
        "(Owl uses /var/run/owl).",
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
        "/tmp/stowage/data", description="Host directory for data when `data` is empty."
    )
    dataMountPath: AbsolutePath = Field("/data", description="Its mount path.")
    outputsHostPath: AbsolutePath = Field(
        "/tmp/stowage/outputs", description="Host directory for outputs when `outputs` is empty."
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
        description="Host-path fallback when no data or outputs are given (single-node only).",
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
        "/storage/${USER}", description="Mount path in pipeline pods; the scheduler fills ${USER}."
    )
    hostPath: AbsolutePath = Field(
        "/storage/${USER}", description="Host directory for type hostPath (every node shares it)."
    )
    nfs: UserNfs = Field(
        default_factory=UserNfs,
        description="For type nfs: a PV and a PVC `nfs-storage-<user>` per entry of `users`.",
    )


class Component(Strict):
    extraVolumes: ExtraList = Field(
        default_factory=list,
        description="Extra pod volumes (a list, or a map of name to volume, which layers "
        "better across values files); `${VAR}` is expanded by the post-renderer.",
    )
    extraVolumeMounts: ExtraList = Field(
        default_factory=list, description="Extra volumeMounts for the component's containers."
    )
    dataRefs: list[str] | None = Field(
        None, description="Only these data volumes (Polyaxon's data_refs); null means all."
    )
    outputs: bool = Field(True, description="Attach the outputs store.")
    autoMount: bool = Field(True, description="Apply autoMount (false opts out).")


class PlatformComponent(Component):
    args: list[str] = Field(default_factory=list, description="Container arguments.")
    resources: dict[str, Any] = Field(default_factory=dict, description="Container resources.")


class Service(Strict):
    port: int = Field(8002, ge=1, le=65535, description="Service and container port.")


class SchedulerValues(PlatformComponent):
    service: Service = Field(default_factory=Service)


class Runner(Strict):
    enabled: bool = Field(False, description="Run an always-on pipeline runner Deployment.")
    replicas: int = Field(1, ge=0, description="Runner replicas.")


class PipelineValues(PlatformComponent):
    runner: Runner = Field(default_factory=Runner)


class DaskScheduler(Strict):
    resources: dict[str, Any] = Field(default_factory=dict, description="Scheduler resources.")


class DaskWorkers(Strict):
    replicas: int = Field(2, ge=0, description="Dask workers (each may land on any node).")
    resources: dict[str, Any] = Field(default_factory=dict, description="Worker resources.")


class DaskOperator(Strict):
    enabled: bool = Field(
        False, description="Render a DaskCluster for the Dask Kubernetes operator instead."
    )


class DaskValues(Component):
    enabled: bool = Field(True, description="Deploy Dask.")
    scheduler: DaskScheduler = Field(default_factory=DaskScheduler)
    workers: DaskWorkers = Field(default_factory=DaskWorkers)
    operator: DaskOperator = Field(default_factory=DaskOperator)


class Tests(Strict):
    enabled: bool = Field(True, description="Render the `helm test` hook pod.")


class ChartValues(Strict):
    """Values of the stowage chart."""

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
    nodeSelector: NodeSelectors = Field(default_factory=dict)
    tolerations: Tolerations = Field(default_factory=dict)
    affinity: Affinities = Field(default_factory=dict)
    securityContext: SecurityContext = Field(
        default_factory=lambda: SecurityContext(enabled=True),
        description="Non-root pods; fsGroup = group so mounted volumes belong to it.",
    )
    autoMount: AutoMount = Field(default_factory=AutoMount)
    scheduler: SchedulerValues = Field(default_factory=SchedulerValues)
    pipeline: PipelineValues = Field(default_factory=PipelineValues)
    dask: DaskValues = Field(default_factory=DaskValues)
    tests: Tests = Field(default_factory=Tests)
