"""How the books name stored values in the reader's language: classes, statuses, overdue buckets, business types.

A page, an export and the command each build one :class:`Wording` (a request's localizer and hooks, or the
command's), so a file's headers and words are those of whoever asked for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from ...accounts.models import OrgUnit, StaffUser
from ...i18n import _
from ...loan_types import loan_types
from ...loans.models import STATUS_LABELS
from ..applications.models import CreditProduct
from ..applications.products import product_name
from ..classification.models import CLASS_LABELS
from .filters import BUCKET_LABELS, BookFilters
from .filters import STATUS_LABELS as CHOICE_LABELS
from .query import LedgerRow

BOOK_LABELS = {"loans": _("Every loan"), "product": _("By business type"), "class": _("By five-level class")}
FILTER_LABELS = {
    "book": _("Book"),
    "customer": _("Customer"),
    "product": _("Business type"),
    "org_unit": _("Organization unit"),
    "manager": _("Relationship manager"),
    "class": _("Five-level class"),
    "overdue": _("Overdue"),
    "status": _("Status"),
    "disbursed_from": _("Disbursed from"),
    "disbursed_to": _("Disbursed until"),
    "maturity_from": _("Maturing from"),
    "maturity_to": _("Maturing until"),
}


@dataclass(frozen=True)
class Wording:
    """``translate`` (a localizer's), the tenant's credit products and enabled loan types by code, named."""

    translate: Callable[[object], str]
    locale: str
    products: dict[str, str]
    loan_types: dict[str, str]

    def __call__(self, message) -> str:
        return self.translate(message)

    def product(self, code: str, credit_product: bool = True) -> str:
        """A business type by its name: a credit product's in this language, else the loan type's."""
        if credit_product and code in self.products:
            return self.products[code]
        return self.loan_types.get(code) or self.products.get(code) or code

    def product_of(self, row: LedgerRow) -> str:
        return self.product(row.product_code, row.credit_product)

    def risk_class(self, code: str) -> str:
        return self.translate(CLASS_LABELS.get(code, code))

    def status(self, code: str) -> str:
        """A loan's status, or a choice of the status filter (outstanding, every disbursed loan)."""
        label = CHOICE_LABELS.get(code) or STATUS_LABELS.get(code)
        return self.translate(label) if label is not None else code

    def bucket(self, code: str) -> str:
        return self.translate(BUCKET_LABELS.get(code, code))


def wording(session, tenant_id: int, hooks, translate, locale: str) -> Wording:
    """The words for ``tenant_id``'s books in ``locale`` (``hooks``: the tenant's plugins, for loan type names)."""
    products = session.scalars(sa.select(CreditProduct).where(CreditProduct.tenant_id == tenant_id))
    return Wording(
        translate=translate,
        locale=locale,
        products={p.code: product_name(p, locale) for p in products},
        loan_types={code: translate(kind.name) for code, kind in loan_types(hooks).items()},
    )


def request_wording(request) -> Wording:
    """The words of the signed-in reader's language."""
    return wording(
        request.dbsession, request.tenant.id, request.hooks, request.localizer.translate, request.locale_name
    )


def _staff_name(session, staff_id: int) -> str:
    staff = session.get(StaffUser, staff_id)
    return (staff.display_name or staff.login) if staff is not None else str(staff_id)


def describe(session, filters: BookFilters, words: Wording, business_date) -> list[tuple[str, str]]:
    """What an export was made with, in words: the business date, then each filter given (label, value)."""
    shown = {
        "book": lambda v: words(BOOK_LABELS[v]),
        "product": words.product,
        "org_unit": lambda v: getattr(session.get(OrgUnit, int(v)), "name", v),
        "manager": lambda v: _staff_name(session, int(v)),
        "class": words.risk_class,
        "overdue": words.bucket,
        "status": words.status,
    }
    described = [(words(_("Business date")), business_date.isoformat())]
    params = filters.params()
    params.setdefault("status", filters.status)
    for name, value in params.items():
        described.append((words(FILTER_LABELS[name]), shown.get(name, str)(value)))
    return described
