"""``GET /api/v1/admin/reports/ledger-book``: the ledger book for staff with ``credit.books``.

The filters are query parameters (the page's names); the answer is a page of JSON with the totals, or the whole
book as CSV or XLSX when ``Accept`` asks for it (streamed; the document does not read a file back). A bad
filter is a 400 problem detail naming it; an ``Accept`` none of the three satisfies is a 406.
"""

from __future__ import annotations

from pyramid.view import view_config

from ...api import PREFIX, Problem
from ...i18n import _
from .downloads import download
from .export import CSV_TYPE, XLSX_TYPE
from .filters import parse_filters
from .presenting import row_json, totals_json
from .query import page_of, totals
from .wording import request_wording

API = {"renderer": "json", "openapi": True, "require_csrf": False}
JSON_TYPE = "application/json"
OFFERS = {JSON_TYPE: "json", CSV_TYPE: "csv", XLSX_TYPE: "xlsx"}
PER_PAGE, MOST_PER_PAGE = 50, 200


def _wanted(request) -> str:
    offered = request.accept.acceptable_offers(list(OFFERS))
    if not offered:
        raise Problem(
            {"Accept": _("Ask for application/json, text/csv or an XLSX workbook.")}, status=406, title="Not Acceptable"
        )
    return OFFERS[offered[0][0]]


def _whole(request, name: str, default: int, most: int) -> int:
    value = str(request.GET.get(name, "") or default)
    if not (value.isascii() and value.isdigit() and 1 <= int(value) <= most):
        message = _("Enter a whole number from 1 to ${max}.", mapping={"max": most})
        raise Problem({name: message}, status=400, title="Bad request")
    return int(value)


@view_config(route_name="api.credit.ledger_book", request_method="GET", permission="credit.books", **API)
def ledger_book(request):
    """One page of the filtered book with its totals (JSON), or all of it as CSV or XLSX."""
    session, tenant = request.dbsession, request.tenant
    filters = parse_filters(session, tenant.id, request.GET)
    kind = _wanted(request)
    if kind != "json":
        request.environ["pyramid_openapi3.validate_response"] = False  # streamed: reading it back would hold it all
        return download(request, filters, kind)
    page = _whole(request, "page", 1, 100_000)
    per_page = _whole(request, "per_page", PER_PAGE, MOST_PER_PAGE)
    words = request_wording(request)
    summed = totals(session, tenant.id, filters)
    rows = page_of(session, tenant.id, filters, page=page, per_page=per_page)
    return {
        "business_date": tenant.business_date.isoformat(),
        "filters": {"status": filters.status, **filters.params()},
        "page": page,
        "per_page": per_page,
        "pages": max(1, -(-summed.overall.count // per_page)),
        "totals": totals_json(summed, words, tenant.currency),
        "loans": [row_json(row, words) for row in rows],
    }


def includeme(config):
    config.add_route("api.credit.ledger_book", f"{PREFIX}/admin/reports/ledger-book", host_kind="tenant")
    config.scan(".api")
