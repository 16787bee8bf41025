"""The loan ledger books (臺賬) and the comprehensive query (綜合查詢) (docs/credit/books.md).

Every disbursed loan of the tenant with its customer, business type (a credit product, or a P2P loan's type),
relationship manager and unit, amounts and dates, outstanding principal, days past due, five-level class and
provision; filtered, totalled by class and business type, and exported as CSV or XLSX.

Modules, each depending only on those listed after it: ``views`` (``/admin/credit/books``) and ``api``
(``/api/v1/admin/reports/ledger-book``), ``downloads`` (a streamed response), ``presenting`` (JSON),
``export`` (CSV and XLSX), ``wording`` (names in the reader's language), ``query`` (the select, its pages,
totals and batches), ``filters`` (what may be asked, checked). ``lendstack report ledger-book`` uses them too.
"""

from __future__ import annotations


def includeme(config):
    """The books' page, its downloads and the API."""
    route = lambda name, pattern: config.add_route(name, pattern, host_kind="tenant")  # noqa: E731
    route("admin.credit.books", "/admin/credit/books")
    route("admin.credit.books_export", "/admin/credit/books/export.{format:csv|xlsx}")
    config.scan(".views")
    config.include(".api")
