"""The ledger book as one select: every disbursed loan of a tenant with its customer, business type, relationship
manager and unit, maturity, and where it stands in the five-level classification.

A loan made for a credit application takes its customer and product from the application; a P2P loan without
one takes the :class:`~core.credit.customers.models.Customer` who is its borrower (when there is one, else the
member) and its loan type as its business type. A loan close of day has not classified yet (no
:class:`~core.credit.classification.models.LoanRisk` row) is ``normal``, 0 days past due, no provision, and owes
the principal its installments still ask for (paid and written-off ones aside).

Every table is filtered by the tenant here, not left to the session's scope: the exports read through a plain
connection (:func:`batches`), outside the request's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ...accounts.models import OrgUnit, StaffUser
from ...loans.models import INSTALLMENT_ENDED, Installment, Loan
from ...members.models import Member
from ..applications.models import CreditApplication, CreditProduct
from ..classification.models import CLASSES, RANK, LoanRisk, RiskClass
from ..customers.models import Customer
from .filters import BUCKETS, BookFilters

BATCH = 500
"""Rows an export reads at a time."""


@dataclass(frozen=True)
class LedgerRow:
    """One loan of the book; amounts in minor units of ``currency``."""

    loan_id: int
    number: str
    status: str
    loan_type: str
    currency: str
    amount: int
    annual_rate_percent: Decimal
    term_months: int
    disbursed_on: dt.date | None
    settled_on: dt.date | None
    maturity_on: dt.date | None
    member_id: int
    customer_id: int | None
    customer_number: str | None
    customer_name: str
    product_code: str
    credit_product: bool  # the business type is a credit product (else the P2P loan type)
    manager_id: int | None
    manager_name: str | None
    org_unit_id: int | None
    org_unit_name: str | None
    risk_class: str
    days_past_due: int
    outstanding: int
    provision_rate: str
    provision: int
    classified_on: dt.date | None

    @property
    def overdue_bucket(self) -> str:
        return bucket_of(self.days_past_due)


def bucket_of(days_past_due: int) -> str:
    """The overdue bucket (``current``, ``1-30`` … ``361+``) ``days_past_due`` falls in."""
    for code, (fewest, most) in BUCKETS.items():
        if days_past_due >= fewest and (most is None or days_past_due <= most):
            return code
    return "current"


class _Book:
    """The select's parts for one tenant: tables, aliases and the expressions filters and order read."""

    def __init__(self, tenant_id: int):
        self.tenant_id = tenant_id
        self.application = aliased(CreditApplication, name="book_application")
        self.customer = aliased(Customer, name="book_customer")
        self.manager = aliased(StaffUser, name="book_manager")
        self.unit = aliased(OrgUnit, name="book_unit")
        self.product = aliased(CreditProduct, name="book_product")
        self.member = aliased(Member, name="book_member")
        self.risk = aliased(LoanRisk, name="book_risk")
        self.joined = self._joined(tenant_id)
        self._figures()

    def _joined(self, t: int) -> sa.Select:
        """Loans with their borrower, first credit application (the only one, in practice), customer, product,
        relationship manager, unit and classification; each of the tenant."""
        first_application = (
            sa.select(CreditApplication.loan_id, sa.func.min(CreditApplication.id).label("application_id"))
            .where(CreditApplication.tenant_id == t, CreditApplication.loan_id.is_not(None))
            .group_by(CreditApplication.loan_id)
            .subquery("book_first_application")
        )
        member_customer = (
            sa.select(Customer.member_id, sa.func.min(Customer.id).label("customer_id"))
            .where(Customer.tenant_id == t, Customer.member_id.is_not(None), Customer.merged_into_id.is_(None))
            .group_by(Customer.member_id)
            .subquery("book_member_customer")
        )
        customer_id = sa.func.coalesce(self.application.customer_id, member_customer.c.customer_id)
        application, customer, manager = self.application, self.customer, self.manager
        return (
            sa.select(Loan)
            .join(self.member, sa.and_(self.member.id == Loan.borrower_id, self.member.tenant_id == t))
            .outerjoin(first_application, first_application.c.loan_id == Loan.id)
            .outerjoin(
                application, sa.and_(application.id == first_application.c.application_id, application.tenant_id == t)
            )
            .outerjoin(member_customer, member_customer.c.member_id == Loan.borrower_id)
            .outerjoin(customer, sa.and_(customer.id == customer_id, customer.tenant_id == t))
            .outerjoin(self.product, sa.and_(self.product.id == application.product_id, self.product.tenant_id == t))
            .outerjoin(manager, sa.and_(manager.id == customer.relationship_manager_id, manager.tenant_id == t))
            .outerjoin(self.unit, sa.and_(self.unit.id == manager.org_unit_id, self.unit.tenant_id == t))
            .outerjoin(self.risk, sa.and_(self.risk.loan_id == Loan.id, self.risk.tenant_id == t))
        )

    def _figures(self) -> None:
        """The expressions a line, a filter and an order read: maturity, class, days past due, amounts, names."""
        installments = sa.select(Installment).where(Installment.loan_id == Loan.id).correlate(Loan)
        self.maturity = (
            installments.with_only_columns(sa.func.max(Installment.due_date)).scalar_subquery().label("maturity_on")
        )
        still_owed = (
            installments.with_only_columns(
                sa.func.coalesce(sa.func.sum(Installment.principal - Installment.paid_principal), 0)
            )
            .where(Installment.status.not_in([s.value for s in INSTALLMENT_ENDED]))
            .scalar_subquery()
        )
        self.risk_class = sa.func.coalesce(self.risk.risk_class, RiskClass.NORMAL.value)
        self.rank = sa.case(RANK, value=self.risk_class, else_=0)
        self.days_past_due = sa.func.coalesce(self.risk.days_past_due, 0)
        self.outstanding = sa.func.coalesce(self.risk.outstanding_principal, still_owed)
        self.provision = sa.func.coalesce(self.risk.provision, 0)
        self.product_code = sa.func.coalesce(self.product.code, Loan.loan_type)
        self.customer_name = sa.func.coalesce(
            self.customer.name, sa.func.nullif(self.member.legal_name, ""), self.member.display_name
        )
        self.order = {
            "loans": (Loan.id,),
            "product": (self.product_code, Loan.id),
            "class": (self.rank, Loan.id),
        }

    def columns(self) -> list:
        return [
            Loan.id.label("loan_id"),
            Loan.number,
            Loan.status,
            Loan.loan_type,
            Loan.currency,
            Loan.amount,
            Loan.annual_rate_percent,
            Loan.term_months,
            Loan.disbursed_on,
            Loan.settled_on,
            self.maturity,
            Loan.borrower_id.label("member_id"),
            self.customer.id.label("customer_id"),
            self.customer.number.label("customer_number"),
            self.customer_name.label("customer_name"),
            self.product_code.label("product_code"),
            self.product.id.is_not(None).label("credit_product"),
            self.manager.id.label("manager_id"),
            sa.func.coalesce(sa.func.nullif(self.manager.display_name, ""), self.manager.login).label("manager_name"),
            self.unit.id.label("org_unit_id"),
            self.unit.name.label("org_unit_name"),
            self.risk_class.label("risk_class"),
            self.days_past_due.label("days_past_due"),
            self.outstanding.label("outstanding"),
            sa.func.coalesce(self.risk.provision_rate, "0").label("provision_rate"),
            self.provision.label("provision"),
            self.risk.classified_on.label("classified_on"),
        ]

    def conditions(self, f: BookFilters) -> list:
        found = [Loan.tenant_id == self.tenant_id, Loan.status.in_(f.statuses)]
        if f.customer:
            needle = f.customer.lower()
            found.append(
                sa.or_(
                    *(
                        sa.func.lower(column).contains(needle, autoescape=True)
                        for column in (
                            self.customer.name,
                            self.customer.number,
                            self.member.legal_name,
                            self.member.display_name,
                        )
                    )
                )
            )
        if f.product:
            found.append(self.product_code == f.product)
        if f.org_unit is not None:
            found.append(self.manager.org_unit_id.in_(sorted(f.org_units)))
        if f.manager is not None:
            found.append(self.customer.relationship_manager_id == f.manager)
        if f.risk_class:
            found.append(self.risk_class == f.risk_class)
        if f.overdue:
            fewest, most = BUCKETS[f.overdue]
            found.append(self.days_past_due >= fewest)
            if most is not None:
                found.append(self.days_past_due <= most)
        for column, start, end in (
            (Loan.disbursed_on, f.disbursed_from, f.disbursed_to),
            (self.maturity, f.maturity_from, f.maturity_to),
        ):
            if start is not None:
                found.append(column >= start)
            if end is not None:
                found.append(column <= end)
        return found

    def select(self, f: BookFilters) -> sa.Select:
        return self.joined.with_only_columns(*self.columns()).where(*self.conditions(f))


