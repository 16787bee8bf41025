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
from .models import Bid, BidStatus, Installment, Loan, Payback
from .rules import GRADES, bid_unit, lending_number, percent_of

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
        """Cash on the platform: available plus frozen."""
        return self.available + self.frozen

    @property
    def total_assets(self) -> int:
        """總資產: cash (available + frozen) and what borrowers still owe the member (principal + interest)."""
        return self.total + self.receivable_principal + self.receivable_interest

    @property
    def net_assets(self) -> int:
        """Available + frozen + principal owed to the member − principal the member owes (淨值); interest not
        yet received or paid is left out. The net-worth loans' floor is measured against it."""
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
    """The member's net assets (淨值) in minor units; see :attr:`Position.net_assets`."""
    return position(session, tenant, member_id).net_assets


class InsufficientBalance(LoanError):
    """A bid above the member's available balance: the page offers to recharge."""


@dataclass(frozen=True)
class BidRoom:
    """What a member may still bid on a loan now, in minor units."""

    available: int  # the member's available balance
    largest: int  # the largest bid that fits every limit (0: none does)
    per_lender_left: int | None  # what the loan's cap per lender still allows them (None: no cap)


def bid_room(session, tenant, loan: Loan, member_id: int) -> BidRoom:
    """The largest bid the member could place on ``loan``: a multiple of the bid unit within what is left to
    fund, the loan's cap per lender (less their bids on it not refunded) and their available balance — and
    at least the smallest bid, else 0."""
    available = Wallet(Ledger(session, tenant.id), member_id, tenant.currency).funds().available
    cap = min(loan.remaining, available)
    per_lender_left = None
    if loan.max_bid is not None:
        mine = session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(Bid.amount), 0)).where(
                Bid.loan_id == loan.id, Bid.member_id == member_id, Bid.status != BidStatus.REFUNDED
            )
        )
        per_lender_left = max(loan.max_bid - int(mine), 0)
        cap = min(cap, per_lender_left)
    unit = bid_unit(tenant)
    largest = max(cap, 0) // unit * unit
    return BidRoom(available, largest if largest >= min(loan.min_bid, loan.remaining) else 0, per_lender_left)


def check_bidder(loan: Loan, lender: Member) -> None:
    """Refuse, before any amount is weighed, a lender who may not bid on ``loan`` (the same refusals as
    placing the bid: their own loan, no real-name verification, bidding frozen)."""
    if lender.id == loan.borrower_id:
        raise LoanError("amount", _("You cannot bid on your own loan."))
    if not lender.is_verified:
        raise LoanError("amount", _("Complete real-name verification before investing."))
    if lender.bidding_frozen:
        raise LoanError("amount", _("Bidding is frozen on your account. See your account page."))


def check_bid_fits(room: BidRoom, loan: Loan, amount: int) -> None:
    """Refuse a bid of ``amount`` (already checked against the loan) beyond the loan's cap per lender or the
    member's available balance (:class:`InsufficientBalance`)."""
    if room.per_lender_left is not None and amount > room.per_lender_left:
        raise LoanError(
            "amount",
            _(
                "One lender may bid at most ${maximum} on this loan.",
                mapping={"maximum": str(Money(loan.max_bid, loan.currency))},
            ),
        )
    if amount > room.available:
        raise InsufficientBalance("amount", _("Your available balance is not enough."))


def payback_fees(tenant, paybacks) -> list[int]:
    """The management fee on each of one bid's ``paybacks`` (in period order), as the fee is charged: on the
    interest received so far, cumulative and rounded half-up, so the parts sum to the fee on all of it."""
    percent = lending_number(tenant, "lender_fee_percent", "0")
    fees, interest, charged = [], 0, 0
    for payback in paybacks:
        interest += payback.interest
        fee = percent_of(interest, percent) - charged
        fees.append(fee)
        charged += fee
    return fees


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
