"""The back office's settings: branding, lending and funds parameters, menus, versions (/admin/settings).

Every save edits the tenant's manifest data and hands it to :func:`core.tenancy.manifest.change`, the one
path every change of a tenant takes (``lendstack tenant apply``, the operator console, the API): validated
whole, applied, versioned and told to the tenant's plugins. A refusal names the manifest path at fault
(``branding.primary_color``); the pages name their inputs after those paths, so the message shows by its
field. Each save is audited with its changes as ``{path: value}`` before and after.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.response import Response
from pyramid.view import view_config

from .. import audit, uploads
from ..accounts.permissions import PERMISSIONS
from ..colours import AA_NORMAL_TEXT, COLOUR, PAIRS, contrast_ratio
from ..content.models import ContentItem
from ..domain import DomainError
from ..forms import on_refusal
from ..i18n import _, locale_name
from ..money import Money
from ..payments import gateways
from ..plugin_registry import localized
from ..schedules import repayment_methods
from ..templating import KEPT_IN_MENU, text_in
from ..tenancy import manifest
from ..tenancy import versions as tenant_versions

PERMISSION = "settings.manage"


def _change(request, edit, action: str, nav_keys: dict | None = None) -> list[dict]:
    """Apply ``edit`` to the tenant's manifest data through the one change path; audit what changed."""
    app = request.registry.settings_obj
    changes = manifest.change(
        request.dbsession,
        request.tenant,
        request.registry["plugins"],
        edit,
        actor=audit.actor_of(request),
        action=action,
        operator_hosts=app.operator_hosts,
        production=app.production,
        nav_keys=nav_keys,
    )
    _audit(request, action, changes)
    return changes


def _audit(request, action: str, changes: list[dict]) -> None:
    if changes:
        before = {change["path"]: change["before"] for change in changes}
        after = {change["path"]: change["after"] for change in changes}
        audit.record(request, action, "tenant", request.tenant.id, before, after)


def _saved(request, route: str, changes: list[dict]) -> HTTPSeeOther:
    return HTTPSeeOther(request.route_path(route, _query={"saved": "1" if changes else "0"}))


def _posted(request) -> dict:
    """The form as typed: text fields only (a file field's upload is read on its own)."""
    return {key: value for key, value in request.POST.items() if isinstance(value, str)}


def _put(data: dict, section: str, table: dict) -> None:
    """Set a manifest section, or leave it out when it is empty (nothing set: the defaults apply)."""
    if table:
        data[section] = table
    else:
        data.pop(section, None)


def _set(table: dict, key: str, value) -> None:
    if value in (None, "", {}, []):
        table.pop(key, None)
    else:
        table[key] = value


def _whole(text: str):
    """A whole number as typed; anything else as it is, for the manifest to refuse by its field."""
    try:
        return int(text)
    except ValueError:
        return text


# -- the hub -------------------------------------------------------------------------------------------------

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


# -- branding ------------------------------------------------------------------------------------------------

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


def _locales(tenant) -> list[str]:
    """The tenant's languages, its default one first."""
    return [tenant.default_locale] + [loc for loc in tenant.locales if loc != tenant.default_locale]


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
        typed = (form.get(f"branding.{key}") or "").strip()
        shown = typed if COLOUR.match(typed) else (tenant.brand(key) or THEME_COLOURS[key])
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
        "locales": _locales(tenant),
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
    typed = {loc: (form.get(f"branding.{key}.{loc}") or "").strip() for loc in tenant.locales}
    others = {loc: text for loc, text in typed.items() if text and loc != tenant.default_locale}
    if not others:
        return typed.get(tenant.default_locale) or None
    return {loc: text for loc, text in typed.items() if text}


def _chosen_colour(form: dict, key: str, tenant) -> str:
    """The colour the form asks for: the text field when it was changed, else the picker when it was moved.

    Without script the two inputs are not kept in step, so whichever differs from what the page showed wins.
    """
    current = (tenant.branding or {}).get(key, "")
    typed = (form.get(f"branding.{key}") or "").strip()
    if typed.lower() != current.lower():
        return typed
    picked = (form.get(f"branding.{key}.picker") or "").strip()
    shown = _six_digits(current or THEME_COLOURS[key])
    if picked and picked.lower() != shown:
        return picked
    return typed


