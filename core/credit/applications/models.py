"""Credit applications (貸款申請) and their lifecycle; the products and workflows they follow."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ...db import Base, TenantOwned, utcnow
from ...states import StateMachine


class ApplicationStatus(StrEnum):
    """A credit application's lifecycle (docs/credit.md)."""

    DRAFT = "draft"  # being prepared by its relationship manager
    IN_REVIEW = "in_review"  # on a step of its workflow (a return moves it back a step, still in review)
    APPROVED = "approved"  # the workflow's last step approved it: a contract may be drawn up
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # by the applicant or the relationship manager before a decision
    CONTRACTED = "contracted"  # its contract is signed: waiting for disbursement
    DISBURSED = "disbursed"  # paid out: its loan repays through core.loans
    CANCELLED = "cancelled"  # approved or contracted, then not taken up (nothing was paid)


APPLICATIONS = StateMachine(
    "credit_application",
    ApplicationStatus,
    {
        ApplicationStatus.DRAFT: {ApplicationStatus.IN_REVIEW, ApplicationStatus.WITHDRAWN},
        ApplicationStatus.IN_REVIEW: {
            ApplicationStatus.APPROVED,
            ApplicationStatus.REJECTED,
            ApplicationStatus.WITHDRAWN,
            ApplicationStatus.DRAFT,  # returned to its relationship manager (the step before the first)
        },
        ApplicationStatus.APPROVED: {ApplicationStatus.CONTRACTED, ApplicationStatus.CANCELLED},
        ApplicationStatus.CONTRACTED: {ApplicationStatus.DISBURSED, ApplicationStatus.CANCELLED},
    },
    initial=ApplicationStatus.DRAFT,
)


class FundingSource(StrEnum):
    OWN_FUNDS = "own_funds"  # the tenant's lending fund pays the borrower
    MARKETPLACE = "marketplace"  # published as a P2P listing of the product's loan type


