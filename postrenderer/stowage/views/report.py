"""Reports: what stowage found and changed, as text for people or JSON for tools.

Secrets never reach a report: findings name resources, patches of Secrets are
redacted, and no config value beyond names and paths is printed.
"""

from __future__ import annotations

import difflib
import json
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
    """A unified YAML diff per changed resource, like `kubectl diff`: as rendered -> after stowage.

    A pod template carried in a ConfigMap is diffed line by line as the YAML
    document it is (both sides written the same way), not as one changed string.
    Secret values never appear.
    """
    out: list[str] = []
    for doc in outcome.changed:
        before = outcome.original(doc)
        after = doc.body
        if doc.kind == "Secret":
            before, after = _redacted(before), _redacted(after)
        before, after = _embedded_as_documents(before, after)
        known = _env_values(before)
        before, after = _hide_env(before, known), _hide_env(after, known)
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


def _env_values(body: Any) -> set[tuple[str, str]]:
    """(name, value) of every env var in a manifest: the chart's own, which may be secret."""
    found: set[tuple[str, str]] = set()
    if isinstance(body, dict):
        for key, value in body.items():
            if key == "env" and isinstance(value, list):
                found.update(
                    (str(e.get("name")), e["value"])
                    for e in value
                    if isinstance(e, dict) and isinstance(e.get("value"), str)
                )
            else:
                found |= _env_values(value)
    elif isinstance(body, list):
        for item in body:
            found |= _env_values(item)
    return found


def _hide_env(body: Any, known: set[tuple[str, str]]) -> Any:
    """A copy with the values of the env vars in ``known`` redacted: a diff shows only the
    values stowage added, never a token the chart put in a container's env."""
    if isinstance(body, list):
        return [_hide_env(item, known) for item in body]
    if not isinstance(body, dict):
        return body
    if (str(body.get("name")), body.get("value")) in known:
        return {**body, "value": REDACTED}
    return {key: _hide_env(value, known) for key, value in body.items()}


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
                known = _env_values(old_doc)
                old_data[key] = _dump(_hide_env(old_doc, known))
                new_data[key] = _dump(_hide_env(new_doc, known))
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
    return "\n".join(lines) + "\n"


def plan_json(outcome: Outcome) -> str:
    """`stowage plan --format json`: the document docs/plan.schema.json describes."""
    document = {"stowage": __version__, "placements": [p.as_json() for p in outcome.placements]}
    return json.dumps(document, indent=2) + "\n"


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
