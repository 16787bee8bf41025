"""Tenant manifests: one TOML file per tenant, validated whole, applied idempotently.

A manifest names the tenant's hosts, theme, locales, currency, time zone,
branding and plugins. Validation reports the file and the field at fault and
nothing is applied; applying the same manifest twice changes nothing the
second time. ``business_date`` is used only when the tenant is created: after
that the close-of-day batch moves it. An install that says it is a production
one (``lendstack.environment = production``) refuses development-only plugins
(the sandbox gateway, the SMS outbox).
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import tomllib
import zoneinfo
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import sqlalchemy as sa

from ..credit.classification.rules import thresholds_problem
from ..i18n import SUPPORTED_LOCALES, _
from ..money import is_known_currency
from ..plugin_registry import PluginError, PluginRegistry
from ..themes import available_themes
from .models import Tenant, TenantHost, TenantPlugin, TenantStatus

SLUG = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
HOST = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")
COLOUR = re.compile(r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
KEYS = {
    "slug",
    "name",
    "theme",
    "default_locale",
    "locales",
    "currency",
    "timezone",
    "business_date",
    "hosts",
    "branding",
    "lending",
    "vip",
    "members",
    "funds",
    "plugins",
    "status",
    "menus",
    "roles",
}
BRANDING_TEXTS = ("site_title", "tagline", "promo", "footer_text", "company_name", "company_address")
"""Branding a visitor reads: one text for every language, or a table of texts per language."""
BRANDING_PLAIN = (
    "logo",
    "favicon",
    "primary_color",
    "accent_color",
    "company_licence",
    "company_icp",
    "company_hotline",
    "company_email",
)
BRANDING_KEYS = {*BRANDING_TEXTS, *BRANDING_PLAIN}
BRANDING_MAX_CHARS = 300
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
HOTLINE = re.compile(r"^[0-9+()\- ]{3,30}$")
MAX_RATE_CEILING = Decimal(100)


class ManifestError(ValueError):
    """A manifest that cannot be applied: the file, the field and what is wrong."""

    def __init__(self, source: str, field: str, message):
        english = message.interpolate() if hasattr(message, "interpolate") else message
        super().__init__(f"{source}: {field}: {english}")
        self.source, self.field, self.message = source, field, message  # message: translatable on pages


@dataclass
class Manifest:
    source: str
    slug: str
    name: str
    theme: str
    default_locale: str
    locales: list[str]
    currency: str
    timezone: str
    business_date: dt.date
    hosts: list[str]
    branding: dict
    status: str
    lending: dict = field(default_factory=dict)
    vip: dict = field(default_factory=dict)
    members: dict = field(default_factory=dict)
    funds: dict = field(default_factory=dict)
    menus: dict = field(default_factory=dict)
    roles: dict = field(default_factory=dict)
    plugins: dict[str, tuple[bool, dict]] = field(default_factory=dict)


def load(path: str | Path, plugins: PluginRegistry, *, production: bool = False) -> Manifest:
    """Read and validate one manifest file; ``production``: the install says it is a production one."""
    path = Path(path)
    source = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(source, "file", _("no such file")) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ManifestError(source, "file", _("not valid TOML (${error})", mapping={"error": str(error)})) from None
    return parse(data, source, plugins, production=production)


def parse(
    data: dict, source: str, plugins: PluginRegistry, *, production: bool = False, nav_keys: dict | None = None
) -> Manifest:
    """Validate manifest ``data`` (a TOML file's dict) whole; ``nav_keys`` (``{"portal": {...}, "admin": {...}}``,
    the built-in navigation entries) lets the menus refuse an unknown built-in entry."""

    def fail(name, message):
        raise ManifestError(source, name, message)

    unknown = sorted(set(data) - KEYS)
    if unknown:
        fail(unknown[0], _(_("unknown key")))
    slug = data.get("slug")
    if not isinstance(slug, str) or not SLUG.match(slug):
        fail("slug", _("2–40 lowercase letters, digits or hyphens, starting with a letter"))
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        fail("name", _("required"))
    theme = data.get("theme", "default")
    if theme not in available_themes():
        fail(
            "theme",
            _(
                "unknown theme ${theme} (have: ${themes})",
                mapping={"theme": repr(theme), "themes": ", ".join(available_themes())},
            ),
        )
    locales = data.get("locales")
    if not isinstance(locales, list) or not locales or any(loc not in SUPPORTED_LOCALES for loc in locales):
        fail("locales", _("a list of ${locales}", mapping={"locales": ", ".join(SUPPORTED_LOCALES)}))
    default_locale = data.get("default_locale", locales[0])
    if default_locale not in locales:
        fail("default_locale", _("must be one of the site's languages"))
    currency = data.get("currency")
    if not is_known_currency(currency):
        fail(
            "currency",
            _("unknown currency ${currency} (an ISO 4217 code such as CNY)", mapping={"currency": repr(currency)}),
        )
    timezone = data.get("timezone", "UTC")
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        fail("timezone", _("unknown time zone ${zone}", mapping={"zone": repr(timezone)}))
    business_date = data.get("business_date") or dt.datetime.now(zoneinfo.ZoneInfo(timezone)).date()
    if isinstance(business_date, str):
        try:
            business_date = dt.date.fromisoformat(business_date)
        except ValueError:
            fail("business_date", _("a date as YYYY-MM-DD"))
    if not isinstance(business_date, dt.date) or isinstance(business_date, dt.datetime):
        fail("business_date", _("a date as YYYY-MM-DD"))
    hosts = data.get("hosts")
    if not isinstance(hosts, list) or not hosts:
        fail("hosts", _("at least one host name"))
    hosts = [str(h).lower() for h in hosts]
    for i, host in enumerate(hosts):
        if not HOST.match(host):
            fail(
                f"hosts[{i}]",
                _(
                    "${host} is not a host name (letters, digits, hyphens and dots; no port)",
                    mapping={"host": repr(host)},
                ),
            )
    if len(set(hosts)) != len(hosts):
        fail("hosts", _("a host is listed twice"))
    branding = _parse_branding(data.get("branding", {}), locales, fail)
    lending = _parse_lending(data.get("lending", {}), fail)
    vip = _parse_vip(data.get("vip", {}), fail)
    members = _parse_members(data.get("members", {}), fail)
    funds = _parse_funds(data.get("funds", {}), fail)
    status = data.get("status", TenantStatus.active.value)
    if status not in {s.value for s in TenantStatus}:
        fail("status", _("active, suspended or archived"))
    menus = _parse_menus(data.get("menus", {}), locales, nav_keys, fail)
    roles = _parse_roles(data.get("roles", {}), fail)
    return Manifest(
        source=source,
        slug=slug,
        name=name.strip(),
        theme=theme,
        default_locale=default_locale,
        locales=locales,
        currency=currency,
        timezone=timezone,
        business_date=business_date,
        hosts=hosts,
        branding=branding,
        status=status,
        lending=lending,
        vip=vip,
        members=members,
        funds=funds,
        menus=menus,
        roles=roles,
        plugins=_parse_plugins(data.get("plugins", {}), source, plugins, production),
    )


def _parse_branding(table, locales, fail) -> dict:
    """Site title, taglines, footer and company details (per language or one for all), logo, favicon, colours."""
    from ..colours import COLOUR, contrast_problem

    if not isinstance(table, dict):
        fail("branding", _("a table"))
    branding = {}
    for key, value in table.items():
        if key not in BRANDING_KEYS:
            fail(f"branding.{key}", _("unknown key"))
        if key in BRANDING_TEXTS and isinstance(value, dict):
            texts = {}
            for locale, text in value.items():
                if locale not in locales:
                    fail(
                        f"branding.{key}.{locale}",
                        _("a language of this site (${locales})", mapping={"locales": ", ".join(locales)}),
                    )
                if not isinstance(text, str) or len(text) > BRANDING_MAX_CHARS:
                    fail(
                        f"branding.{key}.{locale}",
                        _("text of at most ${count} characters", mapping={"count": BRANDING_MAX_CHARS}),
                    )
                if text.strip():
                    texts[locale] = text.strip()
            if texts:
                branding[key] = texts
            continue
        if not isinstance(value, str) or len(value) > BRANDING_MAX_CHARS:
            fail(f"branding.{key}", _("text of at most ${count} characters", mapping={"count": BRANDING_MAX_CHARS}))
        value = value.strip()
        if not value:
            continue
        if key.endswith("_color"):
            if not COLOUR.match(value):
                fail(f"branding.{key}", _("a colour such as #1a5fb4"))
            ratio = contrast_problem(key, value)
            if ratio is not None:
                mapping = {"colour": value, "ratio": f"{ratio:.2f}"}
                if key == "primary_color":
                    message = _(
                        "white text on ${colour} has a contrast of ${ratio}:1, below the 4.5:1 that WCAG AA asks; "
                        "choose a darker colour",
                        mapping=mapping,
                    )
                else:
                    message = _(
                        "dark text on ${colour} has a contrast of ${ratio}:1, below the 4.5:1 that WCAG AA asks; "
                        "choose a lighter colour",
                        mapping=mapping,
                    )
                fail(f"branding.{key}", message)
        if key in ("logo", "favicon") and not (
            (value.startswith("/") and not value.startswith("//")) or value.startswith("https://")
        ):
            fail(f"branding.{key}", _("a path such as /static/img/logo.svg or an https:// URL"))
        if key == "company_email" and not EMAIL.match(value):
            fail(f"branding.{key}", _("an email address such as service@example.com"))
        if key == "company_hotline" and not HOTLINE.match(value):
            fail(f"branding.{key}", _("a telephone number: digits, spaces, +, - and brackets"))
        branding[key] = value
    return branding


MENU_AREAS = ("portal", "footer", "admin")
MENU_KEY = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,59}$")
MENU_ENTRY_KEYS = {"portal": {"key", "label", "url", "hidden", "parent"}, "footer": {"key", "label", "url", "hidden"}}
MENU_ENTRY_KEYS["admin"] = {"key", "label", "hidden", "group"}


def _parse_menus(table, locales, nav_keys, fail) -> dict:
    """The portal's navigation, the footer links and the back office's menu (order, labels, links, groups)."""
    if not isinstance(table, dict):
        fail("menus", _("a table"))
    for key in sorted(set(table) - set(MENU_AREAS)):
        fail(f"menus.{key}", _("unknown menu (portal, footer or admin)"))
    menus = {}
    for area in MENU_AREAS:
        entries = table.get(area, [])
        if not isinstance(entries, list):
            fail(f"menus.{area}", _("a list of [[menus.${area}]] tables", mapping={"area": area}))
        built_in = (nav_keys or {}).get(area)
        parsed, seen = [], set()
        for i, entry in enumerate(entries):
            where = f"menus.{area}[{i}]"
            if not isinstance(entry, dict):
                fail(where, _("a table with a key"))
            for extra in sorted(set(entry) - MENU_ENTRY_KEYS[area]):
                fail(f"{where}.{extra}", _("unknown key"))
            key = entry.get("key")
            if not isinstance(key, str) or not MENU_KEY.match(key):
                fail(f"{where}.key", _("lowercase letters, digits, dots, hyphens or underscores"))
            if key in seen:
                fail(f"{where}.key", _("${key} is listed twice", mapping={"key": key}))
            seen.add(key)
            item = {"key": key}
            url = entry.get("url")
            is_built_in = area != "footer" and url is None
            if area == "admin" and built_in is not None and key not in built_in:
                fail(f"{where}.key", _("no back-office screen ${key}", mapping={"key": key}))
            if is_built_in and area == "portal" and built_in is not None and key not in built_in:
                fail(f"{where}.key", _("no built-in entry ${key}; a new entry needs a link", mapping={"key": key}))
            if url is not None:
                if (
                    not isinstance(url, str)
                    or len(url) > 500
                    or not ((url.startswith("/") and not url.startswith("//")) or url.startswith("https://"))
                    or any(c.isspace() or ord(c) < 32 for c in url)
                ):
                    fail(f"{where}.url", _("a path on this site such as /news or an https:// address"))
                item["url"] = url
            elif area == "footer":
                fail(f"{where}.url", _("a path on this site such as /news or an https:// address"))
            for text_key in ("label", "group"):
                if text_key in entry:
                    item[text_key] = _texts(entry[text_key], locales, f"{where}.{text_key}", fail)
            if not is_built_in and not item.get("label"):
                fail(f"{where}.label", _("a label in at least one language"))
            if "hidden" in entry:
                if not isinstance(entry["hidden"], bool):
                    fail(f"{where}.hidden", _("true or false"))
                if entry["hidden"]:
                    item["hidden"] = True
            if "parent" in entry:
                if not isinstance(entry["parent"], str) or not entry["parent"]:
                    fail(f"{where}.parent", _("the key of another entry of this menu"))
                item["parent"] = entry["parent"]
            parsed.append(item)
        parents = {item["key"]: item.get("parent") for item in parsed}
        for i, item in enumerate(parsed):
            parent = item.get("parent")
            if parent is None:
                continue
            if parent not in parents:
                fail(f"menus.{area}[{i}].parent", _("no entry ${key} in this menu", mapping={"key": parent}))
            walked, at = {item["key"]}, parent
            while at is not None:
                if at in walked:
                    fail(
                        f"menus.{area}[{i}].parent",
                        _("${key} would end up under itself (a cycle)", mapping={"key": item["key"]}),
                    )
                walked.add(at)
                at = parents.get(at)
        if parsed:
            menus[area] = parsed
    return menus


def _texts(value, locales, where, fail) -> dict:
    """A label per language: ``{"en": "About"}`` (a plain string is the default language's text)."""
    if isinstance(value, str):
        value = {locales[0]: value}
    if not isinstance(value, dict):
        fail(where, _("a text per language such as { en = \"About\" }"))
    texts = {}
    for locale, text in value.items():
        if locale not in locales:
            fail(
                f"{where}.{locale}", _("a language of this site (${locales})", mapping={"locales": ", ".join(locales)})
            )
        if not isinstance(text, str) or len(text) > 80:
            fail(f"{where}.{locale}", _("text of at most ${count} characters", mapping={"count": 80}))
        if text.strip():
            texts[locale] = text.strip()
    return texts


ROLE_CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def _parse_roles(table, fail) -> dict:
    """Custom staff roles: ``[roles.<code>]`` with a name, permissions and whether it is active."""
    from ..accounts.permissions import DEFAULT_ROLES, PERMISSIONS

    if not isinstance(table, dict):
        fail("roles", _("a table of roles by code"))
    roles = {}
    for code, entry in table.items():
        where = f"roles.{code}"
        if not ROLE_CODE.match(code):
            fail(where, _("a code of 2–40 lowercase letters, digits or underscores, starting with a letter"))
        if code in DEFAULT_ROLES:
            fail(where, _("a built-in role cannot be changed; copy it under another code"))
        if not isinstance(entry, dict):
            fail(where, _("a table with name and permissions"))
        for extra in sorted(set(entry) - {"name", "permissions", "active"}):
            fail(f"{where}.{extra}", _("unknown key"))
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > 120:
            fail(f"{where}.name", _("a name of at most 120 characters"))
        permissions = entry.get("permissions", [])
        if not isinstance(permissions, list) or any(not isinstance(p, str) for p in permissions):
            fail(f"{where}.permissions", _("a list of permission names"))
        for permission in permissions:
            if permission not in PERMISSIONS:
                fail(
                    f"{where}.permissions",
                    _("unknown permission ${permission}", mapping={"permission": repr(permission)}),
                )
        active = entry.get("active", True)
        if not isinstance(active, bool):
            fail(f"{where}.active", _("true or false"))
        roles[code] = {"name": name.strip(), "permissions": sorted(set(permissions)), "active": active}
    return roles


LENDING_NUMBERS = {
    "bid_unit": None,
    "borrower_fee_percent": Decimal(20),
    "lender_fee_percent": Decimal(50),
    "reminder_days": Decimal(30),
    "penalty_rate_percent_per_day": Decimal(1),
    "advance_after_days": Decimal(365),
    "accelerate_after_days": Decimal(3650),
    "auto_invest_max_percent": Decimal(100),
    "prepayment_fee_percent": Decimal(10),
    "late_fee": None,
    "partial_funding_min_percent": Decimal(100),
    "overdue_charges_cap_percent": Decimal(100),
    # the five-level classification (core.credit.classification.rules): days past due, observation, provisions
    "special_mention_after_days": Decimal(3650),
    "substandard_after_days": Decimal(3650),
    "doubtful_after_days": Decimal(3650),
    "loss_after_days": Decimal(3650),
    "watch_months": Decimal(60),
    "provision_normal_percent": Decimal(100),
    "provision_special_mention_percent": Decimal(100),
    "provision_substandard_percent": Decimal(100),
    "provision_doubtful_percent": Decimal(100),
    "provision_loss_percent": Decimal(100),
}
WHOLE_LENDING_NUMBERS = {"special_mention_after_days", "substandard_after_days", "doubtful_after_days"}
WHOLE_LENDING_NUMBERS |= {"loss_after_days", "watch_months"}
LENDING_FLAGS = ("collect_partial", "allow_partial_funding", "reserve_advances")
# borrower_fee_mode "deducted" (the fee taken off the principal at disbursement) is an opt-in for tenants outside
# China: the 2017 notice 整治辦函〔2017〕141號 bans deducting interest or fees from the principal there, and
# under Civil Code art. 670 the loan is only what the borrower actually received (docs/operators.md).
LENDING_CHOICES = {
    "penalty_base": ("principal", "principal_and_interest"),
    "borrower_fee_mode": ("installments", "upfront", "deducted"),
    "write_off_min_class": ("loss", "doubtful", "substandard"),  # the mildest five-level class written off
}
LENDING_KEYS = {"max_annual_rate_percent", *LENDING_NUMBERS, *LENDING_FLAGS, *LENDING_CHOICES}


def _parse_lending(table, fail) -> dict:
    """The tenant's lending policy: rate cap, bid unit, fees, overdue rules, partial funding (docs/operators.md)."""
    if not isinstance(table, dict):
        fail("lending", _("a table"))
    for key in sorted(set(table) - LENDING_KEYS):
        fail(f"lending.{key}", _("unknown key"))
    lending = {}
    for key, ceiling in LENDING_NUMBERS.items():
        if key in table:
            value = table[key]
            try:
                if isinstance(value, bool) or not isinstance(value, (int, str)):  # a TOML float is inexact
                    raise InvalidOperation
                number = Decimal(str(value))
                if (
                    not number.is_finite()
                    or number < 0
                    or (ceiling is not None and number > ceiling)
                    or number.as_tuple().exponent < -4
                    or (key == "bid_unit" and number <= 0)
                    or (key in WHOLE_LENDING_NUMBERS and number != number.to_integral_value())
                ):
                    raise InvalidOperation
            except InvalidOperation:
                if ceiling is None:
                    fail(f"lending.{key}", _('a number as a string such as "50"'))
                fail(
                    f"lending.{key}",
                    _('a number as a string such as "50", at most ${ceiling}', mapping={"ceiling": str(ceiling)}),
                )
            lending[key] = str(number)
    unordered = thresholds_problem(lending)
    if unordered is not None:
        fail(f"lending.{unordered}", _("more days than the milder class's (each class needs more days past due)"))
    for key in LENDING_FLAGS:
        if key in table:
            if not isinstance(table[key], bool):
                fail(f"lending.{key}", _("true or false"))
            lending[key] = table[key]
    for key, choices in LENDING_CHOICES.items():
        if key in table:
            if table[key] not in choices:
                fail(f"lending.{key}", _("one of ${choices}", mapping={"choices": ", ".join(choices)}))
            lending[key] = table[key]
    if "max_annual_rate_percent" in table:
        value = table["max_annual_rate_percent"]
        try:
            if isinstance(value, bool) or not isinstance(value, (int, str)):  # a TOML float is inexact
                raise InvalidOperation
            rate = Decimal(str(value))
            if not rate.is_finite() or not 0 < rate <= MAX_RATE_CEILING or rate.as_tuple().exponent < -4:
                raise InvalidOperation
        except InvalidOperation:
            fail(
                "lending.max_annual_rate_percent",
                _('a percentage above 0 and at most 100 with up to 4 decimals, as a string such as "24"'),
            )
        lending["max_annual_rate_percent"] = str(rate)
    return lending


ID_TYPES = ("cn_resident", "passport")
FUNDS_AMOUNTS = ("withdrawal_min", "withdrawal_daily_limit", "withdrawal_fee_fixed", "two_person_threshold")
FUNDS_KEYS = {*FUNDS_AMOUNTS, "withdrawal_fee_percent", "payout_gateway"}


def _parse_funds(table, fail) -> dict:
    """Withdrawal rules: amounts as decimal strings, a fee percent, and the payout gateway's code."""
    if not isinstance(table, dict):
        fail("funds", _("a table"))
    for key in sorted(set(table) - FUNDS_KEYS):
        fail(f"funds.{key}", _("unknown key"))
    funds = {}
    for key in FUNDS_AMOUNTS + ("withdrawal_fee_percent",):
        if key in table:
            value = table[key]
            try:
                if isinstance(value, bool) or not isinstance(value, (int, str)):  # a TOML float is inexact
                    raise InvalidOperation
                number = Decimal(str(value))
                if not number.is_finite() or number < 0 or number.as_tuple().exponent < -4:
                    raise InvalidOperation
            except InvalidOperation:
                fail(f"funds.{key}", _('an amount as a string such as "100.00"'))
            if key == "withdrawal_fee_percent" and number > 10:
                fail(f"funds.{key}", _("at most 10"))
            funds[key] = str(number)
    if "payout_gateway" in table:
        if not isinstance(table["payout_gateway"], str):
            fail("funds.payout_gateway", _("a gateway code such as sandbox"))
        funds["payout_gateway"] = table["payout_gateway"]
    return funds


def _parse_members(table, fail) -> dict:
    """Member rules: ``email_sign_up`` (bool) and ``id_types`` (from cn_resident, passport)."""
    if not isinstance(table, dict):
        fail("members", _("a table"))
    for key in sorted(set(table) - {"email_sign_up", "id_types"}):
        fail(f"members.{key}", _("unknown key"))
    members = {}
    if "email_sign_up" in table:
        if not isinstance(table["email_sign_up"], bool):
            fail("members.email_sign_up", _("true or false"))
        members["email_sign_up"] = table["email_sign_up"]
    if "id_types" in table:
        types = table["id_types"]
        if (
            not isinstance(types, list)
            or not types
            or any(t not in ID_TYPES for t in types)
            or len(set(types)) != len(types)
        ):
            fail("members.id_types", _("a list of ${types}, each once", mapping={"types": ", ".join(ID_TYPES)}))
        members["id_types"] = types
    return members


def _parse_vip(table, fail) -> dict:
    """VIP levels (``[[vip.levels]]`` with ``name`` and ``points``) and ``points_per_100`` invested."""
    if not isinstance(table, dict):
        fail("vip", _("a table"))
    for key in sorted(set(table) - {"levels", "points_per_100"}):
        fail(f"vip.{key}", _("unknown key"))
    vip = {}
    if "points_per_100" in table:
        per = table["points_per_100"]
        if isinstance(per, bool) or not isinstance(per, int) or not 0 <= per <= 10000:
            fail("vip.points_per_100", _("a whole number from 0 to 10000"))
        vip["points_per_100"] = per
    if "levels" in table:
        levels = table["levels"]
        if not isinstance(levels, list) or not levels:
            fail("vip.levels", _("a list of [[vip.levels]] tables with name and points"))
        parsed = []
        for i, level in enumerate(levels):
            name, points = (level.get("name"), level.get("points")) if isinstance(level, dict) else (None, None)
            if (
                not isinstance(name, str)
                or not name.strip()
                or isinstance(points, bool)
                or not isinstance(points, int)
                or points < 0
            ):
                fail(f"vip.levels[{i}]", _("a name and a whole number of points (0 or more)"))
            parsed.append([name.strip(), points])
        if len({p for _, p in parsed}) != len(parsed):
            fail("vip.levels", _("two levels have the same points"))
        if min(p for _, p in parsed) != 0:
            fail("vip.levels", _("the first level starts at 0 points"))
        vip["levels"] = sorted(parsed, key=lambda x: x[1])
    return vip


def _parse_plugins(
    table, source: str, plugins: PluginRegistry, production: bool = False
) -> dict[str, tuple[bool, dict]]:
    if not isinstance(table, dict):
        raise ManifestError(source, "plugins", _("a table of plugin ids"))
    chosen = {}
    for plugin_id, entry in table.items():
        entry = dict(entry) if isinstance(entry, dict) else {"enabled": entry}
        enabled = entry.pop("enabled", True)
        if not isinstance(enabled, bool):
            raise ManifestError(source, f"plugins.{plugin_id}.enabled", _("true or false"))
        try:
            info = plugins.info(plugin_id)
        except PluginError:
            raise ManifestError(source, f"plugins.{plugin_id}", _("unknown plugin (is it installed?)")) from None
        if enabled and production and info.development_only:
            # plugins that only pretend (a checkout where nobody pays, an outbox that reaches no phone)
            raise ManifestError(
                source,
                f"plugins.{plugin_id}",
                _(
                    "a development-only plugin cannot be enabled on a production install "
                    "(lendstack.environment = production)"
                ),
            )
        try:
            settings = info.stored_settings(entry) if enabled or entry else {}
        except PluginError as error:
            raise ManifestError(source, f"plugins.{plugin_id}.{error.field}", str(error).split(": ", 2)[-1]) from None
        chosen[plugin_id] = (enabled, settings)
    for info in plugins.infos():
        if info.id not in chosen and info.default_enabled and not (production and info.development_only):
            try:
                chosen[info.id] = (True, info.stored_settings({}))
            except PluginError:
                continue
    return chosen


def check_hosts(session, manifest: Manifest, operator_hosts) -> None:
    for host in manifest.hosts:
        if host in operator_hosts:
            raise ManifestError(
                manifest.source, "hosts", _("${host} is the operator console's host", mapping={"host": host})
            )
    taken = session.execute(
        sa.select(TenantHost.host, Tenant.slug)
        .join(Tenant, Tenant.id == TenantHost.tenant_id)
        .where(TenantHost.host.in_(manifest.hosts), Tenant.slug != manifest.slug)
    ).first()
    if taken:
        raise ManifestError(
            manifest.source,
            "hosts",
            _("${host} already serves tenant ${slug}", mapping={"host": taken.host, "slug": taken.slug}),
        )


def apply(session, manifest: Manifest, operator_hosts=()) -> tuple[Tenant, bool]:
    """Create or update the tenant; returns it and whether it was created."""
    check_hosts(session, manifest, operator_hosts)
    tenant = session.scalars(sa.select(Tenant).where(Tenant.slug == manifest.slug)).one_or_none()
    created = tenant is None
    if created:
        tenant = Tenant(slug=manifest.slug, business_date=manifest.business_date)
        session.add(tenant)
    for attr in SCALAR_ATTRS:
        if getattr(tenant, attr) != getattr(manifest, attr):
            setattr(tenant, attr, getattr(manifest, attr))
    existing_hosts = {h.host: h for h in tenant.hosts}
    for host in set(existing_hosts) - set(manifest.hosts):
        tenant.hosts.remove(existing_hosts[host])
    session.flush()
    for host in manifest.hosts:
        if host not in existing_hosts:
            tenant.hosts.append(TenantHost(host=host, tenant_id=tenant.id))
    rows = {p.plugin_id: p for p in tenant.plugins}
    for plugin_id in set(rows) - set(manifest.plugins):
        if rows[plugin_id].enabled:
            _check_disable(session, tenant, manifest, plugin_id)
        tenant.plugins.remove(rows[plugin_id])
    for plugin_id, (enabled, settings) in manifest.plugins.items():
        row = rows.get(plugin_id)
        if row is None:
            tenant.plugins.append(
                TenantPlugin(plugin_id=plugin_id, enabled=enabled, settings=settings, tenant_id=tenant.id)
            )
        else:
            if row.enabled != enabled:
                if not enabled:
                    _check_disable(session, tenant, manifest, plugin_id)
                row.enabled = enabled
            if row.settings != settings:
                row.settings = settings
    session.flush()
    _apply_roles(session, tenant, manifest)
    return tenant, created


SCALAR_ATTRS = (
    "name",
    "theme",
    "default_locale",
    "locales",
    "currency",
    "timezone",
    "branding",
    "lending",
    "vip",
    "members",
    "funds",
    "menus",
    "status",
)
"""The tenant's columns a manifest sets as they are."""


def _check_disable(session, tenant, manifest, plugin_id) -> None:
    """Refuse to turn off a plugin that live records still depend on (a gateway with money in flight …)."""
    from ..plugin_registry import check_disable

    reason = check_disable(session, tenant, plugin_id)
    if reason:
        raise ManifestError(manifest.source, f"plugins.{plugin_id}.enabled", reason)


def _apply_roles(session, tenant, manifest) -> None:
    """Create or update the manifest's custom roles; a custom role it leaves out is deactivated, never deleted."""
    from ..accounts.models import Role
    from ..accounts.permissions import set_role_permissions
    from ..accounts.services import end_staff_sessions, role_holders

    existing = {
        r.code: r for r in session.scalars(sa.select(Role).where(Role.tenant_id == tenant.id, Role.builtin.is_(False)))
    }
    regranted = []  # roles whose grant changed: their holders' sign-ins were checked against the old one
    for code, entry in manifest.roles.items():
        role = existing.get(code)
        if role is None:
            role = Role(tenant_id=tenant.id, code=code, name=entry["name"], builtin=False, permissions=[])
            session.add(role)
        if role.name != entry["name"]:
            role.name = entry["name"]
        if sorted(role.permissions or []) != entry["permissions"]:
            set_role_permissions(role, entry["permissions"])
            regranted.append(role)
        if role.active != entry["active"]:
            role.active = entry["active"]
            regranted.append(role)
    for code, role in existing.items():
        if code not in manifest.roles and role.active:
            role.active = False
            regranted.append(role)
    session.flush()
    for role in regranted:  # an apply, an upload or a restore ends them as the roles page does
        for staff in role_holders(session, role) if role.id is not None else ():
            end_staff_sessions(session, staff)


def apply_file(
    session, path, plugins: PluginRegistry, operator_hosts=(), *, production: bool = False, actor: str = "cli"
) -> tuple[Tenant, bool]:
    """Load, validate and apply one manifest, record the version and tell the tenant's plugins.

    ``production`` (``AppSettings.production``) refuses development-only plugins.
    """
    manifest = load(path, plugins, production=production)
    _tenant, before = _current(session, manifest.slug, plugins)
    tenant, created, _changes = _apply_recorded(
        session, manifest, plugins, operator_hosts, actor=actor, action="tenant.apply", before=before
    )
    return tenant, created


# -- the manifest as data: export, compare, change -------------------------------------------------------------


def export(tenant: Tenant, plugins: PluginRegistry, *, secrets: bool = True) -> dict:
    """The tenant as manifest data (what :func:`parse` accepts): applying it changes nothing.

    ``secrets=False`` leaves out every plugin setting its plugin declares secret (a download for staff).
    """
    from sqlalchemy.orm import object_session

    from ..accounts.models import Role

    data = {
        "slug": tenant.slug,
        "name": tenant.name,
        "theme": tenant.theme,
        "default_locale": tenant.default_locale,
        "locales": list(tenant.locales),
        "currency": tenant.currency,
        "timezone": tenant.timezone,
        "business_date": tenant.business_date,
        "hosts": sorted(h.host for h in tenant.hosts),
        "status": tenant.status,
    }
    for section in ("branding", "lending", "members", "funds", "menus"):
        if getattr(tenant, section):
            data[section] = copy.deepcopy(getattr(tenant, section))
    vip = dict(tenant.vip or {})
    if vip.get("levels"):
        vip["levels"] = [{"name": name, "points": points} for name, points in vip["levels"]]
    if vip:
        data["vip"] = vip
    session = object_session(tenant)
    if session is not None and tenant.id is not None:
        roles = session.scalars(
            sa.select(Role).where(Role.tenant_id == tenant.id, Role.builtin.is_(False)).order_by(Role.code)
        )
        found = {
            r.code: {"name": r.name, "permissions": sorted(r.permissions or []), "active": r.active} for r in roles
        }
        if found:
            data["roles"] = found
    table = {}
    for row in tenant.plugins:
        entry = {"enabled": row.enabled}
        try:
            hidden = set() if secrets else set(plugins.info(row.plugin_id).secret_settings)
        except PluginError:
            hidden = set()
        entry.update({k: v for k, v in (row.settings or {}).items() if k not in hidden})
        table[row.plugin_id] = entry
    data["plugins"] = table
    return data


def as_data(manifest: Manifest) -> dict:
    """A validated manifest as data in the shape :func:`export` gives (defaults filled in), for comparing."""
    data = {
        "slug": manifest.slug,
        "name": manifest.name,
        "theme": manifest.theme,
        "default_locale": manifest.default_locale,
        "locales": list(manifest.locales),
        "currency": manifest.currency,
        "timezone": manifest.timezone,
        "business_date": manifest.business_date,
        "hosts": sorted(manifest.hosts),  # a set: the database keeps no order
        "status": manifest.status,
    }
    for section in ("branding", "lending", "members", "funds", "menus", "roles"):
        if getattr(manifest, section):
            data[section] = copy.deepcopy(getattr(manifest, section))
    vip = dict(manifest.vip)
    if vip.get("levels"):
        vip["levels"] = [{"name": name, "points": points} for name, points in vip["levels"]]
    if vip:
        data["vip"] = vip
    data["plugins"] = {
        plugin_id: {"enabled": enabled} | dict(settings)
        for plugin_id, (enabled, settings) in sorted(manifest.plugins.items())
    }
    return data


def dumps(data: dict, header: str = "") -> str:
    """Manifest data as TOML text, with ``header`` as a comment on top."""
    import tomli_w

    ordered = {k: data[k] for k in sorted(data, key=lambda k: (isinstance(data[k], dict), _ORDER.get(k, 99)))}
    comment = "".join(f"# {line}\n".replace("# \n", "#\n") for line in header.splitlines())
    return comment + tomli_w.dumps(ordered)


_ORDER = {key: i for i, key in enumerate(("slug", "name", "status", "theme", "default_locale", "locales"))}


def parse_text(text: str, source: str, plugins: PluginRegistry, *, production: bool = False, nav_keys=None):
    """Validate a manifest given as TOML text (an upload): :class:`ManifestError` on bad TOML or a bad field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ManifestError(source, "file", _("not valid TOML (${error})", mapping={"error": str(error)})) from None
    return parse(data, source, plugins, production=production, nav_keys=nav_keys)


MASK = "••••"


def diff(before: dict, after: dict, plugins: PluginRegistry) -> list[dict]:
    """What changed between two manifest datas, one entry per leaf: ``{"path", "before", "after"}``.

    Values missing on one side are ``None``; plugin secrets show only their last 4 characters.
    """
    flat_before, flat_after = _flatten(before), _flatten(after)
    changes = []
    for path in sorted(set(flat_before) | set(flat_after), key=_path_order):
        old, new = flat_before.get(path), flat_after.get(path)
        if old != new:
            if _is_secret(path, plugins):
                old, new = _masked(old), _masked(new)
            changes.append({"path": path, "before": old, "after": new})
    return changes


def _flatten(value, prefix="") -> dict:
    if isinstance(value, dict):
        flat = {}
        for key, inner in value.items():
            flat.update(_flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        flat = {}
        for i, inner in enumerate(value):
            flat.update(_flatten(inner, f"{prefix}[{i}]"))
        return flat
    if isinstance(value, dt.date):
        value = value.isoformat()
    return {prefix: value}


def _path_order(path: str):
    return [(int(p) if p.isdigit() else p) for p in re.split(r"[.\[\]]+", path) if p]


def _is_secret(path: str, plugins: PluginRegistry) -> bool:
    if not path.startswith("plugins."):
        return False
    plugin_id, _, setting = path[len("plugins.") :].rpartition(".")
    try:
        return setting in plugins.info(plugin_id).secret_settings
    except PluginError:
        return False


def _masked(value):
    return None if value in (None, "") else f"{MASK}{str(value)[-4:]}"


def refusal(error: ManifestError):
    """A manifest's refusal as the domain error pages and the API show next to its field."""
    from ..domain import DomainError

    return DomainError(error.field, error.message)


def _apply_recorded(session, manifest, plugins, operator_hosts, *, actor, action, before=None):
    """Apply ``manifest``, record a version when anything changed, and tell core and the tenant's plugins."""
    from ..events import tell_core
    from . import versions

    tenant, created = apply(session, manifest, operator_hosts)
    after = export(tenant, plugins)
    changes = diff(before or {}, after, plugins)
    if created or changes:
        versions.record(session, tenant, after, changes, actor=actor, action=action)
    tell_core(session, tenant.id, "lendstack_tenant_applied", tenant=tenant, created=created)
    plugins.for_tenant(tenant).lendstack_tenant_applied(created=created)
    return tenant, created, changes


def lock(session, tenant: Tenant) -> Tenant:
    """Lock the tenant's row until the transaction ends and read it afresh (its hosts and plugins too).

    Every change of a tenant's settings takes this lock before it reads them: concurrent saves queue here
    instead of overwriting each other or colliding on the next version number.
    """
    # NO KEY UPDATE: inserting rows that refer to the tenant (FOR KEY SHARE) does not wait for a settings change.
    locked = session.scalars(sa.select(Tenant).where(Tenant.id == tenant.id).with_for_update(key_share=True)).one()
    session.expire(locked, ["hosts", "plugins"])
    return locked


def _current(session, slug: str, plugins: PluginRegistry, *, locked: bool = True):
    """The tenant of ``slug`` (``None``: none yet) and its manifest data; ``locked``: under its row lock, for a
    change (a preview only reads)."""
    query = sa.select(Tenant).where(Tenant.slug == slug)
    if locked:
        query = query.with_for_update(key_share=True)
    tenant = session.scalars(query).one_or_none()
    if tenant is not None and locked:
        session.expire(tenant, ["hosts", "plugins"])
    return tenant, (export(tenant, plugins) if tenant is not None else None)


def apply_data(
    session,
    data: dict,
    source: str,
    plugins: PluginRegistry,
    *,
    actor: str,
    action: str,
    operator_hosts=(),
    production: bool = False,
    nav_keys=None,
) -> tuple[Tenant, bool, list[dict]]:
    """Create or update a tenant from whole manifest data: ``(tenant, created, changes)``; :class:`ManifestError`
    (nothing applied) when a field is wrong."""
    manifest = parse(data, source, plugins, production=production, nav_keys=nav_keys)
    _tenant, before = _current(session, manifest.slug, plugins)
    return _apply_recorded(session, manifest, plugins, operator_hosts, actor=actor, action=action, before=before)


def preview(
    session, data: dict, source: str, plugins: PluginRegistry, *, operator_hosts=(), production=False, nav_keys=None
) -> tuple[bool, list[dict]]:
    """What applying ``data`` would do, without doing it: ``(creates a tenant, changes)``."""
    manifest = parse(data, source, plugins, production=production, nav_keys=nav_keys)
    check_hosts(session, manifest, operator_hosts)
    tenant, before = _current(session, manifest.slug, plugins, locked=False)
    after = as_data(manifest)
    if tenant is not None:
        after["business_date"] = before["business_date"]  # kept: close of day moves it, not a manifest
    return tenant is None, diff(before or {}, after, plugins)


def change(
    session,
    tenant: Tenant,
    plugins: PluginRegistry,
    edit,
    *,
    actor: str,
    action: str,
    operator_hosts=(),
    production: bool = False,
    nav_keys=None,
) -> list[dict]:
    """Change a tenant's settings: ``edit(data)`` mutates its manifest data, which is validated and applied whole.

    Raises :class:`core.domain.DomainError` naming the manifest path at fault, with nothing changed; returns
    the changes (none: nothing was recorded).

    The tenant's row is locked first, so changes of one tenant's settings are applied one after the other: each
    reads the settings as the previous change left them (none is lost) and records the next version number.
    """
    lock(session, tenant)
    before = export(tenant, plugins)
    data = copy.deepcopy(before)
    edit(data)
    if data.get("slug") != tenant.slug:
        from ..domain import DomainError

        raise DomainError("slug", "the slug of a tenant cannot change")
    try:
        manifest = parse(data, f"<{action}>", plugins, production=production, nav_keys=nav_keys)
        manifest.business_date = tenant.business_date
        if not diff(before, as_data(manifest), plugins):
            return []
        _tenant, _created, changes = _apply_recorded(
            session, manifest, plugins, operator_hosts, actor=actor, action=action, before=before
        )
    except ManifestError as error:
        raise refusal(error) from None
    return changes
