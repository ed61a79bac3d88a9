"""The validated storage plan as frozen dataclasses: what the post-renderer works with.

GENERATED from the pydantic models of stowage.plan.config by stowage.plan.configgen
(`make docs`); do not edit. A run reads a plainly valid plan with the readers below,
without importing pydantic (importing it and building its validators costs more than
a whole small render); anything else goes to pydantic, which accepts it or words the
error (stowage.plan.plan.merge_layers).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stowage.plan import validators
from stowage.plan.plainread import (
    NotPlainError,
    after,
    at_least,
    choice,
    either,
    list_of,
    map_of,
    mapping,
    matching,
    optional,
    read_any,
    read_bool,
    read_int,
    read_str,
    required,
    sized,
)
from stowage.plan.validators import SOURCE_FIELDS  # used by the properties copied below

__all__ = ["NotPlainError"]



@dataclass(frozen=True)
class Cluster:
    singleNode: bool = False


@dataclass(frozen=True)
class NfsSource:
    server: str
    path: str


@dataclass(frozen=True)
class ClaimSource:
    size: str = "10Gi"
    storageClassName: str | None = None
    accessModes: list[str] = field(default_factory=lambda: ["ReadWriteOnce"])


@dataclass(frozen=True)
class VolumeSpec:
    mountPath: str | None = None
    readOnly: bool = False
    subPath: str | None = None
    hostPath: str | None = None
    sharedByAllNodes: bool = False
    existingClaim: str | None = None
    accessModes: list[str] | None = None
    nfs: NfsSource | None = None
    claim: ClaimSource | None = None
    store: str | None = None
    bucket: str | None = None
    secret: str | None = None
    secretKey: str | None = None
    secretExternal: bool = False

    @property
    def source(self) -> str:
        return next(name for name in SOURCE_FIELDS if getattr(self, name) is not None)


@dataclass(frozen=True)
class Persistence:
    data: dict[str, VolumeSpec] = field(default_factory=dict)
    outputs: dict[str, VolumeSpec] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    matchLabels: dict[str, str] = field(default_factory=dict)
    kinds: list[str] | None = None
    components: list[str] | None = None
    dataRefs: list[str] | None = None
    outputs: bool = True
    pool: str | None = None
    autoMount: bool = True
    initContainers: bool = False


@dataclass(frozen=True)
class SecurityContext:
    enabled: bool = False
    user: int = 1000
    group: int = 1000
    fsGroupChangePolicy: str = "OnRootMismatch"


@dataclass(frozen=True)
class AutoMount:
    type: str = "none"
    params: dict[str, str] | str = field(default_factory=dict)
    accessModes: list[str] = field(default_factory=list)
    pvcMount: str = ""


@dataclass(frozen=True)
class ConfigMapSelector:
    name: str | None = None
    matchLabels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TemplateSite:
    path: str = ""
    shape: str = "podSpec"
    target: str | None = None
    component: str = "pod"


@dataclass(frozen=True, kw_only=True)
class TemplateSource:
    preset: str | None = None
    configMap: ConfigMapSelector
    key: str | None = None
    sites: list[TemplateSite] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class KindPodSpec:
    component: str = "pod"
    path: str
    replicas: str | None = None


@dataclass(frozen=True)
class KindSpec:
    group: str
    kind: str
    podSpecs: list[KindPodSpec]


@dataclass(frozen=True, kw_only=True)
class Waiver:
    rule: str
    kind: str | None = None
    name: str | None = None
    namespace: str | None = None
    matchLabels: dict[str, str] = field(default_factory=dict)
    reason: str
    expires: str | None = None


@dataclass(frozen=True)
class Admission:
    enabled: bool = False
    apiVersion: str = "v1"
    validationActions: list[str] = field(default_factory=lambda: ["Deny"])
    failurePolicy: str = "Fail"
    name: str = "stowage"
    namespaces: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Config:
    cluster: Cluster = field(default_factory=Cluster)
    persistence: Persistence = field(default_factory=Persistence)
    dataPathsEnv: str = "STOWAGE_DATA_PATHS"
    targets: dict[str, Target] = field(default_factory=dict)
    vars: dict[str, str] = field(default_factory=dict)
    nodeSelector: dict[str, dict[str, str]] = field(default_factory=dict)
    tolerations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    affinity: dict[str, dict[str, Any]] = field(default_factory=dict)
    securityContext: SecurityContext = field(default_factory=SecurityContext)
    autoMount: AutoMount = field(default_factory=AutoMount)
    hostPathAllow: list[str] = field(default_factory=list)
    stateMountPath: str | None = None
    templates: list[TemplateSource] = field(default_factory=list)
    kinds: list[KindSpec] = field(default_factory=list)
    waivers: list[Waiver] = field(default_factory=list)
    admission: Admission = field(default_factory=Admission)

    @property
    def is_empty(self) -> bool:
        return not (self.targets or self.persistence.data or self.persistence.outputs)


_cluster_single_node = read_bool


def read_cluster(value: Any) -> Cluster:
    data = mapping(value, Cluster)
    result = Cluster(
        singleNode=_cluster_single_node(data.get("singleNode", False)),
    )
    return result


_nfs_source_server = sized(read_str, 1, None)
_nfs_source_path = after(read_str, validators.absolute_path)


def read_nfs_source(value: Any) -> NfsSource:
    data = mapping(value, NfsSource)
    result = NfsSource(
        server=_nfs_source_server(required(data, "server")),
        path=_nfs_source_path(required(data, "path")),
    )
    return result


_claim_source_size = read_str
_claim_source_storage_class_name = optional(read_str)
_claim_source_access_modes = sized(list_of(choice(["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"])), 1, None)


def read_claim_source(value: Any) -> ClaimSource:
    data = mapping(value, ClaimSource)
    result = ClaimSource(
        size=_claim_source_size(data.get("size", "10Gi")),
        storageClassName=_claim_source_storage_class_name(data.get("storageClassName", None)),
        accessModes=_claim_source_access_modes(data.get("accessModes", ["ReadWriteOnce"])),
    )
    return result


_volume_spec_mount_path = optional(after(read_str, validators.absolute_path))
_volume_spec_read_only = read_bool
_volume_spec_sub_path = optional(read_str)
_volume_spec_host_path = optional(after(read_str, validators.absolute_path))
_volume_spec_shared_by_all_nodes = read_bool
_volume_spec_existing_claim = optional(after(read_str, validators.claim_name))
_volume_spec_access_modes = optional(list_of(choice(["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"])))
_volume_spec_nfs = optional(read_nfs_source)
_volume_spec_claim = optional(read_claim_source)
_volume_spec_store = optional(choice(["azure", "gcs", "s3"]))
_volume_spec_bucket = optional(read_str)
_volume_spec_secret = optional(read_str)
_volume_spec_secret_key = optional(read_str)
_volume_spec_secret_external = read_bool


def read_volume_spec(value: Any) -> VolumeSpec:
    data = mapping(value, VolumeSpec)
    result = VolumeSpec(
        mountPath=_volume_spec_mount_path(data.get("mountPath", None)),
        readOnly=_volume_spec_read_only(data.get("readOnly", False)),
        subPath=_volume_spec_sub_path(data.get("subPath", None)),
        hostPath=_volume_spec_host_path(data.get("hostPath", None)),
        sharedByAllNodes=_volume_spec_shared_by_all_nodes(data.get("sharedByAllNodes", False)),
        existingClaim=_volume_spec_existing_claim(data.get("existingClaim", None)),
        accessModes=_volume_spec_access_modes(data.get("accessModes", None)),
        nfs=_volume_spec_nfs(data.get("nfs", None)),
        claim=_volume_spec_claim(data.get("claim", None)),
        store=_volume_spec_store(data.get("store", None)),
        bucket=_volume_spec_bucket(data.get("bucket", None)),
        secret=_volume_spec_secret(data.get("secret", None)),
        secretKey=_volume_spec_secret_key(data.get("secretKey", None)),
        secretExternal=_volume_spec_secret_external(data.get("secretExternal", False)),
    )
    validators.one_source(result)
    return result


_persistence_data = map_of(read_volume_spec, after(read_str, validators.volume_name))
_persistence_outputs = map_of(read_volume_spec, after(read_str, validators.volume_name))


def read_persistence(value: Any) -> Persistence:
    data = mapping(value, Persistence)
    result = Persistence(
        data=_persistence_data(data.get("data", {})),
        outputs=_persistence_outputs(data.get("outputs", {})),
    )
    validators.names_unique(result)
    return result


_target_match_labels = map_of(read_str)
_target_kinds = optional(list_of(read_str))
_target_components = optional(list_of(read_str))
_target_data_refs = optional(list_of(read_str))
_target_outputs = read_bool
_target_pool = optional(read_str)
_target_auto_mount = read_bool
_target_init_containers = read_bool


def read_target(value: Any) -> Target:
    data = mapping(value, Target)
    result = Target(
        matchLabels=_target_match_labels(data.get("matchLabels", {})),
        kinds=_target_kinds(data.get("kinds", None)),
        components=_target_components(data.get("components", None)),
        dataRefs=_target_data_refs(data.get("dataRefs", None)),
        outputs=_target_outputs(data.get("outputs", True)),
        pool=_target_pool(data.get("pool", None)),
        autoMount=_target_auto_mount(data.get("autoMount", True)),
        initContainers=_target_init_containers(data.get("initContainers", False)),
    )
    return result


_security_context_enabled = read_bool
_security_context_user = at_least(read_int, 1)
_security_context_group = at_least(read_int, 1)
_security_context_fs_group_change_policy = choice(["Always", "OnRootMismatch"])


def read_security_context(value: Any) -> SecurityContext:
    data = mapping(value, SecurityContext)
    result = SecurityContext(
        enabled=_security_context_enabled(data.get("enabled", False)),
        user=_security_context_user(data.get("user", 1000)),
        group=_security_context_group(data.get("group", 1000)),
        fsGroupChangePolicy=_security_context_fs_group_change_policy(data.get("fsGroupChangePolicy", "OnRootMismatch")),
    )
    return result


_auto_mount_type = choice(["auto", "hostPath", "none", "pvc"])
_auto_mount_params = either(map_of(read_str), read_str)
_auto_mount_access_modes = list_of(choice(["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]))
_auto_mount_pvc_mount = read_str


def read_auto_mount(value: Any) -> AutoMount:
    data = mapping(value, AutoMount)
    result = AutoMount(
        type=_auto_mount_type(data.get("type", "none")),
        params=_auto_mount_params(data.get("params", {})),
        accessModes=_auto_mount_access_modes(data.get("accessModes", [])),
        pvcMount=_auto_mount_pvc_mount(data.get("pvcMount", "")),
    )
    return result


_config_map_selector_name = optional(read_str)
_config_map_selector_match_labels = map_of(read_str)


def read_config_map_selector(value: Any) -> ConfigMapSelector:
    data = mapping(value, ConfigMapSelector)
    result = ConfigMapSelector(
        name=_config_map_selector_name(data.get("name", None)),
        matchLabels=_config_map_selector_match_labels(data.get("matchLabels", {})),
    )
    validators.selects_a_config_map(result)
    return result


_template_site_path = after(read_str, validators.site_path)
_template_site_shape = choice(["fragment", "manifest", "podSpec"])
_template_site_target = optional(read_str)
_template_site_component = read_str


def read_template_site(value: Any) -> TemplateSite:
    data = mapping(value, TemplateSite)
    result = TemplateSite(
        path=_template_site_path(data.get("path", "")),
        shape=_template_site_shape(data.get("shape", "podSpec")),
        target=_template_site_target(data.get("target", None)),
        component=_template_site_component(data.get("component", "pod")),
    )
    return result


_template_source_preset = optional(choice(["airflow", "dask-kubernetes", "manifests", "owl"]))
_template_source_config_map = read_config_map_selector
_template_source_key = optional(read_str)
_template_source_sites = list_of(read_template_site)


def read_template_source(value: Any) -> TemplateSource:
    data = mapping(value, TemplateSource)
    result = TemplateSource(
        preset=_template_source_preset(data.get("preset", None)),
        configMap=_template_source_config_map(required(data, "configMap")),
        key=_template_source_key(data.get("key", None)),
        sites=_template_source_sites(data.get("sites", [])),
    )
    validators.has_sites(result)
    return result


_kind_pod_spec_component = read_str
_kind_pod_spec_path = after(read_str, validators.site_path)
_kind_pod_spec_replicas = optional(after(read_str, validators.site_path))


def read_kind_pod_spec(value: Any) -> KindPodSpec:
    data = mapping(value, KindPodSpec)
    result = KindPodSpec(
        component=_kind_pod_spec_component(data.get("component", "pod")),
        path=validators.pod_spec_path(_kind_pod_spec_path(required(data, "path"))),
        replicas=_kind_pod_spec_replicas(data.get("replicas", None)),
    )
    return result


_kind_spec_group = read_str
_kind_spec_kind = sized(read_str, 1, None)
_kind_spec_pod_specs = sized(list_of(read_kind_pod_spec), 1, None)


def read_kind_spec(value: Any) -> KindSpec:
    data = mapping(value, KindSpec)
    result = KindSpec(
        group=_kind_spec_group(required(data, "group")),
        kind=_kind_spec_kind(required(data, "kind")),
        podSpecs=_kind_spec_pod_specs(required(data, "podSpecs")),
    )
    return result


_waiver_rule = after(read_str, validators.rule_id)
_waiver_kind = optional(read_str)
_waiver_name = optional(read_str)
_waiver_namespace = optional(read_str)
_waiver_match_labels = map_of(read_str)
_waiver_reason = after(read_str, validators.reason_given)
_waiver_expires = optional(after(read_str, validators.iso_date))


def read_waiver(value: Any) -> Waiver:
    data = mapping(value, Waiver)
    result = Waiver(
        rule=_waiver_rule(required(data, "rule")),
        kind=_waiver_kind(data.get("kind", None)),
        name=_waiver_name(data.get("name", None)),
        namespace=_waiver_namespace(data.get("namespace", None)),
        matchLabels=_waiver_match_labels(data.get("matchLabels", {})),
        reason=_waiver_reason(required(data, "reason")),
        expires=_waiver_expires(data.get("expires", None)),
    )
    return result


_admission_enabled = read_bool
_admission_api_version = choice(["v1", "v1beta1"])
_admission_validation_actions = sized(list_of(choice(["Audit", "Deny", "Warn"])), 1, None)
_admission_failure_policy = choice(["Fail", "Ignore"])
_admission_name = sized(matching(read_str, "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"), None, 40)
_admission_namespaces = list_of(read_str)


def read_admission(value: Any) -> Admission:
    data = mapping(value, Admission)
    result = Admission(
        enabled=_admission_enabled(data.get("enabled", False)),
        apiVersion=_admission_api_version(data.get("apiVersion", "v1")),
        validationActions=_admission_validation_actions(data.get("validationActions", ["Deny"])),
        failurePolicy=_admission_failure_policy(data.get("failurePolicy", "Fail")),
        name=_admission_name(data.get("name", "stowage")),
        namespaces=_admission_namespaces(data.get("namespaces", [])),
    )
    return result


_config_cluster = read_cluster
_config_persistence = read_persistence
_config_data_paths_env = read_str
_config_targets = map_of(read_target)
_config_vars = map_of(read_str)
_config_node_selector = map_of(map_of(read_str))
_config_tolerations = map_of(list_of(map_of(read_any)))
_config_affinity = map_of(map_of(read_any))
_config_security_context = read_security_context
_config_auto_mount = read_auto_mount
_config_host_path_allow = list_of(after(read_str, validators.absolute_path))
_config_state_mount_path = optional(after(read_str, validators.absolute_path))
_config_templates = list_of(read_template_source)
_config_kinds = list_of(read_kind_spec)
_config_waivers = list_of(read_waiver)
_config_admission = read_admission


def read_config(value: Any) -> Config:
    data = mapping(value, Config)
    result = Config(
        cluster=_config_cluster(data.get("cluster", {})),
        persistence=_config_persistence(data.get("persistence", {})),
        dataPathsEnv=validators.env_name(_config_data_paths_env(data.get("dataPathsEnv", "STOWAGE_DATA_PATHS"))),
        targets=_config_targets(data.get("targets", {})),
        vars=_config_vars(data.get("vars", {})),
        nodeSelector=_config_node_selector(data.get("nodeSelector", {})),
        tolerations=_config_tolerations(data.get("tolerations", {})),
        affinity=_config_affinity(data.get("affinity", {})),
        securityContext=_config_security_context(data.get("securityContext", {})),
        autoMount=_config_auto_mount(data.get("autoMount", {})),
        hostPathAllow=_config_host_path_allow(data.get("hostPathAllow", [])),
        stateMountPath=_config_state_mount_path(data.get("stateMountPath", None)),
        templates=_config_templates(data.get("templates", [])),
        kinds=_config_kinds(data.get("kinds", [])),
        waivers=_config_waivers(data.get("waivers", [])),
        admission=_config_admission(data.get("admission", {})),
    )
    return result


def parse(data: dict[str, Any]) -> Config | None:
    """The Config for plainly valid ``data`` (a plan or merged config files), else None."""
    try:
        return read_config(data)
    except (NotPlainError, ValueError):
        return None


def parse_volume(data: dict[str, Any]) -> VolumeSpec | None:
    try:
        return read_volume_spec(data)
    except (NotPlainError, ValueError):
        return None


def from_validated(data: dict[str, Any]) -> Config:
    """The Config for data pydantic accepted (``Config.model_dump()``)."""
    return read_config(data)


def volume_from_validated(data: dict[str, Any]) -> VolumeSpec:
    """The VolumeSpec for data pydantic accepted (``VolumeSpec.model_dump()``)."""
    return read_volume_spec(data)
