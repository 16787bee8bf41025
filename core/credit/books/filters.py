"""What the ledger books (臺賬) and the comprehensive query (綜合查詢) are asked for: the filters, checked.

The page, the API and the command read the same names (``customer``, ``product``, ``org_unit``, ``manager``,
``class``, ``overdue``, ``status``, ``disbursed_from``/``disbursed_to``, ``maturity_from``/``maturity_to`` and
``book``); :func:`parse_filters` turns what was given into a :class:`BookFilters` or refuses the first bad value
with a :class:`BookFilterError` naming it. An empty value is no filter.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa

from ...accounts.models import OrgUnit, StaffUser
from ...accounts.organisation import descendants
from ...domain import DomainError
from ...i18n import _
from ...inputs import FIRST_DAY, LAST_DAY
from ...loans.models import Loan, LoanStatus
from ..applications.models import CreditProduct
from ..classification.models import CLASSES

BOOKS = ("loans", "product", "class")
"""How the rows are grouped: the whole book by loan, by business type (貸款業務種類) or by five-level class."""

BUCKETS = {
    # code: (fewest, most) days past due; None: no upper end
    "current": (0, 0),
    "1-30": (1, 30),
    "31-90": (31, 90),
    "91-180": (91, 180),
    "181-360": (181, 360),
    "361+": (361, None),
}
BUCKET_LABELS = {
    "current": _("Current"),
    "1-30": _("1–30 days"),
    "31-90": _("31–90 days"),
    "91-180": _("91–180 days"),
    "181-360": _("181–360 days"),
    "361+": _("Over 360 days"),
}

OUTSTANDING = (LoanStatus.REPAYING.value, LoanStatus.DEFAULTED.value)
DISBURSED = (*OUTSTANDING, LoanStatus.SETTLED.value, LoanStatus.WRITTEN_OFF.value)
STATUS_CHOICES = {"outstanding": OUTSTANDING, "all": DISBURSED} | {status: (status,) for status in DISBURSED}
"""The ``status`` filter: the loans still owed (the default), every disbursed loan, or one status of them."""
STATUS_LABELS = {"outstanding": _("Outstanding (repaying or defaulted)"), "all": _("Every disbursed loan")}

TEXT_LIMIT = 100
CODE_LIMIT = 40
DATE_FIELDS = ("disbursed_from", "disbursed_to", "maturity_from", "maturity_to")
FIELDS = ("book", "customer", "product", "org_unit", "manager", "class", "overdue", "status", *DATE_FIELDS)
"""Every filter's name, as the page's form, the API's query and the command's options (``--disbursed-from``) say."""

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ID = re.compile(r"[0-9]{1,9}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


class BookFilterError(DomainError):
    """A filter value the books cannot use: the page shows it by the field, the API answers 400, the command 2."""

    status = 400


@dataclass(frozen=True)
class BookFilters:
    """Checked filters: codes, ids that exist in the tenant, real dates in order."""

    book: str = "loans"
    customer: str = ""
    product: str = ""
    org_unit: int | None = None
    org_units: frozenset[int] = field(default=frozenset(), compare=False)  # the unit and every unit under it
    manager: int | None = None
    risk_class: str = ""
    overdue: str = ""
    status: str = "outstanding"
    disbursed_from: dt.date | None = None
    disbursed_to: dt.date | None = None
    maturity_from: dt.date | None = None
    maturity_to: dt.date | None = None

    @property
    def statuses(self) -> tuple[str, ...]:
        return STATUS_CHOICES[self.status]

    def params(self) -> dict[str, str]:
        """The filters as query parameters (only those given): what a link or an export keeps."""
        given = {
            "book": self.book if self.book != "loans" else "",
            "customer": self.customer,
            "product": self.product,
            "org_unit": str(self.org_unit or ""),
            "manager": str(self.manager or ""),
            "class": self.risk_class,
            "overdue": self.overdue,
            "status": self.status if self.status != "outstanding" else "",
        }
        given |= {name: getattr(self, name).isoformat() if getattr(self, name) else "" for name in DATE_FIELDS}
        return {name: value for name, value in given.items() if value}


def _text(params: Mapping, name: str) -> str:
    value = params.get(name)
    return "" if value is None else str(value).strip()


def _choice(params: Mapping, name: str, choices, default: str = "") -> str:
    value = _text(params, name)
    if name == "overdue" and value == "361":  # "361+" in a query string not percent-encoded: the + became a space
        value = "361+"
    if not value:
        return default
    if value not in choices:
        raise BookFilterError(name, _("Choose one of the listed values."))
    return value


def _date(params: Mapping, name: str) -> dt.date | None:
    value = _text(params, name)
    if not value:
        return None
    if not _DATE.fullmatch(value):
        raise BookFilterError(name, _("Enter a date as YYYY-MM-DD."))
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        day = None
    if day is None or not FIRST_DAY <= day <= LAST_DAY:
        raise BookFilterError(
            name,
            _(
                "Enter a real date from ${first} to ${last}.",
                mapping={"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()},
            ),
        )
    return day


def _ordered(start: dt.date | None, end: dt.date | None, end_name: str) -> None:
    if start is not None and end is not None and end < start:
        raise BookFilterError(end_name, _("The end of the range comes before its start."))


def _customer(params: Mapping) -> str:
    value = _text(params, "customer")
    if _CONTROL.search(value):
        raise BookFilterError("customer", _("This value holds characters that are not allowed."))
    if len(value) > TEXT_LIMIT:
        raise BookFilterError("customer", _("Use at most ${n} characters.", mapping={"n": TEXT_LIMIT}))
    return value


def _id(params: Mapping, name: str) -> int | None:
    value = _text(params, name)
    if not value:
        return None
    return int(value) if _ID.fullmatch(value) and int(value) > 0 else 0  # 0: no row has it


def product_codes(session, tenant_id: int) -> set[str]:
    """What ``product`` may name: the tenant's credit products' codes and its disbursed loans' loan types."""
    codes = set(session.scalars(sa.select(CreditProduct.code).where(CreditProduct.tenant_id == tenant_id)))
    return codes | set(
        session.scalars(
            sa.select(Loan.loan_type).where(Loan.tenant_id == tenant_id, Loan.status.in_(DISBURSED)).distinct()
        )
    )


