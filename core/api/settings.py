"""``/api/v1/admin/settings`` and ``/api/v1/admin/plugins``: a tenant's settings for integrators.

The same path as the back office's settings pages: every change edits the tenant's manifest data and goes
through :func:`core.tenancy.manifest.change` (validated whole, applied, versioned, audited), so a value the page
refuses is refused here too, as a 422 problem naming the field (``branding.primary_color``,
``settings.max_term_months``), with nothing changed. Staff with ``settings.manage`` only.

- ``GET /admin/settings``: the manifest's sections ``branding``, ``lending``, ``funds``, ``vip``, ``members`` and
  ``menus`` (what is set; a key left out takes its default).
- ``PATCH /admin/settings``: a JSON merge patch (RFC 7396) of those sections: an object merges into what is
  set, ``null`` removes a key, anything else (a list too) replaces it.
- ``GET /admin/plugins``: every installed plugin, its name and description in the request's language, whether
  it is on, its settings (secrets masked) and its settings' schema.
- ``PUT /admin/plugins/{code}``: ``{"enabled": …, "settings": {…}}``, the plugin's whole settings; a secret left
  out (or sent back masked, as read) keeps its stored value.
"""

from __future__ import annotations

from pyramid.view import view_config

from .. import plugin_forms
from ..admin.plugins import set_plugin
from ..admin.settings import nav_keys
from ..admin.settings.common import change_settings
from ..i18n import _
from ..plugin_registry import CHECK_HOOK, PluginError, PluginInfo
from ..tenancy import manifest
from . import PREFIX, Problem, refusals_name

API = {"renderer": "json", "openapi": True, "require_csrf": False}
PERMISSION = "settings.manage"
SECTIONS = ("branding", "lending", "funds", "vip", "members", "menus")
ACTION = "settings.update"


def sections(data: dict) -> dict:
    return {section: data.get(section) or {} for section in SECTIONS}


def merge(target: dict, patch: dict) -> dict:
    """``patch`` merged into ``target`` as RFC 7396 says (``target`` is changed and returned)."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value)
        elif isinstance(value, dict):
            target[key] = merge({}, value)
        else:
            target[key] = value
    return target


@view_config(route_name="api.settings", request_method="GET", permission=PERMISSION, **API)
def get_settings(request):
    return sections(manifest.export(request.tenant, request.registry["plugins"], secrets=False))


@view_config(route_name="api.settings", request_method="PATCH", permission=PERMISSION, **API)
def patch_settings(request):
    """Merge the patch into the tenant's settings: 200 with the settings now and what changed."""
    patch = request.json_body

    def edit(data: dict) -> None:
        for section, value in patch.items():
            merged = merge(dict(data.get(section) or {}), value) if isinstance(value, dict) else value
            if merged in (None, {}):
                data.pop(section, None)
            else:
                data[section] = merged

    changes = change_settings(request, edit, ACTION, nav_keys=nav_keys(request))
    return {"settings": get_settings(request), "changes": changes}


# -- plugins ---------------------------------------------------------------------------------------------------


def plugin_json(request, info: PluginInfo) -> dict:
    tenant, locale = request.tenant, request.locale_name
    return {
        "code": info.id,
        "kind": info.kind,
        "name": info.display_name(locale),
        "description": info.display_description(locale),
        "version": info.version,
        "enabled": info.id in tenant.enabled_plugin_ids,
        "development_only": info.development_only,
        "checkable": request.registry["plugins"].implements(info.id, CHECK_HOOK),
        "settings": plugin_forms.typed(info, tenant.plugin_settings(info.id)),
        "schema": [f.as_json() for f in plugin_forms.fields(info, locale, request.localizer.translate)],
    }


@view_config(route_name="api.plugins", request_method="GET", permission=PERMISSION, **API)
def list_plugins(request):
    return {"plugins": [plugin_json(request, info) for info in request.registry["plugins"].infos()]}


@view_config(route_name="api.plugin", request_method="PUT", permission=PERMISSION, **API)
def put_plugin(request):
    """Turn a plugin on or off with its whole settings: 200 with the plugin now and what changed."""
    try:
        info = request.registry["plugins"].info(request.matchdict["code"])
    except PluginError:
        raise Problem({"code": _("There is no such plugin.")}, status=404, title="Not Found") from None
    body = request.json_body
    settings = {
        name: value
        for name, value in body["settings"].items()
        if not (name in info.secret_settings and isinstance(value, str) and value.startswith(plugin_forms.MASK))
    }
    names = set(body["settings"]) | {f.name for f in plugin_forms.fields(info)}
    refusals_name(
        request,
        {plugin_forms.setting_path(info, name): f"settings.{name}" for name in names}
        | {f"plugins.{info.id}.enabled": "enabled", f"plugins.{info.id}": "enabled"},
    )
    changes = set_plugin(request, info, body["enabled"], settings)
    return {"plugin": plugin_json(request, info), "changes": changes}


def includeme(config):
    route = lambda name, pattern: config.add_route(name, f"{PREFIX}{pattern}", host_kind="tenant")  # noqa: E731
    route("api.settings", "/admin/settings")
    route("api.plugins", "/admin/plugins")
    route("api.plugin", "/admin/plugins/{code}")
    config.scan(".settings")
