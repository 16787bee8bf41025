"""Loan alerts (貸款業務警示), as stored: the tenant's edited alert rules and the alerts close of day raises."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ...db import Base, TenantOwned, utcnow
from ...i18n import _
from ...states import StateMachine


class AlertKind(StrEnum):
    """What an alert watches for: one rule per kind."""

    DUE_SOON_SHORT = "due_soon_short"  # an installment due soon and the borrower's balance short of it
    FIRST_OVERDUE = "first_overdue"  # the oldest unpaid installment fell overdue at this close
    DOWNGRADED = "downgraded"  # the five-level class became stricter
    CONCENTRATION = "concentration"  # one borrower holds too large a share of the outstanding principal


KINDS = tuple(AlertKind)
KIND_LABELS = {
    AlertKind.DUE_SOON_SHORT.value: _("Installment due soon, balance short"),
    AlertKind.FIRST_OVERDUE.value: _("First overdue"),
    AlertKind.DOWNGRADED.value: _("Classification downgraded"),
    AlertKind.CONCENTRATION.value: _("Borrower concentration"),
}


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


SEVERITIES = tuple(Severity)
SEVERITY_RANK = {s.value: i for i, s in enumerate(SEVERITIES)}
SEVERITY_LABELS = {
    Severity.INFO.value: _("Information"),
    Severity.WARNING.value: _("Warning"),
    Severity.CRITICAL.value: _("Critical"),
}


class AlertStatus(StrEnum):
    """open → acknowledged (someone is on it) → closed; an open alert may be closed straight away."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


STATUS_LABELS = {
    AlertStatus.OPEN.value: _("Open"),
    AlertStatus.ACKNOWLEDGED.value: _("Acknowledged"),
    AlertStatus.CLOSED.value: _("Closed"),
}

ALERTS = StateMachine(
    "loan alert",
    AlertStatus,
    {
        AlertStatus.OPEN: {AlertStatus.ACKNOWLEDGED, AlertStatus.CLOSED},
        AlertStatus.ACKNOWLEDGED: {AlertStatus.CLOSED},
    },
    initial=AlertStatus.OPEN,
)


class AlertRule(TenantOwned, Base):
    """A tenant's own settings of one kind's rule (a kind without a row uses the defaults in :mod:`.rules`)."""

    __tablename__ = "credit_alert_rules"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(24))  # AlertKind
    active: Mapped[bool] = mapped_column(default=True)
    severity: Mapped[str] = mapped_column(sa.String(12))  # Severity
    threshold: Mapped[str | None] = mapped_column(sa.String(12))  # days or percent, as typed; None: no threshold
    recipients: Mapped[list] = mapped_column(sa.JSON, default=list)  # role codes of the tenant
    updated_by: Mapped[str] = mapped_column(sa.String(120), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Alert(TenantOwned, Base):
    """One alert: raised by close of day for a subject (a loan, or a borrower), acknowledged and closed by staff.

    A subject has at most one alert of a kind that is not closed; once closed, a later close of day raises a new
    one if the condition still holds."""

    __tablename__ = "credit_alerts"
    __table_args__ = (
        # one alert per kind and subject while it is not closed
        sa.Index(
            "uq_credit_alerts_live",
            "tenant_id",
            "kind",
            "subject",
            unique=True,
            sqlite_where=sa.text("status != 'closed'"),
            postgresql_where=sa.text("status != 'closed'"),
        ),
        # close of day run again for a date raises nothing twice
        sa.UniqueConstraint("tenant_id", "kind", "subject", "business_date"),
        sa.Index("ix_credit_alerts_tenant_status", "tenant_id", "status", "business_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(24))  # AlertKind
    severity: Mapped[str] = mapped_column(sa.String(12))  # Severity, the rule's when raised
    status: Mapped[str] = mapped_column(sa.String(16), default=ALERTS.initial.value)  # AlertStatus
    business_date: Mapped[dt.date] = mapped_column(sa.Date)
    subject: Mapped[str] = mapped_column(sa.String(40))  # loan:<id> | customer:<id> | member:<id>
    loan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("loans.id", ondelete="CASCADE"))
    facts: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # the figures that raised it (minor units)
    digested: Mapped[bool] = mapped_column(default=False)  # in a daily digest already
    raised_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    acknowledged_by: Mapped[str] = mapped_column(sa.String(120), default="")
    acknowledged_at: Mapped[dt.datetime | None]
    acknowledge_note: Mapped[str] = mapped_column(sa.String(500), default="")
    closed_by: Mapped[str] = mapped_column(sa.String(120), default="")
    closed_at: Mapped[dt.datetime | None]
    close_note: Mapped[str] = mapped_column(sa.String(500), default="")
