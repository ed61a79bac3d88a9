"""The manifest stream: split into documents, parse what needs reading, write back.

A document stowage does not change is written back byte for byte, comments
and all. Splitting happens on the text: a line that starts with ``---`` at
column 0 always starts a new YAML document (a block scalar's content is
indented, so ``---`` inside it is not at column 0). Only documents whose kind
stowage reads are parsed; the others are never touched.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any

from stowage import parallel
from stowage.errors import UsageError
from stowage.findings import ResourceRef
from stowage.pods.podspecs import OPERATOR_KIND_NAMES, is_list_kind, list_items
from stowage.pods.shapes import manifest_problem
from stowage.read import yamlfast
from stowage.read.yamlload import Limits, YamlError, load_document
from stowage.write import yamlwrite

BOM = "\ufeff"
# A `---` or `...` marker line at column 0, with its line ending.
_MARKER = re.compile(r"^(?:---(?:[ \t][^\n]*)?|\.\.\.[ \t]*)\r?(?:\n|\Z)", re.MULTILINE)
_KIND_LINE = re.compile(
    r"^kind:[ \t]*[\"']?([A-Za-z0-9.]+)[\"']?[ \t]*(?:#[^\n]*)?\r?$", re.MULTILINE
)

# Kinds whose content stowage reads. Everything else passes through unparsed.
READ_KINDS = frozenset(
    {
        "Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob",
        "DaskCluster", "DaskWorkerGroup", "DaskJob", "PersistentVolumeClaim",
        "PersistentVolume", "HorizontalPodAutoscaler", "Secret", "List", "ConfigMap",
        *OPERATOR_KIND_NAMES,
    }
)  # fmt: skip
STOWAGE_MARK = "stowage.io/"
# Read only when a workload or the plan names them (see engine.parse_referenced):
# a chart with thousands of per-user claims pays nothing for the ones no pod mounts.
DEFERRED_KINDS = frozenset({"PersistentVolumeClaim", "PersistentVolume", "Secret"})
_CONTENT_LINE = re.compile(r"^[ \t]*[^\s#]", re.MULTILINE)
_TOKEN = re.compile(r"[A-Za-z0-9][-A-Za-z0-9_.]*")
_FLOW_METADATA_NAME = re.compile(
    r"^metadata:[ \t]*\{[^}\n]*?\bname:[ \t]*[\"']?([A-Za-z0-9][-A-Za-z0-9_.]*)", re.MULTILINE
)
_NAME_LINE = re.compile(r"name:[ \t]*[\"']?([A-Za-z0-9][-A-Za-z0-9_.]*)")


def sniff_name(text: str) -> str | None:
    """metadata.name from block or flow style at column 0, without parsing (best effort)."""
    flow = _FLOW_METADATA_NAME.search(text)
    if flow:
        return flow.group(1)
    lines = text.splitlines()
    for start, line in enumerate(lines):
        if line.rstrip() == "metadata:":
            return _first_level_name(lines[start + 1 :])
    return None


def _first_level_name(lines: list[str]) -> str | None:
    indent: str | None = None
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        body = line.lstrip(" ")
        if body == line:  # back at column 0: metadata ended
            return None
        indent = indent if indent is not None else line[: len(line) - len(body)]
        if line.startswith(indent) and not line[len(indent)].isspace():
            match = _NAME_LINE.match(body)
            if match:
                return match.group(1)
    return None


@dataclass
class Document:
    """One YAML document of the stream, its original text and (when read) its data."""

    index: int  # position in the stream, 0-based (messages count from 1: `number`)
    line: int  # 1-based line of the document's first line in the input
    separator: str  # the `---` line before it, with its line ending ("" for the first)
    text: str  # the document exactly as it came in
    body: Any = None  # parsed data, when parsed
    parsed: bool = False
    changed: bool = False
    # The output text of a changed document, when it was rendered where it was attached
    # (stowage.attach.halves); attach is the last step that changes a body.
    rendered: str | None = field(default=None, repr=False, compare=False)

    @cached_property
    def sniffed_kind(self) -> str | None:
        """The kind from a block-style `kind:` line at column 0, without parsing."""
        match = _KIND_LINE.search(self.text)
        return match.group(1) if match else None

    @property
    def kind(self) -> str:
        return str(self.body.get("kind", "")) if isinstance(self.body, dict) else ""

    @property
    def ref(self) -> ResourceRef:
        return ref_of(self.body, f"document-{self.number}")

    @property
    def number(self) -> int:
        """The document's number as people count: the first is 1."""
        return self.index + 1

    def where(self) -> str:
        kind_name = f" ({self.kind}/{self.ref.name})" if self.kind else ""
        return f"document {self.number}{kind_name} at line {self.line}"

    def sniffed_label(self) -> str:
        """` (Kind/name)` read from the raw text, for a document that does not parse."""
        if not self.sniffed_kind:
            return ""
        name = sniff_name(self.text)
        return f" ({self.sniffed_kind}/{name})" if name else f" ({self.sniffed_kind})"

    def leading_comments(self) -> str:
        """Comment lines (e.g. Helm 3's `# Source:`) before the content, kept on rewrite."""
        content = _CONTENT_LINE.search(self.text)  # no need to split the whole document
        head = self.text[: content.start()] if content else self.text
        out = []
        for raw in head.splitlines(keepends=True):
            stripped = raw.strip()
            if stripped.startswith("#") or not stripped:
                out.append(raw)
            else:
                break
        return "".join(out)


