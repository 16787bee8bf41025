"""Loans (借款項目): the application, its bids, the borrower's installments and each lender's paybacks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from ..db import Base, TenantOwned, utcnow
from ..events import note_status_change
from ..i18n import _
from ..states import StateMachine


class LoanStatus(StrEnum):
    """A loan listing's lifecycle (docs/architecture.md, "State machines")."""

    SUBMITTED = "submitted"  # waiting for the first review (初審), or for its guarantor
    REJECTED = "rejected"  # by the first or final review, or declined by the guarantor (bids refunded)
    BIDDING = "bidding"  # 招標中 until its deadline
    FULL = "full"  # 滿標: waiting for the final review (復審)
    REPAYING = "repaying"  # 還款中: disbursed
    SETTLED = "settled"  # 已完成: every installment paid
    FAILED = "failed"  # 流標: the deadline passed, every frozen bid refunded
    CANCELLED = "cancelled"  # kept for records that have it; no path leads here today
    DEFAULTED = "defaulted"  # accelerated: everything fell due
    WRITTEN_OFF = "written_off"  # 核銷: closed with what is unpaid left unpaid


LOANS = StateMachine(
    "loan",
    LoanStatus,
    {
        LoanStatus.SUBMITTED: {LoanStatus.BIDDING, LoanStatus.REJECTED},
        LoanStatus.BIDDING: {LoanStatus.FULL, LoanStatus.FAILED},
        LoanStatus.FULL: {LoanStatus.REPAYING, LoanStatus.REJECTED},
        LoanStatus.REPAYING: {LoanStatus.SETTLED, LoanStatus.DEFAULTED},
        LoanStatus.DEFAULTED: {LoanStatus.SETTLED, LoanStatus.WRITTEN_OFF},
    },
    initial=LoanStatus.SUBMITTED,
)

STATUSES = tuple(LoanStatus)


class BidStatus(StrEnum):
    """A bid: frozen while the loan raises money, then accepted (disbursed) or refunded."""

    FROZEN = "frozen"
    ACCEPTED = "accepted"
    REFUNDED = "refunded"


BIDS = StateMachine(
    "bid",
    BidStatus,
    {
        BidStatus.FROZEN: {BidStatus.ACCEPTED, BidStatus.REFUNDED},
    },
    initial=BidStatus.FROZEN,
)


class InstallmentStatus(StrEnum):
    """One period of the borrower's schedule."""

    DUE = "due"
    OVERDUE = "overdue"  # 逾期: past its due date unpaid (or accelerated)
    PAID = "paid"
    WRITTEN_OFF = "written_off"


INSTALLMENTS = StateMachine(
    "installment",
    InstallmentStatus,
    {
        InstallmentStatus.DUE: {InstallmentStatus.OVERDUE, InstallmentStatus.PAID, InstallmentStatus.WRITTEN_OFF},
        InstallmentStatus.OVERDUE: {InstallmentStatus.PAID, InstallmentStatus.WRITTEN_OFF},
    },
    initial=InstallmentStatus.DUE,
)
INSTALLMENT_ENDED = INSTALLMENTS.final_states()  # paid or written off: nothing more is collected


class PaybackStatus(StrEnum):
    """One lender's share of one installment: paid by the borrower or an advance (墊付), or written off."""

    DUE = "due"
    PAID = "paid"
    WRITTEN_OFF = "written_off"


PAYBACKS = StateMachine(
    "payback",
    PaybackStatus,
    {
        PaybackStatus.DUE: {PaybackStatus.PAID, PaybackStatus.WRITTEN_OFF},
    },
    initial=PaybackStatus.DUE,
)


