"""Pod templates kept in ConfigMap data: the presets, and which ConfigMaps and keys they name.

Owl keeps its pipeline Job fragment and per-run Dask pod templates in
`owl.yaml`, dask-kubernetes' classic config keeps whole Pod dicts, Airflow keeps
a whole Pod in `pod_template_file.yaml`. The config's `templates` name the
ConfigMap, the data key and the sites inside it; a preset supplies the key and
sites of a known consumer. stowage's own chart carries whole manifests in
ConfigMaps labelled `stowage.io/pod-template`, reached through the built-in
`manifests` preset (:data:`BUILTIN`): no special case.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from stowage.plan.configdata import ConfigMapSelector, TemplateSite, TemplateSource
from stowage.pods.podspecs import TEMPLATE_LABEL, get_in

EVERY_KEY = "*"


def _site(path: str, shape: str, target: str | None, component: str) -> TemplateSite:
    return TemplateSite(path=path, shape=shape, target=target, component=component)


# preset -> (default data key, sites); checked against how each consumer parses the key:
# Owl and dask-kubernetes load YAML with PyYAML (Owl expands ${VAR} in plain scalars),
# Airflow deserializes the pod template file with the kubernetes client.
PRESETS: dict[str, tuple[str, tuple[TemplateSite, ...]]] = {
    "owl": (
        "owl.yaml",
        (
            _site("pipeline", "fragment", "pipeline", "pipeline"),
            _site("dask.kubernetes.scheduler-template.spec", "podSpec", "dask", "scheduler"),
            _site("dask.kubernetes.worker-template.spec", "podSpec", "dask", "worker"),
        ),
    ),
    "dask-kubernetes": (
        "kubernetes.yaml",
        (
            _site("kubernetes.scheduler-template.spec", "podSpec", "dask", "scheduler"),
            _site("kubernetes.worker-template.spec", "podSpec", "dask", "worker"),
        ),
    ),
    "airflow": ("pod_template_file.yaml", (_site("", "manifest", None, "worker"),)),
    "manifests": (EVERY_KEY, (_site("", "manifest", None, "pod"),)),
}

BUILTIN = TemplateSource(
    preset="manifests",
    configMap=ConfigMapSelector(matchLabels={TEMPLATE_LABEL: "true"}),
)


@dataclass(frozen=True)
class Source:
    """A template source with its preset applied: the key and the sites to look at."""

    index: int  # in the config's `templates`; -1 for the built-in
    spec: TemplateSource
    key: str
    sites: tuple[TemplateSite, ...]

    @property
    def name(self) -> str:
        """How messages name it."""
        if self.index < 0:
            return f"the built-in {TEMPLATE_LABEL} templates"
        preset = f" (preset {self.spec.preset})" if self.spec.preset else ""
        return f"templates[{self.index}]{preset}"


def sources(configured: list[TemplateSource]) -> list[Source]:
    """The config's template sources, presets applied, then the built-in one."""
    out = []
    for index, spec in [*enumerate(configured), (-1, BUILTIN)]:
        default_key, preset_sites = PRESETS[spec.preset] if spec.preset else ("", ())
        out.append(Source(index, spec, spec.key or default_key, (*preset_sites, *spec.sites)))
    return out


def selects(selector: ConfigMapSelector, body: dict[str, Any]) -> bool:
    if body.get("kind") != "ConfigMap":
        return False
    if selector.name is not None and get_in(body, ("metadata", "name")) != selector.name:
        return False
    labels = get_in(body, ("metadata", "labels")) or {}
    return all(_same_value(labels.get(k), v) for k, v in selector.matchLabels.items())


def _same_value(value: Any, wanted: str) -> bool:
    # A YAML `true` label value (unquoted in the chart) reads back as "True" via str().
    text = "" if value is None else str(value)
    return text == wanted or (wanted.lower() == "true" and text.lower() == "true")


def keys_of(source: Source, body: dict[str, Any]) -> Iterator[str]:
    """The data keys of a selected ConfigMap that the source reads."""
    data = body.get("data") or {}
    if not isinstance(data, dict):
        return
    wanted = sorted(data) if source.key == EVERY_KEY else [source.key]
    for key in wanted:
        text = data.get(key)
        if isinstance(text, str) and (source.key != EVERY_KEY or "kind:" in text):
            yield str(key)


def mentions(configured: list[TemplateSource]) -> set[str]:
    """Names and label values that a ConfigMap's text must contain to be worth parsing."""
    words = set()
    for source in [*configured, BUILTIN]:
        if source.configMap.name:
            words.add(source.configMap.name)
        words.update(source.configMap.matchLabels)
    return words
