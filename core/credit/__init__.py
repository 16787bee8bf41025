"""The credit system (信貸系統): the tenant's own lending business, run from the back office.

A **customer** (individual or corporate, a member or a walk-in) is rated by a
versioned scorecard, applies for a **product** (貸款業務種類) through a
tenant-defined, versioned **approval workflow**, signs a **contract** and is
paid out from the **disbursement workbench** — from the tenant's own lending
fund or as a P2P listing. Either way the result is an ordinary
:class:`core.loans.Loan` with an origin: one schedule engine, one repayment
path, one close of day (docs/credit.md).

The package's subpackages, each depending only on those listed after it:

- ``alerts`` (alert rules, the alerts close of day raises, their workbench and daily digest);
- ``books`` (the loan ledger books and the comprehensive query, with their exports);
- ``repayments`` (offline repayments: recorded by a maker, applied to the loan by a checker);
- ``classification`` (the five-level classification of every outstanding loan, its provisions and proposals);
- ``contracts`` (contract templates, PDF, signing, disbursement, the lending fund);
- ``applications`` (products, workflow definitions, applications, their steps and documents, workbenches);
- ``rating`` (scorecard models, rating runs, overrides);
- ``customers`` (individual and corporate customers, relationships, financial statements).
"""

from __future__ import annotations

from ..i18n import _


def _may(permission):
    """Whether the signed-in person holds ``permission`` (a tuple: any one of them)."""
    wanted = permission if isinstance(permission, tuple) else (permission,)
    return lambda request: request.identity is not None and any(request.has_permission(p) for p in wanted)


CREDIT_NAV = (
    # (key, label, route, order, permission): the back office's credit group, in its menu order
    ("admin.credit.workbench", _("My workbench"), "admin.credit.workbench", 30, "staff"),
    (
        "admin.credit.customers",
        _("Customers"),
        "admin.credit.customers",
        31,
        ("credit.customer", "credit.rate", "credit.approve"),
    ),
    ("admin.credit.applications", _("Credit applications"), "admin.credit.applications", 32, "credit.apply"),
    ("admin.credit.ratings", _("Ratings waiting for approval"), "admin.credit.ratings", 33, "credit.rate"),
    ("admin.credit.models", _("Rating models"), "admin.credit.models", 33, "credit.model"),
    ("admin.credit.products", _("Credit products"), "admin.credit.products", 34, "credit.workflow"),
    ("admin.credit.workflows", _("Approval workflows"), "admin.credit.workflows", 35, "credit.workflow"),
    ("admin.credit.contracts", _("Contracts"), "admin.credit.contracts", 36, "credit.contract"),
    ("admin.credit.disbursements", _("Disbursement workbench"), "admin.credit.disbursements", 37, "credit.disburse"),
    ("admin.credit.classification", _("Loan classification"), "admin.credit.classification", 38, "credit.classify"),
    ("admin.credit.books", _("Loan ledger books"), "admin.credit.books", 39, "credit.books"),
    ("admin.credit.alerts", _("Loan alerts"), "admin.credit.alerts", 40, "credit.alert"),
)


def includeme(config):
    """The credit back office: each subpackage's routes, views and labels, and the menu group."""
    route = lambda name, pattern: config.add_route(name, pattern, host_kind="tenant")  # noqa: E731
    route("admin.credit.workbench", "/admin/credit")
    route("admin.credit.customers", "/admin/credit/customers")
    route("admin.credit.applications", "/admin/credit/applications")
    route("admin.credit.models", "/admin/credit/models")
    route("admin.credit.products", "/admin/credit/products")
    route("admin.credit.workflows", "/admin/credit/workflows")
    route("admin.credit.contracts", "/admin/credit/contracts")
    route("admin.credit.disbursements", "/admin/credit/disbursements")
    config.include(".customers")
    config.include(".rating")
    config.include(".applications")
    config.include(".contracts")
    config.include(".classification")
    config.include(".books")
    config.include(".alerts")
    config.include(".repayments")
    for key, label, route, order, permission in CREDIT_NAV:
        config.add_nav(key, label, route, order=order, area="admin", visible=_may(permission))
