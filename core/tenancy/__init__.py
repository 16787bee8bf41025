"""Tenancy: which tenant a request is for, resolved from its ``Host`` header.

A request on a tenant's host gets ``request.tenant`` and a database session
scoped to it (``core.db``). A request on the operator-console host gets
``request.tenant = None`` and only operator routes. Any other host gets a
plain 404 page, a suspended tenant's site a 503 page and an archived one's a 410 page.
"""

from __future__ import annotations

from pyramid.response import Response

from ..db import scope_to_tenant
from .models import Tenant, TenantHost, TenantPlugin, TenantStatus  # noqa: F401
from .services import normalize_host, tenant_for_host

TENANT = "tenant"
OPERATOR = "operator"

UNKNOWN_HOST_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Site not found</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222">
<h1>Site not found</h1>
<p>No lending site is configured for this address. Check the address you typed.</p>
</body></html>"""


def tenancy_tween_factory(handler, registry):
    operator_hosts = registry.settings_obj.operator_hosts

    def tenancy_tween(request):
        host = normalize_host(request.host)
        if host in operator_hosts:
            request.host_kind = OPERATOR
            request.tenant = None
            return handler(request)
        tenant = tenant_for_host(request.dbsession, host)
        if tenant is None:
            return Response(UNKNOWN_HOST_PAGE, status=404, content_type="text/html")
        request.host_kind = TENANT
        request.tenant = tenant
        scope_to_tenant(request.dbsession, tenant.id)
        if not tenant.is_active:
            return closed_response(request, tenant)
        return handler(request)

    return tenancy_tween


def closed_response(request, tenant):
    """A suspended site's 503 page (try again later) or an archived one's 410 page (gone, data kept)."""
    from pyramid.renderers import render_to_response

    if tenant.status == TenantStatus.archived.value:
        response = render_to_response("errors/archived.pt", {}, request=request)
        response.status = 410
        return response
    response = render_to_response("errors/suspended.pt", {}, request=request)
    response.status = 503
    response.headers["Retry-After"] = "3600"
    return response


class HostKindPredicate:
    """Route predicate ``host_kind="tenant"`` or ``"operator"``: the route exists only there."""

    def __init__(self, value, config):
        self.value = value

    def text(self):
        return f"host_kind = {self.value}"

    phash = text

    def __call__(self, info, request):
        return getattr(request, "host_kind", None) == self.value


def includeme(config):
    config.add_tween(
        "core.tenancy.tenancy_tween_factory",
        under="pyramid_tm.tm_tween_factory",
        over="pyramid.tweens.excview_tween_factory",
    )
    config.add_route_predicate("host_kind", HostKindPredicate)
    config.add_request_method(lambda request: None, "tenant", reify=True)
    config.add_request_method(lambda request: None, "host_kind", reify=True)
