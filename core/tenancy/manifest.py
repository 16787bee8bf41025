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

import datetime as dt
import re
import tomllib
import zoneinfo
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import sqlalchemy as sa

from ..i18n import SUPPORTED_LOCALES
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
}
BRANDING_KEYS = {"site_title", "logo", "favicon", "primary_color", "accent_color", "footer_text", "tagline", "promo"}
MAX_RATE_CEILING = Decimal(100)


class ManifestError(ValueError):
    """A manifest that cannot be applied: the file, the field and what is wrong."""

    def __init__(self, source: str, field: str, message: str):
        super().__init__(f"{source}: {field}: {message}")
        self.source, self.field, self.message = source, field, message


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
    plugins: dict[str, tuple[bool, dict]] = field(default_factory=dict)


def load(path: str | Path, plugins: PluginRegistry, *, production: bool = False) -> Manifest:
    """Read and validate one manifest file; ``production``: the install says it is a production one."""
    path = Path(path)
    source = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(source, "file", "no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ManifestError(source, "file", f"not valid TOML ({error})") from None
    return parse(data, source, plugins, production=production)


def parse(data: dict, source: str, plugins: PluginRegistry, *, production: bool = False) -> Manifest:
    def fail(name, message):
        raise ManifestError(source, name, message)

    unknown = sorted(set(data) - KEYS)
    if unknown:
        fail(unknown[0], "unknown key")
    slug = data.get("slug")
    if not isinstance(slug, str) or not SLUG.match(slug):
        fail("slug", "2–40 lowercase letters, digits or hyphens, starting with a letter")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        fail("name", "required")
    theme = data.get("theme", "default")
    if theme not in available_themes():
        fail("theme", f"unknown theme {theme!r} (have: {', '.join(available_themes())})")
    locales = data.get("locales")
    if not isinstance(locales, list) or not locales or any(loc not in SUPPORTED_LOCALES for loc in locales):
        fail("locales", f"a list of {', '.join(SUPPORTED_LOCALES)}")
    default_locale = data.get("default_locale", locales[0])
    if default_locale not in locales:
        fail("default_locale", "must be one of locales")
    currency = data.get("currency")
    if not is_known_currency(currency):
        fail("currency", f"unknown currency {currency!r} (an ISO 4217 code such as CNY)")
    timezone = data.get("timezone", "UTC")
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        fail("timezone", f"unknown time zone {timezone!r}")
    business_date = data.get("business_date") or dt.datetime.now(zoneinfo.ZoneInfo(timezone)).date()
    if isinstance(business_date, str):
        try:
            business_date = dt.date.fromisoformat(business_date)
        except ValueError:
            fail("business_date", "a date as YYYY-MM-DD")
    if not isinstance(business_date, dt.date) or isinstance(business_date, dt.datetime):
        fail("business_date", "a date as YYYY-MM-DD")
    hosts = data.get("hosts")
    if not isinstance(hosts, list) or not hosts:
        fail("hosts", "at least one host name")
    hosts = [str(h).lower() for h in hosts]
    for i, host in enumerate(hosts):
        if not HOST.match(host):
            fail(f"hosts[{i}]", f"{host!r} is not a host name")
    if len(set(hosts)) != len(hosts):
        fail("hosts", "a host is listed twice")
    branding = data.get("branding", {})
    if not isinstance(branding, dict):
        fail("branding", "a table")
    for key, value in branding.items():
        if key not in BRANDING_KEYS:
            fail(f"branding.{key}", "unknown key")
        if not isinstance(value, str):
            fail(f"branding.{key}", "text")
        if key.endswith("_color") and not COLOUR.match(value):
            fail(f"branding.{key}", "a colour such as #1a5fb4")
        if key in ("logo", "favicon") and not (value.startswith("/") or value.startswith("https://")):
            fail(f"branding.{key}", "a path such as /static/img/logo.svg or an https:// URL")
    lending = _parse_lending(data.get("lending", {}), fail)
    vip = _parse_vip(data.get("vip", {}), fail)
    members = _parse_members(data.get("members", {}), fail)
    funds = _parse_funds(data.get("funds", {}), fail)
    status = data.get("status", TenantStatus.active.value)
    if status not in {s.value for s in TenantStatus}:
        fail("status", "active or suspended")
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
        plugins=_parse_plugins(data.get("plugins", {}), source, plugins, production),
    )


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
}
LENDING_FLAGS = ("collect_partial", "allow_partial_funding", "reserve_advances")
# borrower_fee_mode "deducted" (the fee taken off the principal at disbursement) is an opt-in for tenants outside
# China: the 2017 notice 整治辦函〔2017〕141號 bans deducting interest or fees from the principal there, and
# under Civil Code art. 670 the loan is only what the borrower actually received (docs/operators.md).
LENDING_CHOICES = {
    "penalty_base": ("principal", "principal_and_interest"),
    "borrower_fee_mode": ("installments", "upfront", "deducted"),
}
LENDING_KEYS = {"max_annual_rate_percent", *LENDING_NUMBERS, *LENDING_FLAGS, *LENDING_CHOICES}


