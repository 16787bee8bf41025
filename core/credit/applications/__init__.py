"""Credit applications (業務辦理): products, approval workflows, applications and their step engine.

- :mod:`.products` (loan business types), :mod:`.workflows` (versioned definitions, TOML), :mod:`.defaults`
  (the standard workflow and products every tenant starts with);
- :mod:`.services` (applications, terms, guarantees, collateral), :mod:`.documents` (supporting documents),
  :mod:`.engine` (submit, the steps' actions, four eyes, the row lock, my workbench's queue),
  :mod:`.workbench` (what the approval workbench shows);
- pages: :mod:`.views` (workbench, status query, application), :mod:`.catalogue` (products, workflows),
  :mod:`.member_views` (``/account/credit``); :mod:`.api` (``/api/v1/admin/applications``).

Other packages use :func:`.services.get_application` and the models' ``APPLICATIONS`` state machine.
"""

from __future__ import annotations

from ...i18n import _
from . import defaults  # noqa: F401 - the lendstack_tenant_applied listener


def _is_member(request) -> bool:
    return request.identity is not None and request.identity.kind == "member"


def includeme(config):
    """Routes, views and labels of credit applications."""
    from . import labels, products, services

    route = lambda name, pattern: config.add_route(name, pattern, host_kind="tenant")  # noqa: E731
    route("admin.credit.application_new", "/admin/credit/applications/new")
    route("admin.credit.application", r"/admin/credit/applications/{id:\d{1,9}}")
    route("admin.credit.application_edit", r"/admin/credit/applications/{id:\d{1,9}}/edit")
    route("admin.credit.application_document", r"/admin/credit/applications/{id:\d{1,9}}/documents/{doc:\d{1,9}}")
    route("admin.credit.product_new", "/admin/credit/products/new")
    route("admin.credit.product", r"/admin/credit/products/{id:\d{1,9}}")
    route("admin.credit.workflow", r"/admin/credit/workflows/{code:[a-z][a-z0-9_]{0,39}}")
    route("account.credit", "/account/credit")
    config.add_labels(
        credit_application_status=labels.STATUS_LABELS,
        credit_action=labels.ACTION_LABELS,
        credit_action_button=labels.ACTION_BUTTONS,
        credit_document_type=products.DOCUMENT_TYPES,
        credit_funding=products.FUNDING_LABELS,
        credit_product_kind=products.KIND_LABELS,
        credit_collateral_kind=services.COLLATERAL_KINDS,
    )
    config.add_nav("account.credit", _("Credit applications"), "account.credit", order=25, area="account")
    config.include(".api")
    config.scan(".views")
    config.scan(".catalogue")
    config.scan(".member_views")
