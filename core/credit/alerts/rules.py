"""The alert rules: one per kind, with defaults kept here until the tenant edits them (reading writes nothing).

A rule is on or off, has a severity, a threshold where its kind has one (days ahead for ``due_soon_short``, a
percent of the outstanding principal for ``concentration``) and the roles whose staff see its alerts and get them
in the daily digest.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa

from ...accounts.services import tenant_roles
from ...db import utcnow
from ...domain import DomainError
from ...i18n import _
from .models import KINDS, SEVERITIES, AlertKind, AlertRule, Severity

THRESHOLDS = {
    # kind: (the default, the smallest and largest value allowed, whether a whole number)
    AlertKind.DUE_SOON_SHORT.value: (Decimal(3), Decimal(1), Decimal(60), True),
    AlertKind.CONCENTRATION.value: (Decimal(10), Decimal("0.01"), Decimal("99.99"), False),
}
DEFAULTS = {
    # kind: (severity, recipients)
    AlertKind.DUE_SOON_SHORT.value: (Severity.INFO.value, ("risk_officer", "relationship_manager")),
    AlertKind.FIRST_OVERDUE.value: (Severity.WARNING.value, ("risk_officer", "relationship_manager")),
    AlertKind.DOWNGRADED.value: (Severity.WARNING.value, ("risk_officer", "relationship_manager")),
    AlertKind.CONCENTRATION.value: (Severity.CRITICAL.value, ("administrator", "risk_officer")),
}
MAX_ROLES = 20


class AlertRuleError(DomainError):
    """A rule's setting refused: ``field`` is ``<kind>.<setting>``. Nothing changed."""


@dataclass(frozen=True)
class Rule:
    """One kind's rule as it applies to a tenant."""

    kind: str
    active: bool
    severity: str
    threshold: Decimal | None
    recipients: tuple[str, ...]
    edited: bool  # the tenant's own, not the defaults

    @property
    def has_threshold(self) -> bool:
        return self.kind in THRESHOLDS


def default_rule(kind: str) -> Rule:
    severity, recipients = DEFAULTS[kind]
    threshold = THRESHOLDS[kind][0] if kind in THRESHOLDS else None
    return Rule(kind, True, severity, threshold, recipients, False)


def rules_of(session, tenant_id: int) -> dict[str, Rule]:
    """Every kind's rule for the tenant, in the kinds' order: its own where edited, else the defaults."""
    edited = {row.kind: row for row in session.scalars(sa.select(AlertRule).where(AlertRule.tenant_id == tenant_id))}
    rules = {}
    for kind in KINDS:
        row = edited.get(kind.value)
        if row is None:
            rules[kind.value] = default_rule(kind.value)
            continue
        threshold = Decimal(row.threshold) if row.threshold is not None and kind.value in THRESHOLDS else None
        if kind.value in THRESHOLDS and threshold is None:
            threshold = THRESHOLDS[kind.value][0]
        rules[kind.value] = Rule(kind.value, row.active, row.severity, threshold, tuple(row.recipients or ()), True)
    return rules


def _threshold(kind: str, text) -> Decimal:
    _default, low, high, whole = THRESHOLDS[kind]
    field = f"{kind}.threshold"
    text = text.strip() if isinstance(text, str) else ""
    try:
        value = Decimal(text) if text and text.isascii() and len(text) <= 12 else None
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        raise AlertRuleError(field, _("Enter a number."))
    if whole and value != value.to_integral_value():
        raise AlertRuleError(field, _("Enter a whole number of days."))
    if not whole and value.as_tuple().exponent < -2:
        raise AlertRuleError(field, _("Use at most two decimal places."))
    if not low <= value <= high:
        raise AlertRuleError(
            field, _("Enter a value from ${low} to ${high}.", mapping={"low": str(low), "high": str(high)})
        )
    return value.quantize(Decimal(1)) if whole else Decimal(format(value.normalize(), "f"))


def save_rules(session, tenant, values: dict, *, by: str) -> list[str]:
    """Keep the tenant's rules as the rules form gave them (``values[kind]`` with ``active``, ``severity``,
    ``threshold``, ``recipients``); every value is checked first, so a refusal changes nothing. The kinds changed."""
    roles = tenant_roles(session, tenant.id)
    current = rules_of(session, tenant.id)
    checked = {}
    for kind in (k.value for k in KINDS):
        given = values.get(kind) or {}
        severity = given.get("severity")
        if severity not in {s.value for s in SEVERITIES}:
            raise AlertRuleError(f"{kind}.severity", _("Choose information, warning or critical."))
        recipients = given.get("recipients") or []
        if not isinstance(recipients, (list, tuple)) or not all(isinstance(r, str) for r in recipients):
            raise AlertRuleError(f"{kind}.recipients", _("Choose roles of this site."))
        recipients = tuple(sorted(set(recipients)))
        if not recipients:
            raise AlertRuleError(f"{kind}.recipients", _("Choose at least one role to tell."))
        if len(recipients) > MAX_ROLES or any(r not in roles for r in recipients):
            raise AlertRuleError(f"{kind}.recipients", _("Choose roles of this site."))
        threshold = _threshold(kind, given.get("threshold")) if kind in THRESHOLDS else None
        checked[kind] = Rule(kind, bool(given.get("active")), severity, threshold, recipients, True)
    changed = []
    rows = {row.kind: row for row in session.scalars(sa.select(AlertRule).where(AlertRule.tenant_id == tenant.id))}
    for kind, rule in checked.items():
        if _settings(current[kind]) == _settings(rule):
            continue
        row = rows.get(kind) or AlertRule(tenant_id=tenant.id, kind=kind)
        row.active, row.severity, row.recipients = rule.active, rule.severity, list(rule.recipients)
        row.threshold = str(rule.threshold) if rule.threshold is not None else None
        row.updated_by, row.updated_at = by[:120], utcnow()
        session.add(row)
        changed.append(kind)
    session.flush()
    return changed


def _settings(rule: Rule) -> tuple:
    return (rule.active, rule.severity, rule.threshold, tuple(sorted(rule.recipients)))


def rule_facts(rule: Rule) -> dict:
    """A rule as the audit log records it."""
    return {
        "active": rule.active,
        "severity": rule.severity,
        "threshold": str(rule.threshold) if rule.threshold is not None else None,
        "recipients": list(rule.recipients),
    }


def visible_kinds(rules: dict[str, Rule], role_codes) -> set[str]:
    """The kinds whose alerts a person holding ``role_codes`` sees (an administrator sees every kind)."""
    codes = set(role_codes)
    if "administrator" in codes:
        return set(rules)
    return {kind for kind, rule in rules.items() if codes & set(rule.recipients)}
