"""Credit applications (待處理貸款申請): created for a customer, their proposed terms checked against the product,
their schedule previewed, their guarantees and collateral recorded.

Terms are checked as the loan engine checks an application (:func:`core.loans.preview_schedule`): the amount,
term and rate within the product's bounds, a repayment method the product allows, and the APR with the
tenant's fee within the tenant's cap. Terms, guarantees and collateral change only while the application is a
draft (with its relationship manager); once submitted, the workflow decides (:mod:`.engine`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from ...domain import DomainError
from ...i18n import _
from ...loans import LoanError, positive_amount, preview_schedule
from ...money import InvalidRate, parse_rate, whole_number
from ...numbering import next_number
from .models import (
    APPLICATIONS,
    ApplicationProgress,
    ApplicationStatus,
    Collateral,
    CreditApplication,
    CreditProduct,
    Guarantee,
)

COLLATERAL_KINDS = {
    "real_estate": _("Real estate"),
    "vehicle": _("Vehicle"),
    "equipment": _("Equipment"),
    "deposit": _("Deposit or securities"),
    "receivables": _("Receivables"),
    "other": _("Other collateral"),
}


class ApplicationError(DomainError):
    """An application refused by field; nothing was changed."""


class NoSuchApplication(ApplicationError):
    """No application of this tenant has that id."""

    status = 404


def find_application(session, application_id, *, lock: bool = False) -> CreditApplication | None:
    """The session tenant's application ``application_id``, or ``None``; ``lock``: its row locked for update."""
    text = str(application_id or "")
    if not (text.isascii() and text.isdigit() and len(text) < 10):
        return None
    query = sa.select(CreditApplication).where(CreditApplication.id == int(text))
    if lock:
        # populate_existing: a row already in the session is read again under the lock, not from memory
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.scalars(query).first()


def get_application(session, tenant_id: int, application_id, *, lock: bool = False) -> CreditApplication:
    """The tenant's application ``application_id``; refused (404) when missing or another tenant's."""
    application = find_application(session, application_id, lock=lock)
    if application is None or application.tenant_id != tenant_id:
        raise NoSuchApplication("id", _("There is no such application."))
    return application


def progress_of(session, application: CreditApplication) -> ApplicationProgress:
    """Where the application is in its workflow (made with the application)."""
    return session.scalars(
        sa.select(ApplicationProgress).where(ApplicationProgress.application_id == application.id)
    ).one()


def customer_of(session, tenant_id: int, customer_id):
    """The customer (C's :func:`core.credit.customers.services.get_customer`)."""
    from ..customers.services import get_customer

    return get_customer(session, tenant_id, customer_id)


def customer_named(session, tenant_id: int, text):
    """The live customer staff named on a form: by the number the pages show (``C2612000001``) or by id."""
    from ..customers.models import Customer
    from ..customers.services import live

    text = str(text or "").strip().upper()[:20]
    if text.isdigit():
        return customer_of(session, tenant_id, text)
    found = session.scalars(
        live(sa.select(Customer)).where(Customer.tenant_id == tenant_id, Customer.number == text)
    ).first()
    return found if found is not None else customer_of(session, tenant_id, 0)


def product_for(session, application: CreditApplication) -> CreditProduct:
    return session.get(CreditProduct, application.product_id)


@dataclass(frozen=True)
class Terms:
    amount: int
    annual_rate_percent: Decimal
    term_months: int
    repayment_method: str
    purpose: str


