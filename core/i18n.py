"""Locales: negotiation limited to the tenant's offered locales, and region formatting.

Shipped locales are ``zh_Hant``, ``zh_Hans`` and ``en``. Babel does not map
``zh-TW`` to ``zh_Hant``, so the script is chosen here: TW/HK/MO and an explicit
Hant mean Traditional; CN/SG, Hans and a bare ``zh`` mean Simplified.
"""

from __future__ import annotations

from pyramid.events import NewResponse
from pyramid.i18n import TranslationStringFactory
from pyramid.path import AssetResolver

SUPPORTED_LOCALES = ("zh_Hant", "zh_Hans", "en")
LOCALE_NAMES = {"zh_Hant": "繁體中文", "zh_Hans": "简体中文", "en": "English"}
"""Each shipped locale by its own name, in its own script: never translated, so a reader finds their language."""
LOCALE_PARAM = "_LOCALE_"
LOCALE_COOKIE = "_LOCALE_"
DOMAIN = "lendstack"

_ = TranslationStringFactory(DOMAIN)

_REGION = {"zh_Hant": "zh_Hant_TW", "zh_Hans": "zh_Hans_CN", "en": "en_US"}
_HANT_REGIONS = {"tw", "hk", "mo"}


def english(message) -> str:
    """The source (English) text of a translation string, its ``${…}`` filled in."""
    interpolate = getattr(message, "interpolate", None)
    return interpolate() if interpolate else str(message)


def locale_name(code: str) -> str:
    """The language ``code`` names, as its speakers write it (繁體中文, 简体中文, English)."""
    return LOCALE_NAMES.get(code, code)


def region_locale(locale: str) -> str:
    """The region locale Babel formats numbers, dates and money with."""
    return _REGION.get(locale, locale)


def normalize_locale(tag: str | None) -> str | None:
    """Map a browser or URL tag (``zh-TW``, ``zh_hans``, ``en-GB``) to a shipped locale."""
    if not tag:
        return None
    parts = tag.replace("_", "-").strip().lower().split("-")
    if parts[0] == "en":
        return "en"
    if parts[0] == "zh":
        rest = set(parts[1:])
        if "hant" in rest or rest & _HANT_REGIONS:
            return "zh_Hant"
        return "zh_Hans"
    return None


def negotiate(request) -> str:
    """Pyramid locale negotiator: URL parameter, then cookie, then Accept-Language.

    Only the tenant's offered locales are chosen; anything else falls back to
    the tenant's default locale (``en`` where no tenant is resolved).
    """
    tenant = getattr(request, "tenant", None)
    offered = tenant.locales if tenant is not None else list(SUPPORTED_LOCALES)
    default = tenant.default_locale if tenant is not None else "en"
    candidates = [request.params.get(LOCALE_PARAM), request.cookies.get(LOCALE_COOKIE)]
    parsed = getattr(request.accept_language, "parsed", None) or []
    candidates += [tag for tag, _q in sorted(parsed, key=lambda item: -item[1])]
    for tag in candidates:
        locale = normalize_locale(tag)
        if locale in offered:
            return locale
    return default


def _remember_locale(event):
    request = event.request
    try:
        chosen = normalize_locale(request.params.get(LOCALE_PARAM))
    except UnicodeDecodeError:  # an undecodable query was refused already; nothing to remember
        return
    if chosen and chosen == request.locale_name:
        event.response.set_cookie(LOCALE_COOKIE, chosen, max_age=365 * 24 * 3600, httponly=True, samesite="Lax")


def catalog_paths(specs) -> list[str]:
    """The folders of the catalogues ``specs`` name (``themes:default/locale`` or a path), for ``make_localizer``."""
    resolver = AssetResolver()
    return [resolver.resolve(spec).abspath() for spec in specs]


def includeme(config):
    """Locale negotiation, the catalogues named by ``lendstack.catalog_dirs``, and the remembered choice."""
    config.set_locale_negotiator(negotiate)
    config.add_translation_dirs(*config.registry.settings_obj.catalog_dirs)
    config.add_subscriber(_remember_locale, NewResponse)
