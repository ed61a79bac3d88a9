"""A large stream attached in two processes, split by document.

Reading, attaching and writing thousands of workloads is what users wait for,
and a Deployment's storage depends on no other document. A forked child that
reads objects this process built pays for every page their reference counts
touch (copy-on-write); a child that builds its own objects from text does not.
So the second half of the stream's plain workload documents (:data:`PLAIN_KINDS`
that the config does not declare) goes to the child as text: it parses,
collects, attaches and renders them, and sends back their bodies, what each
workload got and their output text (:func:`attach_part`). Meanwhile this
process does the same for every other document; then it takes the child's
documents in (:func:`take_in`) and the checks run over the whole stream.

The attach stage (stowage.attach.stage) tries it when :func:`worth_trying`
says so (:func:`attach_in_halves`), and attaches again in one process
whenever anything goes wrong: an error in either half (so that it is reported
exactly as always), a child that fails, or a child's workloads that do not
line up with the bodies it sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from stowage import parallel
from stowage.errors import UsageError
from stowage.pods.podspecs import Path
from stowage.pods.reading import carried_loader, read_everything, read_for_config
from stowage.read.manifests import Document, Stream, adopt
from stowage.write.stream import render_document

if TYPE_CHECKING:
    from stowage.attach.attach import Attached, Attachment
    from stowage.plan.configdata import Config
    from stowage.plan.plan import Plan
    from stowage.pods.workloads import Loader, TemplateMatch, Workload

# Kinds whose pod specs sit at fixed places in the document itself: attaching to one
# reads no other document, and collecting its attached body finds the same pod specs.
PLAIN_KINDS = frozenset(
    {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}
)
# Below this many plain documents, a second process costs more than it saves.
MIN_DOCUMENTS = 800


@dataclass
class Part:
    """What the child sends back for its documents, in their order."""

    bodies: list[Any]
    changed: list[bool]
    rendered: list[str | None]
    sites: list[tuple[int, Path]]  # each workload's document index and pod spec path
    each: list[Attached | None]  # what each workload got (None: no target chose it)


def worth_trying(stream: Stream, config: Config) -> bool:
    """Whether a second process would get work: a second CPU, targets, and enough unread
    plain workload documents. A try that declines costs the stream what it has parsed
    (stowage.attach.stage forgets it), so it is never made in vain."""
    if not parallel.can_fork() or not config.targets:
        return False
    return bool(second_half(stream, config))


def second_half(stream: Stream, config: Config) -> list[Document]:
    """The child's documents: the second half of the unread plain workload documents."""
    declared = {kind.kind for kind in config.kinds}
    plain = [
        doc
        for doc in stream.documents
        if doc.sniffed_kind in PLAIN_KINDS and doc.sniffed_kind not in declared and not doc.parsed
    ]
    return plain[len(plain) // 2 :] if len(plain) >= MIN_DOCUMENTS else []


def attach_in_halves(stream: Stream, plan: Plan) -> Attachment | None:
    """The stream attached with half of its plain workload documents read, attached and
    rendered in a second process. None when that cannot be used, or on any error: the
    caller then attaches in one process, where the error is reported as always."""
    from stowage.attach.attach import Attachment, combine

    theirs = second_half(stream, plan.config) if plan.config.targets else []
    if not theirs:
        return None
    child = parallel.in_child(partial(attach_part, stream.part(theirs), plan))
    if child is None:
        return None
    try:
        with child:
            mine = _attach_all_but(stream, {doc.index for doc in theirs}, plan)
            part = child.result()
        if part is None:
            return None
        their_workloads = take_in(theirs, part, plan.config, carried_loader(stream.limits))
    except UsageError:
        return None
    if their_workloads is None:
        return None
    workloads, each = in_stream_order(mine.workloads, mine.each, their_workloads, part.each)
    return Attachment(workloads, combine(each), mine.matches)


@dataclass
class _Half:
    workloads: list[Workload]
    each: list[Attached | None]  # per workload
    matches: list[TemplateMatch]


def _attach_all_but(stream: Stream, taken: set[int], plan: Plan) -> _Half:
    """This process's half: every document the child did not take, rendered when changed."""
    from stowage.attach.attach import attach_each
    from stowage.pods.workloads import collect

    mine = stream.part([doc for doc in stream.documents if doc.index not in taken])
    read_everything(mine, spread=False)  # the child has the second CPU
    read_for_config(stream, plan.config)
    matches: list[TemplateMatch] = []
    workloads = list(collect(mine, carried_loader(stream.limits), plan.config, matches))
    each = attach_each(workloads, plan, stream.limits)
    render_changed(mine.documents, stream.newline)
    return _Half(workloads, each, matches)


def attach_part(docs: Stream, plan: Plan) -> Part:
    """The child's work. It raises on anything the one-process run must report."""
    from stowage.attach.attach import attach_each
    from stowage.pods.workloads import collect

    docs.read(docs.documents)
    if any(doc.kind != doc.sniffed_kind for doc in docs.documents):  # e.g. a kind in two lines
        raise ValueError("a document is not the kind its text first names")
    workloads = list(collect(docs, _no_templates, plan.config))
    if any(w.site.view != "pod" or w.is_template for w in workloads):
        raise ValueError("a workload seen through a view: attach it in one process")
    each = attach_each(workloads, plan, docs.limits)
    newline = docs.newline
    return Part(
        bodies=[doc.body for doc in docs.documents],
        changed=[doc.changed for doc in docs.documents],
        rendered=[render_document(doc, newline) if doc.changed else None for doc in docs.documents],
        sites=_sites(workloads),
        each=each,
    )


def take_in(
    docs: list[Document], part: Part, config: Config, load: Loader
) -> list[Workload] | None:
    """Give ``docs`` the child's bodies and output; their workloads, or None when they
    do not line up with the child's (the caller then runs again in one process)."""
    from stowage.pods.workloads import collect

    for doc, body, changed, rendered in zip(
        docs, part.bodies, part.changed, part.rendered, strict=True
    ):
        adopt(doc, body)
        doc.changed, doc.rendered = changed, rendered
    workloads = list(collect(Stream(docs), load, config))
    return workloads if _sites(workloads) == part.sites else None


def render_changed(docs: list[Document], newline: str) -> None:
    """Render this process's changed documents while the child still works."""
    for doc in docs:
        if doc.changed:
            doc.rendered = render_document(doc, newline)


def in_stream_order(
    mine: list[Workload],
    my_each: list[Attached | None],
    theirs: list[Workload],
    their_each: list[Attached | None],
) -> tuple[list[Workload], list[Attached | None]]:
    """Both halves' workloads and results, in the order one process collects them
    (the sort is stable, so a document's own workloads keep their order)."""
    pairs = [*zip(mine, my_each, strict=True), *zip(theirs, their_each, strict=True)]
    pairs.sort(key=_document_index)
    return [workload for workload, _ in pairs], [attached for _, attached in pairs]


def _document_index(pair: tuple[Workload, Attached | None]) -> int:
    return pair[0].doc.index


def _sites(workloads: list[Workload]) -> list[tuple[int, Path]]:
    return [(w.doc.index, w.site.path) for w in workloads]


def _no_templates(carrier: Document, key: str, text: str) -> Any:
    raise ValueError("plain workload documents carry no templates")