def parse_terms(tenant, product: CreditProduct, form: Mapping) -> Terms:
    """An application's proposed terms, each within the product's bounds."""
    amount = positive_amount(form.get("amount"), tenant.currency, "amount").minor
    if not product.min_amount <= amount <= product.max_amount:
        raise ApplicationError(
            "amount", _("This product lends between ${low} and ${high}.", mapping=_range(product, tenant))
        )
    try:
        rate = parse_rate(form.get("annual_rate_percent"))
    except InvalidRate as error:
        raise ApplicationError("annual_rate_percent", error.message) from None
    if not product.min_rate_percent <= rate <= product.max_rate_percent:
        raise ApplicationError(
            "annual_rate_percent",
            _(
                "This product's annual rate is between ${low}% and ${high}%.",
                mapping={"low": str(product.min_rate_percent), "high": str(product.max_rate_percent)},
            ),
        )
    months = whole_number(form.get("term_months"))
    if months is None or not product.min_term_months <= months <= product.max_term_months:
        raise ApplicationError(
            "term_months",
            _(
                "This product's term is ${low} to ${high} months.",
                mapping={"low": product.min_term_months, "high": product.max_term_months},
            ),
        )
    method = str(form.get("repayment_method") or "")
    if method not in (product.repayment_methods or []):
        raise ApplicationError("repayment_method", _("Choose one of the repayment methods this product offers."))
    purpose = str(form.get("purpose") or "").strip()
    if len(purpose) > 500 or "\x00" in purpose:
        raise ApplicationError("purpose", _("Use at most ${n} characters.", mapping={"n": 500}))
    return Terms(amount, rate, months, method, purpose)


def _range(product, tenant) -> dict:
    from ...money import Money

    return {
        "low": str(Money(product.min_amount, tenant.currency)),
        "high": str(Money(product.max_amount, tenant.currency)),
    }


def preview(tenant, hooks, terms) -> object:
    """The schedule, the tenant's fee and the APR of ``terms`` (an application or :class:`Terms`), as the loan
    engine previews them; refused like a loan application when the APR passes the cap."""
    from ...money import Money

    try:
        return preview_schedule(
            tenant,
            hooks,
            {
                "amount": str(Money(terms.amount, tenant.currency)),
                "annual_rate_percent": str(terms.annual_rate_percent),
                "term_months": str(terms.term_months),
                "repayment_method": terms.repayment_method,
            },
        )
    except LoanError as error:
        raise ApplicationError(error.field, error.message) from None


def _check_customer(product: CreditProduct, customer) -> None:
    if not product.active:
        raise ApplicationError("product", _("This product is no longer offered."))
    if customer.kind != product.customer_kind or customer.merged_into_id is not None:
        raise ApplicationError("product", _("This product is not offered to this kind of customer."))


def create_application(
    session, tenant, hooks, *, customer, product: CreditProduct, form: Mapping, created_by: int | None
) -> CreditApplication:
    """A draft application of ``customer`` for ``product`` (``created_by``: the staff user, ``None`` from the
    member's own page), its terms checked and previewed."""
    _check_customer(product, customer)
    terms = parse_terms(tenant, product, form)
    preview(tenant, hooks, terms)
    number = f"A{tenant.business_date:%y%m}{next_number(session, tenant.id, 'credit_application'):06d}"
    application = CreditApplication(
        tenant_id=tenant.id,
        number=number,
        customer_id=customer.id,
        product_id=product.id,
        amount=terms.amount,
        currency=tenant.currency,
        annual_rate_percent=terms.annual_rate_percent,
        term_months=terms.term_months,
        repayment_method=terms.repayment_method,
        purpose=terms.purpose,
        status=APPLICATIONS.initial.value,
        created_by=created_by,
    )
    session.add(application)
    session.flush()
    session.add(ApplicationProgress(tenant_id=tenant.id, application_id=application.id))
    session.flush()
    return application


def require_draft(application: CreditApplication) -> None:
    if application.status != ApplicationStatus.DRAFT:
        raise ApplicationError("status", _("Only a draft application can be changed: return it to draft first."))


def change_terms(session, tenant, hooks, application: CreditApplication, form: Mapping) -> None:
    """New proposed terms for a draft."""
    require_draft(application)
    terms = parse_terms(tenant, product_for(session, application), form)
    preview(tenant, hooks, terms)
    application.amount, application.annual_rate_percent = terms.amount, terms.annual_rate_percent
    application.term_months, application.repayment_method = terms.term_months, terms.repayment_method
    application.purpose = terms.purpose
    session.flush()


# -- guarantees and collateral -------------------------------------------------------------------------------


def guarantees(session, application) -> list[Guarantee]:
    return list(
        session.scalars(sa.select(Guarantee).where(Guarantee.application_id == application.id).order_by(Guarantee.id))
    )


