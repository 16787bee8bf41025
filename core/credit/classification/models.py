"""The five-level classification of loans (貸款五級分類), as stored: where each loan stands, every change of its
class, staff proposals for a different class, and month-end snapshots (amounts in minor units)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ...db import Base, TenantOwned, utcnow
from ...i18n import _
from ...states import StateMachine


class RiskClass(StrEnum):
    """The five classes in order of risk (the 2023 rules for financial-asset risk classification)."""

    NORMAL = "normal"  # 正常
    SPECIAL_MENTION = "special_mention"  # 關注
    SUBSTANDARD = "substandard"  # 次級
    DOUBTFUL = "doubtful"  # 可疑
    LOSS = "loss"  # 損失


CLASSES = tuple(RiskClass)
RANK = {c.value: i for i, c in enumerate(CLASSES)}
"""A class's place in the order of risk: a higher rank is stricter."""
CLASS_LABELS = {
    RiskClass.NORMAL.value: _("Normal"),
    RiskClass.SPECIAL_MENTION.value: _("Special mention"),
    RiskClass.SUBSTANDARD.value: _("Substandard"),
    RiskClass.DOUBTFUL.value: _("Doubtful"),
    RiskClass.LOSS.value: _("Loss"),
}
NON_PERFORMING = frozenset({RiskClass.SUBSTANDARD.value, RiskClass.DOUBTFUL.value, RiskClass.LOSS.value})
"""不良貸款: substandard, doubtful and loss."""


def stricter(a: str, b: str) -> str:
    """The stricter of two classes."""
    return a if RANK[a] >= RANK[b] else b


class LoanRisk(TenantOwned, Base):
    """Where one loan stands: its class (the stricter of the rules' and an approved manual one), the figures it was
    classified on and the provision it needs. Written by close of day for every outstanding loan."""

    __tablename__ = "credit_loan_risk"
    __table_args__ = (sa.Index("ix_credit_loan_risk_tenant_class", "tenant_id", "risk_class"),)

    loan_id: Mapped[int] = mapped_column(sa.ForeignKey("loans.id", ondelete="CASCADE"), primary_key=True)
    risk_class: Mapped[str] = mapped_column(sa.String(16))  # RiskClass: what applies
    rule_class: Mapped[str] = mapped_column(sa.String(16))  # what the tenant's rules give on their own
    manual_class: Mapped[str | None] = mapped_column(sa.String(16))  # an approved proposal's class, while it holds
    days_past_due: Mapped[int] = mapped_column(default=0)
    outstanding_principal: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    provision_rate: Mapped[str] = mapped_column(sa.String(12), default="0")  # percent, as the tenant set it
    provision: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    classified_on: Mapped[dt.date] = mapped_column(sa.Date)
    watch_until: Mapped[dt.date | None] = mapped_column(sa.Date)  # extended or restructured: at least 關注 until
    restructured: Mapped[bool] = mapped_column(default=False)


class ClassChange(TenantOwned, Base):
    """One change of a loan's class: by the rules at a close of day, or by an approved proposal."""

    __tablename__ = "credit_class_changes"
    __table_args__ = (
        # a close of day run again after a crash records no second change for the loan and date
        sa.Index(
            "uq_credit_class_changes_rule_day",
            "loan_id",
            "business_date",
            unique=True,
            sqlite_where=sa.text("source = 'rule'"),
            postgresql_where=sa.text("source = 'rule'"),
        ),
        sa.Index("ix_credit_class_changes_loan", "loan_id", "id"),
        sa.Index("ix_credit_class_changes_tenant_day", "tenant_id", "business_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(sa.ForeignKey("loans.id", ondelete="CASCADE"))
    business_date: Mapped[dt.date] = mapped_column(sa.Date)
    from_class: Mapped[str | None] = mapped_column(sa.String(16))  # None: the loan's first classification
    to_class: Mapped[str] = mapped_column(sa.String(16))
    source: Mapped[str] = mapped_column(sa.String(8))  # rule | manual
    days_past_due: Mapped[int] = mapped_column(default=0)
    proposal_id: Mapped[int | None] = mapped_column(sa.ForeignKey("credit_class_proposals.id"))
    decided_by: Mapped[str] = mapped_column(sa.String(120), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ProposalStatus(StrEnum):
    """pending → approved (the class applies) or rejected; a second person decides."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


PROPOSAL_STATUS_LABELS = {
    ProposalStatus.PENDING.value: _("Waiting for approval"),
    ProposalStatus.APPROVED.value: _("Approved"),
    ProposalStatus.REJECTED.value: _("Rejected"),
}

PROPOSALS = StateMachine(
    "classification proposal",
    ProposalStatus,
    {ProposalStatus.PENDING: {ProposalStatus.APPROVED, ProposalStatus.REJECTED}},
    initial=ProposalStatus.PENDING,
)


class ClassProposal(TenantOwned, Base):
    """A staff member's proposal of a different class for a loan, with the reason and evidence; another approves."""

    __tablename__ = "credit_class_proposals"
    __table_args__ = (
        sa.Index("ix_credit_class_proposals_tenant_status", "tenant_id", "status"),
        sa.Index("ix_credit_class_proposals_loan", "loan_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(sa.ForeignKey("loans.id", ondelete="CASCADE"))
    proposed_class: Mapped[str] = mapped_column(sa.String(16))
    class_then: Mapped[str] = mapped_column(sa.String(16))  # the loan's class when proposed
    reason: Mapped[str] = mapped_column(sa.String(1000))
    evidence_key: Mapped[str | None] = mapped_column(sa.String(60))  # an upload in the tenant's store
    evidence_name: Mapped[str] = mapped_column(sa.String(200), default="")
    evidence_type: Mapped[str] = mapped_column(sa.String(40), default="")
    status: Mapped[str] = mapped_column(sa.String(12), default=PROPOSALS.initial.value)  # ProposalStatus
    proposed_by_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_users.id"))
    proposed_by: Mapped[str] = mapped_column(sa.String(120))
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    decided_by: Mapped[str] = mapped_column(sa.String(120), default="")
    decision_note: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[dt.datetime | None]


class ClassSnapshot(TenantOwned, Base):
    """A loan's class and figures at a month's end: the base of monthly reports and migration matrices."""

    __tablename__ = "credit_class_snapshots"
    __table_args__ = (
        sa.UniqueConstraint("loan_id", "month_end"),
        sa.Index("ix_credit_class_snapshots_tenant_month", "tenant_id", "month_end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(sa.ForeignKey("loans.id", ondelete="CASCADE"))
    month_end: Mapped[dt.date] = mapped_column(sa.Date)
    risk_class: Mapped[str] = mapped_column(sa.String(16))
    days_past_due: Mapped[int] = mapped_column(default=0)
    outstanding_principal: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    provision: Mapped[int] = mapped_column(sa.BigInteger, default=0)
