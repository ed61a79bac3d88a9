"""Workloads: every pod spec in the stream, with what targeting and checks need to know.

Pure: built from a parsed :class:`~stowage.manifests.Stream`; pod specs that a
template ConfigMap carries appear as workloads of their own (``carrier`` set).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from stowage.findings import ResourceRef
from stowage.manifests import Document, Object, Stream
from stowage.podspecs import (
    TEMPLATE_LABEL,
    PodSite,
    carried_templates,
    get_in,
    is_pod_template_carrier,
    sites,
)


@dataclass
class Workload:
    """One pod spec in one manifest."""

    object: Object  # the object in the stream (for a carried template: the ConfigMap)
    manifest: dict[str, Any]  # the manifest holding the pod spec (the carried one for templates)
    site: PodSite

    @property
    def doc(self) -> Document:
        """The stream document holding it (a List's, for a List item)."""
        return self.object.doc

    @property
    def kind(self) -> str:
        return self.site.kind

    @property
    def ref(self) -> ResourceRef:
        meta = self.manifest.get("metadata") or {}
        return ResourceRef(
            self.kind,
            str(meta.get("namespace") or self.object.ref.namespace or ""),
            str(meta.get("name") or self.object.ref.name),
        )

    @property
    def label(self) -> str:
        """How messages name it: Kind/name, plus the component of a multi-pod kind."""
        suffix = "" if self.site.component == "pod" else f" ({self.site.component})"
        carried = f" in ConfigMap/{self.object.ref.name}" if self.is_template else ""
        return f"{self.kind}/{self.ref.name}{suffix}{carried}"

    @property
    def is_template(self) -> bool:
        """A pod template launched at run time (e.g. one pipeline Job per run)."""
        return self.site.template_key is not None

    @property
    def pod_spec(self) -> dict[str, Any]:
        spec = get_in(self.manifest, self.site.path)
        return spec if isinstance(spec, dict) else {}

    @property
    def labels(self) -> dict[str, str]:
        """Workload labels overlaid with pod template labels."""
        return self._merged("labels")

    @property
    def annotations(self) -> dict[str, str]:
        return self._merged("annotations")

    def _merged(self, field: str) -> dict[str, str]:
        merged: dict[str, str] = {}
        for path in (("metadata", field), (*self.site.metadata_path, field)):
            value = get_in(self.manifest, path)
            if isinstance(value, dict):
                merged.update({str(k): str(v) for k, v in value.items()})
        return merged


# Parses a carried template: (the ConfigMap's document, its data key, the text).
Loader = Callable[[Document, str, str], Any]


def collect(stream: Stream, load_template: Loader) -> Iterator[Workload]:
    """Every workload in stream order; carried templates are parsed with ``load_template``.

    The items of a `List` are workloads exactly like top-level documents.
    """
    for obj in stream.objects():
        if is_pod_template_carrier(obj.body):
            load = partial(load_template, obj.doc)
            for key, manifest in carried_templates(obj.body, load):
                for site in sites(manifest):
                    carried = PodSite(site.kind, site.component, site.path, key)
                    yield Workload(obj, manifest, carried)
            continue
        for site in sites(obj.body):
            yield Workload(obj, obj.body, site)


__all__ = ["TEMPLATE_LABEL", "Loader", "Workload", "collect"]
