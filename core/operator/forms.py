"""The console's tenant form as manifest data, and the manifest's refusals back by the form's fields.

The form names a tenant's slug, site name per language, hosts (one a line),
currency, languages, time zone, theme, plugins with their settings (``name =
value`` lines) and first business date; :func:`manifest_data` makes the
manifest dict :mod:`core.tenancy.manifest` validates, and :func:`form_field`
tells which input a refusal's manifest path (``hosts[1]``,
``plugins.payments.sandbox.secret``) belongs to.
"""

from __future__ import annotations

import re
import secrets

import colander

from ..domain import DomainError
from ..i18n import SUPPORTED_LOCALES, _

GENERATED_SECRET_BYTES = 24


def manifest_options(request) -> dict:
    """What every manifest call of the console passes: the operator hosts, whether production, the menu keys."""
    from ..admin.settings import nav_keys

    settings = request.registry.settings_obj
    return {"operator_hosts": settings.operator_hosts, "production": settings.production, "nav_keys": nav_keys(request)}


def hosts_of(text: str) -> list[str]:
    """Host names one a line (or separated by spaces or commas), lowercased; the manifest checks each."""
    return [host for host in re.split(r"[\s,]+", (text or "").strip().lower()) if host]


def settings_of(plugin_id: str, text: str) -> dict:
    """A plugin's settings typed as ``name = value`` lines (blank lines and ``#`` comments skipped)."""
    found = {}
    for line in (text or "").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, equals, value = line.partition("=")
        name, value = name.strip(), value.strip()
        if not equals or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise DomainError(f"plugins.{plugin_id}", _("Write one setting a line: name = value."))
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        found[name] = value
    return found


def required_settings(info) -> list[str]:
    """The settings ``info``'s schema has no default for: a manifest enabling the plugin must give them."""
    if info.settings is None:
        return []
    return [child.name for child in info.settings.children if child.missing is colander.required]


def with_generated_secrets(info, settings: dict) -> dict:
    """``settings`` with a random value for each required secret left blank, for development-only plugins.

    A sandbox signs with a secret of its own that nobody else needs to know, so
    the console makes one; a real gateway's keys come from its provider and are never made up.
    """
    if not info.development_only:
        return settings
    for name in required_settings(info):
        if name in info.secret_settings and not settings.get(name):
            settings[name] = secrets.token_urlsafe(GENERATED_SECRET_BYTES)
    return settings


def set_plugins(data: dict, plugins, chosen: set[str], texts: dict[str, str]) -> None:
    """Enable exactly ``chosen`` in manifest ``data``'s plugins table, merging the settings typed for each."""
    table = data.setdefault("plugins", {})
    for info in plugins.infos():
        typed = settings_of(info.id, texts.get(info.id, ""))
        if info.id in chosen:
            entry = table.setdefault(info.id, {})
            entry.pop("enabled", None)
            entry.update(typed)
            with_generated_secrets(info, entry)
        elif info.id in table or info.default_enabled:
            entry = table.setdefault(info.id, {})
            entry["enabled"] = False
            entry.update(typed)


def keep_languages(data: dict, locales: list[str]) -> None:
    """Drop the texts of languages the tenant no longer has from its branding and menus (the manifest refuses
    a text in a language the tenant does not offer)."""

    def prune(table: dict, key: str) -> None:
        value = table.get(key)
        if isinstance(value, dict):
            kept = {loc: text for loc, text in value.items() if loc in locales}
            if kept:
                table[key] = kept
            else:
                table.pop(key)

    branding = data.get("branding") or {}
    for key in list(branding):
        prune(branding, key)
    for entries in (data.get("menus") or {}).values():
        for entry in entries if isinstance(entries, list) else ():
            if isinstance(entry, dict):
                prune(entry, "label")
                prune(entry, "group")


def chosen_locales(post) -> list[str]:
    """The languages ticked, the default one first (the order the site offers them in), then the usual order.

    Refuses none at all, and a default language that is not one of them (in words, before the manifest would).
    """
    default = post.get("default_locale", "")
    ticked = [loc for loc in SUPPORTED_LOCALES if loc in post.getall("locales")]
    if not ticked:
        raise DomainError("locales", _("Choose at least one language."))
    if default not in ticked:
        raise DomainError("default_locale", _("The default language must be one of the site's languages."))
    return sorted(ticked, key=lambda loc: loc != default)


def manifest_data(post, plugins) -> dict:
    """The create form as manifest data: a new tenant named in its default language, titled in each of its own."""
    locales, default = chosen_locales(post), post.get("default_locale", "")
    titles = {loc: post.get(f"site_title_{loc}", "").strip() for loc in locales}
    data = {
        "slug": post.get("slug", "").strip().lower(),
        "name": post.get(f"site_title_{default}", "").strip(),
        "theme": post.get("theme", ""),
        "locales": locales,
        "default_locale": default,
        "currency": post.get("currency", "").strip().upper(),
        "timezone": post.get("timezone", "").strip(),
        "hosts": hosts_of(post.get("hosts", "")),
    }
    if post.get("business_date", "").strip():
        data["business_date"] = post["business_date"].strip()
    if any(titles.values()):
        data["branding"] = {"site_title": {loc: text for loc, text in titles.items() if text}}
    set_plugins(data, plugins, set(post.getall("plugins")), plugin_texts(post))
    return data


def plugin_texts(post) -> dict[str, str]:
    """Each plugin's settings text area (``settings:<plugin id>``) by plugin id."""
    return {key.partition(":")[2]: value for key, value in post.items() if key.startswith("settings:")}


def form_field(path: str, default_locale: str = "") -> str:
    """The form input a refusal's field names: a manifest path, or a first administrator's ``login``/``email``."""
    head = re.split(r"[.\[]", path, maxsplit=1)[0]
    if head == "plugins":
        parts = path.split(".")
        return ".".join(parts[:3]) if len(parts) >= 3 else path
    if path == "name" or path == "branding.site_title":
        return f"site_title_{default_locale}"
    if path.startswith("branding.site_title."):
        return f"site_title_{path.rsplit('.', 1)[1]}"
    if head in ("login", "email"):
        return f"admin_{head}"
    return head
