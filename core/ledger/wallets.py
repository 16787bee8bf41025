"""Member funds (資金): the wallet operations every module uses, and the member's view.

A member holds two accounts per currency: ``available`` (可用) and ``frozen``
(凍結), both credit-normal and never overdrawn. Money enters from the
platform's ``gateway_clearing`` account (a recharge) and leaves back to it (a
withdrawal); bids and withdrawals freeze it first. Every operation is one
:meth:`Ledger.post` with a caller-chosen idempotency key derived from the
business object (``recharge:<payment id>``), so a retried request or job never
moves money twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ..i18n import _
from ..money import Money, split_largest_remainder
from .posting import ACCOUNTS, MEMBER, TRANSFERS, Entry, InvalidTransfer, Ledger, Posted, Transfer, entry_for

_FUNDS = sa.select(ACCOUNTS.c.code, ACCOUNTS.c.credits_posted - ACCOUNTS.c.debits_posted).where(
    ACCOUNTS.c.tenant_id == sa.bindparam("tenant_id"),
    ACCOUNTS.c.owner_kind == MEMBER,
    ACCOUNTS.c.owner_id == sa.bindparam("owner_id"),
    ACCOUNTS.c.currency == sa.bindparam("currency"),
    ACCOUNTS.c.code.in_(("available", "frozen")),
)

# Reason codes of transfers touching members, with the label a statement shows.
REASONS = {
    "recharge": _("Recharge"),
    "withdrawal": _("Withdrawal"),
    "withdraw_freeze": _("Withdrawal requested (frozen)"),
    "withdraw_unfreeze": _("Withdrawal cancelled (released)"),
    "bid_freeze": _("Bid placed (frozen)"),
    "bid_unfreeze": _("Bid released"),
    "capital_injection": _("Capital injection"),
    "disbursement": _("Loan disbursed"),
    "repayment_principal": _("Repayment: principal"),
    "repayment_interest": _("Repayment: interest"),
    "fee": _("Fee"),
    "reversal": _("Correction"),
    "adjustment": _("Balance adjustment"),
    "advance": _("Advance from the risk reserve"),
    "advance_recovery": _("Repayment of an advance"),
    "guarantee_deposit": _("Guarantor deposit"),
}


@dataclass(frozen=True)
class Share:
    """One lender's part of an installment."""

    member_id: int
    principal: Money
    interest: Money


@dataclass(frozen=True)
class Movement:
    """One line of a member's fund-movement record (資金變動記錄), newest first."""

    transfer_id: int
    posted_at: object
    reason: str
    ref: str
    available_change: int
    frozen_change: int
    available_after: int
    frozen_after: int

    @property
    def label(self):
        return REASONS.get(self.reason, self.reason)


@dataclass(frozen=True)
class Funds:
    """What a member has in one currency, in minor units."""

    currency: str
    available: int
    frozen: int

    @property
    def total(self) -> int:
        """Total assets held on the platform: available plus frozen."""
        return self.available + self.frozen


