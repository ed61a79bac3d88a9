"""The list of rule modules. Add a new rule here and in docs (``make docs``)."""

from __future__ import annotations

from types import ModuleType

MODULES: list[ModuleType] = []
