"""Menus (/admin/settings/menus): the site's navigation, its footer links and the back office's menu.

Each menu lists the tenant's entries in its order, then the built-in entries it left out; an entry can be moved,
relabelled in each language, hidden (all but :data:`core.templating.KEPT_IN_MENU`), put under another (the
site's menu) or under a group heading (the back office's), and links can be added and removed.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from pyramid.view import view_config

from ...content.models import ContentItem
from ...domain import DomainError
from ...forms import on_refusal
from ...i18n import _
from ...templating import KEPT_IN_MENU, text_in
from .common import PERMISSION, change_settings, ordered_locales, posted, put_section, saved, set_value, typed

MENU_AREAS = ("portal", "footer", "admin")
NEW = "new"  # the form's row for an entry being added
MENU_FIELD = re.compile(r"^menus\.(portal|footer|admin)\[(\d+)\](.*)$")


def nav_keys(request) -> dict[str, set[str]]:
    """The built-in navigation entries by area (``{"portal": {...}, "admin": {...}}``) for the manifest."""
    keys: dict[str, set[str]] = {"portal": set(), "admin": set()}
    for entry in request.registry.get("nav", []):
        if entry.area in keys:
            keys[entry.area].add(entry.key)
    return keys


def _built_in(request, area: str) -> list:
    if area == "footer":
        return []
    return sorted((e for e in request.registry.get("nav", []) if e.area == area), key=lambda e: e.order)


def _menu_rows(request, area: str) -> list[dict]:
    """The entries of one menu as the page lists them: the tenant's order, then built-in entries it left out."""
    tenant = request.tenant
    listed = list((tenant.menus or {}).get(area, []))
    built_in = {e.key: e for e in _built_in(request, area)}
    keys = [entry["key"] for entry in listed]
    rows = [(entry, built_in.get(entry["key"])) for entry in listed]
    rows += [({"key": key}, nav) for key, nav in built_in.items() if key not in keys]
    return [
        {
            "key": entry["key"],
            "nav": nav,
            "custom": nav is None or "url" in entry,
            "title": request.localizer.translate(nav.title) if nav is not None else "",
            "entry": entry,
        }
        for entry, nav in rows
        if nav is not None or "url" in entry
    ]


def _menus_form(request) -> dict:
    form = {}
    for area in MENU_AREAS:
        for position, row in enumerate(_menu_rows(request, area), start=1):
            prefix, entry = f"menus.{area}.{row['key']}", row["entry"]
            form[f"{prefix}.position"] = str(position * 10)
            form[f"{prefix}.hidden"] = "on" if entry.get("hidden") else ""
            form[f"{prefix}.parent"] = entry.get("parent", "")
            form[f"{prefix}.url"] = entry.get("url", "")
            for locale in request.tenant.locales:
                form[f"{prefix}.label.{locale}"] = (entry.get("label") or {}).get(locale, "")
                form[f"{prefix}.group.{locale}"] = (entry.get("group") or {}).get(locale, "")
    return form


def _news(request) -> list[ContentItem]:
    return request.dbsession.scalars(
        sa.select(ContentItem)
        .where(ContentItem.kind == "news", ContentItem.published.is_(True))
        .order_by(ContentItem.published_at.desc())
        .limit(100)
    ).all()


def _menus_page(request, form: dict | None = None, errors: dict | None = None) -> dict:
    form = _menus_form(request) if form is None else form
    errors = errors or {}
    areas = {}
    for area in MENU_AREAS:
        rows = _menu_rows(request, area)
        known = {row["key"] for row in rows}
        for key in form.get(f"menus.{area}.row", []):  # rows of a refused form that are not stored
            if key not in known and key != NEW:
                rows.append({"key": key, "nav": None, "custom": True, "title": "", "entry": {}})
        for row in rows:
            prefix = f"menus.{area}.{row['key']}"
            label = text_in(row["entry"].get("label"), request.locale_name, request.tenant.default_locale)
            row["prefix"], row["display"] = prefix, label or row["title"] or row["key"]
            row["error"] = next((message for field, message in errors.items() if field.startswith(prefix + ".")), None)
            row["error"] = errors.get(prefix) or row["error"]
        areas[area] = rows
    new_errors = {
        area: next((m for f, m in errors.items() if f.startswith(f"menus.{area}.{NEW}")), None) for area in MENU_AREAS
    }
    placed = {f for f in errors if any(f.startswith(f"menus.{area}.") for area in MENU_AREAS)}
    return {
        "form": form,
        "errors": errors,
        "general_error": next((message for field, message in errors.items() if field not in placed), None),
        "areas": areas,
        "new_errors": new_errors,
        "locales": ordered_locales(request.tenant),
        "news": _news(request),
        "kept": KEPT_IN_MENU,
        "saved": request.GET.get("saved"),
    }


