"""The tenant back office (/admin on a tenant's hosts), for its staff only."""
from __future__ import annotations

from ..i18n import _


def includeme(config):
    config.add_route("admin.login", "/admin/login", host_kind="tenant")
    config.add_route("admin.logout", "/admin/logout", host_kind="tenant")
    config.add_route("admin.dashboard", "/admin", host_kind="tenant")
    config.add_route("admin.sms", "/admin/sms", host_kind="tenant")
    config.add_nav("admin.dashboard", _("Overview"), "admin.dashboard", order=0, area="admin")
    config.add_nav("admin.sms", _("SMS outbox"), "admin.sms", order=80, area="admin")
    config.scan(".views")
