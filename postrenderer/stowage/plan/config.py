"""The storage plan's vocabulary: pydantic models shared by the chart and the post-renderer.

One source of truth: the chart's ``values.schema.json`` is generated from
:class:`stowage.plan.values.ChartValues`, which reuses these models, and the
post-renderer validates its ``--config`` files and the chart's plan resource
with :class:`Config`. Field descriptions here are the user documentation.

A render works with the frozen dataclasses of :mod:`stowage.plan.configdata`, which
mirror these models so a plainly valid plan is checked without importing
pydantic: a new field or model here needs its twin there
(tests/test_configdata.py fails until it has one).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from stowage.plan.validators import (
    DNS1123_LABEL,
    ISO_DATE,
    RULE_ID,
    SOURCE_FIELDS,
    absolute_path,
    claim_name,
    env_name,
    has_sites,
    iso_date,
    names_unique,
    one_source,
    pod_spec_path,
    reason_given,
    rule_id,
    selects_a_config_map,
    site_path,
    user_name,
    volume_name,
)

AccessMode = Literal["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"]
StoreKind = Literal["s3", "gcs", "azure"]
AutoMountType = Literal["auto", "pvc", "hostPath", "none"]

# The JSON-schema patterns let Helm reject the same values (values.schema.json);
# the validators give the post-renderer's messages.
AbsolutePath = Annotated[
    str, AfterValidator(absolute_path), Field(json_schema_extra={"pattern": "^/"})
]
VolumeName = Annotated[
    str, AfterValidator(volume_name), Field(json_schema_extra={"pattern": DNS1123_LABEL.pattern})
]
ClaimName = Annotated[str, AfterValidator(claim_name)]
UserName = Annotated[
    str, AfterValidator(user_name), Field(json_schema_extra={"pattern": DNS1123_LABEL.pattern})
]


class Strict(BaseModel):
    """Base for every model: unknown keys are errors, as in the chart's schema."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class NfsSource(Strict):
    server: str = Field(min_length=1, description="NFS server host name or address.")
    path: AbsolutePath = Field(description="Exported path on the NFS server.")


class ClaimSource(Strict):
    size: str = Field("10Gi", description="Requested storage, e.g. `10Gi`.")
    storageClassName: str | None = Field(
        None, description="StorageClass of the claim; unset uses the cluster default."
    )
    accessModes: list[AccessMode] = Field(
        default_factory=lambda: list[AccessMode](["ReadWriteOnce"]),
        min_length=1,
        description="Access modes requested for the claim.",
    )


