"""Periodic work of the lifecycle: close of day after each tenant's midnight, and repayment reminders.

One huey periodic task runs every hour (``lendstack serve`` or ``lendstack
worker`` must be running). For each active tenant it closes every business
date that has ended on the tenant's own clock, oldest first (so a consumer
that was down catches up without skipping a date), and sends repayment
reminders during the day: ``reminder_days`` before a due date (``[lending]``,
default 3) and once an installment is overdue — each at most once per
installment and rule, in the borrower's language, never between 21:00 and
9:00 in the tenant's time zone. A reminder is a notification
(:func:`core.notifications.notify`): always in the borrower's inbox, by SMS
and email as they chose.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from decimal import Decimal

import sqlalchemy as sa
from huey import crontab
from sqlalchemy.orm import Mapped, mapped_column

from .. import jobs
from ..db import Base, TenantOwned, utcnow
from ..members.models import Member
from ..money import Money
from ..notifications import member_locale, notify
from ..tenancy.models import Tenant
from .closing import close_of_day
from .errors import LoanError
from .models import Installment, Loan

log = logging.getLogger(__name__)
QUIET_FROM, QUIET_UNTIL = 21, 9
COMMIT_EVERY = 500  # close of day commits every that many loans


class ReminderSent(TenantOwned, Base):
    """One reminder sent for one installment under one rule (``before`` or ``overdue``)."""

    __tablename__ = "loan_reminders"
    __table_args__ = (sa.UniqueConstraint("installment_id", "rule"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    installment_id: Mapped[int] = mapped_column(sa.ForeignKey("loan_installments.id"))
    rule: Mapped[str] = mapped_column(sa.String(10))
    sent_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


def send_reminders(session, tenant, now: dt.datetime) -> int:
    """Queue the reminders due at ``now`` (aware); how many were queued. Nothing at night."""
    local = now.astimezone(zoneinfo.ZoneInfo(tenant.timezone))
    if local.hour >= QUIET_FROM or local.hour < QUIET_UNTIL:
        return 0
    days = int(Decimal(str((tenant.lending or {}).get("reminder_days", 3))))
    horizon = tenant.business_date + dt.timedelta(days=days)
    candidates = session.scalars(
        sa.select(Installment)
        .join(Loan)
        .where(Loan.status == "repaying", Installment.status.in_(["due", "overdue"]), Installment.due_date <= horizon)
    ).all()
    sent = (
        {
            (r.installment_id, r.rule)
            for r in session.scalars(
                sa.select(ReminderSent).where(ReminderSent.installment_id.in_([i.id for i in candidates]))
            )
        }
        if candidates
        else set()
    )
    count = 0
    for installment in candidates:
        rule = "overdue" if installment.status == "overdue" else "before"
        if (installment.id, rule) in sent:
            continue
        loan = installment.loan
        borrower = session.get(Member, loan.borrower_id)
        if borrower is None:
            continue
        locale = member_locale(tenant, borrower)
        params = {
            "loan": loan.number,
            "period": str(installment.period),
            "amount": Money(installment.payment, loan.currency).format(locale),
            "due_date": installment.due_date.isoformat(),
            "days": str((tenant.business_date - installment.due_date).days),
        }
        # the inbox always, SMS and email as the borrower chose (core.notifications)
        notify(
            session,
            tenant,
            borrower.id,
            "installment_overdue" if rule == "overdue" else "installment_due",
            params,
            key=f"{installment.id}:{rule}",
        )
        session.add(ReminderSent(tenant_id=tenant.id, installment_id=installment.id, rule=rule))
        count += 1
    return count


def catch_up(session, tenant, now: dt.datetime, plugins=None, *, commit_every: int | None = None) -> list[dict]:
    """Close every business date that has ended on the tenant's clock, oldest first.

    With ``plugins`` (the install's plugin registry) each close tells the
    tenant's enabled plugins through ``lendstack_close_of_day``; their caller
    is built afresh for each date, so the tenant they see carries that date.
    """
    today = now.astimezone(zoneinfo.ZoneInfo(tenant.timezone)).date()
    summaries = []
    while tenant.business_date < today:
        hooks = plugins.for_tenant(tenant) if plugins is not None else None
        try:
            summaries.append(
                close_of_day(session, tenant, tenant.business_date, hooks=hooks, commit_every=commit_every)
            )
        except LoanError:
            break
    return summaries


@jobs.huey.periodic_task(crontab(minute="5"))
def hourly() -> None:
    """For every active tenant: catch up on close of day, then send the day's reminders.

    Each tenant runs in its own transaction; one tenant's failure is logged and
    does not keep the others from their close of day, and the task then fails
    naming every tenant that did (the next run retries them).
    """
    with jobs.task_session(None) as session:
        tenant_ids = [
            t.id for t in session.scalars(sa.select(Tenant).where(Tenant.status == "active").order_by(Tenant.id))
        ]
    failed = []
    for tenant_id in tenant_ids:
        try:
            run_for_tenant(tenant_id, utcnow())
        except Exception:  # noqa: BLE001 - logged with its traceback; the other tenants go on
            log.exception("hourly close of day and reminders failed for tenant %s", tenant_id)
            failed.append(tenant_id)
    if failed:
        raise RuntimeError(f"hourly close of day failed for tenant(s) {', '.join(map(str, failed))}")


def run_for_tenant(tenant_id: int, now: dt.datetime) -> None:
    """One tenant's share of :func:`hourly`, in its own committed transaction."""
    with jobs.task_session(tenant_id) as session:
        tenant = session.get(Tenant, tenant_id)
        catch_up(session, tenant, now, jobs.context.plugins, commit_every=COMMIT_EVERY)
        send_reminders(session, tenant, now)
