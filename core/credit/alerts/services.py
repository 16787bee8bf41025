"""Working with alerts: who sees which, the sentence each reads as, acknowledging and closing them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from babel.dates import format_date
from babel.numbers import format_decimal

from ...db import utcnow
from ...domain import DomainError
from ...i18n import _, region_locale
from ...money import Money
from ..classification.models import CLASS_LABELS
from .models import ALERTS, SEVERITY_RANK, Alert, AlertKind, AlertStatus
from .rules import rules_of, visible_kinds

MAX_NOTE = 500
PER_PAGE = 50

SENTENCES = {
    AlertKind.DUE_SOON_SHORT.value: _(
        "Loan ${loan}: installment ${period} falls due on ${due_date} and owes ${owed}, but the borrower has "
        "${available} available (${short} short)."
    ),
    AlertKind.FIRST_OVERDUE.value: _(
        "Loan ${loan} is overdue for the first time: installment ${period}, due on ${due_date}, still owes ${owed}."
    ),
    AlertKind.DOWNGRADED.value: _("Loan ${loan} moved from ${from_class} to ${to_class} (${days} days past due)."),
    AlertKind.CONCENTRATION.value: _(
        "${borrower} holds ${outstanding} of the ${total} outstanding principal: a share of ${share}%, more than "
        "the limit of ${threshold}%."
    ),
}


class AlertError(DomainError):
    """Acknowledging or closing an alert refused (the field, a message to act on). Nothing changed."""


def sentence(alert: Alert, translate, locale: str) -> str:
    """What the alert says, in ``locale`` (``translate``: that locale's translating function)."""
    facts = alert.facts or {}
    currency = facts.get("currency", "")

    def money(key):
        return Money(int(facts.get(key, 0)), currency).format(locale) if currency else str(facts.get(key, 0))

    def day(key):
        return format_date(dt.date.fromisoformat(facts[key]), format="medium", locale=region_locale(locale))

    def number(key):
        return format_decimal(Decimal(facts.get(key, "0")), locale=region_locale(locale))

    kind = alert.kind
    if kind == AlertKind.DUE_SOON_SHORT.value:
        mapping = {
            "loan": facts.get("loan_number", ""),
            "period": facts.get("period"),
            "due_date": day("due_date"),
            "owed": money("owed"),
            "available": money("available"),
            "short": money("short"),
        }
    elif kind == AlertKind.FIRST_OVERDUE.value:
        mapping = {
            "loan": facts.get("loan_number", ""),
            "period": facts.get("period"),
            "due_date": day("due_date"),
            "owed": money("owed"),
        }
    elif kind == AlertKind.DOWNGRADED.value:
        mapping = {
            "loan": facts.get("loan_number", ""),
            "from_class": translate(CLASS_LABELS[facts["from_class"]]),
            "to_class": translate(CLASS_LABELS[facts["to_class"]]),
            "days": facts.get("days_past_due", 0),
        }
    else:
        mapping = {
            "borrower": facts.get("borrower", ""),
            "outstanding": money("outstanding"),
            "total": money("total"),
            "share": number("share_percent"),
            "threshold": number("threshold_percent"),
        }
    return translate(_(SENTENCES[kind], mapping=mapping))


def roles_of(staff) -> set[str]:
    """The codes of the roles ``staff`` holds (directly or through groups, active ones only)."""
    return {role.code for role in staff.all_roles}


def kinds_for(session, tenant_id: int, staff) -> set[str]:
    """The kinds of alert ``staff`` sees: those whose rule tells one of their roles (an administrator: all)."""
    return visible_kinds(rules_of(session, tenant_id), roles_of(staff))


def alerts_for(
    session,
    tenant_id: int,
    kinds: set[str],
    *,
    status: str | None = None,
    severity: str | None = None,
    kind: str | None = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> tuple[list[Alert], int]:
    """One page of the alerts of ``kinds`` (open first, then acknowledged, then closed; the most severe and newest
    first within each) and how many there are in all."""
    query = sa.select(Alert).where(Alert.tenant_id == tenant_id, Alert.kind.in_(sorted(kinds)))
    if status:
        query = query.where(Alert.status == status)
    if severity:
        query = query.where(Alert.severity == severity)
    if kind:
        query = query.where(Alert.kind == kind)
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    order_status = sa.case({AlertStatus.OPEN.value: 0, AlertStatus.ACKNOWLEDGED.value: 1}, value=Alert.status, else_=2)
    order_severity = sa.case(SEVERITY_RANK, value=Alert.severity, else_=0)
    rows = session.scalars(
        query.order_by(order_status, order_severity.desc(), Alert.business_date.desc(), Alert.id.desc())
        .limit(per_page)
        .offset((max(page, 1) - 1) * per_page)
    ).all()
    return list(rows), total


def locked_alert(session, tenant_id: int, alert_id, kinds: set[str]) -> Alert | None:
    """The tenant's alert by id, locked, if its kind is one the caller sees (``None`` otherwise)."""
    try:
        number = int(str(alert_id))
    except ValueError:
        return None
    if not 0 < number < 2**31:
        return None
    return session.scalars(
        sa.select(Alert)
        .where(Alert.tenant_id == tenant_id, Alert.id == number, Alert.kind.in_(sorted(kinds)))
        .with_for_update()
    ).first()


def _note(note, *, required: bool) -> str:
    note = note.strip() if isinstance(note, str) else ""
    if len(note) > MAX_NOTE:
        raise AlertError("note", _("Use at most ${n} characters.", mapping={"n": MAX_NOTE}))
    if required and not note:
        raise AlertError("note", _("Say what was done about the alert."))
    return note


def acknowledge(alert: Alert, *, by: str, note) -> Alert:
    """Someone is on it: the alert is acknowledged with a note (it stays open for its subject until closed)."""
    note = _note(note, required=True)
    if not ALERTS.can(alert, AlertStatus.ACKNOWLEDGED.value):
        raise AlertError("action", _("This alert is acknowledged or closed already."))
    ALERTS.move(alert, AlertStatus.ACKNOWLEDGED)
    alert.acknowledged_by, alert.acknowledged_at, alert.acknowledge_note = by[:120], utcnow(), note
    return alert


def close(alert: Alert, *, by: str, note) -> Alert:
    """The alert is dealt with: closed with a note; a later close of day raises a new one if the condition holds."""
    note = _note(note, required=True)
    if not ALERTS.can(alert, AlertStatus.CLOSED.value):
        raise AlertError("action", _("This alert is closed already."))
    ALERTS.move(alert, AlertStatus.CLOSED)
    alert.closed_by, alert.closed_at, alert.close_note = by[:120], utcnow(), note
    return alert


ACTIONS = {"acknowledge": acknowledge, "close": close}


def act(alert: Alert, action, *, by: str, note) -> Alert:
    """Acknowledge or close ``alert`` as ``action`` says."""
    if action not in ACTIONS:
        raise AlertError("action", _("Choose to acknowledge or to close the alert."))
    return ACTIONS[action](alert, by=by, note=note)


def alert_facts(alert: Alert) -> dict:
    """An alert as the audit log records it."""
    return {
        "kind": alert.kind,
        "subject": alert.subject,
        "status": alert.status,
        "note": alert.close_note or alert.acknowledge_note or None,
    }