class Loan(TenantOwned, Base):
    __tablename__ = "loans"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "number"),
        sa.UniqueConstraint("tenant_id", "id"),
        sa.Index("ix_loans_status", "tenant_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(20))
    borrower_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    loan_type: Mapped[str] = mapped_column(sa.String(40))
    title: Mapped[str] = mapped_column(sa.String(120))
    purpose: Mapped[str] = mapped_column(sa.String(500), default="")
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    annual_rate_percent: Mapped[Decimal]
    term_months: Mapped[int]
    repayment_method: Mapped[str] = mapped_column(sa.String(40))
    min_bid: Mapped[int] = mapped_column(sa.BigInteger)
    max_bid: Mapped[int | None] = mapped_column(sa.BigInteger)
    fundraising_days: Mapped[int]
    funded: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    status: Mapped[str] = mapped_column(sa.String(12), default=LOANS.initial.value)  # LoanStatus
    review_note: Mapped[str] = mapped_column(sa.String(300), default="")
    type_data: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    deadline: Mapped[dt.date | None] = mapped_column(sa.Date)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    disbursed_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    settled_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    # the borrower fee as charged at disbursement: installments (spread as service fees) | upfront | deducted
    borrower_fee: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    fee_mode: Mapped[str | None] = mapped_column(sa.String(12))
    # where the loan came from when not a borrower's own listing: ``credit:<application number>`` (a credit
    # application published as a listing) or ``credit:own_funds:<application number>`` (lent from the
    # tenant's lending fund: never a public listing, see core.loans.rules)
    origin: Mapped[str | None] = mapped_column(sa.String(60))

    bids: Mapped[list["Bid"]] = relationship(order_by="Bid.id", back_populates="loan")
    installments: Mapped[list["Installment"]] = relationship(order_by="Installment.period", back_populates="loan")
    paybacks: Mapped[list["Payback"]] = relationship(order_by="(Payback.period, Payback.id)", viewonly=True)

    @property
    def remaining(self) -> int:
        return self.amount - self.funded


class Bid(TenantOwned, Base):
    """A lender's bid (投標): frozen while the loan raises money, then a claim on its paybacks."""

    __tablename__ = "bids"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "loan_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(sa.ForeignKey("loans.id"), index=True)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"), index=True)
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    key: Mapped[str] = mapped_column(sa.String(80))
    auto: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(sa.String(12), default=BIDS.initial.value)  # BidStatus
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # management fees charged on this bid's interest so far: each payment charges round(fee% × all interest
    # received) less this, so over the loan the lender pays round(fee% × total interest) exactly
    lender_fees: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    loan: Mapped[Loan] = relationship(back_populates="bids")


