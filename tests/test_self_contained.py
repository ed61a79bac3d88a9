"""A clone passes on its own: nothing the tests, docs or tools read lives outside it."""

from __future__ import annotations

import subprocess

from conftest import ROOT

# Spellings that reach out of the checkout (the workspace this was built in kept
# reading material in ../shared; a user's clone has nothing beside it).
OUTSIDE = ("../shared", "ROOT.parent", "parent.parent.parent")


def _tracked_text_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return [p for p in listed if p.endswith((".py", ".md", ".yaml", ".yml", "Makefile", ".sh"))]


def test_no_tracked_file_reads_outside_the_checkout() -> None:
    offenders = []
    for path in _tracked_text_files():
        if path == "CHANGELOG.md" or path.endswith("test_self_contained.py"):
            continue
        text = (ROOT / path).read_text(encoding="utf-8", errors="replace")
        offenders += [f"{path}: {needle}" for needle in OUTSIDE if needle in text]
    assert offenders == []


def test_vendored_fixtures_name_their_source_and_licence() -> None:
    fixtures = ROOT / "tests" / "fixtures" / "third-party"
    readme = (fixtures / "README.md").read_text()
    for manifest in sorted(fixtures.glob("*.yaml")):
        row = next((ln for ln in readme.splitlines() if ln.startswith(f"| {manifest.name} |")), "")
        licensed = any(spdx in row for spdx in ("BSD", "Apache", "MIT", "GPL"))
        assert licensed, f"{manifest.name}: no licence row"


def _make_plan(target: str) -> str:
    """The commands `make TARGET` would run from scratch (-B: as on a fresh clone)."""
    return subprocess.run(
        ["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout


def test_demo_stays_lean_and_the_tests_install_checkov() -> None:
    assert "checkov" not in _make_plan("demo")
    assert "checkov" in _make_plan("test")


def test_the_tests_install_the_owl_oracle_and_the_demo_does_not() -> None:
    assert "owl-oracle-requirements.txt" not in _make_plan("demo")
    assert "owl-oracle-requirements.txt" in _make_plan("test")


def test_the_tests_build_helmfile_before_the_unit_tier_and_the_demo_does_not() -> None:
    plan = _make_plan("test")
    assert "ci/install_helmfile.py" not in _make_plan("demo")
    assert plan.index("ci/install_helmfile.py") < plan.index("pytest -n 2 -q --ignore=tests/e2e")
