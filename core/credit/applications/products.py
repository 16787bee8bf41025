"""Credit products (貸款業務種類): what a customer may apply for, on which terms, funded how.

A product's fee is the tenant's own fee rule (``[lending] borrower_fee_percent`` and ``borrower_fee_mode``,
:mod:`core.loans.cost`), shown in every schedule preview and counted in the APR: products add no second fee
model. Its rate range stays within the tenant's cap; its repayment methods and loan type are among the tenant's
enabled plugins; its workflow is one of the tenant's approval workflows.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import sqlalchemy as sa

from ...domain import DomainError
from ...i18n import _
from ...loan_types import loan_types
from ...money import InvalidRate, MoneyError, parse_amount, parse_rate, whole_number
from ...schedules import repayment_methods
from .models import CreditProduct, FundingSource
from .workflows import CODE, CUSTOMER_KINDS, latest

DOCUMENT_TYPES = {
    "id_card": _("Identity card"),
    "income_proof": _("Proof of income"),
    "bank_statement": _("Bank statement"),
    "business_licence": _("Business licence"),
    "financial_statements": _("Financial statements"),
    "collateral_title": _("Collateral title deed"),
    "guarantee_letter": _("Guarantee letter"),
    "other": _("Other document"),
}
"""The kinds of supporting document (申請輔助資料) a product may require and staff may upload."""

FUNDING_LABELS = {FundingSource.OWN_FUNDS: _("Own funds"), FundingSource.MARKETPLACE: _("Marketplace listing")}
KIND_LABELS = {"individual": _("Individual"), "corporate": _("Corporate")}


class ProductError(DomainError):
    """A product refused by field; nothing was saved."""


def product_name(product: CreditProduct, locale: str) -> str:
    """The product's name in ``locale``, else in any language it has, else its code."""
    names = product.names or {}
    return names.get(locale) or next((n for n in names.values() if n), product.code)


def products(session, *, active_only: bool = False) -> list[CreditProduct]:
    query = sa.select(CreditProduct).order_by(CreditProduct.code)
    if active_only:
        query = query.where(CreditProduct.active.is_(True))
    return list(session.scalars(query))


def product_of(session, product_id, tenant_id: int | None = None) -> CreditProduct | None:
    """The product ``product_id`` (a code or an id) of ``tenant_id``, else of the session's tenant, or ``None``."""
    text = str(product_id or "")
    if "\x00" in text:  # PostgreSQL refuses NUL in text: no product has it
        return None
    if text.isascii() and text.isdigit() and len(text) < 10:
        query = sa.select(CreditProduct).where(CreditProduct.id == int(text))
    else:
        query = sa.select(CreditProduct).where(CreditProduct.code == text[:40])
    if tenant_id is not None:
        query = query.where(CreditProduct.tenant_id == tenant_id)
    return session.scalars(query).first()


def offered_to_members(session) -> list[CreditProduct]:
    return [p for p in products(session, active_only=True) if p.offered_to_members]


def _amount(form, key: str, currency: str) -> int:
    try:
        minor = parse_amount(str(form.get(key) or ""), currency, form=True).minor
    except MoneyError:
        minor = 0
    if minor <= 0:
        raise ProductError(key, _("Give an amount above zero, like 50000.00."))
    return minor


def _rate(form, key: str) -> Decimal:
    try:
        return parse_rate(form.get(key))
    except InvalidRate as error:
        raise ProductError(key, error.message) from None


def _months(form, key: str) -> int:
    months = whole_number(form.get(key))
    if months is None or not 1 <= months <= 480:
        raise ProductError(key, _("Give a term of 1 to 480 months."))
    return months


def _chosen(form, key: str) -> list[str]:
    getall = getattr(form, "getall", None)
    values = getall(key) if getall else form.get(key) or []
    return [str(v) for v in ([values] if isinstance(values, str) else values)]


def _bounds(tenant, form) -> dict:
    values = {
        "min_amount": _amount(form, "min_amount", tenant.currency),
        "max_amount": _amount(form, "max_amount", tenant.currency),
        "min_term_months": _months(form, "min_term_months"),
        "max_term_months": _months(form, "max_term_months"),
        "min_rate_percent": _rate(form, "min_rate_percent"),
        "max_rate_percent": _rate(form, "max_rate_percent"),
    }
    if values["min_amount"] > values["max_amount"]:
        raise ProductError("max_amount", _("The largest amount must not be below the smallest."))
    if values["min_term_months"] > values["max_term_months"]:
        raise ProductError("max_term_months", _("The longest term must not be below the shortest."))
    if values["min_rate_percent"] > values["max_rate_percent"]:
        raise ProductError("max_rate_percent", _("The highest rate must not be below the lowest."))
    cap = tenant.max_annual_rate_percent
    if values["max_rate_percent"] > cap:
        raise ProductError(
            "max_rate_percent",
            _("The highest rate must be within this site's cap of ${cap}%.", mapping={"cap": str(cap)}),
        )
    return values