class VolumeSpec(Strict):
    """A named data or outputs volume: a mount path and exactly one source."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"oneOf": [{"required": [name]} for name in SOURCE_FIELDS]},
    )

    mountPath: AbsolutePath | None = Field(
        None,
        description="Where the volume is mounted in every targeted container. "
        "Required for every source except a cloud store, where it mounts the credentials.",
    )
    readOnly: bool = Field(False, description="Mount read-only (data volumes only).")
    subPath: str | None = Field(None, description="Mount only this sub-directory of the volume.")
    hostPath: AbsolutePath | None = Field(
        None,
        description="Source: a directory on the node. Single-node unless every node shares it "
        "(`sharedByAllNodes`).",
    )
    sharedByAllNodes: bool = Field(
        False,
        description="With `hostPath`: every node mounts the same shared filesystem at that "
        "path (an NFS share in each node's fstab), so pods on different nodes see the same "
        "files and SW201 trusts it.",
    )
    existingClaim: ClaimName | None = Field(
        None, description="Source: a PersistentVolumeClaim that already exists."
    )
    accessModes: list[AccessMode] | None = Field(
        None,
        description="Declared access modes of an `existingClaim` that is not in the "
        "rendered manifests, so stowage can check it.",
    )
    nfs: NfsSource | None = Field(
        None, description="Source: an NFS export (ReadWriteMany; the chart creates a PV and PVC)."
    )
    claim: ClaimSource | None = Field(
        None, description="Source: a new PersistentVolumeClaim created for this volume."
    )
    store: StoreKind | None = Field(None, description="Source: a cloud bucket (s3, gcs or azure).")
    bucket: str | None = Field(None, description="Bucket URL of a cloud store, e.g. `s3://data`.")
    secret: str | None = Field(None, description="Secret holding the cloud store's credentials.")
    secretKey: str | None = Field(None, description="Key of `secret` holding the credentials.")
    secretExternal: bool = Field(
        False,
        description="The credentials Secret is managed outside this release: do not warn "
        "when it is absent from the rendered manifests.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> VolumeSpec:
        one_source(self)
        return self

    @property
    def source(self) -> str:
        return next(name for name in SOURCE_FIELDS if getattr(self, name) is not None)


class Persistence(Strict):
    data: dict[VolumeName, VolumeSpec] = Field(
        default_factory=dict,
        description="Named data volumes (Polyaxon's `persistence.data`), often read-only.",
    )
    outputs: dict[VolumeName, VolumeSpec] = Field(
        default_factory=dict,
        description="The one writable outputs store (Polyaxon's `persistence.outputs`).",
        json_schema_extra={"maxProperties": 1},
    )

    @model_validator(mode="after")
    def _names_unique(self) -> Persistence:
        names_unique(self)
        return self


class Cluster(Strict):
    singleNode: bool = Field(
        False,
        description="All pods run on one node: ReadWriteOnce and hostPath sharing is then safe.",
    )


class SecurityContext(Strict):
    enabled: bool = Field(False, description="Run targeted pods as a non-root user.")
    user: int = Field(1000, ge=1, description="runAsUser of every targeted pod.")
    group: int = Field(
        1000, ge=1, description="runAsGroup and fsGroup: mounted volumes belong to it."
    )
    fsGroupChangePolicy: Literal["OnRootMismatch", "Always"] = Field(
        "OnRootMismatch", description="When the kubelet re-owns volumes for fsGroup."
    )


class AutoMount(Strict):
    """MLRun-style auto-mount: one extra volume on every targeted pod that does not opt out."""

    type: AutoMountType = Field("none", description="`auto`, `pvc`, `hostPath` or `none`.")
    params: dict[str, str] | str = Field(
        default_factory=dict,
        description="Parameters as a map, as `k=v,k=v`, or as base64-encoded JSON: "
        "`pvc_name`, `host_path`, `volume_name` (default `pipeline`), "
        "`volume_mount_path` (default `/mnt/pipeline`).",
    )
    accessModes: list[AccessMode] = Field(
        default_factory=list,
        description="Declared access modes of the auto-mounted claim (`pvc`, or `auto` with "
        "`pvc_name`) when it is not in the rendered manifests, so stowage can check it; "
        "empty: not declared.",
    )
    pvcMount: str = Field(
        "",
        description="MLRun's `MLRUN_PVC_MOUNT` (`<pvc-name>:<mount-path>`), as its API "
        "server has it: for `auto` and `pvc` without `pvc_name` in params, the claim and "
        "its mount path, as MLRun reads it. Empty: not set.",
    )


class Target(Strict):
    """Which workloads get storage for one role, and how."""

    matchLabels: dict[str, str] = Field(
        default_factory=dict,
        description="Labels the workload (or its pod template) must carry. Empty matches nothing.",
    )
    kinds: list[str] | None = Field(
        None, description="Restrict to these kinds, e.g. `[Deployment]`."
    )
    components: list[str] | None = Field(
        None,
        description="Restrict to these pod specs of a multi-pod kind, e.g. `[worker]` "
        "for a DaskCluster (scheduler, worker, job).",
    )
    dataRefs: list[str] | None = Field(
        None,
        description="Subset of data volume names to attach (Polyaxon's data_refs); default all.",
    )
    outputs: bool = Field(True, description="Attach the outputs store.")
    pool: str | None = Field(
        None,
        description="Node pool key in nodeSelector/tolerations/affinity; default the role name.",
    )
    autoMount: bool = Field(True, description="Apply auto-mount to this role (MLRun's opt-out).")
    initContainers: bool = Field(False, description="Mount into init containers too.")


ValidationAction = Literal["Deny", "Warn", "Audit"]


class Admission(Strict):
    """The plan enforced where pods are created: native admission policies (docs/admission.md)."""

    enabled: bool = Field(
        False,
        description="Emit a MutatingAdmissionPolicy and a ValidatingAdmissionPolicy (with "
        "bindings) for this plan into the release: pods created later through the API get "
        "the same storage as rendered workloads. Cluster-scoped; needs Kubernetes >= 1.34.",
    )
    apiVersion: Literal["v1", "v1beta1"] = Field(
        "v1",
        description="admissionregistration.k8s.io version of the mutating policy: `v1` "
        "(Kubernetes >= 1.36) or `v1beta1` (1.34 and 1.35, feature gate on).",
    )
    validationActions: list[ValidationAction] = Field(
        default_factory=lambda: list[ValidationAction](["Deny"]),
        min_length=1,
        description="What a workload the checks reject gets: `Deny`, `Warn` and/or `Audit`.",
    )
    failurePolicy: Literal["Fail", "Ignore"] = Field(
        "Fail",
        description="When a policy cannot be evaluated: `Fail` refuses the pod (storage is "
        "never silently dropped), `Ignore` admits it unchanged.",
    )
    name: str = Field(
        "stowage",
        pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$",
        max_length=40,
        description="Prefix of the policy and binding names (the chart uses the release's "
        "full name, so two releases never share a policy).",
    )
    namespaces: list[str] = Field(
        default_factory=list,
        description="Namespaces the policies apply in; empty: every namespace except the "
        "control plane's (kube-system, kube-public, kube-node-lease).",
    )


SiteShape = Literal["podSpec", "manifest", "fragment"]
Preset = Literal["owl", "dask-kubernetes", "airflow", "manifests"]
SitePath = Annotated[str, AfterValidator(site_path)]


class TemplateSite(Strict):
    """One place inside a ConfigMap data key where a pod template sits."""

    path: SitePath = Field(
        "",
        description="Dotted path in the key's parsed YAML/JSON (`[*]` = every list item or "
        "mapping value); empty for the whole value.",
    )
    shape: SiteShape = Field(
        "podSpec",
        description="`podSpec` (a PodSpec), `manifest` (a whole manifest of a kind stowage "
        "knows, e.g. a Pod or Job) or `fragment` (Owl's shape: `volumes` and `volumeMounts` "
        "side by side, the mounts for the container the launcher creates, a pod-level "
        "`securityContext`).",
    )
    target: str | None = Field(
        None,
        description="Role in `targets` whose storage it gets; unset: chosen by the targets' "
        "matchLabels like any workload.",
    )
    component: str = Field("pod", description="Component name for targets' `components`.")


class ConfigMapSelector(Strict):
    name: str | None = Field(None, description="The ConfigMap's metadata.name.")
    matchLabels: dict[str, str] = Field(
        default_factory=dict, description="Labels the ConfigMap must carry."
    )

    @model_validator(mode="after")
    def _selects_a_config_map(self) -> ConfigMapSelector:
        selects_a_config_map(self)
        return self


class TemplateSource(Strict):
    """Pod templates kept in ConfigMap data, completed where the consumer reads them."""

    preset: Preset | None = Field(
        None,
        description="Built-in sites: `owl` (owl.yaml: the `pipeline` fragment and the Dask "
        "scheduler/worker templates), `dask-kubernetes` (classic config: "
        "`kubernetes.scheduler-template`/`worker-template`), `airflow` "
        "(`pod_template_file.yaml`, a whole Pod), `manifests` (every data key a whole "
        "manifest, as in stowage's own chart).",
    )
    configMap: ConfigMapSelector = Field(description="Which ConfigMaps: by name and/or labels.")
    key: str | None = Field(
        None, description="The data key (each preset has a default; `*` = every key)."
    )
    sites: list[TemplateSite] = Field(
        default_factory=list, description="Explicit sites; a preset supplies its own."
    )

    @model_validator(mode="after")
    def _has_sites(self) -> TemplateSource:
        has_sites(self)
        return self


class KindPodSpec(Strict):
    component: str = Field("pod", description="Component name for targets' `components`.")
    path: SitePath = Field(
        description="Dotted path from the manifest root to a PodSpec; `[*]` = every list "
        "item or mapping value."
    )
    replicas: SitePath | None = Field(
        None,
        description="Path of the number of pods it runs at once (same wildcards); unset: 1.",
    )

    @field_validator("path")
    @classmethod
    def _pod_spec_path(cls, value: str) -> str:
        return pod_spec_path(value)


class KindSpec(Strict):
    """A custom resource kind that carries pod specs, like kustomize's configurations."""

    group: str = Field(description="API group, e.g. `example.com` (empty for the core group).")
    kind: str = Field(min_length=1, description="Kind, e.g. `TrainJob`.")
    podSpecs: list[KindPodSpec] = Field(min_length=1, description="Where its pod specs are.")


