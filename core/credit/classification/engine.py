"""Classifying every outstanding loan of a tenant at close of day, set-based.

One query sums each outstanding loan's installments (the oldest unpaid due date, the principal left); the
classes are worked out in Python from the tenant's rules and the loans' standing (:class:`.models.LoanRisk`), and
only what changed is written, in bulk: the standing rows, one :class:`.models.ClassChange` per loan whose class
changed, and at a month's last day a snapshot of every outstanding loan.

Days past due are counted from the oldest unpaid installment on the business calendar: at the close of its due
date an unpaid installment is one day past due, and each business day closed adds one.

Safe to run again for the same date (close of day after a crash, ``lendstack credit classify`` by hand): the
figures come out the same, and a loan whose class the rules changed that day keeps one change for the day (the
rules changed since: it now ends in the new class, or is gone if the loan is back where it started); the
snapshot of a month is taken once.
"""

from __future__ import annotations

import calendar
import datetime as dt

import sqlalchemy as sa

from ...db import checkpoint
from ...loans.models import Installment, InstallmentStatus, Loan, LoanStatus
from .models import RANK, ClassChange, ClassSnapshot, LoanRisk, RiskClass, stricter
from .rules import Rules, rules_for

OUTSTANDING = (LoanStatus.REPAYING.value, LoanStatus.DEFAULTED.value)
UNPAID = (InstallmentStatus.DUE.value, InstallmentStatus.OVERDUE.value)


def outstanding_figures(session, tenant_id: int, day: dt.date) -> list[tuple[int, dt.date | None, int]]:
    """(loan id, oldest unpaid due date on or before ``day``, principal left) of every outstanding loan."""
    due = sa.case((Installment.due_date <= day, Installment.due_date))
    query = (
        sa.select(
            Loan.id,
            sa.func.min(due),
            sa.func.coalesce(sa.func.sum(Installment.principal - Installment.paid_principal), 0),
        )
        .join(Installment, sa.and_(Installment.loan_id == Loan.id, Installment.status.in_(UNPAID)), isouter=True)
        .where(Loan.tenant_id == tenant_id, Loan.status.in_(OUTSTANDING))
        .group_by(Loan.id)
        .order_by(Loan.id)
    )
    return [(loan_id, oldest, int(left)) for loan_id, oldest, left in session.execute(query)]


def days_past_due(oldest_unpaid: dt.date | None, day: dt.date) -> int:
    """Days past due at the close of ``day``: the oldest unpaid installment due on or before it counts from 1."""
    if oldest_unpaid is None:
        return 0
    if isinstance(oldest_unpaid, str):  # SQLite hands MIN() of a date back as text
        oldest_unpaid = dt.date.fromisoformat(oldest_unpaid)
    return (day - oldest_unpaid).days + 1


def standing(rules: Rules, risk: LoanRisk | None, dpd: int, left: int, day: dt.date) -> dict:
    """What a loan's standing row should say after ``day``, given its last one (``None``: never classified)."""
    watched = risk is not None and risk.watch_until is not None and risk.watch_until >= day
    rule_class = rules.rule_class(dpd, watched)
    manual = risk.manual_class if risk is not None else None
    risk_class = stricter(rule_class, manual) if manual else rule_class
    return {
        "risk_class": risk_class,
        "rule_class": rule_class,
        "days_past_due": dpd,
        "outstanding_principal": left,
        "provision_rate": str(rules.provision_percent[risk_class]),
        "provision": rules.provision(risk_class, left),
    }


