"""A member's standing: principal outstanding, credit used, the net-worth floor, their position in money,
their record as a borrower, and the credit line staff give them."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ..i18n import _
from ..ledger import Ledger, Wallet
from ..loan_types import BorrowerProfile
from ..members.models import Member
from ..money import InvalidAmount, Money, parse_amount
from .errors import LoanError
from .models import Installment, Loan, Payback
from .rules import GRADES

ACTIVE = ("submitted", "bidding", "full", "repaying", "defaulted")


def outstanding_principal(session, *where) -> int:
    """Principal of the active loans matching ``where`` not yet repaid."""
    active = (Loan.status.in_(ACTIVE), *where)
    lent = session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Loan.amount), 0)).where(*active))
    repaid = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Installment.paid_principal), 0)).join(Loan).where(*active)
    )
    return int(lent) - int(repaid)  # PostgreSQL sums bigints as numeric


def credit_used(session, borrower_id: int) -> int:
    """Credit-line use: principal of the borrower's active credit loans not yet repaid."""
    return outstanding_principal(session, Loan.borrower_id == borrower_id, Loan.loan_type == "credit")


def net_worth_floor(session, member_id: int) -> int:
    """Net assets a member must keep while net-worth loans are outstanding: their unpaid principal."""
    return outstanding_principal(session, Loan.borrower_id == member_id, Loan.loan_type == "net_worth")


@dataclass(frozen=True)
class Position:
    """A member's standing in minor units: cash, what others owe them, what they owe."""

    available: int
    frozen: int
    receivable_principal: int
    receivable_interest: int
    payable_principal: int
    payable_interest: int  # with penalty interest, late fees and service fees

    @property
    def total(self) -> int:
        return self.available + self.frozen

    @property
    def net_assets(self) -> int:
        """Available + frozen + principal owed to the member − principal the member owes (凈值)."""
        return self.total + self.receivable_principal - self.payable_principal


def position(session, tenant, member_id: int) -> Position:
    """The member's :class:`Position` now: their wallet, their paybacks due, their installments unpaid."""
    funds = Wallet(Ledger(session, tenant.id), member_id, tenant.currency).funds()
    receivable = session.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(Payback.principal - Payback.paid_principal), 0),
            sa.func.coalesce(sa.func.sum(Payback.interest - Payback.paid_interest), 0),
        ).where(Payback.member_id == member_id, Payback.status == "due")
    ).one()
    payable = session.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(Installment.principal - Installment.paid_principal), 0),
            sa.func.coalesce(
                sa.func.sum(
                    Installment.interest
                    - Installment.paid_interest
                    + Installment.penalty
                    + Installment.late_fee
                    - Installment.paid_charges
                    + Installment.service_fee
                    - Installment.paid_fee
                ),
                0,
            ),
        )
        .join(Loan)
        .where(Loan.borrower_id == member_id, Installment.status.in_(["due", "overdue"]))
    ).one()
    return Position(funds.available, funds.frozen, *(int(x) for x in (*receivable, *payable)))


def net_assets(session, tenant, member_id: int) -> int:
    """The member's net assets (凈值) in minor units; see :attr:`Position.net_assets`."""
    return position(session, tenant, member_id).net_assets


def borrower_history(session, member_id: int, *, excluding: int | None = None) -> dict:
    """A borrower's record: their loans by status (``by_status``) and installments overdue now."""
    where = [Loan.borrower_id == member_id] + ([Loan.id != excluding] if excluding is not None else [])
    by_status = dict(session.execute(sa.select(Loan.status, sa.func.count()).where(*where).group_by(Loan.status)).all())
    overdue = (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(Installment)
            .join(Loan)
            .where(Loan.borrower_id == member_id, Installment.status == "overdue")
        )
        or 0
    )
    return {"by_status": by_status, "overdue_now": int(overdue)}


def borrower_profile(session, tenant, borrower: Member) -> BorrowerProfile:
    """What a loan type may know of the borrower: credit line, credit left, net assets."""
    currency = tenant.currency
    return BorrowerProfile(
        Money(borrower.credit_line, currency),
        Money(max(borrower.credit_line - credit_used(session, borrower.id), 0), currency),
        Money(net_assets(session, tenant, borrower.id), currency),
    )


def set_credit_line(member: Member, amount_text: str, currency: str, grade: str | None = None) -> None:
    """Staff set a verified member's credit line and, when given, credit grade (AA best … HR)."""
    try:
        amount = parse_amount(amount_text, currency, form=True)
    except InvalidAmount as error:
        raise LoanError("amount", error.message) from None
    if not member.is_verified:
        raise LoanError("amount", _("A credit line needs a verified member."))
    if grade and grade not in GRADES:
        raise LoanError("grade", _("Choose a credit grade from AA to HR."))
    member.credit_line = amount.minor
    if grade:
        member.credit_grade = grade