class Wallet:
    """A member's available and frozen cash in one currency."""

    def __init__(self, ledger: Ledger, member_id: int, currency: str):
        self.ledger, self.member_id, self.currency = ledger, member_id, currency

    @property
    def available(self) -> int:
        return self.ledger.account(MEMBER, self.member_id, "available", self.currency)

    @property
    def frozen(self) -> int:
        return self.ledger.account(MEMBER, self.member_id, "frozen", self.currency)

    def _money(self, amount: Money) -> Money:
        if not isinstance(amount, Money) or amount.currency != self.currency:
            raise InvalidTransfer(f"the amount must be Money in {self.currency}", "amount")
        return amount

    def _post(self, debit: int, credit: int, amount: Money, reason: str, ref: str, key: str, initiator: str) -> Posted:
        return self.ledger.post(
            [Transfer(debit, credit, self._money(amount), reason, ref)], key=key, initiator=initiator
        )

    # -- operations -------------------------------------------------------

    def recharge(self, amount: Money, *, key: str, ref: str, initiator: str, fee: Money | None = None) -> Posted:
        """Credit a confirmed recharge from the gateway; an optional fee goes to fee income."""
        clearing = self.ledger.platform("gateway_clearing", self.currency)
        legs = [Transfer(clearing, self.available, self._money(amount), "recharge", ref)]
        if fee is not None and fee.minor:
            legs.append(
                Transfer(
                    self.available, self.ledger.platform("fee_income", self.currency), self._money(fee), "fee", ref
                )
            )
        return self.ledger.post(legs, key=key, initiator=initiator)

    def freeze(self, amount: Money, *, reason: str, key: str, ref: str, initiator: str) -> Posted:
        """Hold cash for a bid (``bid_freeze``) or a withdrawal (``withdraw_freeze``)."""
        return self._post(self.available, self.frozen, amount, reason, ref, key, initiator)

    def unfreeze(self, amount: Money, *, reason: str, key: str, ref: str, initiator: str) -> Posted:
        """Release held cash (a failed bid, a cancelled withdrawal)."""
        return self._post(self.frozen, self.available, amount, reason, ref, key, initiator)

    def withdraw(self, amount: Money, *, key: str, ref: str, initiator: str, fee: Money | None = None) -> Posted:
        """Pay out frozen cash through the gateway (after it confirmed), less an optional fee."""
        clearing = self.ledger.platform("gateway_clearing", self.currency)
        amount = self._money(amount)
        legs = []
        if fee is not None and fee.minor:
            if self._money(fee).minor > amount.minor:
                raise InvalidTransfer("the fee is more than the withdrawal", "fee")
            legs.append(Transfer(self.frozen, self.ledger.platform("fee_income", self.currency), fee, "fee", ref))
            amount = amount - fee
        if amount.minor:
            legs.append(Transfer(self.frozen, clearing, amount, "withdrawal", ref))
        return self.ledger.post(legs, key=key, initiator=initiator)

    def charge_fee(self, amount: Money, *, key: str, ref: str, initiator: str) -> Posted:
        return self._post(
            self.available, self.ledger.platform("fee_income", self.currency), amount, "fee", ref, key, initiator
        )

    # -- the member's view ------------------------------------------------

    def funds(self) -> Funds:
        """Both balances in one read (accounts not opened yet hold nothing)."""
        rows = dict(
            self.ledger.session.connection()
            .execute(
                _FUNDS, {"tenant_id": self.ledger.tenant_id, "owner_id": self.member_id, "currency": self.currency}
            )
            .all()
        )
        return Funds(self.currency, rows.get("available", 0), rows.get("frozen", 0))

    def movements(self, *, page: int = 1, per_page: int = 20) -> tuple[list[Movement], int]:
        """One page of the fund-movement record and the number of movements in all."""
        available, frozen = self.available, self.frozen
        session, tenant_id = self.ledger.session, self.ledger.tenant_id
        touches = sa.and_(
            TRANSFERS.c.tenant_id == tenant_id,
            sa.or_(
                TRANSFERS.c.debit_account_id.in_((available, frozen)),
                TRANSFERS.c.credit_account_id.in_((available, frozen)),
            ),
        )
        total = session.execute(sa.select(sa.func.count()).select_from(TRANSFERS).where(touches)).scalar_one()
        rows = session.execute(
            sa.select(TRANSFERS)
            .where(touches)
            .order_by(TRANSFERS.c.id.desc())
            .limit(per_page)
            .offset((max(page, 1) - 1) * per_page)
        ).all()
        if not rows:
            return [], total
        after = {account: self._balance_at(account, rows[0].id) for account in (available, frozen)}
        movements = []
        for row in rows:
            change = {account: 0 for account in (available, frozen)}
            for account in change:
                if account in (row.debit_account_id, row.credit_account_id):
                    change[account] = entry_for(row, account).change
            movements.append(
                Movement(
                    row.id,
                    row.posted_at,
                    row.reason,
                    row.ref,
                    change[available],
                    change[frozen],
                    after[available],
                    after[frozen],
                )
            )
            after = {account: after[account] - change[account] for account in after}
        return movements, total

    def _balance_at(self, account_id: int, transfer_id: int) -> int:
        """The account's balance just after transfer ``transfer_id`` (or before, if it did not touch it)."""
        entries: list[Entry] = self.ledger.history(account_id, limit=1, before=transfer_id + 1)
        return entries[0].balance_after if entries else 0


def disburse(
    ledger: Ledger,
    *,
    lenders: list[tuple[int, Money]],
    borrower_id: int,
    key: str,
    ref: str,
    initiator: str,
    fee: Money | None = None,
) -> Posted:
    """Move each lender's frozen bid to the borrower's available cash, less an optional fee."""
    if not lenders:
        raise InvalidTransfer("a disbursement needs at least one lender", "lenders")
    currency = lenders[0][1].currency
    borrower = Wallet(ledger, borrower_id, currency)
    legs = [
        Transfer(Wallet(ledger, member_id, currency).frozen, borrower.available, amount, "disbursement", ref)
        for member_id, amount in lenders
    ]
    if fee is not None and fee.minor:
        legs.append(Transfer(borrower.available, ledger.platform("fee_income", currency), fee, "fee", ref))
    return ledger.post(legs, key=key, initiator=initiator)


def pay_installment(
    ledger: Ledger,
    *,
    borrower_id: int,
    shares: list[Share],
    key: str,
    ref: str,
    initiator: str,
    fee: Money | None = None,
) -> Posted:
    """The borrower pays one installment to many lenders (principal and interest legs) and a fee."""
    if not shares:
        raise InvalidTransfer("an installment needs at least one lender share", "shares")
    currency = shares[0].principal.currency
    borrower = Wallet(ledger, borrower_id, currency).available
    legs = []
    for share in shares:
        lender = Wallet(ledger, share.member_id, currency).available
        if share.principal.minor:
            legs.append(Transfer(borrower, lender, share.principal, "repayment_principal", ref))
        if share.interest.minor:
            legs.append(Transfer(borrower, lender, share.interest, "repayment_interest", ref))
    if fee is not None and fee.minor:
        legs.append(Transfer(borrower, ledger.platform("fee_income", currency), fee, "fee", ref))
    return ledger.post(legs, key=key, initiator=initiator)


def shares_of(amount: Money, weights: list[tuple[int, int]]) -> list[tuple[int, Money]]:
    """Split ``amount`` among members by weight (e.g. their bids), summing exactly."""
    parts = split_largest_remainder(amount.minor, [w for _, w in weights])
    return [(member_id, Money(part, amount.currency)) for (member_id, _), part in zip(weights, parts)]
