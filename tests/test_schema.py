"""One source of truth: the chart's schema, README and defaults come from the models."""

from __future__ import annotations

import subprocess
import sys

import yaml

from conftest import CHART
from stowage.plan.schema import (
    CONFIG_REFERENCE_FILE,
    README_FILE,
    SCHEMA_FILE,
    config_reference_text,
    readme_text,
    schema_text,
)
from stowage.plan.values import ChartValues


def test_committed_schema_and_readme_are_fresh() -> None:
    assert SCHEMA_FILE.read_text() == schema_text(), "run: python -m stowage.plan.schema"
    assert README_FILE.read_text() == readme_text(), "run: python -m stowage.plan.schema"
    assert CONFIG_REFERENCE_FILE.read_text() == config_reference_text(), (
        "run: python -m stowage.plan.schema"
    )


def test_check_mode_reports_staleness(tmp_path: object) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "stowage.plan.schema", "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr


def test_values_yaml_is_exactly_the_model_defaults() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert ChartValues.model_validate(values).model_dump(mode="json") == values
    assert ChartValues().model_dump(mode="json") == values


def test_every_value_is_documented() -> None:
    readme = README_FILE.read_text()
    for key in (
        "persistence.data.<name>.mountPath",
        "userStorage.nfs.server",
        "owl.token.existingSecret",
        "securityContext.group",
        "autoMount.params",
    ):
        assert f"`{key}`" in readme, key
    assert '| `persistence.scheduler.mountPath` | string | "/var/run/owl"' in readme
