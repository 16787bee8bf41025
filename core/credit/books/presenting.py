"""The books as JSON (the API's body and the command's file): codes and ISO dates, amounts as decimal strings in
major units (``"1234.50"``), rates as percent strings."""

from __future__ import annotations

from ...money import Money
from .query import LedgerRow, Total, Totals
from .wording import Wording


def _day(value) -> str | None:
    return value.isoformat() if value is not None else None


def row_json(row: LedgerRow, words: Wording) -> dict:
    """One loan of the book."""
    money = lambda minor: str(Money(minor, row.currency))  # noqa: E731
    return {
        "loan_id": row.loan_id,
        "number": row.number,
        "status": row.status,
        "customer_id": row.customer_id,
        "customer_number": row.customer_number,
        "customer_name": row.customer_name or "",
        "member_id": row.member_id,
        "product_code": row.product_code,
        "product_name": words.product_of(row),
        "loan_type": row.loan_type,
        "org_unit_id": row.org_unit_id,
        "org_unit": row.org_unit_name,
        "manager_id": row.manager_id,
        "relationship_manager": row.manager_name,
        "amount": money(row.amount),
        "currency": row.currency,
        "annual_rate_percent": str(row.annual_rate_percent),
        "term_months": row.term_months,
        "disbursed_on": _day(row.disbursed_on),
        "maturity_on": _day(row.maturity_on),
        "settled_on": _day(row.settled_on),
        "outstanding_principal": money(row.outstanding),
        "days_past_due": row.days_past_due,
        "overdue_bucket": row.overdue_bucket,
        "risk_class": row.risk_class,
        "provision_rate": row.provision_rate,
        "provision": money(row.provision),
        "classified_on": _day(row.classified_on),
    }


def _total(total: Total, currency: str) -> dict:
    return {
        "count": total.count,
        "outstanding_principal": str(Money(total.outstanding, currency)),
        "provision": str(Money(total.provision, currency)),
    }


def totals_json(totals: Totals, words: Wording, currency: str) -> dict:
    """Count, outstanding principal and provision overall, by class (all five, in order of risk) and by
    business type (in code order)."""
    return {
        "currency": currency,
        **_total(totals.overall, currency),
        "by_class": [{"risk_class": code, **_total(total, currency)} for code, total in totals.by_class.items()],
        "by_product": [
            {"product_code": code, "product_name": words.product(code), **_total(total, currency)}
            for code, total in totals.by_product.items()
        ],
    }
