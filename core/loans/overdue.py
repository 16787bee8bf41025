"""Overdue rules (逾期): penalty interest within the overdue charges' cap, and acceleration (加速到期).

Day count: an installment unpaid at the close of its due date is overdue; the
days counted are those after the due date up to and including the day it is
paid (逾期天數 = 還款日 − 應還日). Each close of day charges the next day, so a
payment on any day — by the borrower, or by close of day from their balance —
finds that day already counted, and one on the due date counts none.

Penalty interest accrues each counted day on the installment's unpaid
principal (or principal and interest, ``[lending] penalty_base``) at
``penalty_rate_percent_per_day``, summed exactly (``penalty_accrued``). The
charges — the late fee first, then the penalty — never exceed the cap,
``Σ over counted days of unpaid principal × overdue_charges_cap_percent / 100 / 365``;
their total is the exact amount rounded half-up once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from ..money import Money
from ..schedules import round_minor
from .allocation import lender_parts, paybacks_of
from .models import INSTALLMENT_ENDED, INSTALLMENTS, LOANS, Installment, InstallmentStatus, Loan, LoanStatus
from .records import record
from .rules import lending_number

ONE_DAY = dt.timedelta(days=1)
DEFAULT_CAP_PERCENT = "24"


def _flag(lending: dict, key: str, default: bool) -> bool:
    return str(lending.get(key, default)).lower() in ("true", "1", "yes", "on")


@dataclass(frozen=True)
class OverdueTerms:
    """The tenant's overdue rules (``[lending]`` in the manifest, docs/operators.md)."""

    penalty_rate: Decimal  # percent a day
    penalty_base: str  # principal | principal_and_interest
    cap_percent: Decimal  # a year, of the overdue principal
    late_fee: int
    advance_after: int  # days; 0: never
    reserve_advances: bool
    accelerate_after: int  # days; 0: never
    collect_partial: bool


def overdue_terms(tenant) -> OverdueTerms:
    lending = tenant.lending or {}
    return OverdueTerms(
        lending_number(tenant, "penalty_rate_percent_per_day", "0.05"),
        lending.get("penalty_base", "principal"),
        lending_number(tenant, "overdue_charges_cap_percent", DEFAULT_CAP_PERCENT),
        Money.parse(str(lending.get("late_fee", "0")), tenant.currency).minor,
        int(lending_number(tenant, "advance_after_days", "0")),
        _flag(lending, "reserve_advances", False),
        int(lending_number(tenant, "accelerate_after_days", "90")),
        _flag(lending, "collect_partial", True),
    )


def accrue_charges(installment: Installment, day: dt.date, terms: OverdueTerms) -> None:
    """At the close of ``day``, count every day up to ``day + 1`` not yet counted, then charge within the cap."""
    through = day + ONE_DAY
    counted = installment.penalty_through or installment.due_date
    while counted < through:
        counted += ONE_DAY
        base = installment.unpaid_principal
        if terms.penalty_base == "principal_and_interest":
            base += installment.unpaid_interest
        installment.penalty_accrued += Decimal(base) * terms.penalty_rate / 100
        installment.principal_days += installment.unpaid_principal
    installment.penalty_through = through
    charge_within_cap(installment, terms)


def charge_within_cap(installment: Installment, terms: OverdueTerms) -> None:
    """Set the late fee and penalty charged: min(late fee + exact penalty, cap), rounded half-up once.

    The late fee counts first against the cap. Charges never go down (what a
    borrower was charged, or paid, stays charged).
    """
    cap = Decimal(installment.principal_days) * terms.cap_percent / 100 / 365
    total = max(round_minor(min(installment.late_fee_set + installment.penalty_accrued, cap)), installment.charges)
    installment.late_fee = max(min(installment.late_fee_set, total), installment.late_fee)
    installment.penalty = total - installment.late_fee


def _pro_rata(amount: int, elapsed: int, length: int) -> int:
    return round_minor(Decimal(amount) * elapsed / length) if elapsed > 0 and length > 0 else 0


def accelerate(session, tenant, loan: Loan, day: dt.date, terms: OverdueTerms, *, days_late: int) -> None:
    """加速到期: everything falls due on ``day``. The loan becomes ``defaulted``.

    Each installment not yet due moves its due date (and its paybacks') to
    ``day``; its interest and service fee are cut to what accrued by ``day``
    — the current period's pro rata by days, later periods' none — and each
    payback's interest is cut with it, split so a period's paybacks still sum
    exactly to its installment. They carry no late fee; penalty interest
    accrues on their principal from ``day`` like any overdue installment's.
    """
    rows = list(loan.installments)
    moved = []
    for index, installment in enumerate(rows):
        if installment.status in INSTALLMENT_ENDED or installment.due_date <= day:
            continue
        start = rows[index - 1].due_date if index else loan.disbursed_on or day
        elapsed, length = (day - start).days, (installment.due_date - start).days
        moved.append(
            (
                installment,
                max(_pro_rata(installment.interest, elapsed, length), installment.paid_interest),
                max(_pro_rata(installment.service_fee, elapsed, length), installment.paid_fee),
            )
        )
    forgone = 0
    for installment, interest, service_fee in moved:
        forgone += installment.interest - interest + installment.service_fee - service_fee
        _cut_paybacks(paybacks_of(session, loan, installment.period), interest, day)
        installment.interest, installment.service_fee, installment.due_date = interest, service_fee, day
        INSTALLMENTS.move(installment, InstallmentStatus.OVERDUE)
        accrue_charges(installment, day, terms)
    LOANS.move(loan, LoanStatus.DEFAULTED)
    unpaid = [i for i in rows if i.status not in INSTALLMENT_ENDED]
    record(
        session,
        loan,
        "accelerated",
        "close-of-day",
        days_late=days_late,
        on=day.isoformat(),
        periods=[i.period for i, _interest, _fee in moved],
        principal=sum(i.unpaid_principal for i in unpaid),
        interest=sum(i.unpaid_interest for i in unpaid),
        service_fee=sum(i.unpaid_fee for i in unpaid),
        charges=sum(i.charges - i.paid_charges for i in unpaid),
        forgone=forgone,
    )


def _cut_paybacks(paybacks, interest: int, day: dt.date) -> None:
    """Cut a period's paybacks to ``interest`` in all (each keeps what it received) and move them to ``day``."""
    left = interest - sum(p.paid_interest for p in paybacks)
    for part in lender_parts(paybacks, penalty=0, interest=left, principal=0):
        part.payback.interest = part.payback.paid_interest + part.interest
    for payback in paybacks:
        payback.due_date = day
