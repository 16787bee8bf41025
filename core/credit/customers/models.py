"""Credit customers (客戶): the credit system's view of a party, an individual or a company."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

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
    # contact, common to both kinds (searched by phone)
    phone: Mapped[str] = mapped_column(sa.String(20), default="", server_default="")
    email: Mapped[str] = mapped_column(sa.String(254), default="", server_default="")
    address: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")

    individual: Mapped["IndividualProfile | None"] = relationship(uselist=False, back_populates="customer")
    corporate: Mapped["CorporateProfile | None"] = relationship(uselist=False, back_populates="customer")

    @property
    def is_individual(self) -> bool:
        return self.kind == CustomerKind.INDIVIDUAL.value

    @property
    def profile(self):
        """The kind's own details: an :class:`IndividualProfile` or a :class:`CorporateProfile`."""
        return self.individual if self.is_individual else self.corporate


class MaritalStatus(StrEnum):
    SINGLE = "single"
    MARRIED = "married"
    DIVORCED = "divorced"
    WIDOWED = "widowed"


class IndividualProfile(TenantOwned, Base):
    """An individual customer's identity, work, family, assets and liabilities (amounts in minor units)."""

    __tablename__ = "credit_individual_profiles"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "customer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("credit_customers.id"))
    id_type: Mapped[str] = mapped_column(sa.String(20), default="cn_resident")  # as members: cn_resident | passport
    birth_date: Mapped[dt.date | None] = mapped_column(sa.Date)
    employer: Mapped[str] = mapped_column(sa.String(120), default="")
    position: Mapped[str] = mapped_column(sa.String(80), default="")
    employment_years: Mapped[int] = mapped_column(default=0)
    monthly_income: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    marital_status: Mapped[str] = mapped_column(sa.String(12), default="")  # MaritalStatus or ""
    dependants: Mapped[int] = mapped_column(default=0)
    property_count: Mapped[int] = mapped_column(default=0)
    property_value: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    vehicle_value: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    deposits: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    other_assets: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    total_liabilities: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    monthly_debt_payments: Mapped[int] = mapped_column(sa.BigInteger, default=0)

    customer: Mapped[Customer] = relationship(back_populates="individual")

    @property
    def total_assets(self) -> int:
        return self.property_value + self.vehicle_value + self.deposits + self.other_assets


class CorporateProfile(TenantOwned, Base):
    """A company's registration: legal representative, registered capital, GB/T 4754 industry section."""

    __tablename__ = "credit_corporate_profiles"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "customer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("credit_customers.id"))
    legal_representative: Mapped[str] = mapped_column(sa.String(80), default="")
    registered_capital: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    industry: Mapped[str] = mapped_column(sa.String(1), default="")  # GB/T 4754 section A–T
    established_on: Mapped[dt.date | None] = mapped_column(sa.Date)

    customer: Mapped[Customer] = relationship(back_populates="corporate")


class RelationKind(StrEnum):
    SPOUSE = "spouse"  # 配偶 (both ways)
    GUARANTOR_OF = "guarantor_of"  # 擔保: the customer guarantees the related one
    RELATED_PARTY = "related_party"  # 關聯方 (both ways)


class CustomerRelation(TenantOwned, Base):
    """A relationship from one customer to another; read in both directions."""

    __tablename__ = "credit_customer_relations"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "customer_id", "related_id", "kind"),
        sa.Index("ix_credit_customer_relations_related", "tenant_id", "related_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("credit_customers.id"))
    related_id: Mapped[int] = mapped_column(sa.ForeignKey("credit_customers.id"))
    kind: Mapped[str] = mapped_column(sa.String(20))  # RelationKind
    note: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Shareholder(TenantOwned, Base):
    """A company's shareholder with its share (percent); ``holder_id`` when the shareholder is a customer."""

    __tablename__ = "credit_shareholders"
    __table_args__ = (sa.Index("ix_credit_shareholders_customer", "tenant_id", "customer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("credit_customers.id"))
    name: Mapped[str] = mapped_column(sa.String(120))
    share_percent: Mapped[Decimal]
    holder_id: Mapped[int | None] = mapped_column(sa.ForeignKey("credit_customers.id"))


class BankAccount(TenantOwned, Base):
    """A company's bank account (開戶行, 賬號)."""

    __tablename__ = "credit_bank_accounts"
    __table_args__ = (sa.Index("ix_credit_bank_accounts_customer", "tenant_id", "customer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("credit_customers.id"))
    bank_name: Mapped[str] = mapped_column(sa.String(120))
    account_name: Mapped[str] = mapped_column(sa.String(120))
    account_number: Mapped[str] = mapped_column(sa.String(40))


class CustomerDocument(TenantOwned, Base):
    """A customer's document: checked by its bytes, kept outside the web root under ``storage_key``."""

    __tablename__ = "credit_customer_documents"
    __table_args__ = (sa.Index("ix_credit_customer_documents_customer", "tenant_id", "customer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("credit_customers.id"))
    kind: Mapped[str] = mapped_column(sa.String(30))
    filename: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(40))
    size: Mapped[int]
    storage_key: Mapped[str] = mapped_column(sa.String(40))
    uploaded_by: Mapped[str] = mapped_column(sa.String(120), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PeriodKind(StrEnum):
    ANNUAL = "annual"
    QUARTERLY = "quarterly"


class FinancialStatement(TenantOwned, Base):
    """A company's balance sheet, income statement and cash flow for the period ending ``period_end``.

    Every line is in minor units of ``currency``; ratios are derived (:mod:`.statements`), never stored.
    """

    __tablename__ = "credit_statements"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "customer_id", "period_kind", "period_end"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("credit_customers.id"))
    period_kind: Mapped[str] = mapped_column(sa.String(12))  # PeriodKind
    period_end: Mapped[dt.date] = mapped_column(sa.Date)
    currency: Mapped[str] = mapped_column(sa.String(3))
    current_assets: Mapped[int] = mapped_column(sa.BigInteger)
    inventory: Mapped[int] = mapped_column(sa.BigInteger)
    total_assets: Mapped[int] = mapped_column(sa.BigInteger)
    current_liabilities: Mapped[int] = mapped_column(sa.BigInteger)
    total_liabilities: Mapped[int] = mapped_column(sa.BigInteger)
    equity: Mapped[int] = mapped_column(sa.BigInteger)
    revenue: Mapped[int] = mapped_column(sa.BigInteger)
    operating_profit: Mapped[int] = mapped_column(sa.BigInteger)
    interest_expense: Mapped[int] = mapped_column(sa.BigInteger)
    net_profit: Mapped[int] = mapped_column(sa.BigInteger)
    operating_cash_flow: Mapped[int] = mapped_column(sa.BigInteger)
    investing_cash_flow: Mapped[int] = mapped_column(sa.BigInteger)
    financing_cash_flow: Mapped[int] = mapped_column(sa.BigInteger)
    entered_by: Mapped[str] = mapped_column(sa.String(120), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
