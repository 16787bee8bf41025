"""Credit customers (客戶): the credit system's view of a party, an individual or a company."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ...db import Base, TenantOwned, utcnow


class CustomerKind(StrEnum):
    INDIVIDUAL = "individual"  # 個人客戶
    CORPORATE = "corporate"  # 對公客戶


class Customer(TenantOwned, Base):
    """A customer: a member (``member_id``) or a walk-in party entered by staff.

    ``identifier`` is the resident ID number of an individual or the unified social credit code of a company,
    unique per tenant among customers not merged away; ``grade`` is the approved grade of the latest rating (the
    one P2P shows when the customer is a member).
    """

    __tablename__ = "credit_customers"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "number"),
        sa.UniqueConstraint("tenant_id", "id"),
        sa.Index("ix_credit_customers_identifier", "tenant_id", "kind", "identifier"),
        sa.Index("ix_credit_customers_member", "tenant_id", "member_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(20))  # C2612000001
    kind: Mapped[str] = mapped_column(sa.String(12))  # CustomerKind
    name: Mapped[str] = mapped_column(sa.String(120))
    identifier: Mapped[str] = mapped_column(sa.String(40))
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id"))
    relationship_manager_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    grade: Mapped[str | None] = mapped_column(sa.String(4))
    rated_at: Mapped[dt.datetime | None]
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("credit_customers.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
