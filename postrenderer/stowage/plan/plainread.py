"""Readers of plainly valid config data, for the generated fast path (configdata.py).

Each reader returns a value of exactly the expected type or raises
:class:`NotPlainError`: the data is then handed to pydantic, which accepts it (a
value it would coerce) or words the error. The shared checks of
:mod:`stowage.plan.validators` raise ValueError, which counts the same way.
The combinators build readers once, at import; configgen.py writes the calls.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import fields
from typing import Any, TypeVar

T = TypeVar("T")
Reader = Callable[[Any], T]


class NotPlainError(Exception):
    """The data is not plainly valid: let pydantic accept it or word the error."""


def read_str(value: Any) -> str:
    if type(value) is not str:
        raise NotPlainError
    return value


def read_bool(value: Any) -> bool:
    if type(value) is not bool:
        raise NotPlainError
    return value


def read_int(value: Any) -> int:
    if type(value) is not int:
        raise NotPlainError
    return value


def read_any(value: Any) -> Any:
    return value


def choice(choices: Iterable[str]) -> Reader[str]:
    allowed = frozenset(choices)

    def read(value: Any) -> str:
        if type(value) is not str or value not in allowed:
            raise NotPlainError
        return value

    return read


def optional(read: Reader[T]) -> Reader[T | None]:
    def read_optional(value: Any) -> T | None:
        return None if value is None else read(value)

    return read_optional


def list_of(read: Reader[T]) -> Reader[list[T]]:
    def read_list(value: Any) -> list[T]:
        if type(value) is not list:
            raise NotPlainError
        return [read(item) for item in value]

    return read_list


def map_of(read: Reader[T], key: Reader[str] = read_str) -> Reader[dict[str, T]]:
    def read_map(value: Any) -> dict[str, T]:
        if type(value) is not dict:
            raise NotPlainError
        return {key(k): read(v) for k, v in value.items()}

    return read_map


def either(*readers: Reader[Any]) -> Reader[Any]:
    """The first reader that takes the value (a union, tried in the model's order)."""

    def read_either(value: Any) -> Any:
        for read in readers:
            try:
                return read(value)
            except (NotPlainError, ValueError):
                continue
        raise NotPlainError

    return read_either


def after(read: Reader[T], check: Callable[[T], T]) -> Reader[T]:
    def read_checked(value: Any) -> T:
        return check(read(value))

    return read_checked


def at_least(read: Reader[int], bound: int) -> Reader[int]:
    def read_bounded(value: Any) -> int:
        number = read(value)
        if number < bound:
            raise NotPlainError
        return number

    return read_bounded


def sized(read: Reader[T], least: int | None, most: int | None) -> Reader[T]:
    def read_sized(value: Any) -> T:
        found = read(value)
        size = len(found)  # type: ignore[arg-type]  # str, list or dict
        if (least is not None and size < least) or (most is not None and size > most):
            raise NotPlainError
        return found

    return read_sized


def matching(read: Reader[str], pattern: str) -> Reader[str]:
    compiled = re.compile(pattern)

    def read_matching(value: Any) -> str:
        text = read(value)
        if not compiled.search(text):  # JSON Schema's pattern is unanchored, as pydantic's
            raise NotPlainError
        return text

    return read_matching


def mapping(value: Any, cls: Any) -> dict[str, Any]:
    """A dict whose keys are all fields of the dataclass ``cls`` (unknown keys: not plain)."""
    if type(value) is not dict or not _names(cls).issuperset(value):
        raise NotPlainError
    return value


def required(data: dict[str, Any], name: str) -> Any:
    if name not in data:
        raise NotPlainError
    return data[name]


_NAMES: dict[type, frozenset[str]] = {}


def _names(cls: type) -> frozenset[str]:
    names = _NAMES.get(cls)
    if names is None:
        names = _NAMES[cls] = frozenset(f.name for f in fields(cls))
    return names
