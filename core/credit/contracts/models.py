"""Contracts (貸款主合同), disbursements (出賬) and the tenant's lending fund, as stored (amounts in minor units)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ...db import Base, TenantOwned, utcnow
from ...i18n import _
from ...states import StateMachine


class LendingFund(TenantOwned, Base):
    """The tenant's lending fund: the wallet of its house lender, a member that cannot sign in (one per tenant)."""

    __tablename__ = "credit_lending_funds"
    __table_args__ = (sa.UniqueConstraint("tenant_id"), sa.UniqueConstraint("tenant_id", "member_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class InjectionStatus(StrEnum):
    """pending → applied (a second person approved: the ledger moved it) or rejected (nothing moved)."""

    PENDING = "pending"
    APPLIED = "applied"
    REJECTED = "rejected"


INJECTIONS = StateMachine(
    "lending fund injection",
    InjectionStatus,
    {InjectionStatus.PENDING: {InjectionStatus.APPLIED, InjectionStatus.REJECTED}},
    initial=InjectionStatus.PENDING,
)


class FundInjection(TenantOwned, Base):
    """A capital injection into the lending fund from the platform's bank account, asked by one, approved by another."""

    __tablename__ = "credit_fund_injections"
    __table_args__ = (sa.Index("ix_credit_fund_injections_tenant", "tenant_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    reason: Mapped[str] = mapped_column(sa.String(300))
    status: Mapped[str] = mapped_column(sa.String(12), default=INJECTIONS.initial.value)  # InjectionStatus
    requested_by: Mapped[str] = mapped_column(sa.String(120))
    decided_by: Mapped[str] = mapped_column(sa.String(120), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[dt.datetime | None]

    @property
    def key(self) -> str:
        """The idempotency key of the injection's one ledger post."""
        return f"lending_fund:{self.id}"


class ContractStatus(StrEnum):
    """A contract version: drawn up, then signed (immutable) or replaced by a newer version before signing."""

    DRAFT = "draft"
    SIGNED = "signed"
    SUPERSEDED = "superseded"


CONTRACTS = StateMachine(
    "credit contract",
    ContractStatus,
    {ContractStatus.DRAFT: {ContractStatus.SIGNED, ContractStatus.SUPERSEDED}},
    initial=ContractStatus.DRAFT,
)


class Contract(TenantOwned, Base):
    """One version of an application's master contract: its filled text, its PDF (by SHA-256) and its signing."""

    __tablename__ = "credit_contracts"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "application_id", "version"),
        sa.UniqueConstraint("tenant_id", "number", "version"),
        sa.Index("ix_credit_contracts_status", "tenant_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("credit_applications.id"))
    number: Mapped[str] = mapped_column(sa.String(20))  # HT2612000001, the same for every version
    version: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(12), default=CONTRACTS.initial.value)  # ContractStatus
    locale: Mapped[str] = mapped_column(sa.String(16), default="")
    template_version: Mapped[int | None]  # the content page's version it was filled from (None: the built-in text)
    title: Mapped[str] = mapped_column(sa.String(120))
    body: Mapped[str] = mapped_column(sa.Text)  # the filled Markdown, as rendered into the PDF
    pdf_key: Mapped[str] = mapped_column(sa.String(60))
    pdf_sha256: Mapped[str] = mapped_column(sa.String(64))
    pdf_size: Mapped[int]
    drawn_by: Mapped[str] = mapped_column(sa.String(120))
    drawn_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    signed_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    signed_by: Mapped[str] = mapped_column(sa.String(120), default="")
    signed_at: Mapped[dt.datetime | None]
    scan_key: Mapped[str | None] = mapped_column(sa.String(60))
    scan_type: Mapped[str] = mapped_column(sa.String(40), default="")
    scan_name: Mapped[str] = mapped_column(sa.String(200), default="")
    scan_size: Mapped[int] = mapped_column(default=0)
    scan_sha256: Mapped[str] = mapped_column(sa.String(64), default="")


class DisbursementStatus(StrEnum):
    """A disbursement: prepared by a maker, then approved by a checker (the money moves) or cancelled."""

    PREPARED = "prepared"
    PUBLISHED = "published"  # a marketplace loan: listed for bids; the final review disburses it
    DISBURSED = "disbursed"
    CANCELLED = "cancelled"


DISBURSEMENTS = StateMachine(
    "credit disbursement",
    DisbursementStatus,
    {
        DisbursementStatus.PREPARED: {
            DisbursementStatus.PUBLISHED,
            DisbursementStatus.DISBURSED,
            DisbursementStatus.CANCELLED,
        },
        DisbursementStatus.PUBLISHED: {DisbursementStatus.DISBURSED},
    },
    initial=DisbursementStatus.PREPARED,
)


class Disbursement(TenantOwned, Base):
    """The payout of a signed contract (出賬): its maker, its checker and the loan it made."""

    __tablename__ = "credit_disbursements"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "application_id"),
        sa.Index("ix_credit_disbursements_status", "tenant_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("credit_applications.id"))
    contract_id: Mapped[int] = mapped_column(sa.ForeignKey("credit_contracts.id"))
    value_date: Mapped[dt.date] = mapped_column(sa.Date)  # the business date it is to be paid out on
    status: Mapped[str] = mapped_column(sa.String(12), default=DISBURSEMENTS.initial.value)  # DisbursementStatus
    prepared_by: Mapped[str] = mapped_column(sa.String(120))
    prepared_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    approved_by: Mapped[str] = mapped_column(sa.String(120), default="")
    approved_at: Mapped[dt.datetime | None]
    loan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("loans.id"))


def _labels():
    return {
        "pending": _("Waiting for approval"),
        "applied": _("Applied"),
        "rejected": _("Rejected"),
        "draft": _("Drawn up, not signed"),
        "signed": _("Signed"),
        "superseded": _("Replaced by a newer version"),
        "prepared": _("Prepared, waiting for a checker"),
        "published": _("Listed for bids"),
        "disbursed": _("Disbursed"),
        "cancelled": _("Cancelled"),
    }


LABELS = _labels()
"""What the statuses of injections, contracts and disbursements are called on staff pages."""


def _application_labels():
    return {
        "draft": _("Being prepared"),
        "in_review": _("In review"),
        "rejected": _("Rejected"),
        "withdrawn": _("Withdrawn"),
        "approved": _("Approved, waiting for its contract"),
        "contracted": _("Contract signed, waiting for disbursement"),
        "disbursed": _("Disbursed"),
        "cancelled": _("Cancelled"),
    }


APPLICATION_LABELS = _application_labels()
"""What an application's statuses are called on the contract pages."""