@view_config(route_name="admin.settings_branding", renderer="admin/settings/branding.pt", permission=PERMISSION)
def branding(request):
    if request.method != "POST":
        return _branding_page(request)
    tenant, form = request.tenant, _posted(request)
    on_refusal(request, lambda error: _branding_page(request, form, {error.field: error.message}))
    images = {}
    for key, _label, _hint in IMAGES:
        data = uploads.read_upload(request.POST.get(f"branding.{key}"), key)
        if data is not None:
            images[key] = uploads.check_image(data, key, f"branding.{key}")

    def edit(data: dict) -> None:
        table = dict(data.get("branding") or {})
        for key, _label in BRANDING_TEXTS:
            _set(table, key, _branding_text(form, key, tenant))
        for key, *_rest in COMPANY:
            _set(table, key, (form.get(f"branding.{key}") or "").strip())
        for key, *_rest in COLOURS:
            _set(table, key, _chosen_colour(form, key, tenant))
        for key, *_rest in IMAGES:
            if key in images:
                table[key] = images[key].url
            elif form.get(f"branding.{key}.remove"):
                table.pop(key, None)
        _put(data, "branding", table)

    changes = _change(request, edit, "settings.branding")
    for checked in images.values():
        uploads.store(request.dbsession, request.registry.settings_obj, tenant.id, checked, by=audit.actor_of(request))
    return _saved(request, "admin.settings_branding", changes)


# -- lending and funds parameters ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Parameter:
    """One ``[lending]``/``[funds]``/``[members]``/``[vip]`` setting: how the page asks for it (docs/operators.md)."""

    section: str
    key: str
    label: object
    kind: str  # number (with a unit), amount (in the tenant's currency), whole, flag, choice, gateway
    default: object  # what applies while it is not set (the value the code falls back to)
    unit: object = None
    bounds: object = None
    choices: tuple = ()  # (value, label)

    @property
    def name(self) -> str:
        return f"{self.section}.{self.key}"

    @property
    def help(self):
        return HELP.get(self.name)


FEE_MODES = tuple(audit.FEE_MODES.items())
PENALTY_BASES = (
    ("principal", _("The unpaid principal")),
    ("principal_and_interest", _("Unpaid principal and interest")),
)
ID_TYPES = (("cn_resident", _("Resident ID card (mainland China)")), ("passport", _("Passport")))
A_YEAR, A_DAY, DAYS, DAYS_OVERDUE = _("% a year"), _("% a day"), _("days"), _("days overdue")
ABOVE_0, AT_LEAST_0 = _("above 0"), _("0 or more")


def _up_to(n) -> object:
    return _("from 0 to ${n}", mapping={"n": n})


def _table(section: str):
    return lambda *args, **kwargs: Parameter(section, *args, **kwargs)


