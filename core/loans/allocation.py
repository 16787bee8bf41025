"""How a payment divides (部分還款的沖抵順序) and what each party gets: the legs of one ledger post.

A payment on an installment settles its late fee, then its penalty interest,
then its service fee, then its interest, then its principal — costs, then
interest, then principal (Civil Code art. 561). Lenders get their parts of the
penalty, interest and principal at once, less the management fee; the late
fee and the service fee go to the platform's fee income; on an installment
already advanced (墊付) the lenders' parts go back to whoever advanced them.

The management fee is cumulative per bid: after each payment a bid has been
charged ``round(fee% × all interest it has received)`` (half-up), so paying in
parts, early or late, costs a lender exactly ``round(fee% × total interest)``
over the loan.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ..ledger import Ledger, Transfer, Wallet
from ..money import Money, split_largest_remainder
from .models import Installment, Loan, Payback
from .rules import lending_number, percent_of


def _split(total: int, weights: list[int]) -> list[int]:
    return split_largest_remainder(total, weights) if total and sum(weights) else [0] * len(weights)


@dataclass(frozen=True)
class Allocation:
    """How a payment on one installment divides: late fee, penalty, service fee, interest, principal."""

    late_fee: int
    penalty: int
    service_fee: int
    interest: int
    principal: int

    @property
    def total(self) -> int:
        return self.late_fee + self.penalty + self.service_fee + self.interest + self.principal


def allocate(installment: Installment, amount: int) -> Allocation:
    """Apply ``amount`` to an installment: late fee, penalty, service fee, interest, then principal."""
    parts, left = [], amount
    for unpaid in (
        installment.unpaid_late_fee,
        installment.unpaid_penalty,
        installment.unpaid_fee,
        installment.unpaid_interest,
        installment.unpaid_principal,
    ):
        part = min(left, unpaid)
        parts.append(part)
        left -= part
    return Allocation(*parts)


def settle(installment: Installment, part: Allocation) -> None:
    """Count ``part`` as paid on the installment (after its ledger post succeeded)."""
    installment.paid_late_fee += part.late_fee
    installment.paid_charges += part.late_fee + part.penalty
    installment.paid_fee += part.service_fee
    installment.paid_interest += part.interest
    installment.paid_principal += part.principal


@dataclass
class LenderPart:
    """One payback's part of a payment: penalty (pro rata), interest and principal (what it still awaits)."""

    payback: Payback
    penalty: int
    interest: int
    principal: int

    def settle(self) -> None:
        self.payback.paid_interest += self.interest
        self.payback.paid_principal += self.principal


def lender_parts(paybacks: list[Payback], *, penalty: int, interest: int, principal: int) -> list[LenderPart]:
    """Split a period's penalty, interest and principal among its paybacks; each sums exactly.

    Interest and principal go by what each payback still has to receive (so
    paying it all pays each exactly), penalty pro rata to the paybacks.
    """
    interests = _split(interest, [p.interest - p.paid_interest for p in paybacks])
    principals = _split(principal, [p.principal - p.paid_principal for p in paybacks])
    penalties = _split(penalty, [p.principal + p.interest for p in paybacks])
    return [LenderPart(p, pen, i, pr) for p, pen, i, pr in zip(paybacks, penalties, interests, principals)]


def lender_fees(tenant, loan: Loan, parts: list[LenderPart]) -> dict[int, int]:
    """Bid id → the management fee ``parts`` charge it, cumulative over the bid's whole loan.

    ``round(fee% × (interest the bid received before + this interest)) −
    fees already charged to the bid``, kept between 0 and this interest (a
    lender never pays more than it receives, whatever the tenant's percent
    did meanwhile). Call before the parts are settled.
    """
    percent = lending_number(tenant, "lender_fee_percent", "0")
    now: dict[int, int] = {}
    for part in parts:
        now[part.payback.bid_id] = now.get(part.payback.bid_id, 0) + part.interest
    received = dict.fromkeys(now, 0)
    for payback in loan.paybacks:
        if payback.bid_id in received:
            received[payback.bid_id] += payback.paid_interest
    charged = {bid.id: bid.lender_fees for bid in loan.bids if bid.id in now}
    return {
        bid_id: min(max(percent_of(received[bid_id] + interest, percent) - charged[bid_id], 0), interest)
        for bid_id, interest in now.items()
    }


def charge_lender_fees(loan: Loan, fees: dict[int, int]) -> None:
    """Add ``fees`` to the bids' running totals (after the ledger post succeeded)."""
    for bid in loan.bids:
        bid.lender_fees += fees.get(bid.id, 0)


class Payment:
    """The legs of one ledger post paying out of ``source`` (the borrower's, or an advancer's, account).

    Lenders' parts are summed per lender (principal, then interest with the
    penalty less the fee), what goes back to the advancer in one leg, and
    every fee to the platform's fee income in one leg.
    """

    def __init__(self, ledger: Ledger, loan: Loan, source: int, ref: str, *, reason: str = ""):
        self.ledger, self.loan, self.source, self.ref, self.reason = ledger, loan, source, ref, reason
        self.lenders: dict[int, list[int]] = {}  # member → [principal, interest + penalty − fee]
        self.advancer: tuple[int, int] | None = None  # (account, amount)
        self.fee = 0

    def to_lenders(self, parts: list[LenderPart], fees: dict[int, int]) -> None:
        for part in parts:
            totals = self.lenders.setdefault(part.payback.member_id, [0, 0])
            totals[0] += part.principal
            totals[1] += part.interest + part.penalty
        for bid in self.loan.bids:
            if fees.get(bid.id):
                self.lenders[bid.member_id][1] -= fees[bid.id]
                self.fee += fees[bid.id]

    def to_advancer(self, account: int, amount: int) -> None:
        self.advancer = (account, (self.advancer[1] if self.advancer else 0) + amount)

    def legs(self) -> list[Transfer]:
        currency = self.loan.currency
        legs = []
        for member_id, (principal, interest) in self.lenders.items():
            lender = Wallet(self.ledger, member_id, currency).available
            if self.reason:  # an advance: one leg per lender
                if principal + interest:
                    legs.append(
                        Transfer(self.source, lender, Money(principal + interest, currency), self.reason, self.ref)
                    )
                continue
            if principal:
                legs.append(Transfer(self.source, lender, Money(principal, currency), "repayment_principal", self.ref))
            if interest:
                legs.append(Transfer(self.source, lender, Money(interest, currency), "repayment_interest", self.ref))
        if self.advancer and self.advancer[1]:
            legs.append(
                Transfer(self.source, self.advancer[0], Money(self.advancer[1], currency), "advance_recovery", self.ref)
            )
        if self.fee:
            legs.append(
                Transfer(
                    self.source,
                    self.ledger.platform("fee_income", currency),
                    Money(self.fee, currency),
                    "fee",
                    self.ref,
                )
            )
        return legs


def paybacks_of(session, loan: Loan, period: int) -> list[Payback]:
    """The lenders' shares of one period, in bid order (from the loan's loaded paybacks when they are)."""
    if "paybacks" not in sa.inspect(loan).unloaded:  # loaded with the loan (close of day loads them per chunk)
        return [p for p in loan.paybacks if p.period == period]
    return session.scalars(
        sa.select(Payback).where(Payback.loan_id == loan.id, Payback.period == period).order_by(Payback.id)
    ).all()
