"""The validated storage plan as frozen dataclasses: what the post-renderer works with.

The pydantic models of :mod:`stowage.plan.config` stay the one definition of the
settings (the chart's schema and the reference docs come from them), but
importing pydantic and building its validators costs more than a whole small
render. So a run first tries :func:`parse`, a strict fast path that accepts
only data which is plainly valid: every value of exactly its type, no
coercion, every check of the models applied with the same functions. Anything
else (a mistake, or a value pydantic would coerce) goes to pydantic, which
accepts it or words the error (:func:`stowage.plan.plan.merge_layers`).
tests/test_configdata.py keeps the two in step: same fields, same defaults,
and the fast path never accepts what pydantic refuses or reads it differently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from stowage.plan.validators import (
    ACCESS_MODES,
    AUTO_MOUNT_TYPES,
    DNS1123_LABEL,
    FS_GROUP_CHANGE_POLICIES,
    PRESETS,
    SITE_SHAPES,
    SOURCE_FIELDS,
    STORE_KINDS,
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
    volume_name,
)


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
class Cluster:
    singleNode: bool = False


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
class TemplateSite:
    path: str = ""
    shape: str = "podSpec"
    target: str | None = None
    component: str = "pod"


@dataclass(frozen=True)
class ConfigMapSelector:
    name: str | None = None
    matchLabels: dict[str, str] = field(default_factory=dict)


# kw_only: the models have required fields after defaulted ones, in this order.
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


class NotPlainError(Exception):
    """The data is not plainly valid: let pydantic accept it or word the error."""


def parse(data: dict[str, Any]) -> Config | None:
    """The Config for plainly valid ``data`` (a plan or merged config files), else None."""
    try:
        return _config(data)
    except (NotPlainError, ValueError):
        return None


def parse_volume(data: dict[str, Any]) -> VolumeSpec | None:
    try:
        return _volume(data)
    except (NotPlainError, ValueError):
        return None


def from_validated(data: dict[str, Any]) -> Config:
    """The Config for data pydantic accepted (``Config.model_dump()``)."""
    return _config(data)


def volume_from_validated(data: dict[str, Any]) -> VolumeSpec:
    """The VolumeSpec for data pydantic accepted (``VolumeSpec.model_dump()``)."""
    return _volume(data)


# Readers: each returns the value of exactly the expected type or raises NotPlainError.


def _mapping(value: Any, allowed: frozenset[str]) -> dict[str, Any]:
    if type(value) is not dict or not allowed.issuperset(value):
        raise NotPlainError
    return value


def _str(value: Any) -> str:
    if type(value) is not str:
        raise NotPlainError
    return value


def _optional_str(value: Any) -> str | None:
    return None if value is None else _str(value)


def _bool(value: Any) -> bool:
    if type(value) is not bool:
        raise NotPlainError
    return value


def _positive_int(value: Any) -> int:
    if type(value) is not int or value < 1:
        raise NotPlainError
    return value


def _choice(value: Any, choices: frozenset[str]) -> str:
    if type(value) is not str or value not in choices:
        raise NotPlainError
    return value


def _strings(value: Any, check: Callable[[Any], str] = _str) -> list[str]:
    if type(value) is not list:
        raise NotPlainError
    return [check(item) for item in value]


def _str_map(value: Any) -> dict[str, str]:
    if type(value) is not dict:
        raise NotPlainError
    return {_str(k): _str(v) for k, v in value.items()}


def _map_of(value: Any, read: Callable[[Any], Any], key: Callable[[Any], str] = _str) -> Any:
    if type(value) is not dict:
        raise NotPlainError
    return {key(k): read(v) for k, v in value.items()}


def _list_of_maps(value: Any) -> list[dict[str, Any]]:
    if type(value) is not list or any(type(item) is not dict for item in value):
        raise NotPlainError
    return [{_str(k): v for k, v in item.items()} for item in value]


def _any_map(value: Any) -> dict[str, Any]:
    if type(value) is not dict:
        raise NotPlainError
    return {_str(k): v for k, v in value.items()}


def _optional(value: Any, read: Callable[[Any], Any]) -> Any:
    return None if value is None else read(value)


def _fields(cls: Any) -> frozenset[str]:
    return frozenset(f.name for f in fields(cls))


def _access_modes(value: Any) -> list[str]:
    return _strings(value, lambda mode: _choice(mode, ACCESS_MODES))


def _nfs(value: Any) -> NfsSource:
    data = _mapping(value, _fields(NfsSource))
    server = _str(data.get("server"))
    if not server:
        raise NotPlainError
    return NfsSource(server, absolute_path(_str(data.get("path"))))


def _claim(value: Any) -> ClaimSource:
    data = _mapping(value, _fields(ClaimSource))
    modes = _access_modes(data.get("accessModes", ["ReadWriteOnce"]))
    if not modes:
        raise NotPlainError
    return ClaimSource(
        _str(data.get("size", "10Gi")), _optional_str(data.get("storageClassName")), modes
    )


def _volume(value: Any) -> VolumeSpec:
    data = _mapping(value, _fields(VolumeSpec))
    spec = VolumeSpec(
        mountPath=_optional(data.get("mountPath"), lambda v: absolute_path(_str(v))),
        readOnly=_bool(data.get("readOnly", False)),
        subPath=_optional_str(data.get("subPath")),
        hostPath=_optional(data.get("hostPath"), lambda v: absolute_path(_str(v))),
        sharedByAllNodes=_bool(data.get("sharedByAllNodes", False)),
        existingClaim=_optional(data.get("existingClaim"), lambda v: claim_name(_str(v))),
        accessModes=_optional(data.get("accessModes"), _access_modes),
        nfs=_optional(data.get("nfs"), _nfs),
        claim=_optional(data.get("claim"), _claim),
        store=_optional(data.get("store"), lambda v: _choice(v, STORE_KINDS)),
        bucket=_optional_str(data.get("bucket")),
        secret=_optional_str(data.get("secret")),
        secretKey=_optional_str(data.get("secretKey")),
        secretExternal=_bool(data.get("secretExternal", False)),
    )
    one_source(spec)
    return spec


def _volumes(value: Any) -> dict[str, VolumeSpec]:
    return dict(_map_of(value, _volume, key=lambda k: volume_name(_str(k))))


def _persistence(value: Any) -> Persistence:
    data = _mapping(value, _fields(Persistence))
    persistence = Persistence(_volumes(data.get("data", {})), _volumes(data.get("outputs", {})))
    names_unique(persistence.data, persistence.outputs)
    return persistence


def _target(value: Any) -> Target:
    data = _mapping(value, _fields(Target))
    return Target(
        matchLabels=_str_map(data.get("matchLabels", {})),
        kinds=_optional(data.get("kinds"), _strings),
        components=_optional(data.get("components"), _strings),
        dataRefs=_optional(data.get("dataRefs"), _strings),
        outputs=_bool(data.get("outputs", True)),
        pool=_optional_str(data.get("pool")),
        autoMount=_bool(data.get("autoMount", True)),
        initContainers=_bool(data.get("initContainers", False)),
    )


def _cluster(value: Any) -> Cluster:
    data = _mapping(value, _fields(Cluster))
    return Cluster(_bool(data.get("singleNode", False)))


def _security_context(value: Any) -> SecurityContext:
    data = _mapping(value, _fields(SecurityContext))
    return SecurityContext(
        enabled=_bool(data.get("enabled", False)),
        user=_positive_int(data.get("user", 1000)),
        group=_positive_int(data.get("group", 1000)),
        fsGroupChangePolicy=_choice(
            data.get("fsGroupChangePolicy", "OnRootMismatch"), FS_GROUP_CHANGE_POLICIES
        ),
    )


def _auto_mount(value: Any) -> AutoMount:
    data = _mapping(value, _fields(AutoMount))
    params = data.get("params", {})
    return AutoMount(
        _choice(data.get("type", "none"), AUTO_MOUNT_TYPES),
        params if type(params) is str else _str_map(params),
        _access_modes(data.get("accessModes", [])),
        _str(data.get("pvcMount", "")),
    )


def _list_of(value: Any, read: Callable[[Any], Any]) -> list[Any]:
    if type(value) is not list:
        raise NotPlainError
    return [read(item) for item in value]


def _site(value: Any) -> TemplateSite:
    data = _mapping(value, _fields(TemplateSite))
    return TemplateSite(
        path=site_path(_str(data.get("path", ""))),
        shape=_choice(data.get("shape", "podSpec"), SITE_SHAPES),
        target=_optional_str(data.get("target")),
        component=_str(data.get("component", "pod")),
    )


def _config_map_selector(value: Any) -> ConfigMapSelector:
    data = _mapping(value, _fields(ConfigMapSelector))
    selector = ConfigMapSelector(
        _optional_str(data.get("name")), _str_map(data.get("matchLabels", {}))
    )
    selects_a_config_map(selector)
    return selector


def _template_source(value: Any) -> TemplateSource:
    data = _mapping(value, _fields(TemplateSource))
    if "configMap" not in data:
        raise NotPlainError
    source = TemplateSource(
        preset=_optional(data.get("preset"), lambda v: _choice(v, PRESETS)),
        configMap=_config_map_selector(data["configMap"]),
        key=_optional_str(data.get("key")),
        sites=_list_of(data.get("sites", []), _site),
    )
    has_sites(source)
    return source


def _kind_pod_spec(value: Any) -> KindPodSpec:
    data = _mapping(value, _fields(KindPodSpec))
    if "path" not in data:
        raise NotPlainError
    return KindPodSpec(
        component=_str(data.get("component", "pod")),
        path=pod_spec_path(site_path(_str(data["path"]))),
        replicas=_optional(data.get("replicas"), lambda v: site_path(_str(v))),
    )


def _kind(value: Any) -> KindSpec:
    data = _mapping(value, _fields(KindSpec))
    if "group" not in data or "kind" not in data or "podSpecs" not in data:
        raise NotPlainError
    kind = _str(data["kind"])
    pod_specs = _list_of(data["podSpecs"], _kind_pod_spec)
    if not kind or not pod_specs:
        raise NotPlainError
    return KindSpec(_str(data["group"]), kind, pod_specs)


def _waiver(value: Any) -> Waiver:
    data = _mapping(value, _fields(Waiver))
    if "rule" not in data or "reason" not in data:
        raise NotPlainError
    return Waiver(
        rule=rule_id(_str(data["rule"])),
        kind=_optional_str(data.get("kind")),
        name=_optional_str(data.get("name")),
        namespace=_optional_str(data.get("namespace")),
        matchLabels=_str_map(data.get("matchLabels", {})),
        reason=reason_given(_str(data["reason"])),
        expires=_optional(data.get("expires"), lambda v: iso_date(_str(v))),
    )


def _config(value: Any) -> Config:
    data = _mapping(value, _fields(Config))
    return Config(
        cluster=_cluster(data.get("cluster", {})),
        persistence=_persistence(data.get("persistence", {})),
        dataPathsEnv=env_name(_str(data.get("dataPathsEnv", "STOWAGE_DATA_PATHS"))),
        targets=_map_of(data.get("targets", {}), _target),
        vars=_str_map(data.get("vars", {})),
        nodeSelector=_map_of(data.get("nodeSelector", {}), _str_map),
        tolerations=_map_of(data.get("tolerations", {}), _list_of_maps),
        affinity=_map_of(data.get("affinity", {}), _any_map),
        securityContext=_security_context(data.get("securityContext", {})),
        autoMount=_auto_mount(data.get("autoMount", {})),
        hostPathAllow=_strings(data.get("hostPathAllow", []), lambda v: absolute_path(_str(v))),
        stateMountPath=_optional(data.get("stateMountPath"), lambda v: absolute_path(_str(v))),
        templates=_list_of(data.get("templates", []), _template_source),
        kinds=_list_of(data.get("kinds", []), _kind),
        waivers=_list_of(data.get("waivers", []), _waiver),
        admission=_admission(data.get("admission", {})),
    )


ACTIONS = frozenset({"Deny", "Warn", "Audit"})
API_VERSIONS = frozenset({"v1", "v1beta1"})
FAILURE_POLICIES = frozenset({"Fail", "Ignore"})


def _admission(value: Any) -> Admission:
    data = _mapping(value, _fields(Admission))
    actions = _strings(data.get("validationActions", ["Deny"]), lambda v: _choice(v, ACTIONS))
    name = _str(data.get("name", "stowage"))
    if not actions or len(name) > 40 or not DNS1123_LABEL.match(name):
        raise NotPlainError
    return Admission(
        enabled=_bool(data.get("enabled", False)),
        apiVersion=_choice(data.get("apiVersion", "v1"), API_VERSIONS),
        validationActions=actions,
        failurePolicy=_choice(data.get("failurePolicy", "Fail"), FAILURE_POLICIES),
        name=name,
        namespaces=_strings(data.get("namespaces", []), _str),
    )
