"""The policy objects for a plan, with their bindings, in a fixed order.

Cluster-scoped, all of them: admission policies and bindings have no namespace. Each
binding's namespaceSelector keeps them to `admission.namespaces` (the chart: the
release's namespace) and always away from the control plane's namespaces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from stowage.admission import mutating, select, validating
from stowage.admission.cel import CelError
from stowage.errors import UsageError
from stowage.plan.plan import Plan

SYSTEM_NAMESPACES = ("kube-node-lease", "kube-public", "kube-system")
NAMESPACE_LABEL = "kubernetes.io/metadata.name"
MANAGED_BY = {"app.kubernetes.io/managed-by": "stowage"}


@dataclass
class Policies:
    objects: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def build(plan: Plan, api_version: str | None = None) -> Policies:
    """Every policy and binding for ``plan`` (``api_version`` overrides the plan's)."""
    settings = plan.config.admission
    version = api_version or settings.apiVersion
    result = Policies()
    selector = namespace_selector(settings.namespaces)
    try:
        for role in sorted(plan.config.targets):
            if select.selection(plan.config, role) == "false":
                result.notes.append(_unreachable(plan, role))
                continue
            name = policy_name(settings.name, role)
            result.objects.append(
                _labelled(mutating.policy(plan, role, name, version, settings.failurePolicy))
            )
            result.objects.append(_labelled(_binding("Mutating", version, name, selector)))
    except CelError as err:
        raise UsageError(f"admission: {err}; give it a value in `vars`", where="the plan") from None
    name = f"{settings.name}-checks"
    result.objects.append(_labelled(validating.policy(plan, name, settings.failurePolicy)))
    binding = _binding("Validating", "v1", name, selector)
    binding["spec"]["validationActions"] = sorted(set(settings.validationActions))
    result.objects.append(_labelled(binding))
    return result


def _unreachable(plan: Plan, role: str) -> str:
    target = plan.config.targets[role]
    if role in select.sited_roles(plan.config):
        why = "it is reached through template sites whose launcher stowage does not recognise"
    elif target.components is not None:
        why = "its `components` name pods of multi-pod kinds, which a pod cannot tell"
    else:
        why = "it has no matchLabels"
    return f"target {role}: no admission policy ({why}); give it matchLabels that its pods carry"


def policy_name(prefix: str, role: str) -> str:
    slug = re.sub(r"[^a-z0-9-]+", "-", role.lower()).strip("-") or "target"
    return f"{prefix}-{slug}"[:253]


def namespace_selector(namespaces: list[str]) -> dict[str, Any]:
    expressions: list[dict[str, Any]] = [
        {"key": NAMESPACE_LABEL, "operator": "NotIn", "values": list(SYSTEM_NAMESPACES)}
    ]
    if namespaces:
        expressions.append(
            {"key": NAMESPACE_LABEL, "operator": "In", "values": sorted(set(namespaces))}
        )
    return {"matchExpressions": expressions}


def _binding(kind: str, version: str, name: str, selector: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": f"admissionregistration.k8s.io/{version}",
        "kind": f"{kind}AdmissionPolicyBinding",
        "metadata": {"name": name},
        "spec": {"policyName": name, "matchResources": {"namespaceSelector": selector}},
    }


def _labelled(obj: dict[str, Any]) -> dict[str, Any]:
    labels = obj["metadata"].setdefault("labels", {})
    labels.update(MANAGED_BY)
    return obj
