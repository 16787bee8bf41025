"""The operator console (/operator on the operator host): every tenant of the install."""

from __future__ import annotations

from ..i18n import _


def includeme(config):
    config.add_route("operator.login", "/operator/login", host_kind="operator")
    config.add_route("operator.logout", "/operator/logout", host_kind="operator")
    config.add_route("operator.tenants", "/operator", host_kind="operator")
    config.add_route("operator.tenant_status", "/operator/tenants/{slug}/status", host_kind="operator")
    config.add_nav("operator.tenants", _("Tenants"), "operator.tenants", order=0, area="operator")
    config.scan(".views")
