"""What a loan is expected to do before it does it: its schedule by its repayment method, what a bid
would bring its lender, and the loan's APR."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from ..money import Money
from ..schedules import LoanTerms
from . import cost
from .models import Loan
from .rules import lending_number, percent_of


def schedule_for(tenant, method, loan: Loan, start: dt.date | None = None):
    """The loan's repayment schedule by its ``method`` from ``start`` (by default the disbursement, else a
    projection from the fundraising deadline). The rate cap was checked when the borrower applied."""
    start = start or loan.disbursed_on or loan.deadline or tenant.business_date
    return method.schedule(
        LoanTerms(
            Money(loan.amount, loan.currency),
            loan.annual_rate_percent,
            loan.term_months,
            "month",
            start,
            max_rate_percent=Decimal(100),
        )
    )


@dataclass(frozen=True)
class ExpectedPayback:
    """What a bid would bring its lender, shown before the bid is confirmed."""

    principal: int
    interest: int
    fee: int
    rows: tuple

    @property
    def total(self) -> int:
        return self.principal + self.interest - self.fee


def expected_payback(tenant, schedule, loan: Loan, amount: int) -> ExpectedPayback | None:
    """The lender's share of the loan's projected ``schedule`` for a bid of ``amount`` (the rest to others),
    less the tenant's management fee on interest."""
    if schedule is None or not 0 < amount <= loan.amount:
        return None
    weights = [amount] if amount == loan.amount else [amount, loan.amount - amount]
    mine = schedule.share(weights)[0]
    percent = lending_number(tenant, "lender_fee_percent", "0")
    # the fee is charged on the interest received so far (cumulative), so over the loan it is this, exactly
    return ExpectedPayback(
        mine.total_principal, mine.total_interest, percent_of(mine.total_interest, percent), mine.installments
    )


def loan_apr(tenant, loan: Loan, schedule=None) -> Decimal | None:
    """A loan's APR: from its installments and the fee it was disbursed with, or — before disbursement —
    from the projected ``schedule`` and the tenant's fee as it stands."""
    if loan.installments:
        rows = sorted(loan.installments, key=lambda i: i.period)
        charged = cost.Charges(
            loan.fee_mode or cost.DEFAULT_FEE_MODE,
            loan.borrower_fee,
            0 if loan.fee_mode == "installments" else loan.borrower_fee,
            tuple(i.service_fee for i in rows),
            loan.amount - (loan.borrower_fee if loan.fee_mode == "deducted" else 0),
        )
        return cost.apr_percent(loan.disbursed_on, rows, charged)
    if schedule is None:
        return None
    charged = cost.charges(tenant, loan.amount, len(schedule.installments))
    start = loan.deadline or tenant.business_date  # where schedule_for starts a projection
    return cost.apr_percent(start, schedule.installments, charged)
