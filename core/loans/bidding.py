"""Bidding (融資湊標): lenders' bids frozen in their wallets until the loan is full; a borrower may take a
partly funded loan where the tenant allows it; a full instant loan (秒標) settles at once.

A loan's row is locked while bids are placed, so however many bids arrive at
once it is never over-funded; each bid freezes its money once, under the key
``bid:<id>:freeze``.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..i18n import _
from ..ledger import InsufficientFunds, Ledger, Wallet
from ..loan_types import loan_types
from ..members.models import Member
from ..money import Money
from .disbursement import final_review
from .errors import LoanError, positive_amount
from .models import LOANS, Bid, Loan, LoanStatus
from .records import locked_loan, record
from .repayment import repay_next
from .rules import bid_unit, partial_funding
from .standing import InsufficientBalance, bid_room, check_bid_fits, check_bidder


def parse_bid(tenant, loan: Loan, amount_text) -> int:
    """A bid amount checked against the loan: the tenant's unit, what is left, the smallest bid.

    A bid of exactly what is left is taken whatever the unit: a loan of an amount the unit does not divide
    (9,999.99 in units of 50.00) can still be funded to the cent by its last bid.
    """
    amount = positive_amount(amount_text, tenant.currency, "amount")
    unit = bid_unit(tenant)
    if amount.minor % unit and amount.minor != loan.remaining:
        raise LoanError(
            "amount", _("Bid in multiples of ${unit}.", mapping={"unit": str(Money(unit, tenant.currency))})
        )
    if amount.minor > loan.remaining:
        raise LoanError(
            "amount", _("Only ${left} is left to fund.", mapping={"left": str(Money(loan.remaining, loan.currency))})
        )
    if amount.minor < min(loan.min_bid, loan.remaining):
        raise LoanError(
            "amount", _("The smallest bid is ${minimum}.", mapping={"minimum": str(Money(loan.min_bid, loan.currency))})
        )
    return amount.minor


def place_bid(
    session, tenant, hooks, loan_id: int, lender: Member, amount_text: str, *, key: str, auto: bool = False
) -> Bid:
    """Freeze a lender's bid (融資湊標); the loan row is locked so it is never over-funded."""
    loan = locked_loan(session, loan_id)
    if loan is None:
        raise LoanError("loan", _("There is no such loan."))
    existing = session.scalars(sa.select(Bid).where(Bid.loan_id == loan.id, Bid.key == key)).first()
    amount = positive_amount(amount_text, tenant.currency, "amount")
    if existing is not None:
        if (existing.member_id, existing.amount) != (lender.id, amount.minor):
            raise LoanError("key", _("This Idempotency-Key was used for another bid."))
        return existing
    if loan.status != LoanStatus.BIDDING:
        raise LoanError("loan", _("This loan is not open for bids."))
    check_bidder(loan, lender)
    parse_bid(tenant, loan, amount_text)
    # the same refusals as the loan page's first step: the cap per lender, then the balance
    check_bid_fits(bid_room(session, tenant, loan, lender.id), loan, amount.minor)
    bid = Bid(tenant_id=tenant.id, loan_id=loan.id, member_id=lender.id, amount=amount.minor, key=key, auto=auto)
    session.add(bid)
    session.flush()
    try:
        Wallet(Ledger(session, tenant.id), lender.id, loan.currency).freeze(
            amount,
            reason="bid_freeze",
            key=f"bid:{bid.id}:freeze",
            ref=f"loan:{loan.number}",
            initiator=f"member:{lender.id}",
        )
    except InsufficientFunds:  # the balance moved since it was read (another request of the same member)
        raise InsufficientBalance("amount", _("Your available balance is not enough.")) from None
    loan.funded += amount.minor
    record(session, loan, "bid", f"member:{lender.id}", bid=bid.id, amount=amount.minor, auto=auto)
    if loan.funded == loan.amount:
        LOANS.move(loan, LoanStatus.FULL)
        record(session, loan, "full", "system")
        _settle_if_instant(session, tenant, hooks, loan)
    return bid


def accept_partial(session, tenant, loan: Loan, *, by: str) -> None:
    """The borrower takes what was raised so far (where the tenant allows it): the loan's amount becomes
    the funded amount and it goes to final review. The loan row must be locked by the caller
    (:func:`~.records.locked_loan`)."""
    minimum = partial_funding(tenant)
    if minimum is None:
        raise LoanError("loan", _("This site does not lend less than the amount asked for."))
    if loan.status != LoanStatus.BIDDING:
        raise LoanError("loan", _("This loan is not open for bids."))
    if loan.funded <= 0 or loan.funded * 100 < loan.amount * minimum:
        raise LoanError("loan", _("To accept it, at least ${percent}% must be raised.", mapping={"percent": minimum}))
    requested = loan.amount
    loan.type_data = {**loan.type_data, "requested_amount": requested}
    loan.amount = loan.funded
    LOANS.move(loan, LoanStatus.FULL)
    record(session, loan, "accepted_partial", by, requested=requested, funded=loan.funded)


def _settle_if_instant(session, tenant, hooks, loan: Loan) -> None:
    """秒標: a full instant loan is disbursed and repaid at once, if its borrower can pay the interest."""
    loan_type = loan_types(hooks).get(loan.loan_type)
    if loan_type is None or not loan_type.settles_when_full:
        return
    final_review(session, tenant, hooks, loan, approve=True, reason="", by="system")
    try:
        while loan.status == LoanStatus.REPAYING:
            repay_next(session, tenant, loan, by="system")
    except LoanError:
        record(
            session,
            loan,
            "instant_settlement_waiting",
            "system",
            why="the borrower cannot pay yet; close of day collects it",
        )