class Installment(TenantOwned, Base):
    """One period of the borrower's repayment schedule (還款計劃)."""

    __tablename__ = "loan_installments"
    __table_args__ = (
        sa.UniqueConstraint("loan_id", "period"),
        sa.Index("ix_installments_due", "tenant_id", "status", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(sa.ForeignKey("loans.id"))
    period: Mapped[int]
    due_date: Mapped[dt.date] = mapped_column(sa.Date)
    principal: Mapped[int] = mapped_column(sa.BigInteger)
    interest: Mapped[int] = mapped_column(sa.BigInteger)
    status: Mapped[str] = mapped_column(sa.String(12), default=INSTALLMENTS.initial.value)  # InstallmentStatus
    paid_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    service_fee: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # the platform's fee spread over the periods
    # Overdue charges (docs/loans.md, "Overdue"): penalty interest (罰息) accrues exactly and is rounded once;
    # with the late fee it stays within the tenant's cap (an annual percent of the overdue principal).
    penalty: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # 罰息 charged: within the cap, rounded half-up
    late_fee: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # the late fee charged: within the cap
    late_fee_set: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # the tenant's late fee when it fell overdue
    penalty_accrued: Mapped[Decimal] = mapped_column(default=Decimal(0))  # exact minor units, before the cap
    principal_days: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # Σ overdue principal per day: the cap's base
    advanced_on: Mapped[dt.date | None] = mapped_column(sa.Date)  # 墊付: lenders paid by the guarantor or reserve
    penalty_through: Mapped[dt.date | None] = mapped_column(sa.Date)  # the last day penalty interest accrued for
    # what payments already settled: late fee, penalty, service fee, interest, principal, in that order
    paid_charges: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # late fee and penalty
    paid_late_fee: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # of which the late fee
    paid_fee: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # service fee
    paid_interest: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    paid_principal: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    loan: Mapped[Loan] = relationship(back_populates="installments")

    @property
    def payment(self) -> int:
        """What the period asks of the borrower: principal, interest and the service fee."""
        return self.principal + self.interest + self.service_fee

    @property
    def unpaid_principal(self) -> int:
        """Principal not yet paid: the base of penalty interest and of the overdue charges' cap."""
        return self.principal - self.paid_principal

    @property
    def unpaid_interest(self) -> int:
        return self.interest - self.paid_interest

    @property
    def unpaid_fee(self) -> int:
        """The service fee not yet paid."""
        return self.service_fee - self.paid_fee

    @property
    def unpaid_payment(self) -> int:
        """Principal, interest and service fee not yet paid."""
        return self.unpaid_principal + self.unpaid_interest + self.unpaid_fee

    @property
    def charges(self) -> int:
        """Overdue charges: the late fee and penalty interest charged so far."""
        return self.penalty + self.late_fee

    @property
    def unpaid_late_fee(self) -> int:
        return self.late_fee - self.paid_late_fee

    @property
    def unpaid_penalty(self) -> int:
        return self.penalty - (self.paid_charges - self.paid_late_fee)

    @property
    def owed(self) -> int:
        """What the borrower must pay now: the rest of the installment, its service fee and overdue charges."""
        return self.unpaid_payment + self.charges - self.paid_charges


class Payback(TenantOwned, Base):
    """One lender's share of one installment (回款計劃); the shares of a period sum to the installment."""

    __tablename__ = "loan_paybacks"
    __table_args__ = (
        sa.UniqueConstraint("bid_id", "period"),
        sa.Index("ix_paybacks_member", "tenant_id", "member_id", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(sa.ForeignKey("loans.id"), index=True)
    bid_id: Mapped[int] = mapped_column(sa.ForeignKey("bids.id"))
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id"))
    period: Mapped[int]
    due_date: Mapped[dt.date] = mapped_column(sa.Date)
    principal: Mapped[int] = mapped_column(sa.BigInteger)
    interest: Mapped[int] = mapped_column(sa.BigInteger)
    status: Mapped[str] = mapped_column(sa.String(12), default=PAYBACKS.initial.value)  # PaybackStatus
    paid_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    paid_principal: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # received from partial payments
    paid_interest: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class LoanEvent(TenantOwned, Base):
    """The loan's history: every state change, who made it, and what it moved."""

    __tablename__ = "loan_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(sa.ForeignKey("loans.id"), index=True)
    event: Mapped[str] = mapped_column(sa.String(40))
    actor: Mapped[str] = mapped_column(sa.String(120))
    detail: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ClosedDay(TenantOwned, Base):
    """A business date whose close of day finished (one row per tenant and date)."""

    __tablename__ = "closed_days"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "business_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    business_date: Mapped[dt.date] = mapped_column(sa.Date)
    summary: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    closed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


def _labels():

    return {
        "submitted": _("Waiting for first review"),
        "rejected": _("Rejected"),
        "bidding": _("Open for bids"),
        "full": _("Fully funded, in final review"),
        "repaying": _("Repaying"),
        "settled": _("Settled"),
        "failed": _("Not funded, refunded"),
        "cancelled": _("Cancelled"),
        "defaulted": _("Defaulted (all due)"),
        "written_off": _("Written off"),
        # bids
        "frozen": _("Frozen"),
        "accepted": _("Accepted"),
        "refunded": _("Refunded"),
        # installments
        "due": _("Due"),
        "overdue": _("Overdue"),
        "paid": _("Paid"),
    }


STATUS_LABELS = _labels()


def _event_labels():

    return {
        "submitted": _("Application submitted"),
        "reviewed": _("First review"),
        "guarantee_accepted": _("Guarantor accepted"),
        "guarantee_declined": _("Guarantor declined"),
        "bid": _("Bid"),
        "auto_invest": _("Automatic bids"),
        "full": _("Fully funded"),
        "accepted_partial": _("Partly funded loan accepted"),
        "final_reviewed": _("Final review"),
        "disbursed": _("Disbursed"),
        "refunded": _("Bids refunded"),
        "expired": _("Fundraising expired"),
        "repaid": _("Installment repaid"),
        "repaid_part": _("Part of an installment repaid"),
        "paid_off": _("Paid off early"),
        "overdue": _("Installment overdue"),
        "advanced": _("Advanced to lenders"),
        "advance_refused": _("Advance refused: not enough funds"),
        "accelerated": _("Accelerated: all due"),
        "write_off_requested": _("Write-off asked for"),
        "write_off_declined": _("Write-off declined"),
        "written_off": _("Written off"),
        "settled": _("Settled"),
        "collateral_released": _("Collateral released"),
        "instant_settlement_waiting": _("Instant settlement waiting for the borrower"),
    }


EVENT_LABELS = _event_labels()

# What a mortgage loan's collateral is (the borrow form's choices)
COLLATERAL_LABELS = {"property": _("Property"), "vehicle": _("Vehicle"), "other": _("Other")}


@sa.event.listens_for(Loan.status, "set")
def _status_set(loan: Loan, new, old, _initiator) -> None:
    """Note each real change (not the first value) for the plugins' ``lendstack_loan_status_changed``."""
    if isinstance(old, str):
        note_status_change(object_session(loan), loan, old, new)
