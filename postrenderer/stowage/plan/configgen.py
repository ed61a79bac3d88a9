"""Write configdata.py, the pydantic-free fast path, from the models of config.py.

The models are the one definition of the settings: the chart's values.schema.json,
the reference docs (stowage.plan.schema) and this fast path all come from them.
For each model it writes a frozen dataclass (same fields, same defaults) and a
reader that accepts only plainly valid data: every value of exactly its type, the
models' constraints (`Literal`, `ge`, `min_length`, `max_length`, `pattern`), and
their checks, which are the shared functions of validators.py:

- a type's ``AfterValidator(f)`` becomes ``after(reader, f)``;
- a model's ``@model_validator(mode="after")`` or ``@field_validator`` method named
  ``_<f>`` calls validators ``<f>`` (a method named otherwise is an error here).

A run imports configdata (cheap) and falls back to pydantic only for data that is
not plainly valid. `make docs` rewrites configdata.py; tests/test_schema.py fails
when it is stale. Properties of a model (``VolumeSpec.source``) are copied.
"""

from __future__ import annotations

import inspect
import json
import textwrap
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args, get_origin

from annotated_types import Ge, MaxLen, MinLen
from pydantic import AfterValidator, BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from stowage.plan import config, validators

HEADER = '''"""The validated storage plan as frozen dataclasses: what the post-renderer works with.

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
'''

FOOTER = '''

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
'''


@dataclass(frozen=True)
class Field:
    name: str
    annotation: str  # the dataclass field's type
    default: str | None  # the dataclass default (`= ...`), None when required
    reader: str  # reader expression
    fallback: str | None  # the value read when the key is absent, None when required


def generate() -> str:
    models = list(_models(config.Config))
    parts = [HEADER]
    for model in models:
        parts.append(_dataclass(model))
    for model in models:
        parts.append(_reader(model))
    parts.append(FOOTER)
    return "\n".join(parts)


def _models(root: type[BaseModel]) -> Iterator[type[BaseModel]]:
    """Every model reachable from ``root``, each after the models it uses."""
    seen: list[type[BaseModel]] = []

    def visit(model: type[BaseModel]) -> None:
        if model in seen:
            return
        for info in model.model_fields.values():
            for used in _nested(info.annotation):
                visit(used)
        seen.append(model)

    visit(root)
    yield from seen


def _nested(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in get_args(annotation):
        yield from _nested(arg)


def _fields(model: type[BaseModel]) -> list[Field]:
    return [_field(name, info) for name, info in model.model_fields.items()]


def _field(name: str, info: FieldInfo) -> Field:
    annotation = _type_text(info.annotation)
    reader = _constrained(_read(info.annotation), info.metadata, info.annotation)
    if info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]
        if isinstance(value, BaseModel):
            factory = type(value).__name__
            return Field(name, annotation, f"field(default_factory={factory})", reader, "{}")
        text = _literal(value)
        factory = type(value).__name__ if not value else f"lambda: {text}"
        return Field(name, annotation, f"field(default_factory={factory})", reader, text)
    if info.default is PydanticUndefined:
        return Field(name, annotation, None, reader, None)
    text = _literal(info.default)
    return Field(name, annotation, text, reader, text)


