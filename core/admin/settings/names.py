"""Readable names of the settings: the manifest paths and values a version changed, as a person reads them
(``branding.site_title.en`` is "Site title (English)"), and the ways a version was made (``TenantVersion.action``).
"""

from __future__ import annotations

import re

from ...accounts.permissions import PERMISSIONS
from ...i18n import _, locale_name
from ...payments import gateways
from ...plugin_registry import localized
from ...schedules import repayment_methods
from .branding import BRANDING_TEXTS, COLOURS, COMPANY, IMAGES
from .parameters import ID_TYPES, PARAMETERS

ACTIONS = {
    "tenant.apply": _("Manifest applied"),
    "tenant.create": _("Site created"),
    "tenant.upload": _("Manifest uploaded"),
    "tenant.edit": _("Changed by the operator"),
    "tenant.active": _("Site resumed"),
    "tenant.suspended": _("Site suspended"),
    "tenant.archived": _("Site archived"),
    "tenant.restored": _("Site resumed"),
    "settings.branding": _("Branding"),
    "settings.parameters": _("Lending and funds"),
    "settings.menus": _("Menus"),
    "settings.roles": _("Roles and permissions"),
    "settings.plugin": _("Plugins"),
    "settings.update": _("Changed through the API"),
}
"""How the versions list names the way a version was made (``TenantVersion.action``)."""


def action_label(action: str):
    """The way a version was made, as the versions list names it (a restore names the version it brought back)."""
    if action.startswith("settings.restore."):
        return _("Restored version ${number}", mapping={"number": action.rsplit(".", 1)[1]})
    return ACTIONS.get(action, _("Settings changed"))


TOP_LEVEL = {
    "name": _("Site name"),
    "theme": _("Theme"),
    "locales": _("Languages"),
    "default_locale": _("Default language"),
    "currency": _("Currency"),
    "timezone": _("Time zone"),
    "hosts": _("Host names"),
    "status": _("Status"),
    "business_date": _("Business date"),
}
MENU_NAMES = {"portal": _("Site menu"), "footer": _("Footer links"), "admin": _("Back-office menu")}
MENU_PARTS = {
    "key": _("Entry"),
    "label": _("Label"),
    "url": _("Link"),
    "hidden": _("Hidden"),
    "parent": _("Shown under"),
    "group": _("Group heading"),
}
ROLE_PARTS = {"name": _("Name"), "permissions": _("Permissions"), "active": _("Active")}
CHOICES = {p.name: dict(p.choices) for p in PARAMETERS if p.choices}
CHOICES["members.id_types"] = dict(ID_TYPES)
CHOICES["status"] = {"active": _("Active"), "suspended": _("Suspended"), "archived": _("Archived")}


class SettingNames:
    """Manifest paths and values as a person reads them (``branding.site_title.en`` is "Site title (English)")."""

    def __init__(self, request):
        self.request = request
        self.t = request.localizer.translate
        self.labels = {f"branding.{key}": label for key, label, *_rest in BRANDING_TEXTS + COMPANY + COLOURS + IMAGES}
        self.labels.update({p.name: p.label for p in PARAMETERS})
        hooks = getattr(request, "hooks", None)
        self.codes = {}  # what plugin settings name by code: the tenant's repayment methods and gateways
        if hooks is not None:
            self.codes.update({code: method.name for code, method in repayment_methods(hooks).items()})
            self.codes.update({code: gateway.name for code, gateway in gateways(hooks).items()})

    def path(self, path: str) -> str:
        parts = path.split(".")
        if path in TOP_LEVEL or parts[0] in TOP_LEVEL or re.match(r"^hosts\[\d+\]$", path):
            return self.t(TOP_LEVEL[re.sub(r"\[\d+\]$", "", parts[0])])
        if parts[0] == "branding" and len(parts) >= 2:
            name = self.t(self.labels.get(f"branding.{parts[1]}", parts[1].replace("_", " ")))
            return f"{name} ({locale_name(parts[2])})" if len(parts) > 2 else name
        if parts[0] in ("lending", "funds", "members", "vip") and len(parts) >= 2:
            level = re.match(r"^levels\[(\d+)\]$", parts[1])
            if level:
                part = {"name": _("Name"), "points": _("Points")}.get(parts[2] if len(parts) > 2 else "", _("Level"))
                which = self.t(_("VIP level ${n}", mapping={"n": int(level.group(1)) + 1}))
                return f"{which}: {self.t(part)}"
            key = f"{parts[0]}.{parts[1]}"
            if key == "members.id_types":
                return self.t(_("ID types accepted"))
            return self.t(self.labels.get(key, parts[1].replace("_", " ")))
        found = re.match(r"^menus\.(portal|footer|admin)\[(\d+)\]\.(\w+)(?:\.(\w+))?$", path)
        if found:
            area, i, part, locale = found.groups()
            what = self.t(_("${menu}, entry ${n}", mapping={"menu": self.t(MENU_NAMES[area]), "n": int(i) + 1}))
            name = self.t(MENU_PARTS.get(part, part))
            return f"{what}: {name}" + (f" ({locale_name(locale)})" if locale else "")
        if parts[0] == "plugins" and len(parts) >= 3:
            return self._plugin_setting(".".join(parts[1:]))
        if parts[0] == "roles" and len(parts) >= 2:
            role = self.t(_("Role ${name}", mapping={"name": parts[1].replace("_", " ")}))
            return f"{role}: {self.t(ROLE_PARTS[parts[2]])}" if len(parts) > 2 and parts[2] in ROLE_PARTS else role
        return path.replace("_", " ")

    def _plugin_setting(self, rest: str) -> str:
        registry = self.request.registry["plugins"]
        for info in registry.infos():
            if rest.startswith(info.id + "."):
                setting = rest[len(info.id) + 1 :]
                name = info.display_name(self.request.locale_name)
                if setting == "enabled":
                    turned_on = self.t(_("Turned on"))
                    return f"{name}: {turned_on}"
                node = info.settings.get(setting) if info.settings is not None else None
                title = getattr(node, "title", None) or setting.replace("_", " ")
                title = localized(title, self.request.locale_name)
                return f"{name}: {self._text(title)}"
        return rest.replace("_", " ")

    def value(self, path: str, value) -> str:
        if value is None or value == "":
            return "—"
        if isinstance(value, bool):
            return self.t(_("Yes") if value else _("No"))
        key = ".".join(path.split(".")[:2])
        choices = CHOICES.get(key)
        if path in ("locales", "default_locale"):
            choices = {code: locale_name(code) for code in (value if isinstance(value, list) else [value])}
        if path.startswith("roles.") and path.endswith(".permissions"):
            choices = PERMISSIONS
        if path.startswith("plugins.") or path == "funds.payout_gateway":
            choices = {**self.codes, "true": _("Yes"), "false": _("No")}
        if isinstance(value, list):
            return ", ".join(self._choice(choices, v) for v in value)
        return self._choice(choices, value)

    def _choice(self, choices, value) -> str:
        if choices and value in choices:
            return self._text(choices[value])
        return str(value)

    def _text(self, text) -> str:
        """A translatable text in the reader's language; any other as it is."""
        return self.t(text) if hasattr(text, "interpolate") else str(text)