def _position(form: dict, prefix: str) -> int:
    text = typed(form, f"{prefix}.position")
    if not text:
        return 10**6
    try:
        return int(text)
    except ValueError:
        raise DomainError(f"{prefix}.position", _("Give the position as a whole number.")) from None


def _labels(form: dict, prefix: str, what: str, locales) -> dict:
    texts = {loc: typed(form, f"{prefix}.{what}.{loc}") for loc in locales}
    return {loc: text for loc, text in texts.items() if text}


def _next_key(area: str, taken: set[str]) -> str:
    stem = "footer" if area == "footer" else "link"
    n = 1
    while f"{stem}-{n}" in taken:
        n += 1
    return f"{stem}-{n}"


def _menu_entries(request, form: dict, area: str, names: dict[str, str]) -> list[dict]:
    """One menu's entries from the form, in the order of their positions; ``names`` gets each key's row prefix."""
    locales = request.tenant.locales
    built_in = {e.key for e in _built_in(request, area)}
    stored = {entry["key"]: entry for entry in (request.tenant.menus or {}).get(area, [])}
    rows = list(dict.fromkeys(form.get(f"menus.{area}.row", [])))
    placed = []
    for order, key in enumerate(rows):
        prefix = f"menus.{area}.{key}"
        if key == NEW:
            label = _labels(form, prefix, "label", locales)
            url = typed(form, f"{prefix}.url") or typed(form, f"{prefix}.content")
            if not (label or url):
                continue
            key = _next_key(area, set(rows) | set(stored) | built_in)
            entry = {"key": key, "label": label}
            if url:
                entry["url"] = url
        else:
            if form.get(f"{prefix}.remove"):
                continue
            entry = {"key": key}
            label = _labels(form, prefix, "label", locales)
            if label:
                entry["label"] = label
            url = typed(form, f"{prefix}.url")
            if url or "url" in stored.get(key, {}):
                entry["url"] = url
        if area == "admin":
            group = _labels(form, prefix, "group", locales)
            if group:
                entry["group"] = group
        if form.get(f"{prefix}.hidden") and entry["key"] not in KEPT_IN_MENU:
            entry["hidden"] = True
        parent = typed(form, f"{prefix}.parent")
        if area == "portal" and parent:
            entry["parent"] = parent
        names[entry["key"]] = prefix
        placed.append((_position(form, prefix), order, entry))
    entries = [entry for _p, _o, entry in sorted(placed, key=lambda item: (item[0], item[1]))]
    kept = {entry["key"] for entry in entries}
    for entry in entries:  # an entry under one that was removed comes back to the top level
        if entry.get("parent") and entry["parent"] not in kept and entry["parent"] in stored:
            del entry["parent"]
    default_order = [e.key for e in _built_in(request, area)]
    if all(entry == {"key": entry["key"]} for entry in entries) and [e["key"] for e in entries] == default_order:
        return []  # the built-in menu as it comes: nothing to keep
    return entries


def _menu_field(field: str, indexes: dict[str, list[str]], names: dict[str, str]) -> str:
    """``menus.portal[2].parent`` (the manifest's count) as the page's input, ``menus.portal.<key>.parent``."""
    found = MENU_FIELD.match(field)
    if found is None:
        return field
    area, i, rest = found.group(1), int(found.group(2)), found.group(3)
    keys = indexes.get(area, [])
    if i >= len(keys):
        return f"menus.{area}"
    return names.get(keys[i], f"menus.{area}.{keys[i]}") + rest


@view_config(route_name="admin.settings_menus", renderer="admin/settings/menus.pt", permission=PERMISSION)
def menus(request):
    if request.method != "POST":
        return _menus_page(request)
    form = posted(request)
    for area in MENU_AREAS:
        form[f"menus.{area}.row"] = request.POST.getall(f"menus.{area}.row")
    indexes: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    on_refusal(
        request, lambda error: _menus_page(request, form, {_menu_field(error.field, indexes, names): error.message})
    )

    def edit(data: dict) -> None:
        table = {}
        for area in MENU_AREAS:
            entries = _menu_entries(request, form, area, names)
            indexes[area] = [entry["key"] for entry in entries]
            set_value(table, area, entries)
        put_section(data, "menus", table)

    changes = change_settings(request, edit, "settings.menus", nav_keys=nav_keys(request))
    return saved(request, "admin.settings_menus", changes)