def _parse_lending(table, fail) -> dict:
    """The tenant's lending policy: rate cap, bid unit, fees, overdue rules, partial funding (docs/operators.md)."""
    if not isinstance(table, dict):
        fail("lending", "a table")
    for key in sorted(set(table) - LENDING_KEYS):
        fail(f"lending.{key}", "unknown key")
    lending = {}
    for key, ceiling in LENDING_NUMBERS.items():
        if key in table:
            value = table[key]
            try:
                if isinstance(value, (bool, float)):
                    raise InvalidOperation
                number = Decimal(str(value))
                if (
                    not number.is_finite()
                    or number < 0
                    or (ceiling is not None and number > ceiling)
                    or number.as_tuple().exponent < -4
                    or (key == "bid_unit" and number <= 0)
                ):
                    raise InvalidOperation
            except InvalidOperation:
                fail(
                    f"lending.{key}", 'a number as a string such as "50"' + (f", at most {ceiling}" if ceiling else "")
                )
            lending[key] = str(number)
    for key in LENDING_FLAGS:
        if key in table:
            if not isinstance(table[key], bool):
                fail(f"lending.{key}", "true or false")
            lending[key] = table[key]
    for key, choices in LENDING_CHOICES.items():
        if key in table:
            if table[key] not in choices:
                fail(f"lending.{key}", " or ".join(f'"{c}"' for c in choices))
            lending[key] = table[key]
    if "max_annual_rate_percent" in table:
        value = table["max_annual_rate_percent"]
        try:
            if isinstance(value, (bool, float)):
                raise InvalidOperation
            rate = Decimal(str(value))
            if not rate.is_finite() or not 0 < rate <= MAX_RATE_CEILING or rate.as_tuple().exponent < -4:
                raise InvalidOperation
        except InvalidOperation:
            fail(
                "lending.max_annual_rate_percent",
                'a percentage above 0 and at most 100 with up to 4 decimals, as a string such as "24"',
            )
        lending["max_annual_rate_percent"] = str(rate)
    return lending


ID_TYPES = ("cn_resident", "passport")
FUNDS_AMOUNTS = ("withdrawal_min", "withdrawal_daily_limit", "withdrawal_fee_fixed", "two_person_threshold")
FUNDS_KEYS = {*FUNDS_AMOUNTS, "withdrawal_fee_percent", "payout_gateway"}


def _parse_funds(table, fail) -> dict:
    """Withdrawal rules: amounts as decimal strings, a fee percent, and the payout gateway's code."""
    if not isinstance(table, dict):
        fail("funds", "a table")
    for key in sorted(set(table) - FUNDS_KEYS):
        fail(f"funds.{key}", "unknown key")
    funds = {}
    for key in FUNDS_AMOUNTS + ("withdrawal_fee_percent",):
        if key in table:
            value = table[key]
            try:
                if isinstance(value, (bool, float)):
                    raise InvalidOperation
                number = Decimal(str(value))
                if not number.is_finite() or number < 0 or number.as_tuple().exponent < -4:
                    raise InvalidOperation
            except InvalidOperation:
                fail(f"funds.{key}", 'an amount as a string such as "100.00"')
            if key == "withdrawal_fee_percent" and number > 10:
                fail(f"funds.{key}", "at most 10")
            funds[key] = str(number)
    if "payout_gateway" in table:
        if not isinstance(table["payout_gateway"], str):
            fail("funds.payout_gateway", "a gateway code such as sandbox")
        funds["payout_gateway"] = table["payout_gateway"]
    return funds


def _parse_members(table, fail) -> dict:
    """Member rules: ``email_sign_up`` (bool) and ``id_types`` (from cn_resident, passport)."""
    if not isinstance(table, dict):
        fail("members", "a table")
    for key in sorted(set(table) - {"email_sign_up", "id_types"}):
        fail(f"members.{key}", "unknown key")
    members = {}
    if "email_sign_up" in table:
        if not isinstance(table["email_sign_up"], bool):
            fail("members.email_sign_up", "true or false")
        members["email_sign_up"] = table["email_sign_up"]
    if "id_types" in table:
        types = table["id_types"]
        if (
            not isinstance(types, list)
            or not types
            or any(t not in ID_TYPES for t in types)
            or len(set(types)) != len(types)
        ):
            fail("members.id_types", f"a list of {', '.join(ID_TYPES)}, each once")
        members["id_types"] = types
    return members


