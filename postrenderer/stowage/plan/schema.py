"""Generate chart/values.schema.json, chart/README.md, docs/config-reference.md and the
fast path stowage/plan/configdata.py.

All four come from the pydantic models (:class:`ChartValues` for the chart,
:class:`Config` for the post-renderer's config file; configdata via
stowage.plan.configgen). `python -m stowage.plan.schema` writes them; `--check` exits
1 when a committed file is stale (a test runs it), so the schema Helm validates with,
both references and the fast path can never drift from the models.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from stowage.plan import configgen
from stowage.plan.config import Config
from stowage.plan.values import ChartValues

ROOT = Path(__file__).resolve().parents[3]
CHART = ROOT / "chart"
SCHEMA_FILE = CHART / "values.schema.json"
README_FILE = CHART / "README.md"
CONFIG_REFERENCE_FILE = ROOT / "docs" / "config-reference.md"
CONFIG_DATA_FILE = Path(__file__).resolve().parent / "configdata.py"


def values_schema(model: type[ChartValues] | type[Config] = ChartValues) -> dict[str, Any]:
    schema = model.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "stowage chart values"
    if model is ChartValues:
        # Helm sets `global` in a dependency's values (storage-only mode in an umbrella chart).
        schema["properties"]["global"] = {
            "type": "object",
            "description": "Helm's values shared by every chart of an umbrella release; "
            "stowage reads nothing from it.",
        }
    _forbid_unmatched_keys(schema)
    return schema


def _forbid_unmatched_keys(node: Any) -> None:
    """A map keyed by volume or user names accepts only keys matching the name pattern."""
    if isinstance(node, dict):
        if "patternProperties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        for value in node.values():
            _forbid_unmatched_keys(value)
    elif isinstance(node, list):
        for value in node:
            _forbid_unmatched_keys(value)


def schema_text() -> str:
    return json.dumps(values_schema(), indent=2, sort_keys=True) + "\n"


def config_schema_text() -> str:
    """The JSON Schema of a `--config` file (`stowage schema`), from the same models."""
    schema = values_schema(Config)
    schema["title"] = "stowage config file"
    schema["description"] = "A storage plan for `stowage --config FILE`; see `stowage docs`."
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str):
        resolved: dict[str, Any] = schema["$defs"][ref.rsplit("/", 1)[-1]]
        return resolved
    return node


def _type_of(schema: dict[str, Any], node: dict[str, Any]) -> str:
    node = _resolve(schema, node)
    if "anyOf" in node:
        return " or ".join(_type_of(schema, n) for n in node["anyOf"])
    if "enum" in node:
        return " | ".join(json.dumps(v) for v in node["enum"])
    if "const" in node:
        return json.dumps(node["const"])
    kind = node.get("type", "object")
    if kind == "array" and "items" in node:
        return f"list of {_type_of(schema, node['items'])}"
    return str(kind)


def _rows(schema: dict[str, Any], node: dict[str, Any], prefix: str) -> Iterator[tuple[str, ...]]:
    node = _resolve(schema, node)
    for key, prop in node.get("properties", {}).items():
        path = f"{prefix}.{key}" if prefix else key
        target = _resolve(schema, prop)
        description = prop.get("description") or target.get("description") or ""
        if target.get("properties"):
            if description:
                yield path, "object", "", description
            yield from _rows(schema, target, path)
            continue
        default = json.dumps(prop["default"]) if "default" in prop else ""
        yield path, _type_of(schema, prop), default, description
        for member in target.get("anyOf", []):  # an optional object: document its keys too
            resolved = _resolve(schema, member)
            if resolved.get("properties"):
                yield from _rows(schema, resolved, path)
        pattern_props = target.get("patternProperties")
        if pattern_props:
            item = next(iter(pattern_props.values()))
            yield from _rows(schema, item, f"{path}.<name>")
        items = target.get("items")
        if isinstance(items, dict) and _resolve(schema, items).get("properties"):
            yield from _rows(schema, items, f"{path}[]")  # a list of objects: its keys


def readme_text() -> str:
    schema = values_schema()
    defaults = ChartValues().model_dump(mode="json")
    lines = [
        "# stowage chart",
        "",
        "The Owl pipeline platform (owl-pipeline-server 0.8.3: a scheduler keeping its SQLite",
        "state on a claim, the API next to it, a Job per pipeline run and a Dask cluster per",
        "run), or with `mode: storage-only` only the storage for another platform's release.",
        "Storage is declared once here and attached by the stowage post-renderer: install",
        "with `--post-renderer stowage` (see the [quickstarts](../docs/)). The API token",
        "Secret is generated on the first install and kept (`lookup`); `helm template` and",
        "GitOps tools have no cluster to look it up in, so they render no Secret and need",
        "`owl.token.existingSecret`.",
        "",
        "Generated from `postrenderer/stowage/plan/values.py` by `python -m stowage.plan.schema`;",
        "`values.schema.json` comes from the same models, so Helm rejects bad values with",
        "the key named.",
        "",
        "## Values",
        "",
        *values_table(schema, defaults),
    ]
    lines += [
        "",
        "A data or outputs volume takes exactly one source: `hostPath`, `existingClaim`",
        "(with optional `accessModes`), `nfs` (the chart creates a PersistentVolume and a",
        "claim), `claim` (the chart creates a claim), or `store` with `bucket`, `secret`",
        "and `secretKey`. Every claim and volume the chart creates carries",
        "`helm.sh/resource-policy: keep` unless `persistence.resourcePolicy` says otherwise.",
        "",
    ]
    return "\n".join(lines)


def values_table(schema: dict[str, Any], defaults: dict[str, Any]) -> list[str]:
    lines = ["| key | type | default | description |", "|---|---|---|---|"]
    flat = _flat(defaults)
    for path, kind, default, description in _rows(schema, schema, ""):
        shown = default or (json.dumps(flat[path]) if path in flat else "")
        lines.append(f"| `{path}` | {_cell(kind)} | {_cell(shown)} | {_cell(description)} |")
    return lines


def config_reference_text() -> str:
    lines = [
        "# Config reference",
        "",
        "The keys of a `--config` file and of the chart's plan resource, generated from",
        "`postrenderer/stowage/plan/config.py` by `python -m stowage.plan.schema`. Files given",
        "with `--config` deep-merge over the plan and over each other (maps merge, lists are",
        "replaced, `null` removes a key); see [postrenderer.md](postrenderer.md).",
        "",
        *values_table(values_schema(Config), Config().model_dump(mode="json")),
        "",
        "A volume (`persistence.data.<name>`, `persistence.outputs.<name>`) takes exactly one",
        "source: `hostPath`, `existingClaim` (with optional `accessModes`), `nfs`, `claim`, or",
        "`store` with `bucket`, `secret` and `secretKey`.",
        "",
    ]
    return "\n".join(lines)


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(data, dict) and data:
        for key, value in data.items():
            out.update(_flat(value, f"{prefix}.{key}" if prefix else str(key)))
    else:
        out[prefix] = data
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def main(argv: list[str]) -> int:
    outputs = {
        SCHEMA_FILE: schema_text(),
        README_FILE: readme_text(),
        CONFIG_REFERENCE_FILE: config_reference_text(),
        CONFIG_DATA_FILE: configgen.generate(),
    }
    if "--check" in argv:
        stale = [p for p, text in outputs.items() if not p.exists() or p.read_text() != text]
        for path in stale:
            print(f"{path} is stale: run `python -m stowage.plan.schema`", file=sys.stderr)
        return 1 if stale else 0
    for path, text in outputs.items():
        path.write_text(text)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
