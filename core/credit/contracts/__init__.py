"""Credit contracts (see core/credit/__init__.py): the master contract (貸款主合同) drawn up from the tenant's
template as a PDF and signed; the disbursement workbench (出賬工作臺), where a maker prepares and a different
checker approves the payout; and the tenant's lending fund, which own-funds loans are lent from.

Modules, each depending only on those listed after it: ``views`` and ``api`` (pages and endpoints),
``disbursement`` (maker and checker), ``lending`` (the loan an application becomes), ``contracts`` (drawing up,
signing), ``document`` (the template, its placeholders, the PDF), ``defaults`` (the template page),
``checks`` (what ledger verify checks of the fund), ``fund`` (the house lender, capital injections), ``terms`` (the application's guarantees and collateral),
``errors``, ``models``.
"""

from __future__ import annotations

from ...i18n import _
from . import checks, defaults, disbursement  # noqa: F401 - ledger verify's check; the tenant and loan listeners


def _may(permission):
    return lambda request: request.identity is not None and bool(request.has_permission(permission))


def includeme(config):
    """Routes, views and labels of credit contracts, disbursements and the lending fund."""
    route = lambda name, pattern: config.add_route(name, pattern, host_kind="tenant")  # noqa: E731
    route("admin.credit.application_contract", r"/admin/credit/applications/{id:\d{1,9}}/contract")
    route("admin.credit.contract_pdf", r"/admin/credit/contracts/{id:\d{1,9}}/pdf")
    route("admin.credit.contract_scan", r"/admin/credit/contracts/{id:\d{1,9}}/scan")
    route("admin.credit.disbursement_act", r"/admin/credit/disbursements/{id:\d{1,9}}")
    route("admin.credit.lending_fund", "/admin/credit/lending-fund")
    route("admin.credit.lending_fund_decide", r"/admin/credit/lending-fund/injections/{id:\d{1,9}}")
    config.add_nav(
        "admin.credit.lending_fund",
        _("Lending fund"),
        "admin.credit.lending_fund",
        order=38,
        area="admin",
        visible=_may("credit.disburse"),
    )
    config.add_labels(credit_contract_status=".models:LABELS")
    config.scan(".views")
    config.include(".api")
