"""configdata: the pydantic-free fast path agrees with the pydantic models of config.py.

The models are the one definition and configgen writes configdata.py from them
(tests/test_schema.py fails when the file is stale); these tests fail when the
generator gets a rule wrong: a field or default that differs, a value the fast
path accepts that pydantic refuses, or one it reads differently.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticUndefined

from stowage.errors import UsageError
from stowage.plan import config, configdata, validators
from stowage.plan.plan import validate

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = sorted((ROOT / "tests" / "golden").glob("helm*/*.yaml"))
PAIRS = [
    (config.NfsSource, configdata.NfsSource),
    (config.ClaimSource, configdata.ClaimSource),
    (config.VolumeSpec, configdata.VolumeSpec),
    (config.Persistence, configdata.Persistence),
    (config.Cluster, configdata.Cluster),
    (config.SecurityContext, configdata.SecurityContext),
    (config.AutoMount, configdata.AutoMount),
    (config.Target, configdata.Target),
    (config.TemplateSite, configdata.TemplateSite),
    (config.ConfigMapSelector, configdata.ConfigMapSelector),
    (config.TemplateSource, configdata.TemplateSource),
    (config.KindPodSpec, configdata.KindPodSpec),
    (config.KindSpec, configdata.KindSpec),
    (config.Waiver, configdata.Waiver),
    (config.Admission, configdata.Admission),
    (config.Config, configdata.Config),
]


def _model_default(info: Any) -> Any:
    if info.default_factory is not None:
        return info.default_factory()
    return MISSING if info.default is PydanticUndefined else info.default


def _dataclass_default(item: Any) -> Any:
    if item.default_factory is not MISSING:
        return item.default_factory()
    return item.default


def _plain(value: Any) -> Any:
    """A model or dataclass as nested plain data, for comparing the two."""
    if isinstance(value, BaseModel):
        return _plain(value.model_dump())
    if hasattr(value, "__dataclass_fields__"):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@pytest.mark.parametrize(("model", "data"), PAIRS, ids=[p[1].__name__ for p in PAIRS])
def test_every_model_field_is_a_dataclass_field_with_the_same_default(
    model: type[BaseModel], data: Any
) -> None:
    expected = {name: _model_default(info) for name, info in model.model_fields.items()}
    got = {f.name: _dataclass_default(f) for f in fields(data)}
    assert list(got) == list(expected)
    assert _plain(got) == _plain(expected)


def test_literal_choices_match_the_models() -> None:
    assert frozenset(get_args(config.AccessMode)) == validators.ACCESS_MODES
    assert frozenset(get_args(config.StoreKind)) == validators.STORE_KINDS
    assert frozenset(get_args(config.AutoMountType)) == validators.AUTO_MOUNT_TYPES
    policy = config.SecurityContext.model_fields["fsGroupChangePolicy"].annotation
    assert frozenset(get_args(policy)) == validators.FS_GROUP_CHANGE_POLICIES
    assert frozenset(get_args(config.SiteShape)) == validators.SITE_SHAPES
    assert frozenset(get_args(config.Preset)) == validators.PRESETS


def test_every_model_has_a_dataclass_twin() -> None:
    models = {
        name
        for name, value in vars(config).items()
        if isinstance(value, type)
        and issubclass(value, BaseModel)
        and value not in (BaseModel, config.Strict)
    }
    assert models == {model.__name__ for model, _ in PAIRS}


def _plans(path: Path) -> list[dict[str, Any]]:
    out = []
    for doc in yaml.safe_load_all(path.read_text()):
        labels = ((doc or {}).get("metadata") or {}).get("labels") or {}
        if doc and doc.get("kind") == "ConfigMap" and labels.get("stowage.io/plan") == "true":
            out.append(json.loads(doc["data"]["plan.json"]))
    return out


@pytest.mark.parametrize("path", GOLDEN, ids=[f"{p.parent.name}/{p.name}" for p in GOLDEN])
def test_the_charts_plans_take_the_fast_path(path: Path) -> None:
    plans = _plans(path)
    assert plans
    for plan in plans:
        fast = configdata.parse(plan)
        assert fast is not None, "the chart's own plan must not need pydantic"
        assert _plain(fast) == _plain(config.Config.model_validate(plan))


def test_a_render_with_the_charts_plan_never_imports_pydantic() -> None:
    script = (
        "import io, sys, contextlib\n"
        "from stowage.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    code = main(['--quiet'])\n"
        "print(code, 'pydantic' in sys.modules)\n"
    )
    text = GOLDEN[0].read_bytes()
    proc = subprocess.run(
        [sys.executable, "-c", script], input=text, capture_output=True, check=False
    )
    assert proc.stdout.decode().split() == ["0", "False"], proc.stderr.decode()


def test_what_the_fast_path_refuses_pydantic_still_words() -> None:
    with pytest.raises(UsageError, match=r"persistence\.data\.d\.mountPath"):
        validate({"persistence": {"data": {"d": {"mountPath": "rel", "hostPath": "/x"}}}}, "t")


def test_values_pydantic_coerces_are_still_accepted_through_pydantic() -> None:
    data = {"securityContext": {"enabled": "true", "user": "1001"}}
    assert configdata.parse(data) is None
    checked = validate(data, "t")
    assert checked.securityContext.enabled is True
    assert checked.securityContext.user == 1001


# Differential: valid configs with 0-2 values replaced by arbitrary ones, fast path vs pydantic.
SCALAR = st.one_of(
    st.sampled_from(
        ["data", "/data", "/a/../b", "rel", "", "x-${USER}", "Bad_Name", "a" * 70, "a..b", "owl"]
    ),
    st.booleans(),
    st.integers(-1, 2000),
    st.none(),
    st.just(1.5),
    st.just(["ReadWriteOnce"]),
    st.just({"k": "v"}),
)
SOURCES: dict[str, dict[str, Any]] = {
    "hostPath": {"hostPath": "/srv/data"},
    "existingClaim": {"existingClaim": "db-${USER}", "accessModes": ["ReadWriteMany"]},
    "nfs": {"nfs": {"server": "nfs", "path": "/export"}},
    "claim": {"claim": {"size": "1Gi", "accessModes": ["ReadWriteMany"]}},
    "store": {"store": "s3", "bucket": "s3://b", "secret": "creds", "secretKey": "key"},
}


@st.composite
def volume(draw: st.DrawFn) -> dict[str, Any]:
    spec: dict[str, Any] = {"mountPath": draw(st.sampled_from(["/data", "/out/x"]))}
    spec.update(copy.deepcopy(SOURCES[draw(st.sampled_from(sorted(SOURCES)))]))
    spec["readOnly"] = draw(st.booleans())
    return spec


@st.composite
def valid_config(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "persistence": {
            "data": {"datasets": draw(volume()), "models": draw(volume())},
            "outputs": {"outputs": draw(volume())},
        },
        "targets": {
            "role": {
                "matchLabels": {"app": "a"},
                "kinds": ["Deployment"],
                "dataRefs": ["datasets"],
                "outputs": draw(st.booleans()),
                "pool": "pipeline",
            }
        },
        "securityContext": {"enabled": draw(st.booleans()), "user": 1001, "group": 1001},
        "autoMount": {
            "type": "pvc",
            "params": {"pvc_name": "p"},
            "accessModes": draw(st.sampled_from([[], ["ReadWriteMany"]])),
        },
        "cluster": {"singleNode": draw(st.booleans())},
        "vars": {"USER": "ann"},
        "nodeSelector": {"pipeline": {"pool": "gpu"}},
        "tolerations": {"pipeline": [{"key": "gpu", "operator": "Exists"}]},
        "affinity": {"pipeline": {}},
        "hostPathAllow": ["/srv"],
        "stateMountPath": "/var/run/state",
        "dataPathsEnv": "STOWAGE_DATA_PATHS",
        "templates": [
            {"preset": "owl", "configMap": {"name": "owl-config"}},
            {
                "configMap": {"matchLabels": {"app": "dask"}},
                "key": "kubernetes.yaml",
                "sites": [
                    {"path": "kubernetes.worker-template.spec", "target": "role"},
                    {"path": "", "shape": "manifest", "component": "worker"},
                ],
            },
        ],
        "kinds": [
            {
                "group": "example.com",
                "kind": "TrainJob",
                "podSpecs": [
                    {"path": "spec.template.spec", "replicas": "spec.replicas"},
                    {"component": "launcher", "path": "spec.workers[*].spec"},
                ],
            }
        ],
        "waivers": [
            {"rule": "SW201", "reason": "every node mounts /srv from one NFS share"},
            {
                "rule": draw(st.sampled_from(["SW101", "sw101", "SW1"])),
                "kind": "Deployment",
                "name": "ml-*",
                "namespace": "",
                "matchLabels": {"app": "a"},
                "reason": draw(st.sampled_from(["accepted until the move", " ", ""])),
                "expires": draw(st.sampled_from(["2027-03-31", "2027-02-30", "31.03.2027"])),
            },
        ],
    }


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path in ``data``, containers included."""
    out = []
    if isinstance(data, dict):
        for key, value in data.items():
            out.append((*prefix, key))
            out.extend(_paths(value, (*prefix, key)))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            out.append((*prefix, index))
            out.extend(_paths(value, (*prefix, index)))
    return out


