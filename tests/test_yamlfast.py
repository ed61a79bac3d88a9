"""stowage.read.yamlfast (rapidyaml -> JSON -> json.loads) returns exactly what the careful
PyYAML loader returns, or declines: never a different value, never a document the
careful loader would refuse. Differential tests over the vendored manifests, YAML 1.1's
traps, hypothesis-made documents and mutated fixtures; plus the limits and stderr."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, THIRD_PARTY
from stowage.pods.reading import read
from stowage.read import yamlfast
from stowage.read.manifests import FAST_LOAD_MIN_DOCUMENTS, split
from stowage.read.yamlload import Limits, YamlError, load_document
from test_fuzz_properties import mutated

pytestmark = pytest.mark.skipif(not yamlfast.available(), reason="rapidyaml is not installed")
LIMITS = Limits()


def careful(text: str, limits: Limits = LIMITS) -> Any:
    """The careful loader's answer: the data, or the YamlError it raised."""
    try:
        return load_document(text, limits)
    except YamlError as err:
        return err


def assert_same_or_declined(text: str, limits: Limits = LIMITS) -> bool:
    """True when the fast path vouched (and agreed); False when it declined."""
    fast = yamlfast.load(text, limits)
    if fast is yamlfast.UNSURE:
        return False
    expected = careful(text, limits)
    assert not isinstance(expected, YamlError), f"fast path accepted what PyYAML refuses: {text!r}"
    assert fast == expected, text
    assert _types(fast) == _types(expected), text  # 1 is not 1.0 is not True
    return True


def _types(value: Any) -> Any:
    if isinstance(value, dict):
        return {(type(k), k): _types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_types(v) for v in value]
    return (type(value), value)


def fixture_documents() -> list[str]:
    texts = [p.read_text() for p in sorted(THIRD_PARTY.glob("*.yaml"))]
    texts += [p.read_text() for p in sorted((FIXTURES.parent / "golden").rglob("*.yaml"))]
    return [d.separator + d.text for t in texts for d in split(t).documents if d.text.strip()]


def test_agrees_on_every_vendored_and_golden_manifest_and_vouches_for_most() -> None:
    manifests = [doc for doc in fixture_documents() if isinstance(careful(doc), dict)]
    vouched = sum(assert_same_or_declined(doc) for doc in manifests)
    assert len(manifests) > 300
    # Helm's output is plain YAML: if the fast path declined most of it, it would be dead code.
    assert vouched > 0.85 * len(manifests), f"vouched for {vouched} of {len(manifests)}"


YAML11_TRAPS = [
    # YAML 1.1 reads these plain scalars as bools, nulls or numbers, JSON cannot tell
    "yes", "No", "ON", "off", "True", "FALSE", "~", "Null", "NULL", "", "=",
    "0x1F", "0o17", "0755", "00", "0b101", "1_000", "1:30", "190:20:30", "+1", "+0", "-0",
    ".5", "-.5", "+.5", "1.", "1.5", "-1.5", "1.0e+3", "1.0e3", "1e3", "1E3", "1e-5",
    ".inf", "-.Inf", ".NaN", "NaN", "Infinity", "1_0.5", "12345678901234567890",
    "2001-12-14", "2001-12-14t21:59:43.10-05:00", "0.0.1", "1.2.3", "v1", "y", "n",
    "true", "false", "null", "0", "7", "-7", "08", "09.5",
]  # fmt: skip


@pytest.mark.parametrize("token", YAML11_TRAPS)
@pytest.mark.parametrize(
    "template",
    [
        "k: {t}\n",
        "k: '{t}'\n",
        'k: "{t}"\n',
        "{t}: v\n",
        "'{t}': v\n",
        "k:\n- {t}\n- x\n",
        "k: [{t}, x]\n",
        "k: {{a: {t}}}\n",
        "k: {t} # comment\n",
        "k: x {t}\n",
        "--- \nk: {t}\n",
    ],
)
def test_yaml_1_1_traps_load_as_pyyaml_loads_them(template: str, token: str) -> None:
    assert_same_or_declined(template.format(t=token))


@pytest.mark.parametrize(
    "text",
    [
        "a: &x 1\nb: *x\n",  # aliases: the careful loader counts their expansion
        "a: !!str 1\n",  # tags
        "<<: {a: 1}\nb: 2\n",  # merge keys
        "a: b\na: c\n",  # duplicate keys: the careful loader names the line
        "a:\tb\n",  # tabs
        "%YAML 1.1\n---\na: 1\n",  # directives
        "a: b\x07\n",  # a character PyYAML refuses
        "a: [b\n",  # broken
        "a: 1.5\n",  # a float: rapidyaml rewrites -.5 as -0.5, so floats go the careful way
        "a: yes\n",
        "80: http\n",
    ],
)
def test_declines_what_only_the_careful_loader_can_judge(text: str) -> None:
    assert yamlfast.load(text, LIMITS) is yamlfast.UNSURE


def block_nesting(levels: int) -> str:
    return "".join(f"{'  ' * i}k{i}:\n" for i in range(levels)) + "  " * levels + "v\n"


