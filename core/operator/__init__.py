"""The operator console (/operator on the operator host): every tenant of the install.

Operators sign in with a password and a TOTP code (:mod:`.views`), create a
tenant from one form with its first administrator and edit, archive and
restore it (:mod:`.tenants`), download and upload its manifest
(:mod:`.manifests`), read its usage (:mod:`.usage`) and their own audit log.
Every change goes through :mod:`core.tenancy.manifest`, like ``lendstack
tenant apply``.
"""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound

from ..i18n import _
from ..states import StateMachine
from ..tenancy.models import TenantStatus
from ..tenancy.services import TenantNotFound, tenant_by_slug

STATUS_LABELS = {
    TenantStatus.active.value: _("Open"),
    TenantStatus.suspended.value: _("Suspended"),
    TenantStatus.archived.value: _("Archived"),
}
"""A tenant's status as the console names it (the ``tenant_status`` labels)."""

TENANTS = StateMachine(
    "tenant",
    TenantStatus,
    {
        TenantStatus.active: {TenantStatus.suspended, TenantStatus.archived},
        TenantStatus.suspended: {TenantStatus.active, TenantStatus.archived},
        TenantStatus.archived: {TenantStatus.active},  # restored: open again, every row was kept
    },
    initial=TenantStatus.active,
)
"""What the console may do to a tenant's status: suspend and resume, archive, restore an archived one."""

SLUG = "{slug:[a-z][a-z0-9-]*}"


def tenant_or_404(request):
    """The tenant the URL's slug names (any tenant: the console's session has no tenant scope), or 404."""
    try:
        return tenant_by_slug(request.dbsession, request.matchdict["slug"])
    except TenantNotFound:
        raise HTTPNotFound() from None


def includeme(config):
    config.add_labels(tenant_status=STATUS_LABELS)
    route = lambda name, pattern: config.add_route(name, pattern, host_kind="operator")  # noqa: E731
    route("operator.login", "/operator/login")
    route("operator.two_factor", "/operator/login/verify")
    route("operator.logout", "/operator/logout")
    route("operator.tenants", "/operator")
    route("operator.tenant_new", "/operator/tenants/new")
    route("operator.upload", "/operator/upload")
    route("operator.audit", "/operator/audit")
    route("operator.tenant", f"/operator/tenants/{SLUG}")
    route("operator.tenant_edit", f"/operator/tenants/{SLUG}/edit")
    route("operator.tenant_status", f"/operator/tenants/{SLUG}/status")
    route("operator.tenant_archive", f"/operator/tenants/{SLUG}/archive")
    route("operator.tenant_restore", f"/operator/tenants/{SLUG}/restore")
    route("operator.tenant_manifest", f"/operator/tenants/{SLUG}/manifest.toml")
    config.add_nav("operator.tenants", _("Tenants"), "operator.tenants", order=0, area="operator")
    config.add_nav("operator.tenant_new", _("New tenant"), "operator.tenant_new", order=10, area="operator")
    config.add_nav("operator.upload", _("Upload a manifest"), "operator.upload", order=20, area="operator")
    config.add_nav("operator.audit", _("Audit log"), "operator.audit", order=30, area="operator")
    config.scan(".views")
    config.scan(".tenants")
    config.scan(".manifests")
    config.scan(".usage")