def _parse_vip(table, fail) -> dict:
    """VIP levels (``[[vip.levels]]`` with ``name`` and ``points``) and ``points_per_100`` invested."""
    if not isinstance(table, dict):
        fail("vip", "a table")
    for key in sorted(set(table) - {"levels", "points_per_100"}):
        fail(f"vip.{key}", "unknown key")
    vip = {}
    if "points_per_100" in table:
        per = table["points_per_100"]
        if isinstance(per, bool) or not isinstance(per, int) or not 0 <= per <= 10000:
            fail("vip.points_per_100", "a whole number from 0 to 10000")
        vip["points_per_100"] = per
    if "levels" in table:
        levels = table["levels"]
        if not isinstance(levels, list) or not levels:
            fail("vip.levels", "a list of [[vip.levels]] tables with name and points")
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
                fail(f"vip.levels[{i}]", "a name and a whole number of points (0 or more)")
            parsed.append([name.strip(), points])
        if len({p for _, p in parsed}) != len(parsed):
            fail("vip.levels", "two levels have the same points")
        if min(p for _, p in parsed) != 0:
            fail("vip.levels", "the first level starts at 0 points")
        vip["levels"] = sorted(parsed, key=lambda x: x[1])
    return vip


def _parse_plugins(
    table, source: str, plugins: PluginRegistry, production: bool = False
) -> dict[str, tuple[bool, dict]]:
    if not isinstance(table, dict):
        raise ManifestError(source, "plugins", "a table of plugin ids")
    chosen = {}
    for plugin_id, entry in table.items():
        entry = dict(entry) if isinstance(entry, dict) else {"enabled": entry}
        enabled = entry.pop("enabled", True)
        if not isinstance(enabled, bool):
            raise ManifestError(source, f"plugins.{plugin_id}.enabled", "true or false")
        try:
            info = plugins.info(plugin_id)
        except PluginError:
            raise ManifestError(source, f"plugins.{plugin_id}", "unknown plugin (is it installed?)") from None
        if enabled and production and info.development_only:
            # plugins that only pretend (a checkout where nobody pays, an outbox that reaches no phone)
            raise ManifestError(
                source,
                f"plugins.{plugin_id}",
                "a development-only plugin cannot be enabled on a production install "
                "(lendstack.environment = production)",
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
            raise ManifestError(manifest.source, "hosts", f"{host} is the operator console's host")
    taken = session.execute(
        sa.select(TenantHost.host, Tenant.slug)
        .join(Tenant, Tenant.id == TenantHost.tenant_id)
        .where(TenantHost.host.in_(manifest.hosts), Tenant.slug != manifest.slug)
    ).first()
    if taken:
        raise ManifestError(manifest.source, "hosts", f"{taken.host} already serves tenant {taken.slug}")


def apply(session, manifest: Manifest, operator_hosts=()) -> tuple[Tenant, bool]:
    """Create or update the tenant; returns it and whether it was created."""
    check_hosts(session, manifest, operator_hosts)
    tenant = session.scalars(sa.select(Tenant).where(Tenant.slug == manifest.slug)).one_or_none()
    created = tenant is None
    if created:
        tenant = Tenant(slug=manifest.slug, business_date=manifest.business_date)
        session.add(tenant)
    for attr in (
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
        "status",
    ):
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
        tenant.plugins.remove(rows[plugin_id])
    for plugin_id, (enabled, settings) in manifest.plugins.items():
        row = rows.get(plugin_id)
        if row is None:
            tenant.plugins.append(
                TenantPlugin(plugin_id=plugin_id, enabled=enabled, settings=settings, tenant_id=tenant.id)
            )
        else:
            if row.enabled != enabled:
                row.enabled = enabled
            if row.settings != settings:
                row.settings = settings
    session.flush()
    return tenant, created


def apply_file(
    session, path, plugins: PluginRegistry, operator_hosts=(), *, production: bool = False
) -> tuple[Tenant, bool]:
    """Load, validate and apply one manifest, then tell the tenant's plugins.

    ``production`` (``AppSettings.production``) refuses development-only plugins.
    """
    manifest = load(path, plugins, production=production)
    tenant, created = apply(session, manifest, operator_hosts)
    plugins.for_tenant(tenant).lendstack_tenant_applied(created=created)
    return tenant, created
