"""The manifest stream: split into documents, each parsed the first time it is used.

Splitting happens on the text: a line that starts with ``---`` at column 0
always starts a new YAML document (a block scalar's content is indented, so
``---`` inside it is not at column 0). Each document's kind is read from its
header line without parsing, and the stream indexes its documents by that
kind (:meth:`Stream.of_kind`); its name too, when the header spells it out
plainly (:func:`header_name`), so that a stage finds the documents of a kind
named one of some names without parsing the others (:meth:`Stream.named`).

A document parses itself the first time something reads its data
(:attr:`Document.body`), with the stream's limits and shape check, and is
refused (exit 2) exactly as an explicit read refuses it. The explicit reads
(:meth:`Stream.read_all`, :meth:`Stream.read`, :meth:`Stream.read_named`) are
batches: many documents load faster together (rapidyaml, and two processes
for a long list), and they say which documents the checks see
(:meth:`Stream.parsed`, :meth:`Stream.objects`: the documents read so far).
The others are never touched, and stowage.write writes them back byte for byte.

What to read up front and which manifests the API server would refuse are
not this module's to know: the stream is given a :class:`Reading` by the
stage that knows the kinds (stowage.pods.reading).
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache, cached_property, partial
from typing import Any

from stowage import parallel
from stowage.errors import UsageError
from stowage.findings import ResourceRef
from stowage.read import yamlfast
from stowage.read.yamlload import Limits, YamlError, load_document

BOM = "\ufeff"
# A `---` or `...` marker line at column 0, with its line ending.
_MARKER = re.compile(r"^(?:---(?:[ \t][^\n]*)?|\.\.\.[ \t]*)\r?(?:\n|\Z)", re.MULTILINE)
_KIND_LINE = re.compile(
    r"^kind:[ \t]*[\"']?([A-Za-z0-9.]+)[\"']?[ \t]*(?:#[^\n]*)?\r?$", re.MULTILINE
)

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


_METADATA_LINE = re.compile(r"^metadata:[ \t]*\r?$", re.MULTILINE)
# A `name:` whose value YAML reads as exactly the string it shows (a plain word that
# starts with a letter, or a quoted name without escapes), then only a comment.
_TAIL = "[-A-Za-z0-9_.]*"
_PLAIN_NAME = re.compile(
    rf"name:[ \t]+(?:\"(?P<double>[A-Za-z0-9]{_TAIL})\"|'(?P<single>[A-Za-z0-9]{_TAIL})'"
    rf"|(?P<plain>[A-Za-z]{_TAIL}))"
    r"(?:[ \t]+#[^\n]*)?[ \t]*\r?$"
)
# Plain words that YAML 1.1 reads as a boolean or null rather than as the string.
_YAML_WORDS = frozenset({"y", "n", "yes", "no", "true", "false", "on", "off", "null"})


def header_name(text: str) -> str | None:
    """metadata.name when a block-style header spells it out plainly, without parsing.

    None whenever the text leaves any doubt: no `metadata:` line at column 0, no
    first-level `name:` or more than one, a flow or quoted construct that may span
    lines (an odd quote or bracket on a line up to the end of metadata), an alias, an
    escape, or a plain word YAML reads as a boolean, null or number. A stream's name
    index (:meth:`Stream.named`) parses such documents instead of trusting a guess.
    """
    start = _METADATA_LINE.search(text)
    if start is None:
        return None
    end = _COLUMN_0_CONTENT.search(text, start.end())
    block = text[start.end() : end.start() if end else len(text)]
    if not _all_closed(text[: start.start()]) or not _all_closed(block):
        return None
    first = _FIRST_CONTENT.search(block)
    names = _first_level_names(first.group(1)).findall(block) if first else []
    match = _PLAIN_NAME.match(names[0]) if len(names) == 1 else None
    if match is None:
        return None
    name = match.group("double") or match.group("single") or match.group("plain")
    return None if match.group("plain") and name.lower() in _YAML_WORDS else name


_COLUMN_0_CONTENT = re.compile(r"\n(?=[^ \t\r\n#])")  # where a block mapping's value ends
_FIRST_CONTENT = re.compile(r"^( +)[^ \t\r\n#]", re.MULTILINE)
_OPENERS = re.compile(r"[\"'{}\[\]]")


@cache
def _first_level_names(indent: str) -> re.Pattern[str]:
    return re.compile(rf"^{indent}(name:[^\n]*)", re.MULTILINE)


def _all_closed(text: str) -> bool:
    """Whether no line of ``text`` opens a quote or flow collection that may go on to the
    next (most headers have no quote or bracket at all: one scan in C)."""
    return not _OPENERS.search(text) or all(map(_closed, text.splitlines()))


def _closed(line: str) -> bool:
    if line.lstrip().startswith("#"):
        return True
    return (
        line.count('"') % 2 == 0
        and line.count("'") % 2 == 0
        and line.count("{") == line.count("}")
        and line.count("[") == line.count("]")
    )


@dataclass
class Document:
    """One YAML document of the stream: its original text, and its data (:attr:`body`),
    which it parses from that text the first time something reads it."""

    index: int  # position in the stream, 0-based (messages count from 1: `number`)
    line: int  # 1-based line of the document's first line in the input
    separator: str  # the `---` line before it, with its line ending ("" for the first)
    text: str  # the document exactly as it came in
    _body: Any = field(default=None, repr=False)  # the data once parsed: read `body`
    parsed: bool = False
    changed: bool = False
    # The output text of a changed document, when it was rendered where it was attached
    # (stowage.attach.halves); attach is the last step that changes a body.
    rendered: str | None = field(default=None, repr=False, compare=False)
    dropped: bool = False  # left out of the output (the chart's fail-closed guard)
    # How the document parses itself: its stream's limits and shape check (Stream gives it).
    loader: Loader | None = field(default=None, repr=False, compare=False)

    @property
    def body(self) -> Any:
        """The parsed data, parsed on first use with the stream's limits and shape check:
        an unusable document is refused (exit 2) exactly as :meth:`Stream.read` refuses
        it. A document no stream reads (made by hand, without a loader) has None."""
        if not self.parsed and self.loader is not None:
            self.loader.load(self)
        return self._body

    @body.setter
    def body(self, value: Any) -> None:
        """Data given to the document counts as read: it is never parsed over."""
        self._body, self.parsed = value, True

    @property
    def parsed_body(self) -> Any:
        """The data if the document is parsed, else None: looks without parsing."""
        return self._body if self.parsed else None

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
        """Where the document is, for a message: never parses it."""
        body = self.parsed_body
        kind = str(body.get("kind", "")) if isinstance(body, dict) else ""
        kind_name = f" ({kind}/{ref_of(body, f'document-{self.number}').name})" if kind else ""
        return f"document {self.number}{kind_name} at line {self.line}"

    @cached_property
    def header_name(self) -> str | None:
        """metadata.name when the header spells it out plainly, without parsing; None when
        it does not (flow style, an alias, an escape, a value YAML reads as a number)."""
        if self.separator.strip() not in ("", "---"):  # `--- !tag` or content on that line
            return None
        return header_name(self.text)

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


def _reads_nothing(doc: Document) -> bool:
    return False


def _no_problem(body: Any) -> str | None:
    return None


@dataclass(frozen=True)
class Reading:
    """What a stream parses up front, and what makes a parsed manifest unusable.

    Given by the stage that knows the kinds (stowage.pods.reading.READING): this
    module splits and parses YAML and knows no kind. The default reads nothing up
    front and refuses only what is not a mapping.
    """

    wanted: Callable[[Document], bool] = _reads_nothing  # parsed by Stream.read_all
    problem: Callable[[Any], str | None] = _no_problem  # why the API server would refuse it


NO_READING = Reading()


@dataclass(frozen=True)
class Loader:
    """How a stream's documents parse themselves (:attr:`Document.body`): one shared by
    every document of a stream, so that a document refers to no stream (no cycles)."""

    limits: Limits
    problem: Callable[[Any], str | None]

    def load(self, doc: Document) -> None:
        parse_document(doc, self.limits, self.problem)


@dataclass
class Stream:
    documents: list[Document]
    bom: bool = False
    trailer: str = ""  # text after the last document (only a final `...` line)
    newline: str = "\n"
    notes: list[str] = field(default_factory=list)
    reading: Reading = field(default=NO_READING, repr=False, compare=False)
    limits: Limits = field(default_factory=Limits, repr=False, compare=False)
    # Documents by the kind their header names, built on first use (Stream.of_kind).
    _index: dict[str | None, list[Document]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _index_size: int = field(default=-1, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        loader = Loader(self.limits, self.reading.problem)
        for doc in self.documents:
            if doc.loader is None:
                doc.loader = loader

    def parsed(self) -> Iterator[Document]:
        """The documents read so far whose data is a mapping, in stream order (the hot
        loops here read ``_body``: a parsed document's data, without the property call)."""
        return (d for d in self.documents if d.parsed and isinstance(d._body, dict))

    def objects(self, kinds: Container[str] | None = None) -> Iterator[Object]:
        """Every parsed object in stream order, the items of Lists in place of the List;
        only those of ``kinds`` when given (most callers look for a few claims or Secrets
        among thousands of workloads)."""
        for doc in self.parsed():
            body = doc._body
            items = list_items(body)
            if items is None:
                if kinds is None or _of_kinds(body, kinds):
                    yield Object(doc, body)
                continue
            for index, item in enumerate(items):
                if isinstance(item, dict) and (kinds is None or _of_kinds(item, kinds)):
                    yield Object(doc, item, index)

    def part(self, docs: list[Document]) -> Stream:
        """A stream of some of these documents, read the same way."""
        return Stream(docs, newline=self.newline, reading=self.reading, limits=self.limits)

    def of_kind(self, kinds: Iterable[str | None]) -> list[Document]:
        """The documents whose header names one of ``kinds`` (None: no readable
        `kind:` line), in stream order, from the index of kinds (no parsing)."""
        index = self._by_kind()
        found = [doc for kind in kinds for doc in index.get(kind, ())]
        return sorted(found, key=_position) if len(found) > 1 else found

    def named(self, kind: str, names: Iterable[str]) -> list[Document]:
        """The documents of ``kind`` named one of ``names``, in stream order, found by the
        kind and name their headers spell out (:func:`header_name`), without parsing.

        A document of ``kind`` whose header leaves its name in doubt is parsed when its
        text mentions one of the names, and counts when its data is so named: the answer
        is the one parsing every such document would give (a name the text spells only
        through escapes excepted). The items of a List are objects, not documents:
        :meth:`objects` has them, as it has documents stowage added.
        """
        wanted = {name for name in names if name}
        return [
            doc
            for doc in self._may_be_named(kind, wanted)
            if doc.header_name is not None or _named(doc.body, wanted)
        ]

    def read_named(self, kind: str, names: Iterable[str]) -> None:
        """Parse the documents :meth:`named` finds (and those whose header leaves the name
        in doubt that mention one), in stream order; the first unusable one is refused
        (exit 2). A long list loads in two processes."""
        self.read([doc for doc in self._may_be_named(kind, names) if not doc.parsed], spread=True)

    def _may_be_named(self, kind: str, wanted: Iterable[str]) -> list[Document]:
        """The documents of ``kind`` whose header names one of ``wanted`` or leaves the name
        in doubt, among those whose text mentions one (a plainly spelt name is in the
        text: a scan in C rules out the rest before any header is read), in stream order."""
        names = {name for name in wanted if name}
        if not names:
            return []
        accepted = {*names, None}
        return [
            doc
            for doc in self.of_kind((kind,))
            if _mentions(doc.text, names) and doc.header_name in accepted
        ]

    def _by_kind(self) -> dict[str | None, list[Document]]:
        if self._index_size != len(self.documents):  # stowage appended documents
            self._index = {}
            for doc in self.documents:
                self._index.setdefault(doc.sniffed_kind, []).append(doc)
            self._index_size = len(self.documents)
        return self._index

    def read_all(self, spread: bool = True) -> None:
        """Parse every document the reading wants up front that is not parsed yet; the
        first unusable one is refused (exit 2). ``spread``: a long list loads in two
        processes."""
        wanted = self.reading.wanted
        docs = [doc for doc in self.documents if not doc.parsed and wanted(doc)]
        self.read(docs, spread)

    def read(self, docs: list[Document], spread: bool = False) -> None:
        """Parse ``docs`` in order; the first unusable one is refused (exit 2)."""
        parse_documents(docs, self.limits, spread, self.reading.problem)

    def read_mentioning(self, kinds: frozenset[str], names: set[str]) -> None:
        """Parse the unread documents of ``kinds`` whose text mentions any of ``names``."""
        if not names:
            return
        unread = [d for d in self.of_kind(kinds) if not d.parsed]
        self.read([d for d in unread if _mentions(d.text, names)], spread=True)

    def read_unchecked(self, doc: Document) -> None:
        """Parse a document of a kind stowage does not validate; unparsable ones stay
        unread (not ours to judge: they pass through as they came)."""
        try:
            body = load_document(doc.separator + doc.text, self.limits)
        except YamlError:
            return
        if isinstance(body, dict):
            doc.body, doc.parsed = body, True

    def forget(self) -> None:
        """Back to the state :func:`split` left: nothing parsed, nothing changed (a run
        that gave up on an attempt starts again from the documents' own text)."""
        for doc in self.documents:
            doc._body, doc.parsed, doc.changed, doc.rendered = None, False, False, None


def _position(doc: Document) -> int:
    return doc.index


def _named(body: Any, names: set[str]) -> bool:
    meta = body.get("metadata") if isinstance(body, dict) else None
    name = meta.get("name") if isinstance(meta, dict) else None
    return isinstance(name, str) and name in names  # the API server refuses other names


def is_list_kind(kind: str) -> bool:
    """`List` or a typed list (`DeploymentList`, `PersistentVolumeClaimList`, ...)."""
    return kind == "List" or (kind.endswith("List") and kind[:1].isupper())


def list_items(body: Any) -> list[Any] | None:
    """The items of a `kind: List` or `*List` manifest (None for any other manifest)."""
    kind = str(body.get("kind") or "") if isinstance(body, dict) else ""
    if not is_list_kind(kind):
        return None
    items = body.get("items")
    if isinstance(items, list):
        return items
    return [] if kind == "List" else None  # a CRD kind that merely ends in "List"


def _of_kinds(body: dict[str, Any], kinds: Container[str]) -> bool:
    kind = body.get("kind")
    return isinstance(kind, str) and kind in kinds  # `kind: []` is not hashable


def split(text: str, reading: Reading = NO_READING, limits: Limits | None = None) -> Stream:
    """Split a multi-document YAML text into documents without parsing them; the stream
    reads with ``reading`` and ``limits`` (the defaults when None).

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
    return Stream(docs, bom, newline=newline, reading=reading, limits=limits or Limits())


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


def only_comments(text: str) -> bool:
    return all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines())


# Below this many documents, importing rapidyaml (stowage.read.yamlfast) costs more than it saves.
FAST_LOAD_MIN_DOCUMENTS = 64
# From this many, loading and writing are split over two processes (stowage.parallel).
PARALLEL_MIN_DOCUMENTS = 800


def parse_documents(
    docs: list[Document],
    limits: Limits,
    spread: bool = False,
    problem: Callable[[Any], str | None] = _no_problem,
) -> None:
    """Parse ``docs`` in order; the first unusable one is refused (exit 2). ``spread``:
    a long list is loaded in two processes (stowage.parallel). ``problem`` says why
    the API server would refuse a body (None: it would not)."""
    if len(docs) < FAST_LOAD_MIN_DOCUMENTS or not yamlfast.available():
        for doc in docs:
            parse_document(doc, limits, problem)
        return
    load = partial(_vouched, limits=limits, problem=problem)
    minimum = PARALLEL_MIN_DOCUMENTS if spread else len(docs) + 1
    with yamlfast.silenced_stderr():
        loads = parallel.map_halves(load, docs, minimum)
    for doc, (vouched, body, found) in zip(docs, loads, strict=True):
        if vouched:
            _accept(doc, body, found)
        else:
            parse_document(doc, limits, problem)  # the careful way: its errors name the document


def _mentions(text: str, names: set[str]) -> bool:
    """Whether ``text`` may name one of ``names`` (false positives only cost a parse)."""
    if len(names) <= 32:
        return any(name in text for name in names)
    return not names.isdisjoint(_TOKEN.findall(text))


_parse_count = 0


def parse_count() -> int:
    """Documents parsed so far in this process: lets an index over parsed documents go stale."""
    return _parse_count


def _vouched(
    doc: Document, limits: Limits, problem: Callable[[Any], str | None]
) -> tuple[bool, Any, str | None]:
    """yamlfast's answer for the document and, when it vouched, the body's shape
    problem: both pure, so they run in whichever process loads the document."""
    vouched, body = yamlfast.vouched(doc.separator + doc.text, limits)
    return vouched, body, (problem(body) or "") if vouched else None


def parse_document(
    doc: Document, limits: Limits, problem: Callable[[Any], str | None] = _no_problem
) -> None:
    try:
        body = load_document(doc.separator + doc.text, limits)
    except YamlError as err:
        line = doc.line + (err.line - 1 if err.line else 0)  # doc.line is its `---` line
        raise UsageError(
            err.message, where=f"document {doc.number}{doc.sniffed_label()} at line {max(line, 1)}"
        ) from None
    _accept(doc, body, problem(body) if isinstance(body, dict) else "")


def adopt(doc: Document, body: Any) -> None:
    """Take a body parsed and checked elsewhere (stowage.attach.halves' second process)."""
    _accept(doc, body, "")


def _accept(doc: Document, body: Any, problem: str | None) -> None:
    """Keep a loaded body; refuse it when the API server would (exit 2). ``problem``
    is why (None or "" for no reason)."""
    global _parse_count  # noqa: PLW0603 - a cheap staleness stamp for indexes (checks/claims.py)
    _parse_count += 1
    if body is not None and not isinstance(body, dict):
        raise UsageError("a manifest must be a mapping", where=doc.where())
    doc.body, doc.parsed = body, True
    if problem:
        raise UsageError(f"{problem} (the API server would refuse it too)", where=doc.where())


def split_input(text: str, limits: Limits, reading: Reading = NO_READING) -> Stream:
    """:func:`split`, after refusing an input over the size limit; the stream reads
    with ``reading`` and ``limits``."""
    if len(text.encode("utf-8", "surrogatepass")) > limits.max_input_bytes:
        raise UsageError(
            f"input is larger than {limits.max_input_bytes} bytes; raise --max-input-bytes "
            "if it is genuine"
        )
    return split(text, reading, limits)


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