lending, funds = _table("lending"), _table("funds")
LENDING = (
    lending("max_annual_rate_percent", _("Rate cap"), "number", "36", A_YEAR, _("above 0, at most 100")),
    lending("bid_unit", _("Bid unit"), "amount", "50", bounds=ABOVE_0),
    lending("borrower_fee_percent", _("Borrower fee"), "number", "0", _("% of the loan"), _up_to(20)),
    lending("borrower_fee_mode", _("How the borrower fee is charged"), "choice", "installments", choices=FEE_MODES),
    lending("lender_fee_percent", _("Lender management fee"), "number", "0", _("% of the interest"), _up_to(50)),
    lending(
        "prepayment_fee_percent", _("Prepayment fee"), "number", "0", _("% of the principal repaid early"), _up_to(10)
    ),
    lending("reminder_days", _("Reminder before a due date"), "number", "3", DAYS, _up_to(30)),
    lending("penalty_rate_percent_per_day", _("Penalty interest"), "number", "0.05", A_DAY, _up_to(1)),
    lending("penalty_base", _("Penalty interest accrues on"), "choice", "principal", choices=PENALTY_BASES),
    lending("late_fee", _("Late fee"), "amount", "0", bounds=AT_LEAST_0),
    lending("overdue_charges_cap_percent", _("Cap on late fee and penalty"), "number", "24", A_YEAR, _up_to(100)),
    lending("collect_partial", _("Collect part of a due installment"), "flag", True),
    lending("advance_after_days", _("Advance to lenders after"), "number", "0", DAYS_OVERDUE, _up_to(365)),
    lending("reserve_advances", _("The risk reserve advances"), "flag", False),
    lending("accelerate_after_days", _("Accelerate the loan after"), "number", "90", DAYS_OVERDUE, _up_to(3650)),
    lending("auto_invest_max_percent", _("Automatic bids at most"), "number", "70", _("% of a loan"), _up_to(100)),
    lending("allow_partial_funding", _("Borrowers may accept a loan not fully funded"), "flag", False),
    lending("partial_funding_min_percent", _("… once at least"), "number", "50", _("% of it is raised"), _up_to(100)),
)
FUNDS = (
    funds("withdrawal_min", _("Smallest withdrawal"), "amount", "10", bounds=AT_LEAST_0),
    funds("withdrawal_daily_limit", _("Daily withdrawal limit"), "amount", "50000", bounds=AT_LEAST_0),
    funds("withdrawal_fee_fixed", _("Withdrawal fee, fixed"), "amount", "0", bounds=AT_LEAST_0),
    funds("withdrawal_fee_percent", _("Withdrawal fee, percent"), "number", "0", _("% of the withdrawal"), _up_to(10)),
    funds("two_person_threshold", _("Second approval from"), "amount", "10000", bounds=AT_LEAST_0),
    funds("payout_gateway", _("Payout gateway"), "gateway", ""),
)
MEMBERS = (Parameter("members", "email_sign_up", _("Members may register with an email address"), "flag", False),)
VIP = (Parameter("vip", "points_per_100", _("VIP points per 100 invested"), "whole", "1", bounds=_up_to(10000)),)
HELP = {
    "lending.max_annual_rate_percent": _(
        "The highest annual rate a loan may take: its APR with the site's fees included, and its nominal rate."
    ),
    "lending.bid_unit": _("Bids are multiples of it."),
    "lending.borrower_fee_percent": _("The platform's fee on a loan."),
    "lending.borrower_fee_mode": _("Deducting it from the amount disbursed is not allowed in China."),
    "lending.reminder_days": _("An SMS this many days before each due date."),
    "lending.penalty_rate_percent_per_day": _("Accrues on an overdue installment every day."),
    "lending.late_fee": _("A fixed fee when an installment falls overdue."),
    "lending.collect_partial": _("Close of day takes what the borrower holds when it does not cover the installment."),
    "lending.advance_after_days": _("0: never."),
    "lending.reserve_advances": _("A guarantor always advances; the platform's own reserve only when this is on."),
    "lending.accelerate_after_days": _("Everything falls due at once. 0: never."),
    "funds.two_person_threshold": _("Withdrawals from this amount need a second staff member's approval."),
    "funds.payout_gateway": _("The payment gateway that pays withdrawals out; none: staff pay them by hand."),
}
PARAMETERS = LENDING + FUNDS + MEMBERS + VIP
DEFAULT_VIP_LEVELS = (("V0", 0), ("V1", 1000), ("V2", 5000), ("V3", 20000), ("V4", 100000))
"""The levels that apply while the tenant sets none (``core.members.conduct``)."""
EXTRA_LEVEL_ROWS = 2
LEVEL_FIELD = re.compile(r"^vip\.levels\[(\d+)\](.*)$")


def _parameters_form(tenant) -> dict:
    form = {}
    for p in PARAMETERS:
        value = (getattr(tenant, p.section) or {}).get(p.key)
        if p.kind == "flag":
            form[p.name] = "" if value is None else ("true" if value else "false")
        else:
            form[p.name] = "" if value is None else str(value)
    id_types = (tenant.members or {}).get("id_types") or []
    form["members.id_types"] = list(id_types)
    form["members.id_types.default"] = id_types[0] if id_types else ""
    for i, (name, points) in enumerate((tenant.vip or {}).get("levels") or []):
        form[f"vip.levels[{i}].name"], form[f"vip.levels[{i}].points"] = name, str(points)
    return form