RuleId = Annotated[
    str, AfterValidator(rule_id), Field(json_schema_extra={"pattern": RULE_ID.pattern})
]
IsoDate = Annotated[
    str,
    AfterValidator(iso_date),
    Field(json_schema_extra={"pattern": ISO_DATE.pattern, "format": "date"}),
]
Reason = Annotated[str, AfterValidator(reason_given), Field(json_schema_extra={"pattern": r"\S"})]


class Waiver(Strict):
    """An accepted finding: the rule, which resources, and why (kube-linter's ignore
    annotations and Kyverno's PolicyExceptions, in the config)."""

    rule: RuleId = Field(description="The rule it waives, e.g. `SW201`.")
    kind: str | None = Field(
        None, description="Kind of the resource a finding names (a glob: `*` and `?`)."
    )
    name: str | None = Field(None, description="Its metadata.name (a glob, e.g. `ml-*`).")
    namespace: str | None = Field(
        None, description='Its namespace (a glob; `""` for the release\'s namespace).'
    )
    matchLabels: dict[str, str] = Field(
        default_factory=dict, description="Labels the resource must carry."
    )
    reason: Reason = Field(description="Why the finding is accepted: reports print it.")
    expires: IsoDate | None = Field(
        None,
        description="Last day it waives (YYYY-MM-DD, UTC); after it, the finding counts "
        "again and SW904 warns.",
    )