def classify(session, tenant, day: dt.date, *, commit_every: int | None = None) -> dict:
    """Classify the tenant's outstanding loans as of the close of ``day``; how many were classified and changed."""
    tenant_id, rules = tenant.id, rules_for(tenant)
    summary = {"classified": 0, "changed": 0, "downgraded": 0, "provision": 0}
    figures = outstanding_figures(session, tenant_id, day)
    known = _standing_rows(session, tenant_id)
    already = {  # the rules' changes recorded for this day already (a run again): loan → (id, from)
        loan_id: (change_id, from_class)
        for change_id, loan_id, from_class in session.execute(
            sa.select(ClassChange.id, ClassChange.loan_id, ClassChange.from_class).where(
                ClassChange.tenant_id == tenant_id, ClassChange.business_date == day, ClassChange.source == "rule"
            )
        )
    }
    size = commit_every or max(len(figures), 1)
    for start in range(0, len(figures), size):
        new_rows, updates, changes, restated, undone = [], [], [], [], []
        for loan_id, oldest, left in figures[start : start + size]:
            risk = known.get(loan_id)
            now = standing(rules, risk, days_past_due(oldest, day), left, day)
            summary["classified"] += 1
            summary["provision"] += now["provision"]
            before = risk.risk_class if risk is not None else None
            if risk is None:
                new_rows.append({"loan_id": loan_id, "tenant_id": tenant_id, "classified_on": day, **now})
            elif any(getattr(risk, k) != v for k, v in now.items()) or risk.classified_on != day:
                updates.append({"loan_id": loan_id, "classified_on": day, **now})
            if now["risk_class"] == (before or RiskClass.NORMAL.value):
                continue
            summary["changed"] += 1
            if before is None or RANK[now["risk_class"]] > RANK[before]:
                summary["downgraded"] += 1
            if loan_id in already:  # one change per loan and day: the day's change now ends in the new class
                change_id, first_from = already[loan_id]
                if now["risk_class"] == (first_from or RiskClass.NORMAL.value):
                    undone.append(change_id)
                else:
                    restated.append(
                        {"id": change_id, "to_class": now["risk_class"], "days_past_due": now["days_past_due"]}
                    )
                continue
            changes.append(
                {
                    "tenant_id": tenant_id,
                    "loan_id": loan_id,
                    "business_date": day,
                    "from_class": before,
                    "to_class": now["risk_class"],
                    "source": "rule",
                    "days_past_due": now["days_past_due"],
                }
            )
        if new_rows:
            session.execute(sa.insert(LoanRisk), new_rows)
        if updates:
            session.execute(sa.update(LoanRisk), updates)
        if changes:
            session.execute(sa.insert(ClassChange), changes)
        if restated:
            session.execute(sa.update(ClassChange), restated)
        if undone:
            session.execute(sa.delete(ClassChange).where(ClassChange.id.in_(undone)))
        if commit_every:
            checkpoint(session)
    _settle_ended(session, tenant_id, day)
    if day.day == calendar.monthrange(day.year, day.month)[1]:
        snapshot(session, tenant_id, day)
    return summary


STANDING = (
    LoanRisk.loan_id,
    LoanRisk.risk_class,
    LoanRisk.rule_class,
    LoanRisk.manual_class,
    LoanRisk.days_past_due,
    LoanRisk.outstanding_principal,
    LoanRisk.provision_rate,
    LoanRisk.provision,
    LoanRisk.classified_on,
    LoanRisk.watch_until,
)


def _standing_rows(session, tenant_id: int) -> dict:
    """Every standing row of the tenant by loan, as plain rows (a hundred thousand loans make no ORM objects)."""
    return {row.loan_id: row for row in session.execute(sa.select(*STANDING).where(LoanRisk.tenant_id == tenant_id))}


def _settle_ended(session, tenant_id: int, day: dt.date) -> None:
    """A loan no longer outstanding (settled, written off) keeps its last class but needs no provision."""
    ended = sa.select(Loan.id).where(Loan.tenant_id == tenant_id, Loan.status.not_in(OUTSTANDING))
    session.execute(
        sa.update(LoanRisk)
        .where(
            LoanRisk.tenant_id == tenant_id,
            LoanRisk.loan_id.in_(ended),
            sa.or_(LoanRisk.provision != 0, LoanRisk.outstanding_principal != 0),
        )
        .values(outstanding_principal=0, provision=0, classified_on=day)
        .execution_options(synchronize_session=False)
    )


def snapshot(session, tenant_id: int, month_end: dt.date) -> int:
    """Keep every outstanding loan's class and figures for the month ending ``month_end`` (once per loan)."""
    taken = sa.select(ClassSnapshot.loan_id).where(
        ClassSnapshot.tenant_id == tenant_id, ClassSnapshot.month_end == month_end
    )
    rows = sa.select(
        LoanRisk.tenant_id,
        LoanRisk.loan_id,
        sa.literal(month_end, sa.Date),
        LoanRisk.risk_class,
        LoanRisk.days_past_due,
        LoanRisk.outstanding_principal,
        LoanRisk.provision,
    ).where(
        LoanRisk.tenant_id == tenant_id,
        LoanRisk.loan_id.in_(sa.select(Loan.id).where(Loan.tenant_id == tenant_id, Loan.status.in_(OUTSTANDING))),
        LoanRisk.loan_id.not_in(taken),
    )
    columns = ["tenant_id", "loan_id", "month_end", "risk_class", "days_past_due", "outstanding_principal"]
    result = session.execute(sa.insert(ClassSnapshot).from_select([*columns, "provision"], rows))
    return result.rowcount
