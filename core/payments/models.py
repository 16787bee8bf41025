"""Payment records: recharges, withdrawals, balance adjustments, and every callback received."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, TenantOwned, utcnow
from ..states import StateMachine


class PaymentStatus(StrEnum):
    """A recharge: its gateway (or, offline, a cashier) settles it."""

    PENDING = "pending"
    DECLARED = "declared"  # offline: the member says they transferred; a cashier checks
    SUCCEEDED = "succeeded"  # credited
    FAILED = "failed"  # the gateway said so; a later success callback still credits it
    REJECTED = "rejected"  # offline: a cashier refused it


PAYMENTS = StateMachine(
    "recharge",
    PaymentStatus,
    {
        PaymentStatus.PENDING: {
            PaymentStatus.DECLARED,
            PaymentStatus.SUCCEEDED,
            PaymentStatus.FAILED,
            PaymentStatus.REJECTED,
        },
        PaymentStatus.DECLARED: {PaymentStatus.SUCCEEDED, PaymentStatus.REJECTED},
        PaymentStatus.FAILED: {PaymentStatus.SUCCEEDED},
    },
    initial=PaymentStatus.PENDING,
)


class WithdrawalStatus(StrEnum):
    """A withdrawal: the amount stays frozen until it is paid out or released."""

    REQUESTED = "requested"
    FIRST_APPROVED = "first_approved"  # above the two-person threshold: a second cashier must approve
    PROCESSING = "processing"  # sent to the payout gateway (or a cashier paying by hand)
    PAID = "paid"
    FAILED = "failed"  # the payout failed: the amount is released
    REJECTED = "rejected"  # by a cashier: released
    CANCELLED = "cancelled"  # by the member before any approval: released


WITHDRAWALS = StateMachine(
    "withdrawal",
    WithdrawalStatus,
    {
        WithdrawalStatus.REQUESTED: {
            WithdrawalStatus.FIRST_APPROVED,
            WithdrawalStatus.PROCESSING,
            WithdrawalStatus.REJECTED,
            WithdrawalStatus.CANCELLED,
        },
        WithdrawalStatus.FIRST_APPROVED: {WithdrawalStatus.PROCESSING, WithdrawalStatus.REJECTED},
        WithdrawalStatus.PROCESSING: {WithdrawalStatus.PAID, WithdrawalStatus.FAILED},
    },
    initial=WithdrawalStatus.REQUESTED,
)


class AdjustmentStatus(StrEnum):
    """A manual balance adjustment: a second person applies or rejects it."""

    PENDING = "pending"
    APPLIED = "applied"
    REJECTED = "rejected"


ADJUSTMENTS = StateMachine(
    "adjustment",
    AdjustmentStatus,
    {
        AdjustmentStatus.PENDING: {AdjustmentStatus.APPLIED, AdjustmentStatus.REJECTED},
    },
    initial=AdjustmentStatus.PENDING,
)


class Payment(TenantOwned, Base):
    """A recharge (充值): pending until its gateway (or a cashier, offline) settles it."""

    __tablename__ = "payments"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "reference"),
        sa.Index("ix_payments_member", "tenant_id", "member_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(40))
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    gateway: Mapped[str] = mapped_column(sa.String(40))
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    fee: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    currency: Mapped[str] = mapped_column(sa.String(3))
    status: Mapped[str] = mapped_column(sa.String(12), default=PAYMENTS.initial.value)  # PaymentStatus
    gateway_ref: Mapped[str] = mapped_column(sa.String(120), default="")
    declared_ref: Mapped[str] = mapped_column(sa.String(120), default="")
    note: Mapped[str] = mapped_column(sa.String(300), default="")
    reviewed_by: Mapped[str] = mapped_column(sa.String(120), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    settled_at: Mapped[dt.datetime | None]


class Withdrawal(TenantOwned, Base):
    """A withdrawal (提現): the amount is frozen until it is paid out, refused or cancelled."""

    __tablename__ = "withdrawals"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "reference"),
        sa.Index("ix_withdrawals_member", "tenant_id", "member_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(40))
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    card_id: Mapped[int] = mapped_column(sa.ForeignKey("bank_cards.id"))
    gateway: Mapped[str] = mapped_column(sa.String(40))
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    fee: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    currency: Mapped[str] = mapped_column(sa.String(3))
    status: Mapped[str] = mapped_column(sa.String(16), default=WITHDRAWALS.initial.value)  # WithdrawalStatus
    first_approver: Mapped[str] = mapped_column(sa.String(120), default="")
    second_approver: Mapped[str] = mapped_column(sa.String(120), default="")
    gateway_ref: Mapped[str] = mapped_column(sa.String(120), default="")
    reason: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    settled_at: Mapped[dt.datetime | None]


class Adjustment(TenantOwned, Base):
    """A manual balance adjustment (調賬) against the suspense account; a second person approves."""

    __tablename__ = "adjustments"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    amount: Mapped[int] = mapped_column(sa.BigInteger)  # positive credits the member, negative debits
    currency: Mapped[str] = mapped_column(sa.String(3))
    reason: Mapped[str] = mapped_column(sa.String(300))
    status: Mapped[str] = mapped_column(sa.String(12), default=ADJUSTMENTS.initial.value)  # AdjustmentStatus
    requested_by: Mapped[str] = mapped_column(sa.String(120))
    approved_by: Mapped[str] = mapped_column(sa.String(120), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[dt.datetime | None]


class CallbackRecord(TenantOwned, Base):
    """Every callback a gateway sent, with what was done about it (for staff and reconciliation)."""

    __tablename__ = "payment_callbacks"
    __table_args__ = (sa.Index("ix_payment_callbacks_tenant", "tenant_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    gateway: Mapped[str] = mapped_column(sa.String(40))
    kind: Mapped[str] = mapped_column(sa.String(8))  # payment | payout
    reference: Mapped[str] = mapped_column(sa.String(40), default="")
    verdict: Mapped[str] = mapped_column(sa.String(12))  # applied | duplicate | ignored | rejected
    reason: Mapped[str] = mapped_column(sa.String(300), default="")
    body: Mapped[str] = mapped_column(sa.Text, default="")
    address: Mapped[str] = mapped_column(sa.String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


def _labels():
    from ..i18n import _

    return {
        "pending": _("Waiting for payment"),
        "declared": _("Waiting for a cashier"),
        "succeeded": _("Credited"),
        "failed": _("Failed"),
        "rejected": _("Rejected"),
        "requested": _("Waiting for approval"),
        "first_approved": _("Waiting for a second approval"),
        "processing": _("Being paid out"),
        "paid": _("Paid out"),
        "cancelled": _("Cancelled"),
        "applied": _("Applied"),
    }


STATUS_LABELS = _labels()