def ref_of(body: Any, unnamed: str) -> ResourceRef:
    """kind/namespace/name of a manifest; ``unnamed`` stands in for a missing name."""
    body = body if isinstance(body, dict) else {}
    meta = body.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    return ResourceRef(
        str(body.get("kind") or "?"),
        str(meta.get("namespace") or ""),
        str(meta.get("name") or unnamed),
    )


@dataclass(frozen=True)
class Object:
    """One Kubernetes object: a whole document, or one item of a `List`/`*List` document.

    Checks and analysis read objects, so a List's items count exactly like
    top-level documents; changes to ``body`` land in ``doc.body`` (it is part of it).
    """

    doc: Document
    body: dict[str, Any]
    item: int | None = None  # index in the List's items

    @property
    def kind(self) -> str:
        return str(self.body.get("kind") or "")

    @property
    def ref(self) -> ResourceRef:
        if self.item is None:
            return self.doc.ref
        return ref_of(self.body, f"document-{self.doc.index}-item-{self.item}")


@dataclass
class Stream:
    documents: list[Document]
    bom: bool = False
    trailer: str = ""  # text after the last document (only a final `...` line)
    newline: str = "\n"
    notes: list[str] = field(default_factory=list)

    def parsed(self) -> Iterator[Document]:
        return (d for d in self.documents if d.parsed and isinstance(d.body, dict))

    def objects(self, kinds: Container[str] | None = None) -> Iterator[Object]:
        """Every parsed object in stream order, the items of Lists in place of the List;
        only those of ``kinds`` when given (most callers look for a few claims or Secrets
        among thousands of workloads)."""
        for doc in self.parsed():
            items = list_items(doc.body)
            if items is None:
                if kinds is None or _of_kinds(doc.body, kinds):
                    yield Object(doc, doc.body)
                continue
            for index, item in enumerate(items):
                if isinstance(item, dict) and (kinds is None or _of_kinds(item, kinds)):
                    yield Object(doc, item, index)


def _of_kinds(body: dict[str, Any], kinds: Container[str]) -> bool:
    kind = body.get("kind")
    return isinstance(kind, str) and kind in kinds  # `kind: []` is not hashable


