"""A book as a download (the page's export links and the API's ``Accept``): a streamed response.

The body is made while it is sent, after the request's transaction has ended: rows are read in batches through
connections of their own (:func:`.query.batches`), so a long download keeps no transaction open.
"""

from __future__ import annotations

from pyramid.response import Response

from .export import CSV_TYPE, XLSX_TYPE, csv_chunks, write_xlsx, xlsx_chunks
from .filters import BookFilters
from .query import batches, totals
from .wording import describe, request_wording

FORMATS = {"csv": CSV_TYPE, "xlsx": XLSX_TYPE}


def download(request, filters: BookFilters, kind: str) -> Response:
    """The tenant's book under ``filters`` as ``kind`` (``csv`` or ``xlsx``), in the reader's language."""
    tenant = request.tenant
    engine = request.registry["db_engine"]
    tenant_id, currency = tenant.id, tenant.currency
    words = request_wording(request)
    rows = batches(engine.connect, tenant_id, filters)
    if kind == "csv":
        body = csv_chunks(rows, words)
    else:
        described = describe(request.dbsession, filters, words, tenant.business_date)

        def write(target):
            with engine.connect() as connection:
                summed = totals(connection, tenant_id, filters)
            write_xlsx(target, rows, words, book=filters.book, totals=summed, described=described, currency=currency)

        body = xlsx_chunks(write)
    response = Response(app_iter=body, content_type=FORMATS[kind])
    if kind == "csv":
        response.charset = "utf-8"
    name = f"ledger-book-{tenant.slug}-{tenant.business_date.isoformat()}.{kind}"
    response.content_disposition = f'attachment; filename="{name}"'
    response.cache_control = "no-store"
    return response
