"""The operator console: every tenant with its status and plugins, sign-in and out."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from .. import audit
from ..accounts.services import authenticate_operator
from ..backoffice import login_view, logout_view
from ..i18n import _
from ..tenancy.models import TenantStatus
from ..tenancy.services import TenantNotFound, all_tenants, set_status

STATUS_LABELS = {TenantStatus.active.value: _("Open"), TenantStatus.suspended.value: _("Suspended")}
"""A tenant's status as the console names it."""


@view_config(route_name="operator.login", renderer="login.pt", require_csrf=True)
def login(request):
    return login_view(
        request,
        "operator",
        lambda login, pw: authenticate_operator(request.dbsession, login, pw),
        "operator.tenants",
        "operator/layout.pt",
    )


@view_config(route_name="operator.logout", request_method="POST")
def logout(request):
    return logout_view(request, "operator.login")


@view_config(route_name="operator.tenants", renderer="operator/tenants.pt", permission="operator")
def tenants(request):
    return {
        "tenants": all_tenants(request.dbsession),
        "plugins": request.registry["plugins"],
        "status_labels": STATUS_LABELS,
    }


@view_config(route_name="operator.tenant_status", request_method="POST", permission="operator")
def change_status(request):
    try:
        status = TenantStatus(request.POST.get("status", ""))
        tenant = set_status(request.dbsession, request.matchdict["slug"], status)
    except (ValueError, TenantNotFound):
        raise HTTPNotFound() from None
    audit.record(
        request, f"tenant.{status.value}", "tenant", tenant.slug, None, {"status": status.value}, tenant_id=tenant.id
    )
    return HTTPSeeOther(request.route_path("operator.tenants"))
