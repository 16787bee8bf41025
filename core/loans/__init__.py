"""Loans (借款項目): the lifecycle over the ledger, from application to close of day.

The package's modules, each depending only on those listed after it
(the ``layers`` contract in ``pyproject.toml`` holds them to it):

- ``views`` (portal pages), ``schedule_jobs`` (the hourly close of day and reminders);
- ``application`` (apply, preview), ``review`` (first review), ``closing`` (close of day);
- ``autoinvest`` (lenders' standing rules bid when a loan opens);
- ``bidding`` (bids, partial funding, instant loans);
- ``disbursement`` (final review: disburse or refund);
- ``repayment`` (payments, payoff, advances, write-offs);
- ``overdue`` (penalty interest, acceleration), ``guarantors``;
- ``allocation`` (how a payment divides), ``projection`` (schedules, expected payback, APR),
  ``standing`` (a member's position, credit line);
- ``cost`` (the borrower's fee and APR), ``integrity`` (invariants 5–7), ``records`` (the row lock,
  the loan's events), ``rules`` (the tenant's lending rules, which loans are public);
- ``errors`` (:class:`LoanError`), ``models``.

Callers use the names re-exported here (``import core.loans as loans``).
"""

from __future__ import annotations

from ..i18n import _
from ..loan_types import loan_types
from ..plugin_registry import register_in_use_check
from . import schedule_jobs  # noqa: F401 - registers the hourly close-of-day and reminder task
from .application import Application, Preview, apply, parse_application, preview_schedule, require_verified
from .bidding import accept_partial, parse_bid, place_bid
from .closing import close_of_day
from .disbursement import final_review, refund_bids
from .errors import LoanError, positive_amount
from .models import STATUSES, Bid, ClosedDay, Installment, Loan, LoanEvent, LoanStatus, Payback
from .projection import ExpectedPayback, expected_payback, loan_apr, schedule_for
from .records import ledger_refs, locked_loan, record
from .repayment import (
    Allocation,
    allocate,
    decline_write_off,
    overdue_rows,
    pay_off,
    pending_write_off,
    repay,
    repay_installments,
    repay_next,
    request_write_off,
    write_off,
)
from .review import decide, review
from .rules import (
    GRADES,
    OWN_FUNDS_ORIGIN,
    PUBLIC_STATUSES,
    auto_invest_target,
    bid_unit,
    grade_at_least,
    is_public,
    lent_from_own_funds,
    own_funds_origin,
    partial_funding,
    public_loans,
)
from .standing import (
    Position,
    borrower_history,
    borrower_profile,
    credit_used,
    net_assets,
    net_worth_floor,
    outstanding_principal,
    position,
    set_credit_line,
)

__all__ = [
    "auto_invest_target",
    "lent_from_own_funds",
    "own_funds_origin",
    "OWN_FUNDS_ORIGIN",
    "accept_partial",
    "allocate",
    "Allocation",
    "apply",
    "Application",
    "parse_application",
    "require_verified",
    "Bid",
    "bid_unit",
    "borrower_history",
    "borrower_profile",
    "close_of_day",
    "ClosedDay",
    "credit_used",
    "decline_write_off",
    "ExpectedPayback",
    "expected_payback",
    "final_review",
    "grade_at_least",
    "GRADES",
    "includeme",
    "Installment",
    "is_public",
    "ledger_refs",
    "Loan",
    "loan_apr",
    "loan_types",
    "LoanError",
    "LoanEvent",
    "locked_loan",
    "net_assets",
    "net_worth_floor",
    "outstanding_principal",
    "overdue_rows",
    "parse_bid",
    "partial_funding",
    "pay_off",
    "Payback",
    "pending_write_off",
    "decide",
    "place_bid",
    "positive_amount",
    "Position",
    "position",
    "Preview",
    "preview_schedule",
    "PUBLIC_STATUSES",
    "public_loans",
    "record",
    "refund_bids",
    "repay",
    "repay_installments",
    "repay_next",
    "request_write_off",
    "review",
    "schedule_for",
    "set_credit_line",
    "STATUSES",
    "write_off",
]


OPEN_LOANS_REASON = _(
    "Loans of this type or repayment method are still open: they must be settled, failed, rejected or written off "
    "before it is turned off."
)
CLOSED = frozenset(
    {LoanStatus.SETTLED, LoanStatus.FAILED, LoanStatus.REJECTED, LoanStatus.WRITTEN_OFF, LoanStatus.CANCELLED}
)


@register_in_use_check
def open_loans(session, tenant, info, provided) -> object | None:
    """A loan type, or a repayment method, may not be turned off while a loan of it is open (not settled,
    failed, rejected, cancelled or written off): its schedule, its rules and its close of day need it."""
    import sqlalchemy as sa

    wheres = []
    if provided.get("lendstack_loan_types"):
        wheres.append(Loan.loan_type.in_(sorted(provided["lendstack_loan_types"])))
    if provided.get("lendstack_repayment_methods"):
        wheres.append(Loan.repayment_method.in_(sorted(provided["lendstack_repayment_methods"])))
    if not wheres:
        return None
    found = session.scalar(
        sa.select(Loan.id)
        .where(Loan.tenant_id == tenant.id, Loan.status.not_in(sorted(s.value for s in CLOSED)), sa.or_(*wheres))
        .limit(1)
    )
    return OPEN_LOANS_REASON if found is not None else None


def includeme(config):
    """The loans domain's labels, portal pages and their navigation."""
    route = lambda name, pattern: config.add_route(name, pattern, host_kind="tenant")  # noqa: E731
    config.add_labels(
        loan_status=".models:STATUS_LABELS",
        loan_event=".models:EVENT_LABELS",
        collateral_kind=".models:COLLATERAL_LABELS",
    )
    route("invest.index", "/invest")
    route("invest.loan", "/invest/{number}")
    route("borrow.index", "/borrow")
    route("account.loans", "/account/loans")
    route("account.bids", "/account/bids")
    route("account.bid", r"/account/bids/{bid:\d{1,9}}")  # nine digits at most: within every id column
    route("account.autoinvest", "/account/autoinvest")
    route("account.calendar", "/account/calendar")
    config.add_nav("invest", _("Invest"), "invest.index", order=20)
    config.add_nav("borrow", _("Borrow"), "borrow.index", order=30)
    config.add_nav("account.loans", _("My loans"), "account.loans", order=7, area="account")
    config.add_nav("account.bids", _("My investments"), "account.bids", order=8, area="account")
    config.add_nav("account.calendar", _("Payback calendar"), "account.calendar", order=9, area="account")
    config.add_nav("account.autoinvest", _("Auto-invest"), "account.autoinvest", order=10, area="account")
    config.include(".agreement")
    config.scan(".views")