@st.composite
def config_data(draw: st.DrawFn) -> dict[str, Any]:
    data = draw(valid_config())
    for _ in range(draw(st.integers(0, 2))):
        path = draw(st.sampled_from(_paths(data)))
        parent = data
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = copy.deepcopy(draw(SCALAR))  # a fresh copy: no cycles
    if draw(st.booleans()):
        data[draw(st.sampled_from(["unknown", "vars", "cluster"]))] = copy.deepcopy(draw(SCALAR))
    return data


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config_data())
def test_the_fast_path_never_accepts_what_pydantic_refuses_or_reads_it_differently(
    data: dict[str, Any],
) -> None:
    fast = configdata.parse(copy.deepcopy(data))
    try:
        model = config.Config.model_validate(data)
    except ValidationError:
        assert fast is None
        return
    if fast is not None:
        assert _plain(fast) == _plain(model)
    else:  # only coercions may miss the fast path; every pydantic result converts
        assert validate(data, "t") is not None
        assert _plain(configdata.from_validated(model.model_dump())) == _plain(model)


def test_the_generator_refuses_a_check_validators_py_does_not_have() -> None:
    """A model check must be a shared function of validators.py (named `_<check>` on the
    model), or the fast path could not apply it: the generator says so."""
    from pydantic import model_validator

    from stowage.plan import configgen

    class Odd(config.Strict):
        value: str = ""

        @model_validator(mode="after")
        def _whatever(self) -> Odd:
            return self

    with pytest.raises(TypeError, match="must be named _<check>"):
        configgen._checks(Odd)