def _literal(value: Any) -> str:
    """Python source for a default, quoted as ruff format quotes it."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(map(_literal, value)) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _type_text(annotation: Any) -> str:
    if annotation is Any:
        return "Any"
    if annotation is type(None):
        return "None"
    origin = get_origin(annotation)
    if origin is Annotated:
        return _type_text(get_args(annotation)[0])
    if origin is Literal:
        return "str"
    if origin in (types.UnionType, typing.Union):
        return " | ".join(dict.fromkeys(_type_text(a) for a in get_args(annotation)))
    if origin is not None:
        args = ", ".join(_type_text(a) for a in get_args(annotation))
        return f"{origin.__name__}[{args}]"
    return str(annotation.__name__)


def _read(annotation: Any) -> str:
    """The reader expression for a type."""
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is Annotated:
        return _constrained(_read(args[0]), list(args[1:]), args[0])
    if origin is Literal:
        return f"choice({_literal(sorted(args))})"
    if origin in (types.UnionType, typing.Union):
        others = [a for a in args if a is not type(None)]
        inner = _read(others[0]) if len(others) == 1 else f"either({', '.join(map(_read, others))})"
        return f"optional({inner})" if len(others) < len(args) else inner
    if origin is list:
        return f"list_of({_read(args[0])})"
    if origin is dict:
        key, value = _read(args[0]), _read(args[1])
        return f"map_of({value})" if key == "read_str" else f"map_of({value}, {key})"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"read_{_snake(annotation.__name__)}"
    simple = {str: "read_str", bool: "read_bool", int: "read_int", Any: "read_any"}
    if annotation in simple:
        return simple[annotation]
    raise TypeError(f"configgen: no reader for {annotation!r}")


def _constrained(reader: str, metadata: list[Any], annotation: Any) -> str:
    least = most = None
    for item in metadata:
        if isinstance(item, AfterValidator):
            reader = f"after({reader}, validators.{_shared(item.func)})"
        elif isinstance(item, Ge):
            reader = f"at_least({reader}, {item.ge!r})"
        elif isinstance(item, MinLen):
            least = item.min_length
        elif isinstance(item, MaxLen):
            most = item.max_length
        elif getattr(item, "pattern", None) is not None:
            reader = f"matching({reader}, {_literal(item.pattern)})"
        elif isinstance(item, FieldInfo):  # Field() inside Annotated: schema text only
            reader = _constrained(reader, item.metadata, annotation)
    if least is not None or most is not None:
        reader = f"sized({reader}, {least!r}, {most!r})"
    return reader


def _shared(func: Any) -> str:
    name = str(func.__name__)
    if getattr(validators, name, None) is not func:
        raise TypeError(f"configgen: {name} is not a check of stowage.plan.validators")
    return name


def _checks(model: type[BaseModel]) -> tuple[list[str], dict[str, list[str]]]:
    """The model's shared checks: those of the model, and those of each field."""
    decorators = model.__pydantic_decorators__
    on_model = [_method_check(name) for name in decorators.model_validators]
    on_fields: dict[str, list[str]] = {}
    for name, decorator in decorators.field_validators.items():
        for field_name in decorator.info.fields:
            on_fields.setdefault(field_name, []).append(_method_check(name))
    return on_model, on_fields


def _method_check(method: str) -> str:
    name = method.removeprefix("_")
    if not callable(getattr(validators, name, None)):
        raise TypeError(f"configgen: validator method {method} must be named _<check>")
    return f"validators.{name}"


def _dataclass(model: type[BaseModel]) -> str:
    fields_ = _fields(model)
    required_after_default = any(
        f.default is None and any(g.default is not None for g in fields_[:i])
        for i, f in enumerate(fields_)
    )
    decorator = (
        "@dataclass(frozen=True, kw_only=True)"
        if required_after_default
        else ("@dataclass(frozen=True)")
    )
    lines = ["", "", decorator, f"class {model.__name__}:"]
    for f in fields_:
        default = "" if f.default is None else f" = {f.default}"
        lines.append(f"    {f.name}: {f.annotation}{default}")
    for member in vars(model).values():
        if isinstance(member, property) and member.fget is not None:
            source = textwrap.dedent(inspect.getsource(member.fget))
            lines += ["", textwrap.indent(source.rstrip(), "    ")]
    return "\n".join(lines)


def _reader(model: type[BaseModel]) -> str:
    name = model.__name__
    on_model, on_fields = _checks(model)
    lines = ["", ""]
    lines += [f"{_reader_name(name, f.name)} = {f.reader}" for f in _fields(model)]
    lines += ["", "", f"def read_{_snake(name)}(value: Any) -> {name}:"]
    lines.append(f"    data = mapping(value, {name})")
    lines.append(f"    result = {name}(")
    for f in _fields(model):
        got = (
            f'required(data, "{f.name}")'
            if f.fallback is None
            else (f'data.get("{f.name}", {f.fallback})')
        )
        value = f"{_reader_name(name, f.name)}({got})"
        for check in on_fields.get(f.name, []):
            value = f"{check}({value})"
        lines.append(f"        {f.name}={value},")
    lines.append("    )")
    lines += [f"    {check}(result)" for check in on_model]
    lines.append("    return result")
    return "\n".join(lines)


def _reader_name(model: str, field_name: str) -> str:
    return f"_{_snake(model)}_{_snake(field_name)}"


def _snake(name: str) -> str:
    out = "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
    return out.lstrip("_")