@pytest.mark.parametrize(
    ("text", "too_deep"),
    [
        (block_nesting(120), True),
        ("- " * 120 + "x\n", True),  # compact sequences nest on one line
        ("a:\n" + "".join(f"{'  ' * i}- k{i}:\n" for i in range(60)) + "  " * 60 + "  v\n", True),
        ("a: " + "[" * 99 + "]" * 99 + "\n", False),  # 100 levels: just within the limit
    ],
)
def test_documents_near_or_over_the_depth_limit_go_the_careful_way(
    text: str, too_deep: bool
) -> None:
    limits = Limits(max_depth=100)
    answer = careful(text, limits)
    if too_deep:
        assert isinstance(answer, YamlError)
        assert "nests deeper than 100 levels" in answer.message
    else:
        assert not isinstance(answer, YamlError)
    assert yamlfast.load(text, limits) is yamlfast.UNSURE  # the careful loader decides


def test_a_document_with_more_nodes_than_the_limit_goes_the_careful_way() -> None:
    text = "".join(f"key{i}: value{i}\n" for i in range(50))
    assert yamlfast.load(text, Limits(max_nodes=100)) is yamlfast.UNSURE
    assert yamlfast.load(text, Limits(max_nodes=1000)) == careful(text)


def test_the_depth_bound_still_vouches_for_ordinary_nesting() -> None:
    text = block_nesting(20)
    assert yamlfast.load(text, Limits(max_depth=100)) == careful(text)


SCALARS = st.one_of(
    st.sampled_from(YAML11_TRAPS),
    st.text(alphabet="abyYnNo01:.-_+~ #'\"\\&*!{}[],x\u00e9", max_size=8),
    st.integers(-(10**20), 10**20),
    st.booleans(),
    st.none(),
)
DATA = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(YAML11_TRAPS), inner, max_size=4),
    ),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DATA, st.sampled_from([None, True, False]), st.sampled_from(['"', "'", None]))
def test_documents_dumped_in_any_style_load_the_same(
    data: Any, flow: bool | None, quote: str | None
) -> None:
    text = yaml.safe_dump({"root": data}, default_flow_style=flow, default_style=quote)
    assert_same_or_declined(text)


@st.composite
def plain_block_documents(draw: st.DrawFn) -> str:
    """Hand-built block YAML with plain (unquoted) scalars from the traps list."""
    lines = []
    for i in range(draw(st.integers(1, 6))):
        token = draw(st.sampled_from(YAML11_TRAPS))
        shape = draw(st.sampled_from(["value", "key", "item", "flow"]))
        if shape == "value":
            lines.append(f"k{i}: {token}")
        elif shape == "key":
            lines.append(f"{token or 'x'}: v{i}")
        elif shape == "item":
            lines.append(f"k{i}:\n- {token}")
        else:
            lines.append(f"k{i}: [{token}, {{a: {token}}}]")
    return "\n".join(lines) + "\n"


@settings(max_examples=300, deadline=None)
@given(plain_block_documents())
def test_plain_scalars_in_every_position_load_the_same(text: str) -> None:
    assert_same_or_declined(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_fixtures_load_the_same_or_are_declined(text: str) -> None:
    for doc in split(text.removeprefix("\ufeff")).documents:
        assert_same_or_declined(doc.separator + doc.text)


def test_a_stream_large_enough_for_the_fast_path_reports_only_stowages_own_error(
    tmp_path: Path,
) -> None:
    good = "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: s{i}\n"
    docs = [good.format(i=i) for i in range(FAST_LOAD_MIN_DOCUMENTS + 10)]
    docs[40] = "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: [broken\n"
    result = subprocess.run(
        [sys.executable, "-m", "stowage", "check"],
        input="".join(docs),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("stowage: error: document 41 (Deployment)"), result.stderr
    assert "ERROR" not in result.stderr and "parse_engine" not in result.stderr  # rapidyaml's


def test_without_rapidyaml_every_document_goes_the_careful_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = "a: 1\nb: [x, y]\n"
    monkeypatch.setattr(yamlfast, "_ryml", False)
    assert yamlfast.load(text, LIMITS) is yamlfast.UNSURE
    assert yamlfast.vouched(text, LIMITS) == (False, None)
    docs = "".join(f"---\nkind: Pod\nmetadata: {{name: p{i}}}\n" for i in range(100))
    stream = read(docs, LIMITS)
    assert [d.body["metadata"]["name"] for d in stream.documents] == [f"p{i}" for i in range(100)]


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=20))
def test_refuses_the_characters_pyyaml_refuses_without_importing_it(text: str) -> None:
    from yaml.reader import Reader

    assert yamlfast._non_printable(text) == bool(Reader.NON_PRINTABLE.search(text))


def _resident_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")
def test_loading_many_documents_leaks_nothing() -> None:
    doc = next(
        d for d in fixture_documents() if 1000 < len(d) < 4000 and yamlfast.vouched(d, LIMITS)[0]
    )
    for _ in range(2000):  # warm up: the reused tree and buffer reach their size
        yamlfast.load(doc, LIMITS)
    before = _resident_kb()
    for _ in range(20000):
        yamlfast.load(doc, LIMITS)
    # rapidyaml's emit_json_malloc leaked its output buffer: about 40 MB here
    assert _resident_kb() - before < 8000


def test_the_environment_can_switch_the_fast_path_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlfast, "_ryml", None)
    monkeypatch.setenv("STOWAGE_FAST_YAML", "0")
    assert not yamlfast.available()
    assert yamlfast.vouched("a: 1\n", LIMITS) == (False, None)
