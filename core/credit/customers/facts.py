"""What is known about a customer, as named facts: the inputs of rating scorecards (core.credit.rating).

:data:`FACTS` maps each fact's code to a :class:`Fact`: its label, the customer kind it applies to, its
unit and how its value is read. A value is a ``Decimal`` (a number a scorecard bands), a ``str`` (a
choice, such as the marital status) or ``None`` when unknown or meaningless (no income to divide by, no
annual statement yet). Units:

- ``years``, ``count``: whole numbers; ``flag``: 1 (yes) or 0 (no);
- ``money``: major units of the tenant's currency (``Decimal("15000.00")``);
- ``percent``: percent with 2 decimals (``Decimal("35.50")`` is 35.5 %); ``ratio``: 2 decimals;
- ``text``: a code (``married``, an industry section letter).

Corporate facts other than the registration come from the company's latest **annual** statement (by
period end); ratios are computed as :mod:`.ratios` says. Ages and years count whole years to the tenant's
business date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from ...i18n import _
from ...money import Money
from .models import CustomerKind, FinancialStatement, PeriodKind
from .ratios import divided, ratios

Value = Decimal | str | None


@dataclass(frozen=True)
class Fact:
    """One fact: ``code``, translatable ``label``, ``kind`` (individual | corporate), ``unit``."""

    code: str
    label: object
    kind: str
    unit: str
    read: Callable[[object, object], Value]

    def value(self, session, customer) -> Value:
        """The fact's value for ``customer`` (of this fact's kind)."""
        return self.read(session, customer)


def _tenant(session, customer):
    from ...tenancy.models import Tenant

    return session.get(Tenant, customer.tenant_id)


def _money(session, customer, minor: int | None) -> Decimal | None:
    return None if minor is None else Money(minor, _tenant(session, customer).currency).amount


def whole_years(start: dt.date | None, end: dt.date) -> Decimal | None:
    """Whole years from ``start`` to ``end`` (a birthday not yet reached this year is not counted)."""
    if start is None or start > end:
        return None
    return Decimal(end.year - start.year - ((end.month, end.day) < (start.month, start.day)))


def latest_annual_statement(session, customer) -> FinancialStatement | None:
    """The company's annual statement with the latest period end, or ``None``."""
    return session.scalars(
        sa.select(FinancialStatement)
        .where(
            FinancialStatement.tenant_id == customer.tenant_id,
            FinancialStatement.customer_id == customer.id,
            FinancialStatement.period_kind == PeriodKind.ANNUAL.value,
        )
        .order_by(FinancialStatement.period_end.desc())
    ).first()


def overdue_count(session, customer) -> Decimal:
    """Overdue installments now on the loans of the customer's member (0 for a walk-in)."""
    from ...loans.models import Installment, InstallmentStatus, Loan

    if customer.member_id is None:
        return Decimal(0)
    found = session.scalar(
        sa.select(sa.func.count())
        .select_from(Installment)
        .join(Loan, Loan.id == Installment.loan_id)
        .where(
            Loan.tenant_id == customer.tenant_id,
            Loan.borrower_id == customer.member_id,
            Installment.status == InstallmentStatus.OVERDUE.value,
        )
    )
    return Decimal(found or 0)


def _individual(read: Callable) -> Callable:
    return lambda session, customer: read(session, customer, customer.individual) if customer.individual else None


def _company(read: Callable) -> Callable:
    return lambda session, customer: read(session, customer, customer.corporate) if customer.corporate else None


def _ratio(code: str) -> Callable:
    def read(session, customer):
        statement = latest_annual_statement(session, customer)
        return None if statement is None else ratios(statement)[code]

    return read


def _statement_money(line: str) -> Callable:
    def read(session, customer):
        statement = latest_annual_statement(session, customer)
        return None if statement is None else _money(session, customer, getattr(statement, line))

    return read


I, C = CustomerKind.INDIVIDUAL.value, CustomerKind.CORPORATE.value

_ALL = (
    Fact(
        "age",
        _("Age"),
        I,
        "years",
        _individual(lambda s, c, p: whole_years(p.birth_date, _tenant(s, c).business_date)),
    ),
    Fact(
        "monthly_income", _("Monthly income"), I, "money", _individual(lambda s, c, p: _money(s, c, p.monthly_income))
    ),
    Fact(
        "employment_years",
        _("Years with the employer"),
        I,
        "years",
        _individual(lambda s, c, p: Decimal(p.employment_years)),
    ),
    Fact(
        "debt_to_income",
        _("Debt payments to income"),
        I,
        "percent",
        _individual(lambda s, c, p: divided(p.monthly_debt_payments, p.monthly_income, 100)),
    ),
    Fact(
        "assets_to_liabilities",
        _("Assets to liabilities"),
        I,
        "ratio",
        _individual(lambda s, c, p: divided(p.total_assets, p.total_liabilities)),
    ),
    Fact(
        "has_property",
        _("Owns property"),
        I,
        "flag",
        _individual(lambda s, c, p: Decimal(1 if p.property_count > 0 or p.property_value > 0 else 0)),
    ),
    Fact("overdue_count", _("Overdue installments"), I, "count", overdue_count),
    Fact("dependants", _("Dependants"), I, "count", _individual(lambda s, c, p: Decimal(p.dependants))),
    Fact("marital_status", _("Marital status"), I, "text", _individual(lambda s, c, p: p.marital_status or None)),
    Fact("total_assets", _("Total assets"), I, "money", _individual(lambda s, c, p: _money(s, c, p.total_assets))),
    Fact(
        "monthly_debt_payments",
        _("Monthly debt payments"),
        I,
        "money",
        _individual(lambda s, c, p: _money(s, c, p.monthly_debt_payments)),
    ),
    Fact("current_ratio", _("Current ratio"), C, "ratio", _ratio("current_ratio")),
    Fact("quick_ratio", _("Quick ratio"), C, "ratio", _ratio("quick_ratio")),
    Fact("debt_to_assets", _("Debt to assets"), C, "percent", _ratio("debt_to_assets")),
    Fact("roe", _("Return on equity"), C, "percent", _ratio("roe")),
    Fact("net_margin", _("Net margin"), C, "percent", _ratio("net_margin")),
    Fact("interest_coverage", _("Interest coverage"), C, "ratio", _ratio("interest_coverage")),
    Fact(
        "years_in_business",
        _("Years in business"),
        C,
        "years",
        _company(lambda s, c, p: whole_years(p.established_on, _tenant(s, c).business_date)),
    ),
    Fact(
        "registered_capital",
        _("Registered capital"),
        C,
        "money",
        _company(lambda s, c, p: _money(s, c, p.registered_capital)),
    ),
    Fact("revenue", _("Revenue"), C, "money", _statement_money("revenue")),
    Fact("net_profit", _("Net profit"), C, "money", _statement_money("net_profit")),
    Fact("industry", _("Industry"), C, "text", _company(lambda s, c, p: p.industry or None)),
)

FACTS: dict[str, Fact] = {fact.code: fact for fact in _ALL}
"""Every fact by code, individuals' first."""


def customer_facts(session, customer) -> dict[str, Value]:
    """Every fact of the customer's kind by code, with its value now."""
    return {code: fact.value(session, customer) for code, fact in FACTS.items() if fact.kind == customer.kind}
