"""Small cases written from each operator's documented semantics (tests/fixtures/concurrency):
each file says in its header the doc sentence it follows and the verdict it expects,
`pass` or a rule with words its message must hold (the count and why the pods overlap)."""

from __future__ import annotations

from pathlib import Path

import pytest

from enginehelpers import render

CASES = Path(__file__).parent / "fixtures" / "concurrency"
ACCESS_RULES = ("SW101", "SW102", "SW103", "SW104")


def _header(path: Path) -> dict[str, str]:
    fields = {}
    for line in path.read_text().splitlines():
        if not line.startswith("# "):
            break
        key, _, value = line[2:].partition(": ")
        fields[key] = value
    return fields


FILES = sorted(p.name for p in CASES.glob("*.yaml"))


def test_there_are_cases_for_each_operator() -> None:
    projects = {name.split("-")[0] for name in FILES}
    assert {"argo", "jobset", "volcano", "flink", "kserve", "appwrapper", "keda"} <= projects


@pytest.mark.parametrize("name", FILES)
def test_case_states_its_source_and_doc_sentence(name: str) -> None:
    header = _header(CASES / name)
    assert header.get("source") and header.get("doc", "").startswith('"'), name
    assert header.get("expect"), name


@pytest.mark.parametrize("name", FILES)
def test_verdict_follows_the_documented_semantics(name: str) -> None:
    expect = _header(CASES / name)["expect"]
    outcome = render((CASES / name).read_text())
    found = [f for f in outcome.findings if f.rule in ACCESS_RULES]
    if expect == "pass":
        assert found == [], [f.message for f in found]
        return
    rule, _, words = expect.partition(" ")
    assert [f.rule for f in found] == [rule], [f.message for f in found]
    count, _, why = words.partition(": ")
    assert f"mounted by {count}" in found[0].message, found[0].message
    assert why in found[0].message, found[0].message