Waivers = Annotated[
    list[Waiver],
    Field(
        description="Findings accepted on purpose: each still shows in every report, marked "
        "waived with its reason, but no longer fails `check` or `--strict`. The annotation "
        "`waive.stowage.io/<RULE>: <reason>` on a resource does the same for that resource."
    ),
]


# Settings the chart's values and the post-renderer's config share, documented once.
Vars = Annotated[dict[str, str], Field(description="Values for `${NAME}` variables.")]
NodeSelectors = Annotated[
    dict[str, dict[str, str]],
    Field(description="Node selector per node pool: `core` (scheduler), `pipeline`, `dask`."),
]
Tolerations = Annotated[
    dict[str, list[dict[str, Any]]],
    Field(description="Tolerations per node pool (each a list)."),
]
Affinities = Annotated[dict[str, dict[str, Any]], Field(description="Affinity per node pool.")]
HostPathAllow = Annotated[
    list[AbsolutePath],
    Field(description="Sensitive host paths that are allowed anyway (exact paths or prefixes)."),
]


class Config(Strict):
    """A storage plan: the post-renderer's `--config` file and the chart's plan resource."""

    cluster: Cluster = Field(default_factory=Cluster)
    persistence: Persistence = Field(default_factory=Persistence)
    dataPathsEnv: str = Field(
        "STOWAGE_DATA_PATHS",
        description="Env var set to JSON {name: mountPath or bucket}; use "
        "`POLYAXON_RUN_DATA_PATHS` to keep Polyaxon code working.",
    )
    targets: dict[str, Target] = Field(
        default_factory=dict, description="Roles and the workloads they select."
    )
    vars: Vars = Field(default_factory=dict)
    nodeSelector: NodeSelectors = Field(default_factory=dict)
    tolerations: Tolerations = Field(default_factory=dict)
    affinity: Affinities = Field(default_factory=dict)
    securityContext: SecurityContext = Field(default_factory=SecurityContext)
    autoMount: AutoMount = Field(default_factory=AutoMount)
    hostPathAllow: HostPathAllow = Field(default_factory=list)
    stateMountPath: AbsolutePath | None = Field(
        None,
        description="Mount path of the scheduler's SQLite state (for the SQLite-on-NFS check).",
    )
    templates: list[TemplateSource] = Field(
        default_factory=list,
        description="Pod templates carried in ConfigMap data (Owl, dask-kubernetes, Airflow).",
    )
    kinds: list[KindSpec] = Field(
        default_factory=list, description="Custom resource kinds that carry pod specs."
    )
    waivers: Waivers = Field(default_factory=list)
    admission: Admission = Field(default_factory=Admission)

    @field_validator("dataPathsEnv")
    @classmethod
    def _env_name(cls, value: str) -> str:
        return env_name(value)

    @property
    def is_empty(self) -> bool:
        return not (self.targets or self.persistence.data or self.persistence.outputs)
