"""Where a pod volume comes from, in words: attach records it in each placement, and
`make demo`, `stowage plan` and the graph print it.

Pure functions over one pod-spec volume (a dict as in the manifest).
"""

from __future__ import annotations

from typing import Any


def source_of(volume: dict[str, Any]) -> tuple[str, str]:
    """(kind, reference) of a pod volume's source: ("claim", name), ("nfs", "server:path"),
    ("hostPath", path), ("secret", name), ("configMap", name); other kinds have no
    reference; "?" for none."""
    if isinstance(volume.get("persistentVolumeClaim"), dict):
        return "claim", str(volume["persistentVolumeClaim"].get("claimName"))
    if isinstance(volume.get("hostPath"), dict):
        return "hostPath", str(volume["hostPath"].get("path"))
    if isinstance(volume.get("nfs"), dict):
        return "nfs", f"{volume['nfs'].get('server')}:{volume['nfs'].get('path')}"
    if isinstance(volume.get("secret"), dict):
        return "secret", str(volume["secret"].get("secretName"))
    if isinstance(volume.get("configMap"), dict):
        return "configMap", str(volume["configMap"].get("name"))
    return next((k for k in volume if k != "name"), "?"), ""


def describe_source(volume: dict[str, Any]) -> str:
    """`claim data`, `nfs 10.0.0.5:/exports`, `hostPath /srv`: where a volume comes from."""
    return " ".join(part for part in source_of(volume) if part)


def describe_mount(path: str, read_only: bool, source: str) -> str:
    """One mount as `make demo` and `stowage plan` print it: `/data (rw) <- hostPath /srv`."""
    return f"{path} ({'ro' if read_only else 'rw'}) <- {source}"
