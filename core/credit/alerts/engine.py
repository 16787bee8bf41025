"""Raising the day's alerts at close of day, set-based: one query per rule finds every subject its condition holds
for, and the alerts are inserted in bulk.

A subject (a loan, or a borrower for ``concentration``) has at most one alert of a kind that is not closed, so an
alert is not raised again every day while it is open; once closed, a later close of day raises a new one if the
condition still holds. Safe to run again for the same date: an alert of the kind, subject and date is never raised
twice, and the digest goes out once per alert (:mod:`.digest`).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ...ledger import MEMBER, LedgerAccount
from ...loans.models import Installment, InstallmentStatus, Loan, LoanStatus
from ...members.models import Member
from ..applications.models import CreditApplication
from ..classification.models import RANK, ClassChange, LoanRisk, RiskClass
from ..customers.models import Customer
from .models import ALERTS, Alert, AlertKind, AlertStatus
from .rules import Rule, rules_of

OUTSTANDING = (LoanStatus.REPAYING.value, LoanStatus.DEFAULTED.value)
UNPAID = (InstallmentStatus.DUE.value, InstallmentStatus.OVERDUE.value)
OWED = (
    # what the borrower must pay for an installment now (``Installment.owed``), as SQL
    Installment.principal
    + Installment.interest
    + Installment.service_fee
    + Installment.penalty
    + Installment.late_fee
    - Installment.paid_principal
    - Installment.paid_interest
    - Installment.paid_fee
    - Installment.paid_charges
)


def _date(value) -> dt.date:
    return dt.date.fromisoformat(value) if isinstance(value, str) else value  # SQLite hands dates back as text


def due_soon_short(session, tenant_id: int, day: dt.date, rule: Rule) -> list[tuple[str, int | None, dict]]:
    """Loans whose next installment falls due within the rule's days after ``day`` and whose borrower's available
    balance is less than what it owes."""
    ahead = int(rule.threshold)
    available = LedgerAccount.credits_posted - LedgerAccount.debits_posted
    rows = session.execute(
        sa.select(
            Loan.id,
            Loan.number,
            Loan.currency,
            Installment.period,
            Installment.due_date,
            OWED,
            sa.func.coalesce(available, 0),
        )
        .join(Installment, Installment.loan_id == Loan.id)
        .join(
            LedgerAccount,
            sa.and_(
                LedgerAccount.tenant_id == tenant_id,
                LedgerAccount.owner_kind == MEMBER,
                LedgerAccount.owner_id == Loan.borrower_id,
                LedgerAccount.code == "available",
                LedgerAccount.currency == Loan.currency,
            ),
            isouter=True,
        )
        .where(
            Loan.tenant_id == tenant_id,
            Loan.status.in_(OUTSTANDING),
            Installment.status == InstallmentStatus.DUE.value,
            Installment.due_date > day,
            Installment.due_date <= day + dt.timedelta(days=ahead),
        )
        .order_by(Loan.id, Installment.due_date, Installment.period)
    ).all()
    found, seen = [], set()
    for loan_id, number, currency, period, due_date, owed, balance in rows:
        if loan_id in seen:  # the loan's next installment only
            continue
        seen.add(loan_id)
        if int(balance) < int(owed):
            due_date = _date(due_date)
            facts = {
                "loan_number": number,
                "currency": currency,
                "period": period,
                "due_date": due_date.isoformat(),
                "days_left": (due_date - day).days,
                "days_ahead": ahead,
                "owed": int(owed),
                "available": int(balance),
                "short": int(owed) - int(balance),
            }
            found.append((f"loan:{loan_id}", loan_id, facts))
    return found


def first_overdue(session, tenant_id: int, day: dt.date, rule: Rule) -> list[tuple[str, int | None, dict]]:
    """Loans whose oldest unpaid installment fell overdue at this close (one day past due)."""
    earlier = aliased(Installment)
    rows = session.execute(
        sa.select(Loan.id, Loan.number, Loan.currency, Installment.period, OWED)
        .join(Installment, Installment.loan_id == Loan.id)
        .where(
            Loan.tenant_id == tenant_id,
            Loan.status.in_(OUTSTANDING),
            Installment.status == InstallmentStatus.OVERDUE.value,
            Installment.due_date == day,
            ~sa.exists().where(earlier.loan_id == Loan.id, earlier.status.in_(UNPAID), earlier.due_date < day),
        )
        .order_by(Loan.id, Installment.period)
    ).all()
    found, seen = [], set()
    for loan_id, number, currency, period, owed in rows:
        if loan_id not in seen:
            seen.add(loan_id)
            facts = {
                "loan_number": number,
                "currency": currency,
                "period": period,
                "due_date": day.isoformat(),
                "days_past_due": 1,
                "owed": int(owed),
            }
            found.append((f"loan:{loan_id}", loan_id, facts))
    return found


def downgraded(session, tenant_id: int, day: dt.date, rule: Rule) -> list[tuple[str, int | None, dict]]:
    """Loans whose five-level class became stricter on ``day``: at this close by the rules, or by a proposal
    approved that day (the day's last such change of each loan)."""
    rows = session.execute(
        sa.select(
            ClassChange.loan_id,
            Loan.number,
            ClassChange.from_class,
            ClassChange.to_class,
            ClassChange.days_past_due,
            ClassChange.source,
        )
        .join(Loan, Loan.id == ClassChange.loan_id)
        .where(ClassChange.tenant_id == tenant_id, ClassChange.business_date == day)
        .order_by(ClassChange.loan_id, ClassChange.id)
    ).all()
    last = {}
    for loan_id, number, before, after, dpd, source in rows:
        if RANK[after] > RANK[before or RiskClass.NORMAL.value]:
            last[loan_id] = {
                "loan_number": number,
                "from_class": before or RiskClass.NORMAL.value,
                "to_class": after,
                "days_past_due": dpd,
                "source": source,
            }
    return [(f"loan:{loan_id}", loan_id, facts) for loan_id, facts in last.items()]


def _borrowers(session, tenant_id: int, loans: dict[int, int]) -> dict[int, tuple[str, str]]:
    """Each loan's borrower as (subject, name): the credit customer it was lent to (through its application, or
    the customer the borrowing member is), else the borrowing member."""
    customers = {
        row.id: row
        for row in session.execute(
            sa.select(Customer.id, Customer.name, Customer.member_id, Customer.merged_into_id).where(
                Customer.tenant_id == tenant_id
            )
        )
    }

    def live(customer_id):
        for _hop in range(10):  # a merged customer's successor (merges do not chain far)
            row = customers.get(customer_id)
            if row is None or row.merged_into_id is None:
                return row
            customer_id = row.merged_into_id
        return customers.get(customer_id)

    by_member = {row.member_id: row for row in customers.values() if row.member_id and row.merged_into_id is None}
    applied = dict(
        session.execute(
            sa.select(CreditApplication.loan_id, CreditApplication.customer_id).where(
                CreditApplication.tenant_id == tenant_id, CreditApplication.loan_id.in_(list(loans))
            )
        ).all()
    )
    members = dict(
        session.execute(
            sa.select(Member.id, sa.func.coalesce(sa.func.nullif(Member.legal_name, ""), Member.display_name)).where(
                Member.tenant_id == tenant_id, Member.id.in_(set(loans.values()))
            )
        ).all()
    )
    found = {}
    for loan_id, member_id in loans.items():
        customer = live(applied[loan_id]) if loan_id in applied else by_member.get(member_id)
        if customer is not None:
            found[loan_id] = (f"customer:{customer.id}", customer.name)
        else:
            found[loan_id] = (f"member:{member_id}", members.get(member_id) or "")
    return found


def concentration(session, tenant_id: int, day: dt.date, rule: Rule) -> list[tuple[str, int | None, dict]]:
    """Borrowers holding more than the rule's percent of the tenant's outstanding principal (a loan's principal
    left as classification last worked it out, else its installments' principal not yet paid)."""
    left_by_installments = (
        sa.select(
            Installment.loan_id,
            sa.func.sum(Installment.principal - Installment.paid_principal).label("left"),
        )
        .where(Installment.tenant_id == tenant_id)
        .group_by(Installment.loan_id)
        .subquery()
    )
    rows = session.execute(
        sa.select(
            Loan.id,
            Loan.borrower_id,
            Loan.currency,
            sa.func.coalesce(LoanRisk.outstanding_principal, left_by_installments.c.left, 0),
        )
        .join(LoanRisk, LoanRisk.loan_id == Loan.id, isouter=True)
        .join(left_by_installments, left_by_installments.c.loan_id == Loan.id, isouter=True)
        .where(Loan.tenant_id == tenant_id, Loan.status.in_(OUTSTANDING))
    ).all()
    total = sum(int(left) for *_rest, left in rows)
    if total <= 0:
        return []
    borrowers = _borrowers(session, tenant_id, {loan_id: member_id for loan_id, member_id, _c, _l in rows})
    held: dict[str, dict] = {}
    for loan_id, _member_id, currency, left in rows:
        subject, name = borrowers[loan_id]
        entry = held.setdefault(subject, {"name": name, "currency": currency, "outstanding": 0, "loans": 0})
        entry["outstanding"] += int(left)
        entry["loans"] += 1
    found = []
    for subject, entry in sorted(held.items()):
        share = Decimal(entry["outstanding"]) * 100 / Decimal(total)
        if share > rule.threshold:
            facts = {
                "borrower": entry["name"],
                "currency": entry["currency"],
                "outstanding": entry["outstanding"],
                "total": total,
                "loans": entry["loans"],
                "share_percent": str(share.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)),
                "threshold_percent": str(rule.threshold),
            }
            found.append((subject, None, facts))
    return found


