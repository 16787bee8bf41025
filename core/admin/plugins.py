"""The back office's plugin settings: enable, configure and check each installed plugin (/admin/settings/plugins).

A plugin's form is drawn from its settings schema (``core.plugin_forms``); saving edits the tenant's manifest data
(``[plugins."<id>"]``) and hands it to :func:`core.tenancy.manifest.change`, the one path every change of a tenant
takes, so a setting outside the schema, a development-only plugin on a production install and a plugin that live
records still need (``core.plugin_registry.check_disable``) are refused by their field, with nothing changed.
Secret settings are write-only: the page shows their last four characters, a blank field keeps them.
"""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from .. import plugin_forms
from ..domain import DomainError
from ..forms import on_refusal
from ..i18n import _
from ..plugin_registry import CHECK_HOOK, KINDS, PluginError, PluginInfo, collect_by_code
from .settings.common import PERMISSION, change_settings

ACTION = "settings.plugin"


def plugin_or_404(request) -> PluginInfo:
    """The installed plugin the URL names (``{code}``, its id), or 404."""
    try:
        return request.registry["plugins"].info(request.matchdict["code"])
    except PluginError:
        raise HTTPNotFound() from None


def set_plugin(request, info: PluginInfo, enabled: bool, settings: dict | None) -> list[dict]:
    """Turn ``info`` on or off for the request's tenant with ``settings`` (``None``: keep the stored ones).

    A secret setting left out keeps its stored value. Goes through :func:`core.tenancy.manifest.change` (a
    refusal is a :class:`~core.domain.DomainError` on ``plugins.<id>.<setting>``, nothing changed) and is audited
    with its changes, secrets masked. Returns the changes (none: nothing was saved).
    """

    def edit(data: dict) -> None:
        table = data.setdefault("plugins", {})
        stored = {k: v for k, v in (table.get(info.id) or {}).items() if k != "enabled"}
        chosen = stored if settings is None else dict(settings)
        for name in info.secret_settings:
            if name not in chosen and name in stored:
                chosen[name] = stored[name]
        table[info.id] = {"enabled": enabled, **chosen}

    return change_settings(request, edit, ACTION)


# -- the list ------------------------------------------------------------------------------------------------


@view_config(
    route_name="admin.settings_plugins",
    request_method="GET",
    renderer="admin/settings/plugins.pt",
    permission=PERMISSION,
)
def plugin_list(request):
    """Every installed plugin by kind, in the reader's language, with whether this site uses it."""
    registry, locale = request.registry["plugins"], request.locale_name
    enabled = request.tenant.enabled_plugin_ids
    groups = []
    for kind in KINDS:
        infos = [info for info in registry.infos() if info.kind == kind]
        if infos:
            rows = [
                {
                    "info": info,
                    "name": info.display_name(locale),
                    "description": info.display_description(locale),
                    "enabled": info.id in enabled,
                }
                for info in sorted(infos, key=lambda i: i.display_name(locale))
            ]
            groups.append({"kind": kind, "plugins": rows})
    return {"groups": groups, "saved": request.GET.get("saved")}


# -- one plugin ----------------------------------------------------------------------------------------------


def _page(request, info: PluginInfo, *, form=None, errors: dict | None = None, check=None) -> dict:
    """The plugin's page: its settings as stored (or as just typed, ``form``), errors by setting, a check's result."""
    tenant, locale = request.tenant, request.locale_name
    registry = request.registry["plugins"]
    stored = tenant.plugin_settings(info.id)
    fields = plugin_forms.fields(info, locale, request.localizer.translate)
    if form is None:
        values, enabled = plugin_forms.form_values(info, stored), info.id in tenant.enabled_plugin_ids
    else:
        values = {f.name: _typed(form, f) for f in fields if not f.secret}
        enabled = bool(form.get("enabled"))
    prefix = f"plugins.{info.id}."
    by_setting, other = {}, None
    for field, message in (errors or {}).items():
        if field.startswith(prefix):
            by_setting[field[len(prefix) :]] = message
        else:
            other = message
    return {
        "info": info,
        "name": info.display_name(locale),
        "description": info.display_description(locale),
        "fields": fields,
        "values": values,
        "masks": plugin_forms.masks(info, stored),
        "hints": {f.name: _hint(f, request.localizer.translate) for f in fields},
        "options": {f.name: _options(request, f.choices_from) for f in fields if f.choices_from},
        "enabled": enabled,
        "errors": by_setting,
        "error": other,
        "checkable": registry.implements(info.id, CHECK_HOOK),
        "check": check,
        "saved": request.GET.get("saved"),
    }


