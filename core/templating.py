"""Helpers every template gets as ``h``: money, dates, navigation, locale links, assets."""
from __future__ import annotations

from babel.dates import format_date, format_datetime, get_timezone
from babel.numbers import format_decimal

from .i18n import LOCALE_PARAM, region_locale
from .money import Money

LOCALE_NAMES = {"zh_Hant": "繁體中文", "zh_Hans": "简体中文", "en": "English"}


class NavEntry:
    def __init__(self, key, title, route_name, order, visible=None, area="portal"):
        self.key, self.title, self.route_name = key, title, route_name
        self.order, self.visible, self.area = order, visible, area


def add_nav(config, key, title, route_name, order=100, visible=None, area="portal"):
    """Directive: add a navigation entry shown only where ``visible(request)`` is true."""
    config.registry.setdefault("nav", []).append(
        NavEntry(key, title, route_name, order, visible, area)
    )


class TemplateHelpers:
    def __init__(self, request):
        self.request = request
        self.tenant = request.tenant
        self.locale = request.locale_name

    # -- formatting -----------------------------------------------------------

    def t(self, message) -> str:
        """Translate a message (a ``_("…")`` TranslationString) into the request's locale."""
        return self.request.localizer.translate(message)

    def verification_label(self, status: str):
        from .members.models import VERIFICATION_LABELS

        return VERIFICATION_LABELS.get(status, status)

    def loan_status(self, status: str):
        from .loans.models import STATUS_LABELS

        return STATUS_LABELS.get(status, status)

    def loan_event(self, event: str):
        from .loans.models import EVENT_LABELS

        return EVENT_LABELS.get(event, event)

    def account_code(self, code: str):
        from .ledger.posting import ACCOUNT_LABELS

        return ACCOUNT_LABELS.get(code, code)

    def transfer_reason(self, reason: str):
        from .ledger.wallets import REASONS

        return REASONS.get(reason, reason)

    def countdown_units(self):
        """The units a countdown ticks in, as a translated "d h m s" (days, hours, minutes, seconds)."""
        from .i18n import _

        return _("d h m s")

    def funds_status(self, status: str):
        from .payments.models import STATUS_LABELS

        return STATUS_LABELS.get(status, status)

    def money_plain(self, minor: int, currency: str | None = None) -> str:
        """An amount as a form value: ``1234.50``, no symbol or grouping."""
        return str(Money(int(minor), currency or self.tenant.currency))

    def money(self, minor: int, currency: str | None = None) -> str:
        currency = currency or self.tenant.currency
        return Money(int(minor), currency).format(self.locale)

    def date(self, value, format: str = "medium") -> str:
        return format_date(value, format=format, locale=region_locale(self.locale))

    def month_title(self, value) -> str:
        """A month as its locale writes it: 2027年1月, January 2027."""
        from babel.dates import format_skeleton

        return format_skeleton("yMMMM", value, locale=region_locale(self.locale))

    def weekdays(self) -> list[str]:
        """Short weekday names, Monday first."""
        from babel.dates import get_day_names

        names = get_day_names("abbreviated", locale=region_locale(self.locale))
        return [names[i] for i in range(7)]

    def datetime(self, value) -> str:
        """A timestamp in the tenant's time zone (UTC on the operator console)."""
        zone = self.tenant.timezone if self.tenant is not None else "UTC"
        return format_datetime(value, format="short", tzinfo=get_timezone(zone),
                               locale=region_locale(self.locale))

    def number(self, value) -> str:
        return format_decimal(value, locale=region_locale(self.locale))

    def percent(self, value) -> str:
        return f"{format_decimal(value, locale=region_locale(self.locale))}%"

    # -- site -----------------------------------------------------------------

    def brand(self, key: str, default: str = "") -> str:
        if self.tenant is None:
            return default
        return self.tenant.brand(key, default)

    def site_title(self) -> str:
        if self.tenant is None:
            return "Lendstack"
        return self.tenant.brand("site_title", self.tenant.name)

    def static(self, path: str) -> str:
        return self.request.route_path("static", path=path)

    def nav(self, area: str = "portal") -> list[dict]:
        entries = sorted(
            (e for e in self.request.registry.get("nav", []) if e.area == area),
            key=lambda e: e.order,
        )
        current = self.request.matched_route.name if self.request.matched_route else None
        return [
            {
                "key": e.key,
                "title": e.title,
                "url": self.request.route_path(e.route_name),
                "current": current == e.route_name or (current or "").startswith(e.key + "."),
            }
            for e in entries
            if e.visible is None or e.visible(self.request)
        ]

    def locales(self) -> list[dict]:
        offered = self.tenant.locales if self.tenant is not None else list(LOCALE_NAMES)
        return [
            {
                "code": code,
                "name": LOCALE_NAMES.get(code, code),
                "url": self.request.current_route_path(_query={LOCALE_PARAM: code})
                if self.request.matched_route
                else f"?{LOCALE_PARAM}={code}",
                "current": code == self.locale,
            }
            for code in offered
        ]

    def html_lang(self) -> str:
        return {"zh_Hant": "zh-Hant", "zh_Hans": "zh-Hans"}.get(self.locale, self.locale)

    def brand_style(self) -> str:
        """CSS custom properties from the tenant's branding colours."""
        if self.tenant is None:
            return ""
        pairs = {
            "--brand-primary": self.tenant.brand("primary_color"),
            "--brand-accent": self.tenant.brand("accent_color"),
        }
        return ";".join(f"{k}:{v}" for k, v in pairs.items() if v)
