"""The settings hub (/admin/settings): the sections of the settings the signed-in staff member may open."""

from __future__ import annotations

from pyramid.view import view_config

from ...i18n import _
from .common import PERMISSION

SECTIONS = (
    (
        "admin.settings_branding",
        PERMISSION,
        _("Branding"),
        _("Site title, taglines and footer in each language, logo, icon, colours and company details."),
    ),
    ("admin.settings_plugins", PERMISSION, _("Plugins"), _("Turn plugins on or off and fill in their settings.")),
    (
        "admin.settings_parameters",
        PERMISSION,
        _("Lending and funds"),
        _("Rate cap, fees, penalties, bid unit, withdrawals, VIP levels and sign-up rules."),
    ),
    (
        "admin.settings_menus",
        PERMISSION,
        _("Menus"),
        _("The site's navigation and footer links, and the back office's menu."),
    ),
    ("admin.roles", "system.roles", _("Roles and permissions"), _("Which staff role may do what.")),
    ("admin.groups", "system.roles", _("User groups"), _("Groups of staff and the roles they share.")),
    ("admin.org", "system.staff", _("Organization"), _("The organization units staff belong to.")),
    (
        "admin.settings_versions",
        PERMISSION,
        _("Versions"),
        _("Every saved change to the settings: see what changed and restore an earlier version."),
    ),
    (
        "admin.settings_manifest",
        PERMISSION,
        _("Download the settings"),
        _("The site's settings as a manifest file (TOML), without plugin secrets."),
    ),
)


@view_config(route_name="admin.settings", renderer="admin/settings/index.pt", permission=PERMISSION)
def hub(request):
    return {
        "sections": [
            {"url": request.route_path(route), "title": title, "description": description}
            for route, permission, title, description in SECTIONS
            if request.has_permission(permission)
        ]
    }
