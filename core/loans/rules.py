"""The tenant's lending rules the lifecycle reads: its ``[lending]`` numbers, credit grades, the bid unit,
partial funding — and which loans the public may see."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from ..money import Money
from .models import STATUSES, Loan

# Credit grades (信用等級), best first: staff grade a member with the credit line; lenders filter on them.
GRADES = ("AA", "A", "B", "C", "D", "E", "HR")

# A loan is public (the portal's pages, the API's list and loan) once the first review published it;
# an application waiting for review, or rejected, is seen only by its borrower and staff.
PUBLIC_STATUSES = tuple(status for status in STATUSES if status not in ("submitted", "rejected"))


def lending_number(tenant, key: str, default: str) -> Decimal:
    """A number from the tenant's ``[lending]`` settings (``default`` when it sets none)."""
    return Decimal(str((tenant.lending or {}).get(key, default)))


def percent_of(minor: int, percent: Decimal) -> int:
    """``percent`` of ``minor`` units, rounded half-up to a whole minor unit (the fees' rounding)."""
    return int((Decimal(minor) * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def grade_at_least(grade: str | None, minimum: str | None) -> bool:
    """Whether ``grade`` is ``minimum`` or better (no minimum: any grade, even none)."""
    if not minimum:
        return True
    return grade in GRADES and GRADES.index(grade) <= GRADES.index(minimum)


def bid_unit(tenant) -> int:
    """The tenant's bid unit in minor units: every bid is a multiple of it (default 50)."""
    return Money.parse(str((tenant.lending or {}).get("bid_unit", "50")), tenant.currency).minor


def partial_funding(tenant) -> int | None:
    """The share of a loan (percent) its borrower may accept when not fully funded; ``None``: not allowed."""
    lending = tenant.lending or {}
    if str(lending.get("allow_partial_funding", "false")).lower() not in ("true", "1", "yes", "on"):
        return None
    return int(lending_number(tenant, "partial_funding_min_percent", "50"))


# A loan the tenant lends from its own lending fund (the credit system's own-funds disbursement) is not a
# listing: its only bid is the house lender's, so it is never shown to the public nor bid on automatically.
OWN_FUNDS_ORIGIN = "credit:own_funds:"


def own_funds_origin(application_number: str) -> str:
    """The ``origin`` of a loan lent from the tenant's lending fund for a credit application."""
    return f"{OWN_FUNDS_ORIGIN}{application_number}"


def lent_from_own_funds(loan: Loan) -> bool:
    """Whether ``loan`` is lent from the tenant's own funds (see :data:`OWN_FUNDS_ORIGIN`)."""
    return (loan.origin or "").startswith(OWN_FUNDS_ORIGIN)


def _listed():
    """The SQL condition of a loan that is a listing (not lent from the tenant's own funds)."""
    return sa.or_(Loan.origin.is_(None), sa.not_(Loan.origin.startswith(OWN_FUNDS_ORIGIN, autoescape=True)))


def is_public(loan: Loan) -> bool:
    """Whether anyone may see ``loan`` (see :data:`PUBLIC_STATUSES`; never a loan lent from own funds)."""
    return loan.status in PUBLIC_STATUSES and not lent_from_own_funds(loan)


def auto_invest_target(loan: Loan) -> bool:
    """Whether lenders' auto-invest rules may bid on ``loan``: an open listing, not lent from own funds."""
    return loan.status == "bidding" and not lent_from_own_funds(loan)


def public_loans(*where) -> sa.Select:
    """A select of the public loans (see :data:`PUBLIC_STATUSES`; never those lent from own funds) matching
    ``where``."""
    return sa.select(Loan).where(Loan.status.in_(PUBLIC_STATUSES), _listed(), *where)
