"""``/admin/credit/books``: the comprehensive query over the ledger books, with totals and export links.

A bad filter shows the form again with the message by its field (400) and no rows; the export links
(``/admin/credit/books/export.csv``, ``.xlsx``) keep the filters of the page they are on.
"""

from __future__ import annotations

import sqlalchemy as sa
from pyramid.view import view_config

from ...accounts.models import OrgUnit, StaffUser
from ...admin.views import page_number
from ...forms import on_refusal
from ..classification.models import CLASSES
from ..customers.models import Customer
from .downloads import download
from .filters import BOOKS, BUCKETS, DATE_FIELDS, STATUS_CHOICES, parse_filters, product_codes
from .query import page_of, totals
from .wording import BOOK_LABELS, FILTER_LABELS, request_wording

PER_PAGE = 50
PERMISSION = "credit.books"


def _units(session, tenant_id: int) -> list[tuple[int, str]]:
    """Every organization unit by its path (``Head office / Credit``), in path order."""
    units = {u.id: u for u in session.scalars(sa.select(OrgUnit).where(OrgUnit.tenant_id == tenant_id))}

    def path(unit, seen=()):
        parent = units.get(unit.parent_id)
        if parent is None or parent.id in seen:
            return unit.name
        return f"{path(parent, (*seen, unit.id))} / {unit.name}"

    return sorted(((u.id, path(u)) for u in units.values()), key=lambda pair: pair[1])


def _managers(session, tenant_id: int, chosen: str) -> list[tuple[int, str]]:
    """Staff who manage a customer (and the one chosen, if another), by name."""
    managing = sa.select(Customer.relationship_manager_id).where(Customer.tenant_id == tenant_id)
    query = sa.select(StaffUser).where(StaffUser.tenant_id == tenant_id, StaffUser.id.in_(managing))
    if chosen.isascii() and chosen.isdigit() and len(chosen) < 10:
        query = sa.select(StaffUser).where(
            StaffUser.tenant_id == tenant_id, sa.or_(StaffUser.id.in_(managing), StaffUser.id == int(chosen))
        )
    return sorted(((s.id, s.display_name or s.login) for s in session.scalars(query)), key=lambda pair: pair[1])


def _form(request, words) -> dict:
    """The filter form: what was asked (to show it again), the choices, no errors yet."""
    session, tenant_id = request.dbsession, request.tenant.id
    asked = {name: str(request.GET.get(name, "")) for name in FILTER_LABELS}
    codes = sorted(product_codes(session, tenant_id), key=words.product)
    return {
        "form": asked,
        "errors": {},
        "words": words,
        "labels": FILTER_LABELS,
        "books": [(code, BOOK_LABELS[code]) for code in BOOKS],
        "credit_products": [(code, words.product(code)) for code in codes if code in words.products],
        "loan_types": [(code, words.product(code, False)) for code in codes if code not in words.products],
        "units": _units(session, tenant_id),
        "managers": _managers(session, tenant_id, asked["manager"]),
        "classes": [c.value for c in CLASSES],
        "buckets": list(BUCKETS),
        "statuses": list(STATUS_CHOICES),
        "date_fields": DATE_FIELDS,
        "rows": [],
        "totals": None,
        "book": "loans",
        "page": 1,
        "pages": 1,
        "query": {},
        "business_date": request.tenant.business_date,
        "can_see_loans": bool(request.has_permission("member.view")),
    }


def _refused(data: dict):
    def page(error) -> dict:
        return {**data, "errors": {error.field: error.message}}

    return page


@view_config(route_name="admin.credit.books", renderer="admin/credit/books.pt", permission=PERMISSION)
def books(request):
    """The comprehensive query (綜合查詢): the filtered book, a page of it, its totals by class and business type."""
    words = request_wording(request)
    data = _form(request, words)
    on_refusal(request, _refused(data))
    session, tenant_id = request.dbsession, request.tenant.id
    filters = parse_filters(session, tenant_id, request.GET)
    summed = totals(session, tenant_id, filters)
    pages = max(1, -(-summed.overall.count // PER_PAGE))
    page = min(page_number(request), pages)
    return {
        **data,
        "rows": page_of(session, tenant_id, filters, page=page, per_page=PER_PAGE),
        "totals": summed,
        "book": filters.book,
        "page": page,
        "pages": pages,
        "first": (page - 1) * PER_PAGE + 1,
        "query": filters.params(),
    }


@view_config(route_name="admin.credit.books_export", renderer="admin/credit/books.pt", permission=PERMISSION)
def books_export(request):
    """The filtered book as a CSV or XLSX download; a bad filter shows the page's form with its message (400)."""
    data = _form(request, request_wording(request))
    on_refusal(request, _refused(data))
    filters = parse_filters(request.dbsession, request.tenant.id, request.GET)
    return download(request, filters, request.matchdict["format"])
