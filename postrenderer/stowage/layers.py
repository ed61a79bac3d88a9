"""A configuration layer: one source of settings and where it came from.

Loose at the top: findings name the layer a setting came from, and the plan merges
layers, so it sits below both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Layer:
    origin: str  # for messages: a file path, or the plan resource's name
    data: Mapping[str, Any]
