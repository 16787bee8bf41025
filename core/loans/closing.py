"""Close of day (日終): the batch that moves a tenant's business date on.

Expires fundraising, collects due installments (or what the borrower has),
marks the unpaid overdue with their late fee and penalty interest within the
overdue charges' cap (:mod:`.overdue`), advances and accelerates per the
tenant's thresholds, tells plugins, and
moves the business date on — once per date, never skipping one, and safe to
run again after a crash at any point.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..db import checkpoint
from ..i18n import _
from ..ledger import Ledger, Wallet
from .disbursement import refund_bids
from .errors import LoanError
from .models import INSTALLMENT_ENDED, INSTALLMENTS, LOANS, ClosedDay, Installment, InstallmentStatus, Loan, LoanStatus
from .overdue import OverdueTerms, accelerate, accrue_charges, overdue_terms
from .records import record
from .repayment import advance, first_unpaid, pay_installment

DAY_STEPS: list = []
"""Steps other parts of core add to close of day (:func:`day_step`), run in order once the installments are closed."""


def day_step(step):
    """Decorator: run ``step(session, tenant, day, commit_every=…)`` at every close of day, after the installments
    are collected and marked, before plugins hear of the day; it returns a dict of counts for the day's summary.
    A step must be safe to run again for the same day (close of day after a crash)."""
    if step not in DAY_STEPS:
        DAY_STEPS.append(step)
    return step


def close_of_day(session, tenant, day: dt.date, *, hooks=None, commit_every: int | None = None) -> dict:
    """Expire fundraising, collect due installments, mark the overdue, then move the business date on.

    ``hooks`` is the tenant's per-tenant caller (``registry.for_tenant(tenant)``,
    built while ``day`` is the business date): its ``lendstack_close_of_day``
    reaches the tenant's enabled plugins once the day's own steps are done.

    Runs for the tenant's current business date only (no date is skipped) and
    once per date: a second run returns the first run's summary. Each step is
    idempotent — money moves under keys derived from the loan, states only move
    forward, penalty interest records the day it accrued for — so a run that
    crashed part-way simply runs again. With ``commit_every`` (jobs and the
    CLI) the work is committed every that many loans, so a run over many
    loans holds no long transaction and a crash keeps what was done.
    """
    done = session.scalars(sa.select(ClosedDay).where(ClosedDay.business_date == day)).first()
    if done is not None:
        return done.summary
    if day != tenant.business_date:
        raise LoanError(
            "date",
            _(
                "The business date is ${date}; close that day first.",
                mapping={"date": tenant.business_date.isoformat()},
            ),
        )
    tenant_id = tenant.id
    summary = {"expired": 0, "repaid": 0, "overdue": 0, "advanced": 0, "accelerated": 0, "collected_part": 0}

    def batches(ids):
        size = commit_every or max(len(ids), 1)
        for start in range(0, len(ids), size):
            yield ids[start : start + size]
            if commit_every:
                checkpoint(session)

    expiring = session.scalars(
        sa.select(Loan.id).where(Loan.status == LoanStatus.BIDDING, Loan.deadline <= day).order_by(Loan.id)
    ).all()
    for ids in batches(expiring):
        for loan in session.scalars(sa.select(Loan).where(Loan.id.in_(ids)).order_by(Loan.id)):
            refund_bids(session, tenant_id, loan, "fundraising expired")
            LOANS.move(loan, LoanStatus.FAILED)
            record(session, loan, "expired", "close-of-day")
            summary["expired"] += 1
    terms = overdue_terms(tenant)
    unfinished = [InstallmentStatus.DUE, InstallmentStatus.OVERDUE]
    due = session.scalars(
        sa.select(Installment.id)
        .where(Installment.status.in_(unfinished), Installment.due_date <= day)
        .order_by(Installment.due_date, Installment.loan_id, Installment.period)
    ).all()
    for ids in batches(due):
        # lock the chunk's loans (in id order) against a borrower's payment made meanwhile
        session.execute(
            sa.select(Loan.id)
            .where(Loan.id.in_(sa.select(Installment.loan_id).where(Installment.id.in_(ids))))
            .order_by(Loan.id)
            .with_for_update()
        )
        rows = session.scalars(
            sa.select(Installment)
            .where(Installment.id.in_(ids))
            .options(
                selectinload(Installment.loan).selectinload(Loan.installments),
                selectinload(Installment.loan).selectinload(Loan.paybacks),
                selectinload(Installment.loan).selectinload(Loan.bids),
            )
            .order_by(Installment.due_date, Installment.loan_id, Installment.period)
        ).all()
        for installment in rows:
            _close_installment(session, tenant, installment, day, terms, summary)
    tenant = session.get(type(tenant), tenant_id)
    for step in DAY_STEPS:
        summary.update(step(session, tenant, day, commit_every=commit_every))
        tenant = session.get(type(tenant), tenant_id)
    if hooks is not None:
        # a per-tenant caller (``registry.for_tenant``) passes the tenant's own read-only view itself
        hooks.lendstack_close_of_day(business_date=day)
    session.add(ClosedDay(tenant_id=tenant_id, business_date=day, summary=summary))
    tenant.business_date = day + dt.timedelta(days=1)
    return summary


def _close_installment(
    session, tenant, installment: Installment, day: dt.date, terms: OverdueTerms, summary: dict
) -> None:
    """Close of day for one installment due by ``day``: collect it, or mark it overdue and apply the rules."""
    loan = installment.loan
    if installment.status in INSTALLMENT_ENDED or loan.status not in (LoanStatus.REPAYING, LoanStatus.DEFAULTED):
        return
    if first_unpaid(loan) is installment:
        available = Wallet(Ledger(session, tenant.id), loan.borrower_id, loan.currency).funds().available
        if available >= installment.owed:
            pay_installment(session, tenant, loan, installment, installment.owed, by="close-of-day", day=day)
            summary["repaid"] += 1
            return
        if available > 0 and terms.collect_partial:
            pay_installment(session, tenant, loan, installment, available, by="close-of-day", day=day)
            summary["collected_part"] += 1
    if installment.status == InstallmentStatus.DUE:
        INSTALLMENTS.move(installment, InstallmentStatus.OVERDUE)
        installment.late_fee_set = terms.late_fee
        record(session, loan, "overdue", "close-of-day", period=installment.period, late_fee=terms.late_fee)
        summary["overdue"] += 1
    if installment.penalty_through is None or installment.penalty_through <= day:
        accrue_charges(installment, day, terms)
    days_late = (day - installment.due_date).days
    # 墊付: a guarantor advances after advance_after_days; the platform's own reserve only where the tenant turns
    # it on (reserve_advances): paying lenders from it guarantees their money in disguise, which the 2016 interim
    # measures for online lending intermediaries (art. 10) forbid
    advancer = loan.type_data.get("guarantor_id") or terms.reserve_advances
    if (
        advancer
        and terms.advance_after
        and days_late >= terms.advance_after
        and installment.advanced_on is None
        and advance(session, tenant, loan, installment, day)
    ):
        summary["advanced"] += 1
    if loan.status == LoanStatus.REPAYING and terms.accelerate_after and days_late >= terms.accelerate_after:
        accelerate(session, tenant, loan, day, terms, days_late=days_late)
        summary["accelerated"] += 1
