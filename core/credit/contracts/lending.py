"""The loan a credit application becomes: an ordinary :class:`core.loans.Loan` with an ``origin``.

- **Own funds**: the loan is applied for by staff for the borrower, opened for
  bidding through the loan state machine without the first review (so no
  auto-invest rule bids and it is never listed: its origin
  ``credit:own_funds:<number>`` keeps it out of every public list), funded by
  one bid of the house lender for the whole amount (freezing the lending fund)
  and disbursed by the ordinary final review — the schedule starting from the
  business date, the paybacks due to the house lender.
- **Marketplace**: the loan is applied for by staff and published by the
  ordinary first review (origin ``credit:<number>``); lenders bid; the
  ordinary final review disburses it, and the application is then marked
  disbursed (:mod:`.disbursement`).

A walk-in customer without a member record gets one here (no phone, email or
password: nobody signs in as it until it is invited), linked by
``Customer.member_id``.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from ... import loans
from ...db import utcnow
from ...i18n import _
from ...loans.models import LOANS, LoanStatus
from ...loans.rules import bid_unit, own_funds_origin
from ...members.models import Member, Verification
from ...money import Money
from ..applications.models import CreditApplication, CreditProduct
from ..customers.models import Customer
from . import fund, terms
from .errors import ContractError

LISTING_DAYS = 7  # a marketplace listing raises its money in a week, as the borrow form's default
MARKETPLACE_PREFIX = "credit:"


def marketplace_origin(application_number: str) -> str:
    """The ``origin`` of a credit application published as a P2P listing."""
    return f"{MARKETPLACE_PREFIX}{application_number}"


def borrower_member(session, tenant, customer: Customer) -> Member:
    """The customer's member record; a walk-in customer gets one that cannot sign in until invited."""
    if customer.member_id is not None:
        member = session.get(Member, customer.member_id)
        if member is not None:
            return member
    member = Member(
        tenant_id=tenant.id,
        phone=None,
        email=None,
        password_hash=fund.NO_PASSWORD,
        display_name=customer.name[:80],
        legal_name=customer.name[:80],
        id_number=customer.identifier[:40],
        # staff identified the customer when they entered it: the loan's real-name check is theirs
        verification=Verification.verified.value,
        verified_at=utcnow(),
        credit_grade=customer.grade,  # the grade its approved rating gave, as the loan pages show a member's
    )
    session.add(member)
    session.flush()
    customer.member_id = member.id
    return member


def _application_for(tenant, application: CreditApplication, product: CreditProduct, *, min_bid):
    # the product's name and the application's number (A2612000001): always the 4 to 120 characters a title needs
    title = f"{terms.product_name(product, tenant.default_locale)} {application.number}".strip()[:120]
    return loans.Application(
        loan_type=product.loan_type,
        title=title,
        amount=Money(application.amount, application.currency),
        annual_rate_percent=application.annual_rate_percent,
        term_months=application.term_months,
        repayment_method=application.repayment_method,
        fundraising_days=LISTING_DAYS,
        min_bid=Money(min(min_bid, application.amount), application.currency),
        max_bid=None,
        purpose=application.purpose or "",
        details=terms.loan_details(application),
    )


def check_fund_covers(session, tenant, application: CreditApplication) -> None:
    """Refuse an own-funds loan the lending fund cannot pay in full, or not in whole bid units."""
    held = fund.available(session, tenant)
    if held < application.amount:
        raise ContractError(
            "amount",
            _(
                "The lending fund holds ${held}; this loan needs ${amount}. Record a capital injection first.",
                mapping={
                    "held": str(Money(held, application.currency)),
                    "amount": str(Money(application.amount, application.currency)),
                },
            ),
        )


def lend_from_fund(session, tenant, hooks, application: CreditApplication, *, by: str):
    """Make, fund and disburse the own-funds loan of ``application``; the loan (repaying).

    The house lender's row is locked first, so two disbursements at once cannot both count the same money.
    """
    lender = fund.house_lender(session, tenant)
    session.execute(sa.select(Member.id).where(Member.id == lender.id).with_for_update())
    check_fund_covers(session, tenant, application)
    product = session.get(CreditProduct, application.product_id)
    customer = session.get(Customer, application.customer_id)
    borrower = borrower_member(session, tenant, customer)
    amount = Money(application.amount, application.currency)
    loan = loans.apply(
        session,
        tenant,
        hooks,
        borrower,
        _application_for(tenant, application, product, min_bid=application.amount),
        by_staff=True,
        origin=own_funds_origin(application.number),
    )
    LOANS.move(loan, LoanStatus.BIDDING)
    loan.deadline = tenant.business_date + dt.timedelta(days=1)
    loans.record(session, loan, "reviewed", by, approve=True, reason=f"credit application {application.number}")
    loans.place_bid(session, tenant, hooks, loan.id, lender, str(amount), key=f"credit:{application.id}:fund")
    loans.final_review(session, tenant, hooks, loan, approve=True, reason="", by=by)
    return loan


def publish_listing(session, tenant, hooks, application: CreditApplication, *, by: str):
    """Publish ``application`` as a P2P listing of its product's loan type, open for bids; the loan."""
    product = session.get(CreditProduct, application.product_id)
    customer = session.get(Customer, application.customer_id)
    borrower = borrower_member(session, tenant, customer)
    loan = loans.apply(
        session,
        tenant,
        hooks,
        borrower,
        _application_for(tenant, application, product, min_bid=bid_unit(tenant)),
        by_staff=True,
        origin=marketplace_origin(application.number),
    )
    loans.review(session, tenant, hooks, loan, approve=True, reason=f"credit application {application.number}", by=by)
    return loan


def application_of(session, loan) -> CreditApplication | None:
    """The credit application a loan was made for (by its ``origin``), or ``None``."""
    origin = loan.origin or ""
    if not origin.startswith(MARKETPLACE_PREFIX):
        return None
    number = origin.rsplit(":", 1)[-1]
    return session.scalars(
        sa.select(CreditApplication).where(
            CreditApplication.tenant_id == loan.tenant_id, CreditApplication.number == number
        )
    ).first()
