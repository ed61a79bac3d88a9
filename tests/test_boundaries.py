"""Kubernetes' 63-character limits are inclusive: a name or value of exactly 63
characters is valid, one of 64 is refused, wherever stowage enforces the limit."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from stowage.plan import validators
from stowage.plan.automount import AutoMountError, resolve
from stowage.plan.configdata import AutoMount
from stowage.plan.variables import unsafe_reason

AT_LIMIT, OVER = "a" * 63, "a" * 64


@pytest.mark.parametrize("check", [validators.volume_name, validators.user_name])
def test_a_dns1123_label_of_63_characters_is_valid_and_64_is_not(
    check: Callable[[str], str],
) -> None:
    assert check(AT_LIMIT) == AT_LIMIT
    with pytest.raises(ValueError, match=OVER):
        check(OVER)


def test_a_variable_value_of_63_characters_is_safe_and_64_is_not() -> None:
    assert unsafe_reason(AT_LIMIT) is None
    assert unsafe_reason(OVER) == "it is longer than 63 characters"


def test_an_auto_mount_volume_name_of_63_characters_is_valid_and_64_is_not() -> None:
    def auto(name: str) -> AutoMount:
        return AutoMount(type="hostPath", params={"host_path": "/srv/p", "volume_name": name})

    volume = resolve(auto(AT_LIMIT))
    assert volume is not None
    assert volume.name == AT_LIMIT
    with pytest.raises(AutoMountError, match="not a valid volume name"):
        resolve(auto(OVER))
