"""The stream written back: untouched documents byte for byte, changed ones rendered."""

from __future__ import annotations

from functools import partial
from typing import Any

from stowage import parallel
from stowage.read.manifests import BOM, PARALLEL_MIN_DOCUMENTS, Document, Stream
from stowage.write import yamlwrite


def dump_body(body: Any) -> str:
    """Deterministic block YAML for a changed document (keys in their original order)."""
    return yamlwrite.dump(body)


def render_document(doc: Document, newline: str) -> str:
    if not doc.changed:
        return doc.separator + doc.text
    if doc.rendered is not None:
        return doc.rendered
    separator = doc.separator if doc.separator.strip() == "---" else "---" + newline
    text = doc.leading_comments() + dump_body(doc.body)
    if newline != "\n":
        text = text.replace("\r\n", "\n").replace("\n", newline)
    return separator + text


def write(stream: Stream) -> str:
    return "".join(write_pieces(stream))


def write_pieces(stream: Stream) -> list[str]:
    """The output in pieces whose concatenation is :func:`write`'s text: untouched
    documents are their original strings, not copies, so a large stream is held once."""
    changed = [doc for doc in stream.documents if doc.changed and doc.rendered is None]
    render = partial(render_document, newline=stream.newline)
    rendered = iter(parallel.map_halves(render, changed, PARALLEL_MIN_DOCUMENTS))
    out = [BOM] if stream.bom else []
    for doc in stream.documents:
        if doc.dropped:
            continue
        if doc.changed:
            out.append(doc.rendered if doc.rendered is not None else next(rendered))
        else:
            out += (doc.separator, doc.text)
    out.append(stream.trailer)
    return out