def _parameter_rows(request, params) -> list[dict]:
    tenant = request.tenant
    rows = []
    for p in params:
        choices = p.choices
        if p.kind == "gateway":  # codes: the page names each gateway (h.gateway), enabled or not
            stored = (tenant.funds or {}).get(p.key)
            choices = tuple(dict.fromkeys([*gateways(request.hooks), *([stored] if stored else [])]))
        row = {"p": p, "choices": choices, "default_minor": None, "default_label": None, "default_number": None}
        if p.kind == "amount":
            row["default_minor"] = Money.parse(p.default, tenant.currency).minor
        elif p.kind == "flag":
            row["default_label"] = _("Yes") if p.default else _("No")
        elif p.kind == "choice":
            row["default_label"] = dict(p.choices)[p.default]
        elif p.kind == "gateway":
            row["default_label"] = _("No gateway")
        else:
            row["default_number"] = Decimal(p.default)
        rows.append(row)
    return rows


def _parameters_page(request, form: dict | None = None, errors: dict | None = None) -> dict:
    tenant = request.tenant
    form = _parameters_form(tenant) if form is None else form
    level_rows = 1 + max([int(m.group(1)) for m in map(LEVEL_FIELD.match, form) if m] or [-1])
    return {
        "form": form,
        "errors": errors or {},
        "sections": (
            (_("Lending"), _parameter_rows(request, LENDING)),
            (_("Withdrawal rules"), _parameter_rows(request, FUNDS)),
            (_("Members"), _parameter_rows(request, MEMBERS)),
            (_("VIP"), _parameter_rows(request, VIP)),
        ),
        "id_types": ID_TYPES,
        "level_rows": range(level_rows + EXTRA_LEVEL_ROWS),
        "default_levels": DEFAULT_VIP_LEVELS,
        "currency": tenant.currency,
        "saved": request.GET.get("saved"),
    }


def _parameter_value(p: Parameter, typed: str):
    if p.kind == "flag":
        return {"true": True, "false": False}.get(typed)
    if p.kind == "whole":
        return _whole(typed) if typed else None
    return typed or None


@view_config(route_name="admin.settings_parameters", renderer="admin/settings/parameters.pt", permission=PERMISSION)
def parameters(request):
    if request.method != "POST":
        return _parameters_page(request)
    form = _posted(request)
    form["members.id_types"] = request.POST.getall("members.id_types")
    rows: list[int] = []  # the form's row of each level sent, so a refusal of level i shows by its row
    on_refusal(request, lambda error: _parameters_page(request, form, {_level_field(error.field, rows): error.message}))

    def edit(data: dict) -> None:
        for section in ("lending", "funds", "members", "vip"):
            table = dict(data.get(section) or {})
            for p in PARAMETERS:
                if p.section == section:
                    _set(table, p.key, _parameter_value(p, (form.get(p.name) or "").strip()))
            if section == "members":
                _set(table, "id_types", _id_types(form))
            if section == "vip":
                _set(table, "levels", _levels(form, rows))
            _put(data, section, table)

    changes = _change(request, edit, "settings.parameters")
    return _saved(request, "admin.settings_parameters", changes)


def _id_types(form: dict) -> list[str]:
    """The ID types ticked, the default one first (none ticked: not set, every type accepted)."""
    ticked = [code for code, _label in ID_TYPES if code in form.get("members.id_types", [])]
    first = form.get("members.id_types.default")
    if first in ticked:
        ticked.remove(first)
        ticked.insert(0, first)
    return ticked


def _levels(form: dict, rows: list[int]) -> list[dict]:
    """The VIP levels typed, blank rows left out (none: the default levels apply)."""
    levels, rows[:] = [], []
    count = 1 + max([int(m.group(1)) for m in map(LEVEL_FIELD.match, form) if m] or [-1])
    for i in range(count):
        name = (form.get(f"vip.levels[{i}].name") or "").strip()
        points = (form.get(f"vip.levels[{i}].points") or "").strip()
        if name or points:
            levels.append({"name": name, "points": _whole(points)})
            rows.append(i)
    return levels


def _level_field(field: str, rows: list[int]) -> str:
    """``vip.levels[j]`` as the manifest counts the levels sent, named by the form's row."""
    found = LEVEL_FIELD.match(field)
    if found is None or int(found.group(1)) >= len(rows):
        return field
    return f"vip.levels[{rows[int(found.group(1))]}]{found.group(2)}"


# -- menus ---------------------------------------------------------------------------------------------------

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
        "locales": _locales(request.tenant),
        "news": _news(request),
        "kept": KEPT_IN_MENU,
        "saved": request.GET.get("saved"),
    }


