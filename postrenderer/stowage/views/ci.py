"""Reports for CI: SARIF 2.1.0 for code-scanning UIs, JUnit XML for test tabs.

Both carry every finding, waived ones too: SARIF as a result with a
``suppressions`` entry, JUnit as a skipped test case. Locations point at the
chart template a resource came from: the ``# Source: chart/templates/x.yaml``
comment Helm writes before each document, or Helm 4's
``postrenderer.helm.sh/postrender-filename`` annotation.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Iterator
from pathlib import PurePosixPath
from types import ModuleType
from typing import Any
from xml.etree import ElementTree

from stowage import __version__
from stowage.engine import Outcome
from stowage.findings import CONFIG_KIND, Finding, ResourceRef, Severity
from stowage.read.manifests import Document
from stowage.views.report import finding_details, split_headline

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
FILENAME_ANNOTATION = "postrenderer.helm.sh/postrender-filename"
_SOURCE = re.compile(r"^# Source: (\S.*?)\s*$", re.MULTILINE)

Identity = tuple[str, str, str]


def template_sources(outcome: Outcome, chart_path: str = "") -> dict[Identity, str]:
    """Where each resource came from: (kind, namespace, name) -> template path. With
    ``chart_path``, the chart name Helm puts first is replaced by that directory."""
    sources: dict[Identity, str] = {}
    for doc in outcome.stream.documents:
        path = _source_of(doc)
        if path and doc.parsed:
            ref = doc.ref
            sources.setdefault((ref.kind, ref.namespace, ref.name), _rebased(path, chart_path))
    return sources


def _source_of(doc: Document) -> str:
    body = doc.parsed_body  # a document the run did not read stays unparsed
    if isinstance(body, dict):
        annotations = (body.get("metadata") or {}).get("annotations")
        if isinstance(annotations, dict) and annotations.get(FILENAME_ANNOTATION):
            return str(annotations[FILENAME_ANNOTATION])
    match = _SOURCE.search(doc.leading_comments())
    return match.group(1) if match else ""


def _rebased(path: str, chart_path: str) -> str:
    if not chart_path:
        return path
    _, _, rest = path.partition("/")
    return f"{chart_path.rstrip('/')}/{rest}" if rest else path


def _rules() -> list[ModuleType]:
    from stowage.checks import rule_modules

    return rule_modules()


def _docstring(module: ModuleType) -> str:
    return inspect.getdoc(module) or ""


# SARIF


def as_sarif(outcome: Outcome, chart_path: str = "") -> str:
    """The findings as a SARIF 2.1.0 log with one run."""
    from stowage.checks.docs import explain

    rules = _rules()
    index = {str(m.ID): i for i, m in enumerate(rules)}
    sources = template_sources(outcome, chart_path)
    driver = {
        "name": "stowage",
        "version": __version__,
        "semanticVersion": __version__,
        "rules": [_sarif_rule(module, explain(str(module.ID))) for module in rules],
    }
    results = [_sarif_result(f, index, sources) for f in outcome.findings]
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {"tool": {"driver": driver}, "results": results, "columnKind": "unicodeCodePoints"}
        ],
    }
    return json.dumps(log, indent=2) + "\n"


def _sarif_rule(module: ModuleType, help_text: str) -> dict[str, Any]:
    doc = _docstring(module)
    summary, _, body = doc.partition("\n")
    return {
        "id": str(module.ID),
        "name": str(module.NAME),
        "shortDescription": {"text": summary},
        "fullDescription": {"text": body.strip() or summary},
        "help": {"text": help_text, "markdown": f"**{summary}**\n{body}"},
        "defaultConfiguration": {"level": _level(module.SEVERITY)},
        "properties": {"tags": ["kubernetes", "storage"]},
    }


def _level(severity: Severity) -> str:
    return "error" if severity is Severity.ERROR else "warning"


def _sarif_result(
    finding: Finding, index: dict[str, int], sources: dict[Identity, str]
) -> dict[str, Any]:
    headline, below = split_headline(finding.headline, 200)
    details = finding_details(finding, below)
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "level": _level(finding.severity),
        "message": {"text": "\n".join([f"{finding.resource}: {headline}", *details])},
        "locations": [_location(finding.resource, sources)],
        "properties": {
            "resource": finding.resource.as_json(),
            "promoted": finding.promoted,
        },
    }
    if finding.rule in index:
        result["ruleIndex"] = index[finding.rule]
    related = [r for r in dict.fromkeys(finding.related) if r != finding.resource]
    if related:
        result["relatedLocations"] = [
            {"id": number, **_location(ref, sources)} for number, ref in enumerate(related, 1)
        ]
    if finding.waiver:
        waiver = finding.waiver
        result["suppressions"] = [
            {
                "kind": "inSource" if waiver.source == "annotation" else "external",
                "status": "accepted",
                "justification": waiver.reason,
                "properties": waiver.as_json(),
            }
        ]
    return result


def _location(ref: ResourceRef, sources: dict[Identity, str]) -> dict[str, Any]:
    location: dict[str, Any] = {
        "logicalLocations": [
            {
                "name": str(ResourceRef(ref.kind, ref.namespace, ref.name)),
                "fullyQualifiedName": _qualified(ref),
                "kind": "resource",
            }
        ]
    }
    source = sources.get((ref.kind, ref.namespace, ref.name)) or _config_file(ref)
    if source:
        location["physicalLocation"] = {"artifactLocation": {"uri": source}}
    return location


def _config_file(ref: ResourceRef) -> str:
    """The --config file a finding on the storage plan names (not chart values, not
    several files), as a URI reference."""
    if ref.kind != CONFIG_KIND or not ref.name or " " in ref.name:
        return ""
    path = PurePosixPath(ref.name)
    return path.as_uri() if path.is_absolute() else path.as_posix()


def _qualified(ref: ResourceRef) -> str:
    name = "/".join(part for part in (ref.kind, ref.namespace, ref.name) if part)
    return f"{name}#data.{ref.key}" if ref.key else name


# JUnit


def as_junit(outcome: Outcome, chart_path: str = "") -> str:
    """The checks as JUnit XML: one testsuite per rule, one testcase per finding (a rule
    with none passes one case); errors fail, waived findings are skipped."""
    sources = template_sources(outcome, chart_path)
    suites = ElementTree.Element("testsuites", name="stowage")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for module in _rules():
        found = [f for f in outcome.findings if f.rule == module.ID]
        suite = _suite(module, found, sources)
        suites.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    for key, value in totals.items():
        suites.set(key, str(value))
    suites.set("time", "0")
    ElementTree.indent(suites)
    body = ElementTree.tostring(suites, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def _suite(
    module: ModuleType, found: list[Finding], sources: dict[Identity, str]
) -> ElementTree.Element:
    suite = ElementTree.Element("testsuite", name=f"{module.ID} {module.NAME}")
    properties = ElementTree.SubElement(suite, "properties")
    for name, value in (("rule", str(module.ID)), ("severity", module.SEVERITY.value)):
        ElementTree.SubElement(properties, "property", name=name, value=value)
    cases = list(_cases(module, found, sources))
    suite.extend(cases)
    counts = {
        "tests": len(cases),
        "failures": sum(case.find("failure") is not None for case in cases),
        "errors": 0,
        "skipped": sum(case.find("skipped") is not None for case in cases),
    }
    for key, value in counts.items():
        suite.set(key, str(value))
    suite.set("time", "0")
    return suite


def _cases(
    module: ModuleType, found: list[Finding], sources: dict[Identity, str]
) -> Iterator[ElementTree.Element]:
    classname = f"stowage.{module.ID}"
    if not found:
        yield ElementTree.Element("testcase", name="no findings", classname=classname, time="0")
        return
    for finding in found:
        headline, below = split_headline(finding.headline, 200)
        case = ElementTree.Element(
            "testcase", name=f"{finding.resource}: {headline}", classname=classname, time="0"
        )
        source = sources.get(
            (finding.resource.kind, finding.resource.namespace, finding.resource.name)
        )
        if source:
            case.set("file", source)
        details = "\n".join(finding_details(finding, below))
        if finding.waiver:
            skipped = ElementTree.SubElement(
                case, "skipped", message=f"waived: {finding.waiver.reason}"
            )
            skipped.text = details
        elif finding.severity is Severity.ERROR:
            failure = ElementTree.SubElement(
                case, "failure", message=headline, type=finding.severity.value
            )
            failure.text = details
        else:
            ElementTree.SubElement(case, "system-out").text = f"warning: {headline}\n{details}"
        yield case
