"""Offline repayments (線下還款), as stored: money a borrower paid the tenant's bank account, recorded by one staff
member and applied to the loan by another (amounts in minor units)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ...db import Base, TenantOwned, utcnow
from ...i18n import _
from ...states import StateMachine


class OfflineStatus(StrEnum):
    """pending → applied (a second person approved: the money reached the loan) or rejected (nothing moved)."""

    PENDING = "pending"
    APPLIED = "applied"
    REJECTED = "rejected"


OFFLINE_REPAYMENTS = StateMachine(
    "offline repayment",
    OfflineStatus,
    {OfflineStatus.PENDING: {OfflineStatus.APPLIED, OfflineStatus.REJECTED}},
    initial=OfflineStatus.PENDING,
)
OFFLINE_STATUS_LABELS = {
    OfflineStatus.PENDING.value: _("Waiting for approval"),
    OfflineStatus.APPLIED.value: _("Applied"),
    OfflineStatus.REJECTED.value: _("Rejected"),
}


class OfflineRepayment(TenantOwned, Base):
    """A repayment the borrower made by bank transfer: recorded by a maker, applied to the loan by a checker."""

    __tablename__ = "credit_offline_repayments"
    __table_args__ = (
        # one bank transfer is applied once, whichever loan it is recorded against
        sa.UniqueConstraint("tenant_id", "bank_reference"),
        sa.Index("ix_credit_offline_repayments_loan", "loan_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(sa.ForeignKey("loans.id", ondelete="CASCADE"))
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    bank_reference: Mapped[str] = mapped_column(sa.String(120))
    received_on: Mapped[dt.date] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(12), default=OFFLINE_REPAYMENTS.initial.value)  # OfflineStatus
    requested_by: Mapped[str] = mapped_column(sa.String(120))
    decided_by: Mapped[str] = mapped_column(sa.String(120), default="")
    note: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[dt.datetime | None]