def _row(mapping) -> LedgerRow:
    values = dict(mapping)
    for name in ("amount", "days_past_due", "outstanding", "provision"):
        values[name] = int(values[name] or 0)  # PostgreSQL sums a BIGINT to a NUMERIC
    values["credit_product"] = bool(values["credit_product"])
    values["provision_rate"] = str(values["provision_rate"])
    return LedgerRow(**values)


def page_of(session, tenant_id: int, filters: BookFilters, *, page: int, per_page: int) -> list[LedgerRow]:
    """One page of the book, in the book's order."""
    book = _Book(tenant_id)
    query = book.select(filters).order_by(*book.order[filters.book]).limit(per_page).offset((page - 1) * per_page)
    return [_row(r) for r in session.execute(query).mappings()]


@dataclass(frozen=True)
class Total:
    """How many loans, what they still owe and what is provided for them (minor units)."""

    count: int = 0
    outstanding: int = 0
    provision: int = 0

    def __add__(self, other: "Total") -> "Total":
        return Total(self.count + other.count, self.outstanding + other.outstanding, self.provision + other.provision)


@dataclass(frozen=True)
class Totals:
    """The book's totals: by class (every class, in order of risk), by business type, and overall."""

    by_class: dict[str, Total]
    by_product: dict[str, Total]
    overall: Total


