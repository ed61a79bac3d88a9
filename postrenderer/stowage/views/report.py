"""Reports: what stowage found and changed, as text for people or JSON for tools.

Secrets never reach a report: findings name resources, patches of Secrets are
redacted, and no config value beyond names and paths is printed.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Sequence
from typing import Any

from stowage import __version__
from stowage.engine import Outcome
from stowage.findings import Finding, Severity

REDACTED = "<redacted>"


def patches(outcome: Outcome) -> list[dict[str, Any]]:
    """The RFC 6902 patch applied to each changed document, in stream order."""
    import jsonpatch

    changes = []
    for doc in outcome.changed:
        before = outcome.original(doc)
        ops = jsonpatch.make_patch(before or {}, doc.body).patch
        if doc.kind == "Secret":
            ops = [{**op, "value": REDACTED} if "value" in op else op for op in ops]
        changes.append({"resource": doc.ref.as_json(), "document": doc.number, "patch": ops})
    return changes


def summary(outcome: Outcome) -> dict[str, int]:
    """Counts for the verdict line; ``promoted`` errors are warnings that --strict promoted;
    ``waived`` findings are counted apart from errors and warnings."""
    live = [f for f in outcome.findings if f.waiver is None]
    errors = sum(f.severity is Severity.ERROR for f in live)
    return {
        "documents": sum(not doc.dropped for doc in outcome.stream.documents),
        "changed": len(outcome.changed),
        "errors": errors,
        "warnings": len(live) - errors,
        "promoted": sum(f.promoted for f in live),
        "waived": len(outcome.findings) - len(live),
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
    tag = "waived" if finding.waiver else finding.severity.value
    if not color:
        return tag
    if finding.waiver:
        return "\033[36m" + tag + "\033[0m"
    return ("\033[31m" if finding.severity is Severity.ERROR else "\033[33m") + tag + "\033[0m"


FIRST_LINE = 160  # at most this many characters on a finding's first line


def finding_lines(finding: Finding, color: bool = False) -> list[str]:
    """A finding for people: a first line of at most FIRST_LINE characters (severity,
    rule, resource, what is wrong), then the details, indented."""
    start = f"{severity_tag(finding)} {finding.rule} {finding.resource}: "
    headline, below = split_headline(finding.headline, FIRST_LINE - len(start))
    lines = [f"{severity_tag(finding, color)} {finding.rule} {finding.resource}: {headline}"]
    lines.extend(f"  {line}" for line in finding_details(finding, below))
    return lines


def finding_details(finding: Finding, below: Sequence[str] = ()) -> list[str]:
    """The lines under a finding's first line, unindented: ``below`` (what did not fit
    on it), the subjects, the workloads, the waiver, the fix."""
    lines = list(below)
    lines.extend(f"- {subject}" for subject in finding.subjects)
    if finding.affected:
        lines.append("workloads:")
        lines.extend(f"  {label}" for label in finding.affected)
    if finding.waiver:
        lines.append(f"waived ({_was(finding)}): {finding.waiver.reason}")
        lines.append(f"  by: {_waiver_origin(finding)}")
    if finding.promoted:
        lines.append("promoted: a warning, made an error by --strict")
    if finding.fix:
        lines.append(f"fix: {finding.fix}")
    lines.append(f"see: stowage explain {finding.rule}")
    return lines


def _was(finding: Finding) -> str:
    return "an error" if finding.severity is Severity.ERROR else "a warning"


def _waiver_origin(finding: Finding) -> str:
    waiver = finding.waiver
    if waiver is None:
        return ""
    if waiver.source == "annotation":
        return waiver.origin
    expiry = f", expires {waiver.expires}" if waiver.expires else ""
    return f"config {waiver.origin}{expiry}"


def split_headline(text: str, width: int) -> tuple[str, list[str]]:
    """``text`` as a first line that fits ``width`` and the lines that go below it.

    The first line is the text up to its first colon (what is wrong; the list after
    the colon goes below); when that is still too long, its asides in parentheses
    go below too, and as a last resort it is cut at a comma or a space.
    """
    width = max(width, 40)
    if len(text) <= width:
        return text, []
    head, colon, tail = text.partition(": ")
    below = [tail] if colon and tail else []
    if len(head) > width:
        asides = _ASIDE.findall(head)
        if asides and len(_ASIDE.sub("", head)) <= width:
            return _ASIDE.sub("", head), [" ".join(a.strip() for a in asides), *below]
        cut = head.rfind(", ", 0, width)
        cut = cut if cut > 0 else head.rfind(" ", 0, width)
        cut = cut if cut > 0 else width
        return head[:cut], [head[cut:].removeprefix(",").lstrip(" "), *below]
    return head, below


_ASIDE = re.compile(r" \([^()]*\)")


def as_text(outcome: Outcome, color: bool = False) -> str:
    counts = summary(outcome)
    lines = []
    for finding in outcome.findings:
        lines.extend(finding_lines(finding, color))
    lines.extend(f"note: {note}" for note in outcome.notes)
    verdict = "REJECTED" if outcome.rejected else "ok"
    waived = f", {counts['waived']} waived" if counts["waived"] else ""
    lines.append(
        f"stowage: {verdict}: {_count(counts['documents'], 'document')}, "
        f"{counts['changed']} changed, {_errors(counts)}, "
        f"{_count(counts['warnings'], 'warning')}{waived}"
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
    """A unified YAML diff per changed resource, like `kubectl diff`: as rendered -> after stowage.

    A pod template carried in a ConfigMap is diffed line by line as the YAML
    document it is (both sides written the same way), not as one changed string.
    Secret values (a Secret's data and stringData) never appear; anything else shows as
    `helm template` shows it, plain env values included.
    """
    out: list[str] = []
    for doc in outcome.changed:
        before = outcome.original(doc)
        after = doc.body
        if doc.kind == "Secret":
            before, after = _redacted(before), _redacted(after)
        before, after = _embedded_as_documents(before, after)
        name = f"{doc.ref} (document {doc.number})"
        out.extend(
            difflib.unified_diff(
                _yaml_lines(before),
                _yaml_lines(after),
                "/dev/null" if before is None else f"{name} as rendered",
                f"{name} after stowage",
                lineterm="",
            )
        )
    return "\n".join(out) + ("\n" if out else "")


def _yaml_lines(body: Any) -> list[str]:
    from stowage.write.yamlwrite import dump

    return [] if body is None else dump(body).splitlines()


def _redacted(body: Any) -> Any:
    if not isinstance(body, dict):
        return body
    hidden = {
        key: {name: REDACTED for name in value} if isinstance(value, dict) else value
        for key, value in body.items()
        if key in ("data", "stringData")
    }
    return {**body, **hidden}


def _embedded_as_documents(before: Any, after: Any) -> tuple[Any, Any]:
    """Rewrite each changed `data` string that holds a YAML mapping in one canonical form."""
    old_data = before.get("data") if isinstance(before, dict) else None
    new_data = after.get("data") if isinstance(after, dict) else None
    if not (isinstance(old_data, dict) and isinstance(new_data, dict)):
        return before, after
    old_data, new_data = dict(old_data), dict(new_data)
    for key, value in new_data.items():
        old = old_data.get(key)
        if isinstance(value, str) and isinstance(old, str) and value != old:
            old_doc, new_doc = _mapping(old), _mapping(value)
            if old_doc is not None and new_doc is not None:
                old_data[key] = _dump(old_doc)
                new_data[key] = _dump(new_doc)
    return {**before, "data": old_data}, {**after, "data": new_data}


def _mapping(text: str) -> dict[str, Any] | None:
    from stowage.read.yamlload import Limits, YamlError, load_document

    try:
        body = load_document(text, Limits())
    except YamlError:
        return None
    return body if isinstance(body, dict) else None


def _dump(body: dict[str, Any]) -> str:
    from stowage.write.yamlwrite import dump

    return dump(body)


def plan_text(outcome: Outcome) -> str:
    """Per workload: why it was targeted, each mount and its source, env, pool, security."""
    if not outcome.placements:
        return "no workload was targeted: nothing attached\n"
    lines = []
    for placement in outcome.placements:
        lines.extend(_placement_lines(placement.as_json()))
    lines.extend(_concurrency_lines(concurrency(outcome)))
    return "\n".join(lines) + "\n"


def plan_json(outcome: Outcome) -> str:
    """`stowage plan --format json`: the document docs/plan.schema.json describes."""
    document = {
        "stowage": __version__,
        "placements": [p.as_json() for p in outcome.placements],
        "concurrency": concurrency(outcome),
    }
    return json.dumps(document, indent=2) + "\n"


def concurrency(outcome: Outcome) -> list[dict[str, Any]]:
    """Per object holding a targeted workload: the groups of its pods live at once, and why
    (the concurrency model the access-mode rules read)."""
    from stowage.checks.claims import Models, autoscaling, tekton_of
    from stowage.pods.concurrency import describe
    from stowage.pods.workloads import declared_kinds

    targeted = {(p.kind, p.namespace, p.name) for p in outcome.placements}
    objects: dict[int, list[Any]] = {}
    for workload in outcome.workloads:
        ref = workload.ref
        if not workload.is_template and (ref.kind, ref.namespace, ref.name) in targeted:
            objects.setdefault(id(workload.manifest), []).append(workload)
    scalers, tekton = autoscaling(outcome.stream), tekton_of(outcome.stream, outcome.workloads)
    models = Models(scalers, declared_kinds(outcome.config), tekton)
    found = []
    for workloads in objects.values():
        model = models.of(workloads[0])
        labels = {w.site.path: w.label for w in workloads}
        groups = list(describe(model, labels))
        ref = workloads[0].ref
        found.append(
            {
                "object": str(ref),
                "kind": ref.kind,
                "namespace": ref.namespace,
                "name": ref.name,
                "groups": groups,
                "notes": list(model.notes),
            }
        )
    return found


def _concurrency_lines(objects: list[dict[str, Any]]) -> list[str]:
    if not objects:
        return []
    from stowage.pods.groups import count_text

    lines = ["who runs at once:"]
    for found in objects:
        for group in found["groups"]:
            members = group["members"]
            pods = f"{count_text(group['pods'])} pod{'s' * (group['pods'] != 1)}"
            uses = ", ".join(
                f"{m['use']} runs {m['workload'][len(found['object']) :].strip(' ()')}"
                for m in members
                if m["use"]
            )
            head = f"  {found['object']}: {pods}"
            lines.append(f"{head} ({group['why']})" + (f": {uses}" if uses else ""))
        lines.extend(f"  note: {found['object']}: {note}" for note in found["notes"])
    return lines


def _placement_lines(placement: dict[str, Any]) -> list[str]:
    lines = [f"{placement['workload']}  [role {placement['role']}, pool {placement['pool']}]"]
    lines.append(f"  why: {placement['reason']}")
    lines.extend(_volume_line(volume) for volume in placement["volumes"])
    lines.extend(f"  skipped: {s['volume']}: {s['reason']}" for s in placement["skipped"])
    lines.extend(f"  env: {_env_text(env)}" for env in placement["env"])
    lines.extend(f"  scheduling: {line}" for line in _scheduling_lines(placement))
    security = placement["securityContext"]
    if security:
        lines.append(
            f"  security: runs as {security['runAsUser']}:{security['runAsGroup']}, "
            f"fsGroup {security['fsGroup']}, non-root, "
            f"seccomp {(security.get('seccompProfile') or {}).get('type', 'unset')}"
        )
    lines.extend(f"  note: {note}" for note in placement["notes"])
    return lines


def _volume_line(volume: dict[str, Any]) -> str:
    from stowage.pods.sources import describe_mount

    tag = f"[{volume['purpose']} {volume['volume']}]"
    if volume["source"]["kind"] == "store":
        reached = [f"env {name}" for name in volume["env"]]
        if volume["mountPath"] is not None:
            reached.insert(0, f"credentials at {volume['mountPath']} (ro)")
        how = ", ".join(reached) or "nothing: no credentials (rule SW501)"
        return f"  store: {volume['source']['ref']} <- {how} {tag}"
    source = " ".join(part for part in volume["source"].values() if part)
    return f"  mount: {describe_mount(volume['mountPath'], volume['readOnly'], source)} {tag}"


def _env_text(env: dict[str, Any]) -> str:
    if "secretKeyRef" in env:
        ref = env["secretKeyRef"]
        return f"{env['name']} from secret {ref['name']} key {ref['key']}"
    return f"{env['name']}={env['value']}"


def _scheduling_lines(placement: dict[str, Any]) -> list[str]:
    lines = []
    if placement["nodeSelector"]:
        pairs = ", ".join(f"{k}={v}" for k, v in placement["nodeSelector"].items())
        lines.append(f"nodeSelector {pairs}")
    for toleration in placement["tolerations"]:
        lines.append("toleration " + _toleration_text(toleration))
    if placement["affinity"]:
        lines.append("affinity " + ", ".join(placement["affinity"]))
    return lines


def _toleration_text(toleration: dict[str, Any]) -> str:
    key = str(toleration.get("key", "*"))
    if toleration.get("operator") == "Exists":
        match = f"{key} exists"
    else:
        match = f"{key}={toleration.get('value', '')}"
    effect = toleration.get("effect")
    return f"{match}:{effect}" if effect else match
