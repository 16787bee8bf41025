"""The operator console: signing in with two factors, every tenant with its status, the operators' audit log."""

from __future__ import annotations

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from .. import audit
from ..accounts.models import Operator
from ..accounts.services import authenticate_operator, operator_provisioning_uri
from ..backoffice import login_view, logout_view, two_factor_view
from ..domain import InvalidTransition
from ..forms import on_refusal
from ..i18n import _
from ..templating import TemplateHelpers
from ..tenancy.models import Tenant, TenantStatus
from ..tenancy.services import TenantNotFound, all_tenants, tenant_by_slug
from . import STATUS_LABELS, TENANTS


@view_config(route_name="operator.login", renderer="login.pt", require_csrf=True)
def login(request):
    return login_view(
        request,
        "operator",
        lambda login, pw: authenticate_operator(request.dbsession, login, pw),
        "operator.tenants",
        "operator/layout.pt",
        two_factor_route="operator.two_factor",
    )


@view_config(route_name="operator.two_factor", renderer="operator/two_factor.pt", require_csrf=True)
def two_factor(request):
    """The second step of every operator's sign-in: a TOTP code, enrolling with a QR code first if needed."""
    return two_factor_view(
        request,
        Operator,
        login_route="operator.login",
        throttle_scope=("operator-2fa", "-"),
        provisioning_uri=operator_provisioning_uri,
    )


@view_config(route_name="operator.logout", request_method="POST")
def logout(request):
    return logout_view(request, "operator.login")


@view_config(route_name="operator.tenants", renderer="operator/tenants.pt", permission="operator")
def tenants(request):
    return _tenants_page(request)


def _tenants_page(request, error=None) -> dict:
    return {
        "tenants": all_tenants(request.dbsession),
        "plugins": request.registry["plugins"],
        "status_labels": STATUS_LABELS,
        "error": error,
        "notice": request.params.get("done"),
    }


@view_config(
    route_name="operator.tenant_status",
    request_method="POST",
    renderer="operator/tenants.pt",
    permission="operator",
)
def change_status(request):
    """Suspend (the site answers 503) or resume a tenant: a switch that never waits on its settings."""
    try:
        tenant = tenant_by_slug(request.dbsession, request.matchdict["slug"])
        status = TenantStatus(request.POST.get("status", ""))
    except (ValueError, TenantNotFound):
        raise HTTPNotFound() from None
    on_refusal(request, lambda failure: _tenants_page(request, failure.message))
    archived = TenantStatus.archived.value
    if archived in (status.value, tenant.status) or not TENANTS.allows(tenant.status, status):
        raise InvalidTransition("status", _("An archived site is not suspended or resumed: restore it first."))
    before = {"status": tenant.status}
    tenant.status = status.value
    audit.record(
        request, f"tenant.{status.value}", "tenant", tenant.slug, before, {"status": status.value}, tenant_id=tenant.id
    )
    return HTTPSeeOther(request.route_path("operator.tenants"))


@view_config(route_name="operator.audit", renderer="operator/audit.pt", permission="operator")
def audit_log(request):
    """What operators did, newest first: a sentence per action and its settings before → after."""
    page = _page_number(request)
    events, more = audit.operator_actions(request.dbsession, page=page)
    tenant_ids = {e.tenant_id for e in events if e.tenant_id is not None}
    sites = (
        {t.id: t for t in request.dbsession.scalars(sa.select(Tenant).where(Tenant.id.in_(tenant_ids)))}
        if tenant_ids
        else {}
    )
    facts = {("tenant", t.slug): {"object": f"{t.name} ({t.slug})"} for t in sites.values()}
    helpers = TemplateHelpers(request)
    entries = [
        (e, audit.describe(e, helpers, facts.get((e.object_type, e.object_id))), sites.get(e.tenant_id)) for e in events
    ]
    return {"entries": entries, "page": page, "more": more}


def _page_number(request) -> int:
    try:
        return max(1, int(request.params.get("page", 1)))
    except ValueError:
        return 1
