"""Reports: what stowage found and changed, as text for people or JSON for tools.

Secrets never reach a report: findings name resources, patches of Secrets are
redacted, and no config value beyond names and paths is printed.
"""

from __future__ import annotations

import json
from typing import Any

from stowage import __version__
from stowage.engine import Outcome
from stowage.findings import Finding, ResourceRef, Severity

REDACTED = "<redacted>"


def patches(outcome: Outcome) -> list[dict[str, Any]]:
    """The RFC 6902 patch applied to each changed document, in stream order."""
    import jsonpatch

    changes = []
    for doc in outcome.changed:
        before = outcome.originals.get(doc.index, {})
        ops = jsonpatch.make_patch(before or {}, doc.body).patch
        if doc.kind == "Secret":
            ops = [{**op, "value": REDACTED} if "value" in op else op for op in ops]
        changes.append({"resource": doc.ref.as_json(), "document": doc.number, "patch": ops})
    return changes


def summary(outcome: Outcome) -> dict[str, int]:
    """Counts for the verdict line; ``promoted`` errors are warnings that --strict promoted."""
    errors = sum(f.severity is Severity.ERROR for f in outcome.findings)
    return {
        "documents": len(outcome.stream.documents),
        "changed": len(outcome.changed),
        "errors": errors,
        "warnings": len(outcome.findings) - errors,
        "promoted": sum(f.promoted for f in outcome.findings),
    }


def as_json(outcome: Outcome) -> str:
    report = {
        "stowage": __version__,
        "result": "rejected" if outcome.rejected else "ok",
        "summary": summary(outcome),
        "findings": [f.as_json() for f in outcome.findings],
        "changes": patches(outcome),
        "placements": [p.as_json() for p in outcome.placements],
        "notes": outcome.notes,
    }
    return json.dumps(report, indent=2, sort_keys=False, default=str) + "\n"


def severity_tag(finding: Finding, color: bool = False) -> str:
    tag = finding.severity.value
    if not color:
        return tag
    return ("\033[31m" if finding.severity is Severity.ERROR else "\033[33m") + tag + "\033[0m"


def as_text(outcome: Outcome, color: bool = False) -> str:
    counts = summary(outcome)
    lines = []
    for finding in outcome.findings:
        tag = severity_tag(finding, color)
        lines.append(f"{tag} {finding.rule} {finding.resource}: {finding.message}")
        if finding.promoted:
            lines.append("  promoted: a warning, made an error by --strict")
        if finding.fix:
            lines.append(f"  fix: {finding.fix}")
        lines.append(f"  see: stowage explain {finding.rule}")
    lines.extend(f"note: {note}" for note in outcome.notes)
    verdict = "REJECTED" if outcome.rejected else "ok"
    lines.append(
        f"stowage: {verdict}: {_count(counts['documents'], 'document')}, "
        f"{counts['changed']} changed, {_errors(counts)}, {_count(counts['warnings'], 'warning')}"
    )
    return "\n".join(lines) + "\n"


def _errors(counts: dict[str, int]) -> str:
    errors = _count(counts["errors"], "error")
    promoted = counts["promoted"]
    if not promoted:
        return errors
    what = "a warning" if promoted == 1 else f"{promoted} warnings"
    return f"{errors} ({what} promoted by --strict)"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def diff_text(outcome: Outcome) -> str:
    out = []
    for change in patches(outcome):
        out.append(f"--- {_ref_text(change['resource'])} (document {change['document']})")
        out.extend(json.dumps(op, sort_keys=True) for op in change["patch"])
    return "\n".join(out) + ("\n" if out else "")


def _ref_text(resource: dict[str, Any]) -> str:
    return str(ResourceRef(resource["kind"], resource["namespace"] or "", resource["name"]))


def plan_text(outcome: Outcome) -> str:
    if not outcome.placements:
        return "no workload was targeted: nothing attached\n"
    lines = []
    for p in outcome.placements:
        lines.append(f"{p.workload}  [role {p.role}, pool {p.pool}]")
        lines.append(f"  why: {p.reason}")
        lines.extend(f"  mount: {m}" for m in p.mounts)
        lines.extend(f"  env: {e}" for e in p.env)
        lines.extend(f"  scheduling: {s}" for s in p.scheduling)
        lines.extend(f"  note: {n}" for n in p.notes)
    return "\n".join(lines) + "\n"
