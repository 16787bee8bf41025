"""First review (初審): staff publish a submitted loan for bidding — auto-invest bids at once — or reject it."""

from __future__ import annotations

import datetime as dt

from ..i18n import _
from . import guarantors
from .autoinvest import run_for_loan
from .disbursement import final_review
from .errors import LoanError, rejection_reason
from .models import LOANS, Loan, LoanStatus
from .records import record


def review(session, tenant, hooks, loan: Loan, *, approve: bool, reason: str, by: str) -> None:
    """First review (初審): publish for bidding until the deadline, or reject with a reason."""
    if loan.status != LoanStatus.SUBMITTED:
        raise LoanError("decision", _("This loan is not waiting for a first review."))
    if approve and loan.type_data.get("guarantor_id") and loan.type_data.get("guarantee") != "accepted":
        raise LoanError("decision", _("The guarantor has not accepted this loan yet."))
    if approve:
        LOANS.move(loan, LoanStatus.BIDDING)
        loan.deadline = tenant.business_date + dt.timedelta(days=loan.fundraising_days)
        record(session, loan, "reviewed", by, approve=True, reason=reason)
        run_for_loan(session, tenant, hooks, loan)
        return
    note = rejection_reason(reason)
    LOANS.move(loan, LoanStatus.REJECTED)
    loan.review_note = note
    record(session, loan, "reviewed", by, approve=approve, reason=reason)


def decide(session, tenant, hooks, loan: Loan, stage: str, *, approve: bool, reason: str, by: str) -> None:
    """A staff decision on ``loan`` at ``stage``: ``"review"`` (first review), ``"final"`` (final review,
    which disburses) or ``"guarantee"`` (the guarantor's answer, ``reason`` its reference). The back office
    and the API decide through here; each checks the stage's permission first."""
    if stage == "guarantee":
        guarantors.decide(session, tenant, loan, accept=approve, reference=reason, by=by)
    elif stage == "final":
        final_review(session, tenant, hooks, loan, approve=approve, reason=reason, by=by)
    else:
        review(session, tenant, hooks, loan, approve=approve, reason=reason, by=by)
