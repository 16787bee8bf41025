"""Branding (/admin/settings/branding): texts in each language, company details, colours, logo and icon."""

from __future__ import annotations

from pyramid.view import view_config

from ... import audit, uploads
from ...colours import AA_NORMAL_TEXT, COLOUR, PAIRS, contrast_ratio
from ...forms import on_refusal
from ...i18n import _
from .common import PERMISSION, change_settings, ordered_locales, posted, put_section, saved, set_value, typed

BRANDING_TEXTS = (
    ("site_title", _("Site title")),
    ("tagline", _("Tagline")),
    ("promo", _("Promotion line")),
    ("footer_text", _("Footer text")),
    ("company_name", _("Company name")),
    ("company_address", _("Company address")),
)
COMPANY = (
    ("company_licence", _("Licence or registration number"), None),
    ("company_icp", _("ICP record number"), _("Shown in the footer, linked to the MIIT record search.")),
    ("company_hotline", _("Hotline"), _("Digits, spaces, +, - and brackets.")),
    ("company_email", _("Email"), None),
)
COLOURS = (
    ("primary_color", _("Primary colour"), _("White text is drawn on it: the header and the main buttons.")),
    ("accent_color", _("Accent colour"), _("Dark text is drawn on it: badges and highlights.")),
)
THEME_COLOURS = {"primary_color": "#1a5fb4", "accent_color": "#c9a227"}
"""The default theme's colours (site.css), shown by the colour picker while the tenant sets none."""
IMAGES = (
    ("logo", _("Logo"), _("PNG, JPEG, GIF or WebP, at most 512 KB; shown about 40 pixels high.")),
    ("favicon", _("Browser icon"), _("PNG, JPEG, GIF, WebP or ICO, at most 100 KB; square.")),
)


def _branding_form(tenant) -> dict:
    """The inputs' values from the stored branding: one text for every language shows in the default one's field."""
    branding = tenant.branding or {}
    form = {}
    for key, _label in BRANDING_TEXTS:
        value = branding.get(key)
        for locale in tenant.locales:
            if isinstance(value, dict):
                form[f"branding.{key}.{locale}"] = value.get(locale, "")
            else:
                form[f"branding.{key}.{locale}"] = (value or "") if locale == tenant.default_locale else ""
    for key, *_rest in COMPANY + COLOURS:
        form[f"branding.{key}"] = branding.get(key, "")
    return form


def _six_digits(colour: str) -> str:
    digits = colour.lstrip("#").lower()
    return "#" + ("".join(c * 2 for c in digits) if len(digits) == 3 else digits)


def _branding_page(request, form: dict | None = None, errors: dict | None = None) -> dict:
    tenant = request.tenant
    form = _branding_form(tenant) if form is None else form
    colours = []
    for key, label, hint in COLOURS:
        shown = typed(form, f"branding.{key}")
        shown = shown if COLOUR.match(shown) else (tenant.brand(key) or THEME_COLOURS[key])
        ratio = contrast_ratio(shown, PAIRS[key])
        colours.append(
            {
                "name": f"branding.{key}",
                "label": label,
                "hint": hint,
                "picker": _six_digits(shown),
                "ratio": f"{ratio:.2f}",
                "low": ratio < AA_NORMAL_TEXT,
                "on_white": key == "primary_color",
            }
        )
    return {
        "form": form,
        "errors": errors or {},
        "locales": ordered_locales(tenant),
        "texts": BRANDING_TEXTS,
        "company": COMPANY,
        "colours": colours,
        "images": [
            {"name": f"branding.{key}", "label": label, "hint": hint, "current": tenant.brand(key)}
            for key, label, hint in IMAGES
        ],
        "aa": AA_NORMAL_TEXT,
        "saved": request.GET.get("saved"),
    }


def _branding_text(form: dict, key: str, tenant):
    """A text per language as typed: one string when only the default language has one (it then stands for
    every language), a table per language otherwise, nothing when all are blank."""
    texts = {loc: typed(form, f"branding.{key}.{loc}") for loc in tenant.locales}
    others = {loc: text for loc, text in texts.items() if text and loc != tenant.default_locale}
    if not others:
        return texts.get(tenant.default_locale) or None
    return {loc: text for loc, text in texts.items() if text}


def _chosen_colour(form: dict, key: str, tenant) -> str:
    """The colour the form asks for: the text field when it was changed, else the picker when it was moved.

    Without script the two inputs are not kept in step, so whichever differs from what the page showed wins.
    """
    current = (tenant.branding or {}).get(key, "")
    text = typed(form, f"branding.{key}")
    if text.lower() != current.lower():
        return text
    picked = typed(form, f"branding.{key}.picker")
    shown = _six_digits(current or THEME_COLOURS[key])
    if picked and picked.lower() != shown:
        return picked
    return text


@view_config(route_name="admin.settings_branding", renderer="admin/settings/branding.pt", permission=PERMISSION)
def branding(request):
    if request.method != "POST":
        return _branding_page(request)
    tenant, form = request.tenant, posted(request)
    on_refusal(request, lambda error: _branding_page(request, form, {error.field: error.message}))
    images = {}
    for key, _label, _hint in IMAGES:
        data = uploads.read_upload(request.POST.get(f"branding.{key}"), key)
        if data is not None:
            images[key] = uploads.check_image(data, key, f"branding.{key}")

    def edit(data: dict) -> None:
        table = dict(data.get("branding") or {})
        for key, _label in BRANDING_TEXTS:
            set_value(table, key, _branding_text(form, key, tenant))
        for key, *_rest in COMPANY:
            set_value(table, key, typed(form, f"branding.{key}"))
        for key, *_rest in COLOURS:
            set_value(table, key, _chosen_colour(form, key, tenant))
        for key, *_rest in IMAGES:
            if key in images:
                table[key] = images[key].url
            elif form.get(f"branding.{key}.remove"):
                table.pop(key, None)
        put_section(data, "branding", table)

    changes = change_settings(request, edit, "settings.branding")
    for checked in images.values():
        uploads.store(request.dbsession, request.registry.settings_obj, tenant.id, checked, by=audit.actor_of(request))
    return saved(request, "admin.settings_branding", changes)