def _position(form: dict, prefix: str) -> int:
    typed = (form.get(f"{prefix}.position") or "").strip()
    if not typed:
        return 10**6
    try:
        return int(typed)
    except ValueError:
        raise DomainError(f"{prefix}.position", _("Give the position as a whole number.")) from None


def _labels(form: dict, prefix: str, what: str, locales) -> dict:
    texts = {loc: (form.get(f"{prefix}.{what}.{loc}") or "").strip() for loc in locales}
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
            url = (form.get(f"{prefix}.url") or "").strip() or (form.get(f"{prefix}.content") or "").strip()
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
            url = (form.get(f"{prefix}.url") or "").strip()
            if url or "url" in stored.get(key, {}):
                entry["url"] = url
        if area == "admin":
            group = _labels(form, prefix, "group", locales)
            if group:
                entry["group"] = group
        if form.get(f"{prefix}.hidden") and entry["key"] not in KEPT_IN_MENU:
            entry["hidden"] = True
        parent = (form.get(f"{prefix}.parent") or "").strip()
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
    form = _posted(request)
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
            _set(table, area, entries)
        _put(data, "menus", table)

    changes = _change(request, edit, "settings.menus", nav_keys=nav_keys(request))
    return _saved(request, "admin.settings_menus", changes)


# -- versions and the manifest download ----------------------------------------------------------------------

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
    if action.startswith("settings.restore."):
        return _("Restored version ${number}", mapping={"number": action.rsplit(".", 1)[1]})
    return ACTIONS.get(action, _("Settings changed"))


@view_config(route_name="admin.settings_versions", renderer="admin/settings/versions.pt", permission=PERMISSION)
def versions(request):
    return {
        "versions": tenant_versions.versions(request.dbsession, request.tenant),
        "action_label": action_label,
        "restored": request.GET.get("restored"),
    }


def _version_or_404(request):
    try:
        return tenant_versions.version(request.dbsession, request.tenant, int(request.matchdict["number"]))
    except (LookupError, ValueError):
        raise HTTPNotFound() from None


@view_config(route_name="admin.settings_version", renderer="admin/settings/version.pt", permission=PERMISSION)
def version(request):
    found = _version_or_404(request)
    if request.method == "POST":
        on_refusal(request, lambda error: _version_page(request, found, error.message))
        app = request.registry.settings_obj
        changes = tenant_versions.restore(
            request.dbsession,
            request.tenant,
            found.number,
            request.registry["plugins"],
            actor=audit.actor_of(request),
            operator_hosts=app.operator_hosts,
            production=app.production,
        )
        _audit(request, "settings.restore", changes)
        return HTTPSeeOther(
            request.route_path("admin.settings_versions", _query={"restored": found.number if changes else "0"})
        )
    return _version_page(request, found)


def _version_page(request, found, error=None) -> dict:
    describe = SettingNames(request)
    return {
        "version": found,
        "action_label": action_label,
        "changes": [
            {
                "name": describe.path(change["path"]),
                "before": describe.value(change["path"], change["before"]),
                "after": describe.value(change["path"], change["after"]),
            }
            for change in found.changes or []
        ],
        "error": error,
    }


@view_config(route_name="admin.settings_manifest", permission=PERMISSION)
def manifest_download(request):
    """The tenant's settings as a manifest file (TOML), every plugin secret left out."""
    tenant = request.tenant
    data = manifest.export(tenant, request.registry["plugins"], secrets=False)
    translate = request.localizer.translate
    header = "\n".join(
        (
            translate(_("The settings of ${site}, as a manifest file.", mapping={"site": tenant.name})),
            translate(
                _("Plugin secrets (keys, passwords, signing secrets) are left out: add them before applying it.")
            ),
        )
    )
    response = Response(manifest.dumps(data, header=header), content_type="application/toml", charset="utf-8")
    response.content_disposition = f'attachment; filename="{tenant.slug}.toml"'
    return response


# -- readable names of manifest paths (the versions' changes) ------------------------------------------------

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
                return f"{name}: {self.t(title) if hasattr(title, 'interpolate') else title}"
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
            label = choices[value]
            return self.t(label) if hasattr(label, "interpolate") else str(label)
        return str(value)