def _product(session, tenant_id: int, params: Mapping) -> str:
    value = _text(params, "product")
    if not value:
        return ""
    if len(value) > CODE_LIMIT or _CONTROL.search(value) or value not in product_codes(session, tenant_id):
        raise BookFilterError("product", _("There is no such product or loan type."))
    return value


def _org_units(session, tenant_id: int, unit_id: int | None) -> frozenset[int]:
    if unit_id is None:
        return frozenset()
    unit = session.scalars(sa.select(OrgUnit).where(OrgUnit.tenant_id == tenant_id, OrgUnit.id == unit_id)).first()
    if unit is None:
        raise BookFilterError("org_unit", _("There is no such unit."))
    return frozenset({unit.id} | descendants(session, unit))


def _manager(session, tenant_id: int, staff_id: int | None) -> int | None:
    if staff_id is None:
        return None
    found = session.scalar(sa.select(StaffUser.id).where(StaffUser.tenant_id == tenant_id, StaffUser.id == staff_id))
    if found is None:
        raise BookFilterError("manager", _("There is no such staff user."))
    return found


def parse_filters(session, tenant_id: int, params: Mapping) -> BookFilters:
    """``params`` (a query string's, the API's or the command's values by :data:`FIELDS` name) checked against
    the tenant's products, units and staff; the first bad one raises :class:`BookFilterError`."""
    book = _choice(params, "book", BOOKS, "loans")
    customer = _customer(params)
    product = _product(session, tenant_id, params)
    unit_id = _id(params, "org_unit")
    units = _org_units(session, tenant_id, unit_id)
    manager = _manager(session, tenant_id, _id(params, "manager"))
    risk_class = _choice(params, "class", CLASSES)
    overdue = _choice(params, "overdue", BUCKETS)
    status = _choice(params, "status", STATUS_CHOICES, "outstanding")
    dates = {name: _date(params, name) for name in DATE_FIELDS}
    _ordered(dates["disbursed_from"], dates["disbursed_to"], "disbursed_to")
    _ordered(dates["maturity_from"], dates["maturity_to"], "maturity_to")
    return BookFilters(
        book=book,
        customer=customer,
        product=product,
        org_unit=unit_id,
        org_units=units,
        manager=manager,
        risk_class=risk_class,
        overdue=overdue,
        status=status,
        **dates,
    )