def parse_product(session, tenant, hooks, form: Mapping, product: CreditProduct | None = None) -> dict:
    """A product form's (or JSON body's) values, checked field by field."""
    code = product.code if product is not None else str(form.get("code") or "").strip()
    if product is None:
        if not CODE.match(code):
            raise ProductError(
                "code", _("A code is 1–40 lowercase letters, digits or underscores, starting with a letter.")
            )
        if product_of(session, code, tenant.id) is not None:
            raise ProductError("code", _("A product with this code exists already."))
    names = {loc: str(form.get(f"name_{loc}") or "").replace("\x00", "").strip()[:120] for loc in tenant.locales}
    names = {loc: name for loc, name in names.items() if name}
    if tenant.default_locale not in names:
        raise ProductError(f"name_{tenant.default_locale}", _("Name the product in the site's main language."))
    if form.get("customer_kind") not in CUSTOMER_KINDS:
        raise ProductError("customer_kind", _("Choose individual or corporate customers."))
    if form.get("funding_source") not in tuple(FundingSource):
        raise ProductError("funding_source", _("Choose own funds or a marketplace listing."))
    if form.get("loan_type") not in loan_types(hooks):
        raise ProductError("loan_type", _("Choose one of the loan types enabled on this site."))
    methods = _chosen(form, "repayment_methods")
    enabled = repayment_methods(hooks)
    if not methods or any(m not in enabled for m in methods):
        raise ProductError("repayment_methods", _("Choose at least one of the repayment methods enabled on this site."))
    documents = _chosen(form, "required_documents")
    if any(d not in DOCUMENT_TYPES for d in documents):
        raise ProductError("required_documents", _("Choose among the document types listed."))
    workflow_code = str(form.get("workflow_code") or "")
    if latest(session, workflow_code, tenant.id) is None:
        raise ProductError("workflow_code", _("Choose one of the approval workflows."))
    return {
        "code": code,
        "names": names,
        "customer_kind": form["customer_kind"],
        "funding_source": form["funding_source"],
        "loan_type": form["loan_type"],
        "repayment_methods": [m for m in enabled if m in methods],
        "required_documents": [d for d in DOCUMENT_TYPES if d in documents],
        "workflow_code": workflow_code,
        "offered_to_members": _flag(form.get("offered_to_members")),
        "active": _flag(form.get("active", "on" if product is None else "")),
        **_bounds(tenant, form),
    }


def _flag(value) -> bool:
    return value in (True, "on", "1", "true", "yes")


def save_product(session, tenant, hooks, form: Mapping, product: CreditProduct | None = None) -> CreditProduct:
    """Create a product, or change ``product`` (its code stays)."""
    values = parse_product(session, tenant, hooks, form, product)
    if product is None:
        product = CreditProduct(tenant_id=tenant.id, **values)
        session.add(product)
    else:
        for key, value in values.items():
            setattr(product, key, value)
    session.flush()
    return product


def product_facts(product: CreditProduct) -> dict:
    """What the audit log records of a product."""
    return {
        "names": dict(product.names or {}),
        "customer_kind": product.customer_kind,
        "funding_source": product.funding_source,
        "loan_type": product.loan_type,
        "amount": [product.min_amount, product.max_amount],
        "term_months": [product.min_term_months, product.max_term_months],
        "rate_percent": [str(product.min_rate_percent), str(product.max_rate_percent)],
        "repayment_methods": list(product.repayment_methods or []),
        "required_documents": list(product.required_documents or []),
        "workflow_code": product.workflow_code,
        "offered_to_members": product.offered_to_members,
        "active": product.active,
    }


def product_form(product: CreditProduct, currency: str) -> dict:
    """A product as its edit form shows it."""
    from ...money import Money

    form = {f"name_{loc}": name for loc, name in (product.names or {}).items()}
    form.update(
        code=product.code,
        customer_kind=product.customer_kind,
        funding_source=product.funding_source,
        loan_type=product.loan_type,
        min_amount=str(Money(product.min_amount, currency)),
        max_amount=str(Money(product.max_amount, currency)),
        min_term_months=str(product.min_term_months),
        max_term_months=str(product.max_term_months),
        min_rate_percent=str(product.min_rate_percent),
        max_rate_percent=str(product.max_rate_percent),
        repayment_methods=list(product.repayment_methods or []),
        required_documents=list(product.required_documents or []),
        workflow_code=product.workflow_code,
        offered_to_members="on" if product.offered_to_members else "",
        active="on" if product.active else "",
    )
    return form
