"""Applying for a loan (借款項目申請): the application checked by core and by its loan type, and the
preview of what it would cost."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa

from ..i18n import _
from ..loan_types import LoanApplication, loan_types
from ..members.models import Member
from ..money import InvalidRate, Money, parse_rate, whole_number
from ..numbering import next_number
from ..schedules import LoanTerms, ScheduleError, repayment_methods
from . import cost, guarantors
from .errors import LoanError, bounded_text, positive_amount
from .models import Loan
from .records import record
from .standing import borrower_profile


def _terms(tenant, form: dict) -> tuple[Money, Decimal, int]:
    """An application's amount, annual rate and term in months, parsed (not yet bounded)."""
    amount = positive_amount(form.get("amount"), tenant.currency, "amount")
    try:
        rate = parse_rate(form.get("annual_rate_percent"))
    except InvalidRate as error:
        raise LoanError("annual_rate_percent", error.message) from None
    months = whole_number(form.get("term_months"))
    if months is None:
        raise LoanError("term_months", _("Enter a whole number."))
    return amount, rate, months


def _schedule(tenant, method, amount: Money, rate: Decimal, months: int):
    try:
        return method.schedule(
            LoanTerms(
                amount, rate, months, "month", tenant.business_date, max_rate_percent=tenant.max_annual_rate_percent
            )
        )
    except ScheduleError as error:
        raise LoanError(error.field, error.message) from None


@dataclass(frozen=True)
class Preview:
    """What an application would cost: its schedule, the fee as the tenant charges it, and the APR."""

    schedule: object
    charges: cost.Charges
    apr: Decimal | None

    @property
    def rows(self):
        """(installment, service fee) per period."""
        return tuple(zip(self.schedule.installments, self.charges.per_period))

    @property
    def total_payment(self) -> int:
        return self.schedule.total_payment + sum(self.charges.per_period) + self.charges.at_start


def _costed(tenant, amount: Money, schedule) -> Preview:
    """The schedule with the tenant's fee and its APR; refused when the APR passes the tenant's cap."""
    charged = cost.charges(tenant, amount.minor, len(schedule.installments))
    apr = cost.apr_percent(tenant.business_date, schedule.installments, charged)
    cap = tenant.max_annual_rate_percent
    if apr is None or apr > cap:
        raise LoanError(
            "annual_rate_percent",
            _(
                "With the platform's fee the annual cost (APR) would be ${apr}%, above this site's cap of ${cap}%.",
                mapping={"apr": str(apr) if apr is not None else "—", "cap": str(cap)},
            ),
        )
    return Preview(schedule, charged, apr)


def preview_schedule(tenant, hooks, form: dict) -> Preview:
    """The schedule, fee and APR an application's amount, rate, term and method would have (nothing is
    saved); refused like the application when the rate or the APR passes the tenant's cap."""
    amount, rate, months = _terms(tenant, form)
    method = repayment_methods(hooks).get(form.get("repayment_method", ""))
    if method is None:
        raise LoanError("repayment_method", _("Choose one of the repayment methods offered for this loan type."))
    return _costed(tenant, amount, _schedule(tenant, method, amount, rate, months))


COLLATERAL_FIELDS = ("collateral_kind", "collateral_description", "appraised_value")


@dataclass(frozen=True)
class Application:
    """An application as typed values (parsed from a form or a JSON body by :func:`parse_application`);
    ``details`` keeps the loan type's own fields (collateral, guarantor) as the person gave them."""

    loan_type: str
    title: str
    amount: Money
    annual_rate_percent: Decimal
    term_months: int
    repayment_method: str
    fundraising_days: int
    min_bid: Money
    max_bid: Money | None
    purpose: str = ""
    details: Mapping[str, str] = field(default_factory=dict)


def require_verified(borrower: Member) -> None:
    """Refuse a borrower without real-name verification (said before any of the form's own refusals)."""
    if not borrower.is_verified:
        raise LoanError("amount", _("Complete real-name verification before borrowing."))


