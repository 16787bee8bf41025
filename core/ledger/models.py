"""Ledger tables: accounts with posted totals, and immutable transfers between them.

The model is TigerBeetle's: an account keeps two running totals
(``debits_posted``, ``credits_posted``) in integer minor units of its
currency; a transfer moves a positive amount from a debit account to a credit
account of the same tenant and currency. Both totals only grow. An account
flagged :data:`DEBITS_MUST_NOT_EXCEED_CREDITS` (a member's cash) can never be
overdrawn. Each transfer also stores both accounts' balances after it, so a
statement with running balances is read straight from the rows.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, TenantOwned, utcnow

DEBITS_MUST_NOT_EXCEED_CREDITS = 1
CREDITS_MUST_NOT_EXCEED_DEBITS = 2

# A primary key that autoincrements on SQLite (INTEGER) and holds 64 bits elsewhere.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class LedgerAccount(TenantOwned, Base):
    """One account: a member's available or frozen cash, a platform account, a loan's account.

    ``owner_kind`` is ``member``, ``platform`` or ``loan``; ``owner_id`` is the
    member's or loan's id and 0 for platform accounts (so the unique key also
    holds for them: NULLs would never collide).
    """

    __tablename__ = "ledger_accounts"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "owner_kind", "owner_id", "code", "currency"),
        sa.UniqueConstraint("tenant_id", "id"),
        sa.CheckConstraint("debits_posted >= 0 AND credits_posted >= 0", name="totals_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    owner_kind: Mapped[str] = mapped_column(sa.String(16))
    owner_id: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    code: Mapped[str] = mapped_column(sa.String(40))
    currency: Mapped[str] = mapped_column(sa.String(3))
    flags: Mapped[int] = mapped_column(default=0)
    debits_posted: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    credits_posted: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def balance(self) -> int:
        """Credits less debits: what a credit-normal account (a member's cash) holds."""
        return self.credits_posted - self.debits_posted

    def __repr__(self) -> str:
        return f"<LedgerAccount {self.id} {self.owner_kind}:{self.owner_id}:{self.code} {self.currency}>"


class LedgerTransfer(TenantOwned, Base):
    """A posted transfer; never updated or deleted. A correction is a reversing transfer.

    ``key`` is the idempotency key of the batch the transfer was posted in and
    ``leg`` its position there: ``(tenant_id, key, leg)`` is unique, so a batch
    is applied at most once.
    """

    __tablename__ = "ledger_transfers"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "key", "leg"),
        sa.UniqueConstraint("reverses_id"),
        sa.ForeignKeyConstraint(["tenant_id", "debit_account_id"], ["ledger_accounts.tenant_id", "ledger_accounts.id"]),
        sa.ForeignKeyConstraint(
            ["tenant_id", "credit_account_id"], ["ledger_accounts.tenant_id", "ledger_accounts.id"]
        ),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
        sa.CheckConstraint("debit_account_id <> credit_account_id", name="distinct_accounts"),
        sa.Index("ix_ledger_transfers_debit", "debit_account_id", "id"),
        sa.Index("ix_ledger_transfers_credit", "credit_account_id", "id"),
        sa.Index("ix_ledger_transfers_ref", "tenant_id", "ref"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(120))
    leg: Mapped[int] = mapped_column(sa.SmallInteger)
    debit_account_id: Mapped[int] = mapped_column(sa.BigInteger)
    credit_account_id: Mapped[int] = mapped_column(sa.BigInteger)
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    reason: Mapped[str] = mapped_column(sa.String(40))
    ref: Mapped[str] = mapped_column(sa.String(80), default="")
    initiator: Mapped[str] = mapped_column(sa.String(80))
    reverses_id: Mapped[int | None] = mapped_column(sa.BigInteger, sa.ForeignKey("ledger_transfers.id"))
    debit_balance_after: Mapped[int] = mapped_column(sa.BigInteger)
    credit_balance_after: Mapped[int] = mapped_column(sa.BigInteger)
    posted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return (
            f"<LedgerTransfer {self.id} {self.key}#{self.leg} {self.debit_account_id}->"
            f"{self.credit_account_id} {self.amount} {self.currency}>"
        )
