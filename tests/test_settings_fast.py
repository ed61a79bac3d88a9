"""Config and values files: yamlfast.load_settings returns exactly what ruamel.yaml
(YAML 1.2, which stowage reads settings with) returns, or declines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from conftest import EXAMPLES, ROOT
from stowage.read import yamlfast
from test_yamlfast import DATA, YAML11_TRAPS

pytestmark = pytest.mark.skipif(not yamlfast.available(), reason="rapidyaml is not installed")


def ruamel(text: str) -> Any:
    try:
        data = YAML(typ="safe", pure=True).load(text)
    except Exception:
        return "refused"
    return json.loads(json.dumps(data, default=str))


def agrees(text: str) -> bool:
    fast = yamlfast.load_settings(text)
    if fast is None:
        return False
    assert fast == ruamel(text), text
    return True


SETTINGS_FILES = sorted(
    [
        *EXAMPLES.glob("*.yaml"),
        *(ROOT / "chart" / "ci").glob("*.yaml"),
        ROOT / "chart" / "values.yaml",
    ]
)


def test_every_values_example_and_the_charts_values_read_the_same() -> None:
    vouched = [path.name for path in SETTINGS_FILES if agrees(path.read_text())]
    assert len(vouched) > len(SETTINGS_FILES) // 2, vouched  # most are plain YAML


@pytest.mark.parametrize("token", [*YAML11_TRAPS, "0o17", "2001-12-14", "2001-12-14T21:59:43Z"])
@pytest.mark.parametrize("template", ["k: {t}\n", "{t}: v\n", "k: [{t}]\n", "k: '{t}'\n"])
def test_tokens_yaml_1_1_and_1_2_read_differently_are_declined_or_agree(
    template: str, token: str
) -> None:
    agrees(template.format(t=token))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DATA, st.sampled_from([None, True, False]))
def test_dumped_settings_read_the_same(data: Any, flow: bool | None) -> None:
    agrees(yaml.safe_dump({"root": data}, default_flow_style=flow))


def test_a_file_only_ruamel_can_read_is_left_to_it(tmp_path: Path) -> None:
    for text in ["a: &x 1\nb: *x\n", "<<: {a: 1}\n", "a: 1\na: 2\n", "a: 0o17\n", ""]:
        assert yamlfast.load_settings(text) is None, text