def split(text: str) -> Stream:
    """Split a multi-document YAML text into documents without parsing them.

    The `---` and `...` marker lines are found by scans in C (:func:`_markers`),
    never by a Python loop over lines.
    """
    bom = text.startswith(BOM)
    if bom:
        text = text[1:]
    newline = "\r\n" if "\r\n" in text[:4096] else "\n"
    docs: list[Document] = []
    lines = _LineCounter(text)
    separator, start, pos = "", 1, 0
    for marker in _markers(text):
        chunk, line = text[pos : marker.start()], marker.group(0)
        if line.startswith("---"):
            if chunk or separator:
                docs.append(Document(len(docs), start, separator, chunk))
            separator, start = line, lines.at(marker.start())
        else:  # `...` ends the current document; the next starts after it
            if chunk or separator:
                docs.append(Document(len(docs), start, separator, chunk + line))
            elif docs:
                docs[-1].text += line
            separator, start = "", lines.at(marker.end())
        pos = marker.end()
    tail = text[pos:]
    if tail or separator:
        docs.append(Document(len(docs), start, separator, tail))
    return Stream(docs, bom=bom, newline=newline)


def _markers(text: str) -> Iterator[re.Match[str]]:
    """The marker lines in order: each candidate found with str.find, then matched
    where it stands (twice as fast as finditer, which tries every line start).
    A generator: a stream of 100,000 documents never holds all its markers at once."""
    return heapq.merge(_marker_lines(text, "---"), _marker_lines(text, "..."), key=_start)


def _marker_lines(text: str, needle: str) -> Iterator[re.Match[str]]:
    if text.startswith(needle) and (marker := _MARKER.match(text, 0)):
        yield marker
    at = text.find("\n" + needle)
    while at != -1:
        if marker := _MARKER.match(text, at + 1):
            yield marker
        at = text.find("\n" + needle, at + 4)


def _start(marker: re.Match[str]) -> int:
    return marker.start()


class _LineCounter:
    """1-based line numbers of increasing offsets, counted incrementally."""

    def __init__(self, text: str) -> None:
        self.text, self.offset, self.line = text, 0, 1

    def at(self, offset: int) -> int:
        self.line += self.text.count("\n", self.offset, offset)
        self.offset = offset
        return self.line


def sniff_kind(doc: Document) -> str | None:
    return doc.sniffed_kind


def needs_reading(doc: Document) -> bool:
    kind = sniff_kind(doc)
    if kind is None:
        return bool(doc.text.strip(" \t\r\n")) and not _only_comments(doc.text)
    if is_list_kind(kind) and kind != "List":
        kind = kind[: -len("List")]  # DeploymentList holds Deployments: read them all
        if kind in DEFERRED_KINDS:
            return True
    if kind == "ConfigMap":
        return STOWAGE_MARK in doc.text
    return kind in READ_KINDS and kind not in DEFERRED_KINDS


def _only_comments(text: str) -> bool:
    return all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines())


def parse(stream: Stream, limits: Limits) -> Stream:
    """Parse every document stowage reads; refuse unusable ones with exit 2."""
    parse_documents([doc for doc in stream.documents if needs_reading(doc)], limits, spread=True)
    return stream


# Below this many documents, importing rapidyaml (stowage.read.yamlfast) costs more than it saves.
FAST_LOAD_MIN_DOCUMENTS = 64
# From this many, loading and writing are split over two processes (stowage.parallel).
PARALLEL_MIN_DOCUMENTS = 800


def parse_documents(docs: list[Document], limits: Limits, spread: bool = False) -> None:
    """Parse ``docs`` in order; the first unusable one is refused (exit 2). ``spread``:
    a long list is loaded in two processes (stowage.parallel)."""
    if len(docs) < FAST_LOAD_MIN_DOCUMENTS or not yamlfast.available():
        for doc in docs:
            parse_document(doc, limits)
        return
    load = partial(_vouched, limits=limits)
    minimum = PARALLEL_MIN_DOCUMENTS if spread else len(docs) + 1
    with yamlfast.silenced_stderr():
        loads = parallel.map_halves(load, docs, minimum)
    for doc, (vouched, body, problem) in zip(docs, loads, strict=True):
        if vouched:
            _accept(doc, body, problem)
        else:
            parse_document(doc, limits)  # the careful way: its errors name the document


