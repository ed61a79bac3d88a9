"""The stream's laziness: a document parses itself on first use, and the stream finds
documents by the kind and name their headers spell out (stowage.read.manifests)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stowage.errors import UsageError
from stowage.pods.reading import stream_of
from stowage.read.manifests import header_name, split
from stowage.read.yamlload import Limits, load_document

POD = "kind: Pod\nmetadata:\n  name: web\nspec:\n  containers: {containers}\n"


def test_a_document_parses_itself_on_first_use() -> None:
    stream = stream_of("kind: Service\nmetadata:\n  name: a\n", Limits())
    doc = stream.documents[0]
    assert not doc.parsed and doc.parsed_body is None
    assert doc.body == {"kind": "Service", "metadata": {"name": "a"}}
    assert doc.parsed and doc.kind == "Service"


@pytest.mark.parametrize(
    "text",
    [
        POD.format(containers="a-string"),  # the shape check: the API server would refuse it
        "kind: Service\nmetadata: {name: a\n",  # not YAML
        "kind: Service\nspec:\n" + "  " * 3 + "a: [[[[[[1]]]]]]\n",  # over --max-depth
        "- a list\n",  # not a mapping
    ],
)
def test_first_use_refuses_a_document_exactly_as_an_explicit_read(text: str) -> None:
    limits = Limits(max_depth=5)
    explicit, lazy = (stream_of("a: 1\n---\n" + text, limits) for _ in range(2))
    with pytest.raises(UsageError) as read:
        explicit.read(explicit.documents)
    with pytest.raises(UsageError) as used:
        _ = lazy.documents[1].body
    assert str(used.value) == str(read.value) and str(used.value).startswith("document 2")


def test_describing_a_document_does_not_parse_it() -> None:
    stream = stream_of("kind: Service\nmetadata: {name: a\n", Limits())  # would not parse
    doc = stream.documents[0]
    assert doc.where() == "document 1 at line 1" and doc.parsed_body is None
    assert not doc.parsed


CLAIMS = (
    "kind: PersistentVolumeClaim\nmetadata:\n  name: home\n"
    "---\nkind: PersistentVolumeClaim\nmetadata:\n  name: home-2\n  labels: {for: home}\n"
    "---\nkind: Secret\nmetadata:\n  name: home\n"
    "---\nkind: PersistentVolumeClaim\nmetadata: {name: flow}\n"
    "---\nkind: PersistentVolumeClaim\nmetadata: {name: home}\n"
)


def test_named_finds_documents_of_a_kind_by_header_name_without_parsing_them() -> None:
    stream = stream_of(CLAIMS, Limits())
    found = stream.named("PersistentVolumeClaim", {"home"})
    assert [doc.index for doc in found] == [0, 4]
    # the flow-style header was parsed to learn its name; the plain ones were not
    assert [doc.parsed for doc in stream.documents] == [False, False, False, False, True]
    assert stream.named("Secret", {"home"}) == [stream.documents[2]]
    assert stream.named("PersistentVolumeClaim", {"nothing", ""}) == []


def test_read_named_parses_the_named_and_leaves_a_claim_that_only_mentions_the_name() -> None:
    stream = stream_of(CLAIMS, Limits())
    stream.read_named("PersistentVolumeClaim", {"home"})
    assert [doc.index for doc in stream.parsed()] == [0, 4]


def test_a_claim_no_pod_names_is_never_parsed_even_when_unusable() -> None:
    """A run reads the claims the workloads name: another claim, even one whose text
    mentions the name and would not parse, passes through untouched."""
    from stowage.engine import Options, run
    from stowage.write.stream import write

    text = (
        "kind: Pod\nmetadata:\n  name: p\nspec:\n  containers: [{name: c, image: i}]\n"
        "  volumes: [{name: v, persistentVolumeClaim: {claimName: data}}]\n"
        "---\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n"
        "spec:\n  accessModes: [ReadWriteMany]\n"
        "---\nkind: PersistentVolumeClaim\nmetadata:\n  name: data-old\n"
        "spec: {copy-of: data\n"
    )
    outcome = run(text, Options())
    assert write(outcome.stream) == text
    assert [doc.parsed for doc in outcome.stream.documents] == [True, True, False]


SPELLINGS = {
    "plain": "metadata:\n  name: {name}\n",
    "double": 'metadata:\n  name: "{name}"  # a comment\n',
    "single": "metadata:\n  labels:\n    name: other\n  name: '{name}'\n",
    "flow": "metadata: {{namespace: n, name: {name}}}\n",
    "alias": "x: &n {name}\nmetadata:\n  name: *n\n",
    "two-lines": "metadata:\n  name:\n    {name}\n",
    "open-quote": 'note: "a\n  b"\nmetadata:\n  name: {name}\n',
    "none": "metadata:\n  labels: {{name: {name}}}\n",
}
NAMES = st.sampled_from(["data", "data-2", "on", "True", "1e3", "0x1F", "a.b", "null", "Data"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(sorted(SPELLINGS)), NAMES), max_size=8), NAMES)
def test_named_answers_as_parsing_every_document_of_the_kind_would(
    docs: list[tuple[str, str]], wanted: str
) -> None:
    text = "---\n".join(
        "kind: Secret\n" + SPELLINGS[spelling].format(name=name) for spelling, name in docs
    )
    stream = split(text)  # no shape check: a name that is not a string counts too
    expected = [
        doc.index
        for doc in stream.documents
        if (load_document(doc.text, Limits()).get("metadata") or {}).get("name") == wanted
    ]
    assert [doc.index for doc in stream.named("Secret", {wanted})] == expected


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("metadata:\n  namespace: n\n  name: web-1.a\nspec: {}\n", "web-1.a"),
        ("# Source: x.yaml\nmetadata:\n\n  # comment\n  name: 'q'\r\nkind: X\n", "q"),
        ('metadata:\n  name: "fo\\x6f"\n', None),  # an escape
        ("metadata:\n  name: yes\n", None),  # YAML 1.1 reads a boolean
        ("metadata:\n  name: 1e3\n", None),  # a number
        ("metadata:\n  name: foo:bar\n", None),  # more than a name
        ("metadata:  # a comment\n  name: a\n", None),
        ("metadata:\n  name: a\n  name: b\n", None),  # a duplicate key: the loader refuses it
        ("spec: [a,\nmetadata: x]\nmetadata:\n  name: a\n", None),  # a flow that spans lines
    ],
)
def test_header_name_is_only_what_the_header_spells_out_plainly(
    text: str, name: str | None
) -> None:
    assert header_name(text) == name