def _typed(form, f: plugin_forms.SettingField):
    """A field's value as the refused form had it."""
    if f.type == "boolean":
        return "true" if form.get(f.input_name) else "false"
    if f.widget == "checkboxes":
        return form.getall(f.input_name)
    return form.get(f.input_name, "")


def _options(request, hook_name: str) -> list[tuple[str, str]]:
    """The providers the tenant enabled for ``hook_name`` (its repayment methods …): (code, name), by name."""
    translate = request.localizer.translate
    named = [(code, translate(p.name)) for code, p in collect_by_code(request.hooks, hook_name).items()]
    return sorted(named, key=lambda option: option[1])


def _hint(f: plugin_forms.SettingField, translate) -> str:
    """What a field takes, beyond its help text: its bounds, its format, its default."""
    hints = []
    if f.minimum is not None and f.maximum is not None:
        hints.append(_("From ${minimum} to ${maximum}.", mapping={"minimum": f.minimum, "maximum": f.maximum}))
    elif f.minimum is not None:
        hints.append(_("At least ${minimum}.", mapping={"minimum": f.minimum}))
    elif f.maximum is not None:
        hints.append(_("At most ${maximum}.", mapping={"maximum": f.maximum}))
    if f.min_length and f.max_length:
        hints.append(_("${low} to ${high} characters.", mapping={"low": f.min_length, "high": f.max_length}))
    elif f.min_length:
        hints.append(_("At least ${count} characters.", mapping={"count": f.min_length}))
    if f.widget == "list":
        hints.append(_("Separate values with commas."))
    elif f.type == "mapping":
        hints.append(_("One per line: code = value."))
    if f.type == "boolean" and f.default is not None:
        hints.append(
            _("Default: ${value}.", mapping={"value": translate(_("Yes") if f.default == "true" else _("No"))})
        )
    elif f.widget == "list" and f.default:
        hints.append(_("Default: ${value}.", mapping={"value": ", ".join(str(v) for v in f.default)}))
    elif f.type not in ("list", "mapping") and f.default not in (None, ""):
        hints.append(_("Default: ${value}.", mapping={"value": f.default}))
    return " ".join(translate(hint) for hint in hints)


@view_config(
    route_name="admin.settings_plugin", request_method="GET", renderer="admin/settings/plugin.pt", permission=PERMISSION
)
def plugin_page(request):
    return _page(request, plugin_or_404(request))


@view_config(
    route_name="admin.settings_plugin",
    request_method="POST",
    renderer="admin/settings/plugin.pt",
    permission=PERMISSION,
)
def save_plugin(request):
    """Save the form (``action=save``), or turn the plugin on or off with its stored settings (``enable``, ``disable``:
    the list's buttons, which come back to the list)."""
    info = plugin_or_404(request)
    action = request.POST.get("action", "save")
    typed = None if action in ("enable", "disable") else request.POST  # a list button: the stored settings
    on_refusal(request, lambda error: _page(request, info, form=typed, errors={error.field: error.message}))
    if action in ("enable", "disable"):
        changes = set_plugin(request, info, action == "enable", None)
        return HTTPSeeOther(request.route_path("admin.settings_plugins", _query={"saved": "1" if changes else "0"}))
    changes = set_plugin(request, info, bool(request.POST.get("enabled")), plugin_forms.from_form(info, request.POST))
    return HTTPSeeOther(
        request.route_path("admin.settings_plugin", code=info.id, _query={"saved": "1" if changes else "0"})
    )


@view_config(
    route_name="admin.settings_plugin_check",
    request_method="POST",
    renderer="admin/settings/plugin.pt",
    permission=PERMISSION,
)
def check_plugin(request):
    """Try the settings as typed (a blank secret: the stored one) against the plugin's service; nothing is saved."""
    info = plugin_or_404(request)
    registry = request.registry["plugins"]
    if not registry.implements(info.id, CHECK_HOOK):
        raise HTTPNotFound()
    on_refusal(request, lambda error: _page(request, info, form=request.POST, errors={error.field: error.message}))
    raw = plugin_forms.from_form(info, request.POST)
    stored = request.tenant.plugin_settings(info.id)
    for name in info.secret_settings:
        if name not in raw and stored.get(name):
            raw[name] = stored[name]
    try:
        settings = info.validate_settings(raw)
    except PluginError as error:
        raise DomainError(plugin_forms.setting_path(info, error.field), error.detail) from None
    result = registry.check_connection(request.tenant, info.id, settings)
    return _page(request, info, form=request.POST, check=result)