def parse_application(tenant, given: Mapping) -> Application:
    """The values of an application form or JSON body, parsed by the input contract; refused by field."""
    title = str(given.get("title") or "").strip()
    if not 4 <= len(title) <= 120:
        raise LoanError("title", _("Give the loan a title of 4 to 120 characters."))
    amount, rate, months = _terms(tenant, given)
    days = whole_number(given.get("fundraising_days") or "7")
    if days is None:
        raise LoanError("fundraising_days", _("Raise the money in 1 to 60 days."))
    min_bid = positive_amount(given.get("min_bid") or "50", tenant.currency, "min_bid")
    max_bid = positive_amount(given["max_bid"], tenant.currency, "max_bid") if given.get("max_bid") else None
    details = {k: bounded_text(given, k, 500) for k in COLLATERAL_FIELDS if given.get(k)}
    if given.get("guarantor_id") not in (None, ""):
        details["guarantor_id"] = str(given["guarantor_id"])
    return Application(
        loan_type=str(given.get("loan_type") or ""),
        title=title,
        amount=amount,
        annual_rate_percent=rate,
        term_months=months,
        repayment_method=str(given.get("repayment_method") or ""),
        fundraising_days=days,
        min_bid=min_bid,
        max_bid=max_bid,
        purpose=bounded_text(given, "purpose", 500),
        details=details,
    )


def apply(
    session,
    tenant,
    hooks,
    borrower: Member,
    application: Application | Mapping,
    *,
    by_staff: bool = False,
    origin: str | None = None,
) -> Loan:
    """A borrower's application (借款項目申請), checked by core and by the loan type's rules.

    ``application``: an :class:`Application` (pages and the API parse their input first); a mapping of
    the form's fields is parsed here (scripts and the demo seed). ``by_staff``: staff submit it for the
    borrower (the only way for a ``staff_only`` type such as instant loans). ``origin``: the credit
    application the loan is made for (``core.credit``); its approval stands for the rules on the borrower's
    standing (credit line, net assets), so the loan type checks only its own bounds.
    """
    # The borrower's row lock is held until the loan is saved: two applications at once would both see
    # room in the credit line (or the net assets) and together pass it.
    session.execute(sa.select(Member.id).where(Member.id == borrower.id).with_for_update())
    require_verified(borrower)
    if not isinstance(application, Application):
        application = parse_application(tenant, application)
    loan_type = loan_types(hooks).get(application.loan_type)
    if loan_type is None or (loan_type.staff_only and not by_staff):
        raise LoanError("loan_type", _("Choose one of the loan types offered."))
    amount, rate, months = application.amount, application.annual_rate_percent, application.term_months
    method_code = application.repayment_method
    if method_code not in loan_type.allowed_methods(list(repayment_methods(hooks))):
        raise LoanError("repayment_method", _("Choose one of the repayment methods offered for this loan type."))
    _costed(tenant, amount, _schedule(tenant, repayment_methods(hooks)[method_code], amount, rate, months))
    days = application.fundraising_days
    if not 1 <= days <= 60:
        raise LoanError("fundraising_days", _("Raise the money in 1 to 60 days."))
    min_bid, max_bid = application.min_bid, application.max_bid
    if min_bid.minor > amount.minor or (max_bid is not None and max_bid.minor < min_bid.minor):
        raise LoanError("min_bid", _("The minimum bid must be within the amount and below the maximum bid."))
    details = dict(application.details)
    profile = None if origin else borrower_profile(session, tenant, borrower)
    violations = loan_type.check_application(LoanApplication(amount, months, method_code, details, profile))
    if violations:
        raise LoanError(violations[0].field, violations[0].message)
    type_data = {k: v for k, v in details.items() if k in COLLATERAL_FIELDS} if loan_type.holds_collateral else {}
    title, purpose = application.title, application.purpose
    if loan_type.needs_guarantor:
        type_data["guarantor_id"] = str(guarantors.check(session, tenant, details, amount).id)
        type_data["guarantee"] = "pending"
    number = f"L{tenant.business_date:%y%m}{next_number(session, tenant.id, 'loan'):05d}"  # last: a short lock
    loan = Loan(
        tenant_id=tenant.id,
        number=number,
        borrower_id=borrower.id,
        type_data=type_data,
        loan_type=loan_type.code,
        title=title,
        purpose=purpose,
        amount=amount.minor,
        currency=amount.currency,
        annual_rate_percent=rate,
        term_months=months,
        repayment_method=method_code,
        min_bid=min_bid.minor,
        max_bid=max_bid.minor if max_bid else None,
        fundraising_days=days,
        origin=origin,
    )
    session.add(loan)
    session.flush()
    record(session, loan, "submitted", f"member:{borrower.id}", amount=loan.amount)
    return loan