def collateral(session, application) -> list[Collateral]:
    return list(
        session.scalars(
            sa.select(Collateral).where(Collateral.application_id == application.id).order_by(Collateral.id)
        )
    )


def add_guarantee(session, tenant, application, form: Mapping) -> Guarantee:
    """A guarantor customer (another customer of the tenant) for a draft; ``amount`` empty: the whole loan."""
    require_draft(application)
    guarantor = customer_of(session, tenant.id, whole_number(form.get("guarantor_id")) or 0)
    if guarantor.id == application.customer_id:
        raise ApplicationError("guarantor_id", _("A customer cannot guarantee their own application."))
    amount = positive_amount(form["amount"], tenant.currency, "amount").minor if form.get("amount") else 0
    guarantee = Guarantee(tenant_id=tenant.id, application_id=application.id, guarantor_id=guarantor.id, amount=amount)
    session.add(guarantee)
    session.flush()
    return guarantee


def add_collateral(session, tenant, application, form: Mapping) -> Collateral:
    """Collateral pledged for a draft: its kind, a description and its appraised value."""
    require_draft(application)
    kind = str(form.get("kind") or "")
    if kind not in COLLATERAL_KINDS:
        raise ApplicationError("kind", _("Choose what the collateral is."))
    description = str(form.get("description") or "").strip()
    if not description or len(description) > 500 or "\x00" in description:
        raise ApplicationError("description", _("Describe the collateral in up to 500 characters."))
    value = positive_amount(form.get("appraised_value"), tenant.currency, "appraised_value").minor
    pledged = Collateral(
        tenant_id=tenant.id, application_id=application.id, kind=kind, description=description, appraised_value=value
    )
    session.add(pledged)
    session.flush()
    return pledged


def remove_security(session, application, kind: str, item_id) -> None:
    """Take a guarantee or a piece of collateral off a draft."""
    require_draft(application)
    model = Guarantee if kind == "guarantee" else Collateral
    item = session.scalars(
        sa.select(model).where(model.application_id == application.id, model.id == (whole_number(item_id) or 0))
    ).first()
    if item is None:
        raise ApplicationError("item", _("There is no such guarantee or collateral on this application."))
    session.delete(item)
    session.flush()


def loan_to_value(amount: int, pledged: list[Collateral]) -> Decimal | None:
    """The amount over the collateral's appraised value, in percent with 2 decimals (half-up); ``None``
    without collateral."""
    value = sum(c.appraised_value for c in pledged)
    if not value:
        return None
    return (Decimal(amount) * 100 / Decimal(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# -- lists -----------------------------------------------------------------------------------------------------


def applications_of_customer(session, customer_id: int) -> list[CreditApplication]:
    return list(
        session.scalars(
            sa.select(CreditApplication)
            .where(CreditApplication.customer_id == customer_id)
            .order_by(CreditApplication.id.desc())
        )
    )


def query_text(value, limit: int = 40) -> str:
    """A filter's text from a query string: at most ``limit`` characters, empty when it holds a NUL."""
    text = str(value or "")[:limit]
    return "" if "\x00" in text else text


def search(
    session,
    *,
    status: str = "",
    product_id: int | None = None,
    step: str = "",
    overdue: bool = False,
    now=None,
    limit: int = 200,
):
    """Applications with their progress, newest first, filtered (the status query, 審批狀態查詢)."""
    from ...db import utcnow

    query = (
        sa.select(CreditApplication, ApplicationProgress)
        .join(ApplicationProgress, ApplicationProgress.application_id == CreditApplication.id)
        .order_by(CreditApplication.id.desc())
        .limit(limit)
    )
    if status:
        query = query.where(CreditApplication.status == status)
    if product_id:
        query = query.where(CreditApplication.product_id == product_id)
    if step:
        query = query.where(ApplicationProgress.step == step)
    if overdue:
        query = query.where(
            CreditApplication.status == ApplicationStatus.IN_REVIEW, ApplicationProgress.step_due_at < (now or utcnow())
        )
    return session.execute(query).all()