class CreditApplication(TenantOwned, Base):
    """One application of a customer for a product, with its proposed terms (amounts in minor units)."""

    __tablename__ = "credit_applications"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "number"),
        sa.UniqueConstraint("tenant_id", "id"),
        sa.Index("ix_credit_applications_status", "tenant_id", "status", "id"),
        sa.Index("ix_credit_applications_customer", "tenant_id", "customer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(20))  # A2612000001
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("credit_customers.id"))
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("credit_products.id"))
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    annual_rate_percent: Mapped[Decimal]
    term_months: Mapped[int]
    repayment_method: Mapped[str] = mapped_column(sa.String(40))
    purpose: Mapped[str] = mapped_column(sa.String(500), default="")
    status: Mapped[str] = mapped_column(sa.String(12), default=APPLICATIONS.initial.value)  # ApplicationStatus
    loan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("loans.id"))  # set at disbursement
    created_by: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))  # None: from the borrow page
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CreditProduct(TenantOwned, Base):
    """A loan business type (貸款業務種類): what may be applied for, on which terms, funded how."""

    __tablename__ = "credit_products"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "code"), sa.UniqueConstraint("tenant_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40))
    names: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # {locale: name}
    customer_kind: Mapped[str] = mapped_column(sa.String(12))  # core.credit.customers.models.CustomerKind
    funding_source: Mapped[str] = mapped_column(sa.String(12))  # FundingSource
    loan_type: Mapped[str] = mapped_column(sa.String(40))  # the P2P loan type the loan is of (its rules, its label)
    min_amount: Mapped[int] = mapped_column(sa.BigInteger)
    max_amount: Mapped[int] = mapped_column(sa.BigInteger)
    min_term_months: Mapped[int]
    max_term_months: Mapped[int]
    min_rate_percent: Mapped[Decimal]
    max_rate_percent: Mapped[Decimal]
    repayment_methods: Mapped[list] = mapped_column(sa.JSON, default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # DOCUMENT_TYPES codes an application needs before it is submitted
    required_documents: Mapped[list] = mapped_column(sa.JSON, default=list, server_default=sa.text("'[]'"))
    workflow_code: Mapped[str] = mapped_column(sa.String(40), default="", server_default="")  # its CreditWorkflow
    offered_to_members: Mapped[bool] = mapped_column(default=False, server_default=sa.false())  # on /account/credit


class CreditWorkflow(TenantOwned, Base):
    """One version of an approval workflow (貸款審批流程): its ordered ``steps`` (see ``workflows``).

    A version an application started with is never changed: editing it saves the next version.
    """

    __tablename__ = "credit_workflows"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "code", "version"), sa.UniqueConstraint("tenant_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40))
    version: Mapped[int] = mapped_column(default=1)
    name: Mapped[str] = mapped_column(sa.String(120))
    steps: Mapped[list] = mapped_column(sa.JSON, default=list)
    created_by: Mapped[str] = mapped_column(sa.String(120), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ApplicationProgress(TenantOwned, Base):
    """Where an application is in its workflow: the version it started with, its step and when that is due."""

    __tablename__ = "credit_application_progress"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "application_id"),
        sa.Index("ix_credit_application_progress_due", "tenant_id", "step_due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("credit_applications.id", ondelete="CASCADE"))
    workflow_id: Mapped[int | None] = mapped_column(sa.ForeignKey("credit_workflows.id"))
    step: Mapped[str] = mapped_column(sa.String(40), default="")  # "" while a draft or once decided
    step_started_at: Mapped[dt.datetime | None]
    step_due_at: Mapped[dt.datetime | None]
    documents_requested: Mapped[bool] = mapped_column(default=False)
    submitted_at: Mapped[dt.datetime | None]
    decided_at: Mapped[dt.datetime | None]


class CreditDecision(TenantOwned, Base):
    """One action on an application (submit, approve, reject, return, request documents, withdraw)."""

    __tablename__ = "credit_decisions"
    __table_args__ = (sa.Index("ix_credit_decisions_application", "tenant_id", "application_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("credit_applications.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(sa.String(40), default="")
    action: Mapped[str] = mapped_column(sa.String(20))
    to_step: Mapped[str] = mapped_column(sa.String(40), default="")
    comment: Mapped[str] = mapped_column(sa.String(1000), default="")
    staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    actor: Mapped[str] = mapped_column(sa.String(120), default="")
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ApplicationDocument(TenantOwned, Base):
    """A supporting document (申請輔助資料), kept outside the web root under ``storage_key``."""

    __tablename__ = "credit_application_documents"
    __table_args__ = (sa.Index("ix_credit_application_documents_application", "tenant_id", "application_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("credit_applications.id", ondelete="CASCADE"))
    doc_type: Mapped[str] = mapped_column(sa.String(40))
    filename: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(80))
    size: Mapped[int]
    storage_key: Mapped[str] = mapped_column(sa.String(64))
    uploaded_by: Mapped[str] = mapped_column(sa.String(120), default="")
    uploaded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Guarantee(TenantOwned, Base):
    """A guarantor customer standing behind an application, for ``amount`` minor units (0: the whole loan)."""

    __tablename__ = "credit_guarantees"
    __table_args__ = (sa.Index("ix_credit_guarantees_application", "tenant_id", "application_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("credit_applications.id", ondelete="CASCADE"))
    guarantor_id: Mapped[int] = mapped_column(sa.ForeignKey("credit_customers.id"))
    amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class Collateral(TenantOwned, Base):
    """Collateral pledged for an application, with its appraised value (minor units)."""

    __tablename__ = "credit_collateral"
    __table_args__ = (sa.Index("ix_credit_collateral_application", "tenant_id", "application_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("credit_applications.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(40))
    description: Mapped[str] = mapped_column(sa.String(500))
    appraised_value: Mapped[int] = mapped_column(sa.BigInteger)
