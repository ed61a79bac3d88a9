"""ci/mutation_table.py: the table of docs/mutation.md, from mutmut's results and the
accepted survivors."""

from __future__ import annotations

import re
import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "ci"))
import mutation_table

RESULTS = """\
    stowage.attach.halves.x_second_half__mutmut_1: killed
    stowage.attach.halves.x_second_half__mutmut_9: survived
    stowage.attach.halves.x_second_half__mutmut_11: survived
    stowage.attach.halves.x__no_templates__mutmut_1: no tests
    stowage.checks.claims.xǁClaimIndexǁ_by_name__mutmut_1: survived
    stowage.checks.claims.xǁClaimIndexǁ_by_name__mutmut_2: timeout
    stowage.checks.claims.xǁClaimIndexǁ_by_name__mutmut_3: not checked
"""
ACCEPTED = """\
# attach/halves.py: a reason
stowage.attach.halves.x_second_half 9 12  # 12 was killed since
"""


def test_each_module_counts_killed_accepted_survived_no_tests_and_not_run() -> None:
    results = mutation_table.read_results(RESULTS)
    accepted = mutation_table.read_accepted(ACCEPTED)
    rows = mutation_table.tally(results, accepted)
    assert dict(rows["attach.halves"]) == {
        "killed": 1, "accepted": 1, "survived": 1, "no tests": 1
    }  # fmt: skip
    assert dict(rows["checks.claims"]) == {"survived": 1, "killed": 1, "not run": 1}
    lines = mutation_table.table(rows)
    assert lines[2] == "| `attach.halves` | 1 | 1 | 1 | 1 | 0 | 25.0% |"
    assert lines[-1] == "| **all** | **2** | **1** | **2** | **1** | **1** | **28.6%** |"


def test_an_accepted_name_that_no_longer_survives_is_listed_for_judging() -> None:
    results = mutation_table.read_results(RESULTS)
    accepted = mutation_table.read_accepted(ACCEPTED)
    assert mutation_table.stale(results, accepted) == [
        "stowage.attach.halves.x_second_half__mutmut_12"
    ]


def test_every_accepted_line_names_a_function_and_its_mutants_under_a_reason() -> None:
    text = (ROOT / "ci" / "mutation-accepted.txt").read_text(encoding="utf-8")
    line = re.compile(r"^stowage\.[\w.ǁ]+( \d+)+$")
    reason_seen = False
    for number, raw in enumerate(text.splitlines(), 1):
        if raw.startswith("# ") and ".py:" in raw:
            reason_seen = True
        elif raw and not raw.startswith("#"):
            assert line.match(raw), f"ci/mutation-accepted.txt:{number}: {raw!r}"
            assert reason_seen, f"ci/mutation-accepted.txt:{number}: no reason above it"
        elif not raw:
            reason_seen = False