FINDERS = {
    AlertKind.DUE_SOON_SHORT.value: due_soon_short,
    AlertKind.FIRST_OVERDUE.value: first_overdue,
    AlertKind.DOWNGRADED.value: downgraded,
    AlertKind.CONCENTRATION.value: concentration,
}


def raise_alerts(session, tenant, day: dt.date) -> dict:
    """Raise the day's alerts of every active rule (none for a subject with an alert of the kind still open, or
    raised for this date already); how many were raised."""
    tenant_id = tenant.id
    rules = rules_of(session, tenant_id)
    taken = set(
        session.execute(
            sa.select(Alert.kind, Alert.subject).where(
                Alert.tenant_id == tenant_id,
                sa.or_(Alert.status != AlertStatus.CLOSED.value, Alert.business_date == day),
            )
        ).all()
    )
    rows = []
    for kind, rule in rules.items():
        if not rule.active:
            continue
        for subject, loan_id, facts in FINDERS[kind](session, tenant_id, day, rule):
            if (kind, subject) in taken:
                continue
            taken.add((kind, subject))
            rows.append(
                {
                    "tenant_id": tenant_id,
                    "kind": kind,
                    "severity": rule.severity,
                    "status": ALERTS.initial.value,
                    "business_date": day,
                    "subject": subject,
                    "loan_id": loan_id,
                    "facts": facts,
                }
            )
    if rows:
        session.execute(sa.insert(Alert), rows)
    return {"alerts_raised": len(rows)}