def parse_mentioning(
    stream: Stream, kinds: frozenset[str], names: set[str], limits: Limits
) -> None:
    """Parse the not-yet-parsed documents of ``kinds`` whose text mentions any of ``names``."""
    if not names:
        return
    unread = [d for d in stream.documents if not d.parsed and sniff_kind(d) in kinds]
    parse_documents([d for d in unread if _mentions(d.text, names)], limits, spread=True)


def _mentions(text: str, names: set[str]) -> bool:
    """Whether ``text`` may name one of ``names`` (false positives only cost a parse)."""
    if len(names) <= 32:
        return any(name in text for name in names)
    return not names.isdisjoint(_TOKEN.findall(text))


_parse_count = 0


def parse_count() -> int:
    """Documents parsed so far in this process: lets an index over parsed documents go stale."""
    return _parse_count


def _vouched(doc: Document, limits: Limits) -> tuple[bool, Any, str | None]:
    """yamlfast's answer for the document and, when it vouched, the body's shape
    problem: both pure, so they run in whichever process loads the document."""
    vouched, body = yamlfast.vouched(doc.separator + doc.text, limits)
    return vouched, body, (manifest_problem(body) or "") if vouched else None


def parse_document(doc: Document, limits: Limits) -> None:
    try:
        body = load_document(doc.separator + doc.text, limits)
    except YamlError as err:
        line = doc.line + (err.line - 1 if err.line else 0)  # doc.line is its `---` line
        raise UsageError(
            err.message, where=f"document {doc.number}{doc.sniffed_label()} at line {max(line, 1)}"
        ) from None
    _accept(doc, body)


def adopt(doc: Document, body: Any) -> None:
    """Take a body parsed and checked elsewhere (stowage.attach.halves' second process)."""
    _accept(doc, body, "")


def _accept(doc: Document, body: Any, problem: str | None = None) -> None:
    """Keep a loaded body; refuse it when the API server would (exit 2). ``problem``
    is manifest_problem(body) ("" for none) when the caller has it already."""
    global _parse_count  # noqa: PLW0603 - a cheap staleness stamp for indexes (analysis/claims.py)
    _parse_count += 1
    if body is not None and not isinstance(body, dict):
        raise UsageError("a manifest must be a mapping", where=doc.where())
    doc.body, doc.parsed = body, True
    if problem is None:
        problem = manifest_problem(body)
    if problem:
        raise UsageError(f"{problem} (the API server would refuse it too)", where=doc.where())


def read(text: str, limits: Limits) -> Stream:
    return parse(split_input(text, limits), limits)


def split_input(text: str, limits: Limits) -> Stream:
    """:func:`split`, after refusing an input over the size limit."""
    if len(text.encode("utf-8", "surrogatepass")) > limits.max_input_bytes:
        raise UsageError(
            f"input is larger than {limits.max_input_bytes} bytes; raise --max-input-bytes "
            "if it is genuine"
        )
    return split(text)


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
        if doc.changed:
            out.append(doc.rendered if doc.rendered is not None else next(rendered))
        else:
            out += (doc.separator, doc.text)
    out.append(stream.trailer)
    return out


def copy_body(body: Any) -> Any:
    """A copy of parsed data whose dicts and lists are new and whose scalars are shared.

    Three times faster than copy.deepcopy, which memoizes every object. Sharing
    scalars keeps ``copy == body`` true even for a NaN, as deepcopy did.
    """
    if type(body) is dict:
        return {key: copy_body(value) for key, value in body.items()}
    if type(body) is list:
        return [copy_body(item) for item in body]
    return body
