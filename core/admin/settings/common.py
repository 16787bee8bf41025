"""What the settings pages share: their permission, the one save path (changed, versioned, audited) and the
helpers that read a posted form into the tenant's manifest data."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther

from ... import audit
from ...tenancy import manifest

PERMISSION = "settings.manage"


def change_options(request) -> dict:
    """Who changes the tenant and under which install's rules: the keywords every change of its settings takes."""
    app = request.registry.settings_obj
    return {"actor": audit.actor_of(request), "operator_hosts": app.operator_hosts, "production": app.production}


def change_settings(request, edit, action: str, nav_keys: dict | None = None) -> list[dict]:
    """Apply ``edit`` to the tenant's manifest data through the one change path; audit what changed."""
    changes = manifest.change(
        request.dbsession,
        request.tenant,
        request.registry["plugins"],
        edit,
        action=action,
        nav_keys=nav_keys,
        **change_options(request),
    )
    audit_changes(request, action, changes)
    return changes


def audit_changes(request, action: str, changes: list[dict]) -> None:
    """Record ``changes`` (``manifest.change``'s) as ``{path: value}`` before and after; nothing when none."""
    if changes:
        before = {change["path"]: change["before"] for change in changes}
        after = {change["path"]: change["after"] for change in changes}
        audit.record(request, action, "tenant", request.tenant.id, before, after)


def saved(request, route: str, changes: list[dict]) -> HTTPSeeOther:
    """Back to the page, saying whether anything changed."""
    return HTTPSeeOther(request.route_path(route, _query={"saved": "1" if changes else "0"}))


def posted(request) -> dict:
    """The form as typed: text fields only (a file field's upload is read on its own)."""
    return {key: value for key, value in request.POST.items() if isinstance(value, str)}


def typed(form: dict, name: str) -> str:
    """A form field's text, trimmed ("" when it was not sent)."""
    return (form.get(name) or "").strip()


def put_section(data: dict, section: str, table: dict) -> None:
    """Set a manifest section, or leave it out when it is empty (nothing set: the defaults apply)."""
    if table:
        data[section] = table
    else:
        data.pop(section, None)


def set_value(table: dict, key: str, value) -> None:
    """Set ``key`` in a manifest table, or leave it out when ``value`` is blank (the default applies)."""
    if value in (None, "", {}, []):
        table.pop(key, None)
    else:
        table[key] = value


def ordered_locales(tenant) -> list[str]:
    """The tenant's languages, its default one first."""
    return [tenant.default_locale] + [loc for loc in tenant.locales if loc != tenant.default_locale]