def _grouped(session, selected, key) -> dict[str, Total]:
    query = sa.select(
        key, sa.func.count(), sa.func.sum(selected.c.outstanding), sa.func.sum(selected.c.provision)
    ).group_by(key)
    return {k: Total(int(n), int(o or 0), int(p or 0)) for k, n, o, p in session.execute(query)}


def totals(session, tenant_id: int, filters: BookFilters) -> Totals:
    """Count, outstanding principal and provision of every loan the filters keep, by class and business type."""
    selected = _Book(tenant_id).select(filters).subquery("book_rows")
    classes = _grouped(session, selected, selected.c.risk_class)
    by_class = {c.value: classes.get(c.value, Total()) for c in CLASSES}
    by_product = dict(sorted(_grouped(session, selected, selected.c.product_code).items()))
    return Totals(by_class, by_product, sum(by_class.values(), Total()))


def batches(connect: Callable, tenant_id: int, filters: BookFilters, size: int | None = None) -> Iterator[LedgerRow]:
    """Every row of the book in its order, read ``size`` (:data:`BATCH`) rows at a time after the last one read.

    ``connect`` gives a connection (``engine.connect``); each batch is its own short transaction, so a
    download that takes minutes holds nothing for that long (SQLite begins every transaction with the write
    lock). A loan close of day reclassifies while a book by class is read may be found in its new class too.
    """
    size = size or BATCH
    book = _Book(tenant_id)
    order = book.order[filters.book]
    base = book.select(filters).add_columns(*(key.label(f"book_key_{n}") for n, key in enumerate(order)))
    last = None
    while True:
        query = base if last is None else base.where(sa.tuple_(*order) > sa.tuple_(*last))
        with connect() as connection:
            found = connection.execute(query.order_by(*order).limit(size)).mappings().all()
        for mapping in found:
            yield _row({k: v for k, v in mapping.items() if not k.startswith("book_key_")})
        if len(found) < size:
            return
        last = [sa.literal(found[-1][f"book_key_{n}"]) for n in range(len(order))]
