"""Helpers every template gets as ``h``: money, dates, labels, navigation, locale links, assets.

Shared layers never import a domain: each domain registers the label tables its
templates show (``config.add_labels(loan_status=STATUS_LABELS)`` in its
``includeme``) and the helpers here read them from the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cached_property

from babel.dates import format_date, format_datetime, format_skeleton, get_day_names, get_timezone
from babel.numbers import format_decimal

from .i18n import LOCALE_NAMES, LOCALE_PARAM, _, locale_name, region_locale
from .money import Money

__all__ = ["LOCALE_NAMES", "NavLink", "TemplateHelpers", "add_labels", "add_nav", "label"]


class NavEntry:
    def __init__(self, key, title, route_name, order, visible=None, area="portal"):
        self.key, self.title, self.route_name = key, title, route_name
        self.order, self.visible, self.area = order, visible, area

    def path(self, request) -> str:
        return request.route_path(self.route_name)

    def label(self, request) -> str:
        return request.localizer.translate(self.title)

    def is_current(self, request, routes) -> bool:
        """Whether the page shown is this entry's, or one under it (``admin.settings_branding`` under
        ``admin.settings``) that has no entry of its own (``routes``: the routes that do)."""
        current = request.matched_route.name if request.matched_route else ""
        under = (self.key + ".", self.route_name + "_")
        return current == self.route_name or (current not in routes and current.startswith(under))


class NavLink(NavEntry):
    """An entry a domain adds to a menu for one request (a section staff put in the menu): its ``url`` and its
    ``title`` already in the viewer's language. Providers in ``registry["nav_links"]`` (``provider(request,
    area)`` → a list of them) add these; they are arranged with the built-in entries by ``order``."""

    def __init__(self, key, title, url, order=100, area="portal"):
        super().__init__(key, title, None, order, None, area)
        self.url = url

    def path(self, request) -> str:
        return self.url

    def label(self, request) -> str:
        return self.title

    def is_current(self, request, routes) -> bool:
        return request.path == self.url


def add_nav(config, key, title, route_name, order=100, visible=None, area="portal"):
    """Directive: add a navigation entry shown only where ``visible(request)`` is true."""
    config.registry.setdefault("nav", []).append(NavEntry(key, title, route_name, order, visible, area))


ICON_TYPES = {"svg": "image/svg+xml", "png": "image/png", "ico": "image/x-icon", "gif": "image/gif"}
ICON_TYPES |= {"jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}

KEPT_IN_MENU = frozenset({"admin.settings"})
"""Entries a tenant cannot hide: the screen where menus are edited stays reachable from the menu."""


def text_in(texts, locale: str | None, default_locale: str | None) -> str:
    """``texts`` (a text per language, or one string for all) in ``locale``, else ``default_locale``, else any."""
    if not isinstance(texts, dict):
        return texts or ""
    return texts.get(locale or "") or texts.get(default_locale or "") or next((t for t in texts.values() if t), "")


def arrange(request, area: str, locale: str) -> list[dict]:
    """The built-in entries of ``area`` the viewer may see, arranged by the tenant's menu for that area.

    The tenant's list (``[[menus.portal]]``, ``[[menus.admin]]``) gives the order, relabels or hides
    built-in entries and adds links of its own; built-in entries it does not list follow in their default
    order. An entry under a ``parent`` is shown as a child of its topmost ancestor (one level); under a
    hidden entry it is hidden too, and under an entry this viewer may not see it moves to the top level.
    An entry's own ``visible`` test (its permission) always applies.
    """
    tenant = getattr(request, "tenant", None)
    entries = [e for e in request.registry.get("nav", []) if e.area == area]
    entries += [link for provider in request.registry.get("nav_links", []) for link in provider(request, area)]
    built_in = sorted(entries, key=lambda e: e.order)
    listed = list((tenant.menus or {}).get(area, [])) if tenant is not None and area in ("portal", "admin") else []
    keys = {entry["key"] for entry in listed}
    by_key = {e.key: e for e in built_in}
    rows = [(entry, by_key.get(entry["key"])) for entry in listed]
    rows += [({"key": e.key}, e) for e in built_in if e.key not in keys]
    routes = {e.route_name for e in built_in}  # a page with an entry of its own is that entry's only
    default_locale = tenant.default_locale if tenant is not None else None
    items: dict[str, dict] = {}
    for entry, nav in rows:
        if nav is not None and "url" not in entry:
            label = text_in(entry.get("label"), locale, default_locale) or nav.label(request)
            item = {
                "title": nav.title if not entry.get("label") else label,
                "url": nav.path(request),
                "current": nav.is_current(request, routes),
                "seen": nav.visible is None or bool(nav.visible(request)),
            }
        elif entry.get("url"):
            label = text_in(entry.get("label"), locale, default_locale)
            item = {"title": label, "url": entry["url"], "current": request.path == entry["url"], "seen": True}
        else:
            continue  # a built-in entry that is no longer installed
        item.update(
            key=entry["key"],
            label=label,
            children=[],
            group=text_in(entry.get("group"), locale, default_locale) or None,
            hidden=bool(entry.get("hidden")) and entry["key"] not in KEPT_IN_MENU,
            parent=entry.get("parent"),
        )
        items[entry["key"]] = item
    shown = []
    for item in items.values():
        if item["hidden"] or not item["seen"] or not item["label"]:
            continue
        top, walked, hidden = item, {item["key"]}, False
        while top["parent"] in items and top["parent"] not in walked:
            top = items[top["parent"]]
            walked.add(top["key"])
            hidden = hidden or top["hidden"]
        if hidden:
            continue
        if top is not item and top["seen"]:
            top["children"].append(item)
        else:
            shown.append(item)
    return shown


LABELS = "labels"
"""The registry key of the label tables: ``{kind: {value: label}}``."""


def add_labels(config, **tables: Mapping | Callable[[], Mapping] | str) -> None:
    """Directive: register label tables by kind, ``config.add_labels(loan_status=STATUS_LABELS)``.

    Each table maps a stored value (a status, a reason code) to its
    translatable label; it may also be a callable returning such a mapping, or
    a dotted name of either (``".models:STATUS_LABELS"``, resolved against the
    calling package). Callables are called once, when the configuration is
    committed. Two registrations of one kind are a configuration conflict,
    reported at start-up.
    """
    for kind, table in tables.items():
        config.action(("lendstack.labels", kind), _registration(config.registry, kind, config.maybe_dotted(table)))


def _registration(registry, kind: str, table):
    def register():
        registry.setdefault(LABELS, {})[kind] = dict(table() if callable(table) else table)

    return register


def label(registry, kind: str, value: str):
    """The label registered for ``value`` of ``kind``; the value itself when there is none.

    A page shows a raw code rather than failing; tests/test_label_registry.py
    checks that every kind the helpers below read is registered.
    """
    return registry.get(LABELS, {}).get(kind, {}).get(value, value)


HELPER_KINDS = (
    "verification",
    "loan_status",
    "loan_event",
    "account_code",
    "transfer_reason",
    "funds_status",
    "plugin_kind",
    "permission",
    "role",
    "message_status",
    "sms_purpose",
    "sms_template",
    "actor_kind",
)
"""The kinds :class:`TemplateHelpers` reads by name; a domain registers each."""


class TemplateHelpers:
    def __init__(self, request):
        self.request = request
        self.tenant = request.tenant
        self.locale = request.locale_name

    # -- formatting -----------------------------------------------------------

    def t(self, message) -> str:
        """Translate a message (a ``_("…")`` TranslationString) into the request's locale."""
        return self.request.localizer.translate(message)

    def label(self, kind: str, value: str):
        """The label a domain registered for ``value`` of ``kind`` (see :func:`add_labels`)."""
        return label(self.request.registry, kind, value)

    def verification_label(self, status: str):
        return self.label("verification", status)

    def loan_status(self, status: str):
        """A loan's, bid's or installment's status as the portal names it."""
        return self.label("loan_status", status)

    def loan_event(self, event: str):
        return self.label("loan_event", event)

    def account_code(self, code: str):
        return self.label("account_code", code)

    def transfer_reason(self, reason: str):
        return self.label("transfer_reason", reason)

    def countdown_units(self):
        """The units a countdown ticks in, as a translated "d h m s" (days, hours, minutes, seconds)."""
        return _("d h m s")

    def funds_status(self, status: str):
        """A recharge's or withdrawal's status."""
        return self.label("funds_status", status)

    # -- names a person reads instead of codes ------------------------------------

    def named(self, kind: str, value: str) -> str:
        """``value``'s registered label of ``kind``, translated; the value itself when none is registered."""
        return self.t(self.label(kind, value))

    def locale_name(self, code: str) -> str:
        """A language by its own name (繁體中文, 简体中文, English), never its code."""
        return locale_name(code)

    def plugin_kind(self, kind: str) -> str:
        return self.named("plugin_kind", kind)

    def permission(self, code: str) -> str:
        return self.named("permission", code)

    def role(self, role) -> str:
        """A role (a stored role or its code) by its name."""
        if not isinstance(role, str):
            return self.t(role.name)
        return self.named("role", role)

    def message_status(self, status: str) -> str:
        """An SMS's or email's delivery status."""
        return self.named("message_status", status)

    def sms_purpose(self, purpose: str) -> str:
        """Why an SMS or email was sent: its own label, else the label of its family (``notice.…``)."""
        table = self.request.registry.get(LABELS, {}).get("sms_purpose", {})
        found = table.get(purpose) or table.get(purpose.split(".", 1)[0] + ".*")
        return self.t(found) if found is not None else purpose

    def sms_template(self, code: str) -> str:
        return self.named("sms_template", code)

    @cached_property
    def _providers(self) -> dict[str, dict[str, object]]:
        """The names of the tenant's gateways and loan types by code (hooks named, no domain imported)."""
        hooks = getattr(self.request, "hooks", None)
        if hooks is None:
            return {}
        return {
            hook: {p.code: p.name for p in hooks.collect(hook)}
            for hook in ("lendstack_payment_gateways", "lendstack_loan_types")
        }

    def gateway(self, code: str) -> str:
        """A payment gateway by its name (支付寶, Bank transfer); a gateway no longer enabled by its code."""
        name = self._providers.get("lendstack_payment_gateways", {}).get(code)
        return self.t(name) if name else self.named("gateway", code)

    def loan_type(self, code: str) -> str:
        name = self._providers.get("lendstack_loan_types", {}).get(code)
        return self.t(name) if name else code

    def actor(self, actor: str | None) -> str:
        """Who acted, as a person reads it: ``staff:3:王經理`` is "王經理 (Staff)", ``system`` "The platform"."""
        if not actor:
            return "—"
        parts = actor.split(":", 2)
        kind = self.label("actor_kind", parts[0])
        if len(parts) == 1:
            return self.t(kind)
        name = parts[-1] if len(parts) == 2 else (parts[2] or f"#{parts[1]}")
        return f"{name} ({self.t(kind)})"

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
        return format_skeleton("yMMMM", value, locale=region_locale(self.locale))

    def weekdays(self) -> list[str]:
        """Short weekday names, Monday first."""
        names = get_day_names("abbreviated", locale=region_locale(self.locale))
        return [names[i] for i in range(7)]

    def datetime(self, value) -> str:
        """A timestamp in the tenant's time zone (UTC on the operator console)."""
        zone = self.tenant.timezone if self.tenant is not None else "UTC"
        return format_datetime(value, format="short", tzinfo=get_timezone(zone), locale=region_locale(self.locale))

    def number(self, value) -> str:
        return format_decimal(value, locale=region_locale(self.locale))

    def percent(self, value) -> str:
        return f"{format_decimal(value, locale=region_locale(self.locale))}%"

    # -- site -----------------------------------------------------------------

    def brand(self, key: str, default: str = "") -> str:
        """A branding value in the viewer's language (else the site's default language, else ``default``)."""
        if self.tenant is None:
            return default
        return self.tenant.brand(key, default, self.locale)

    def site_title(self) -> str:
        if self.tenant is None:
            return "Lendstack"
        return self.tenant.brand("site_title", self.tenant.name, self.locale)

    def favicon(self) -> dict:
        """The site's icon: its address and, where its name says it, its type."""
        url = self.brand("favicon") or self.static("img/favicon.svg")
        extension = url.rsplit("?", 1)[0].rsplit(".", 1)[-1].lower()
        return {"url": url, "type": ICON_TYPES.get(extension)}

    def company(self) -> dict | None:
        """The operator's company details for the footer (``None`` when none are set).

        ``hotline_href`` dials the hotline (``tel:`` with its digits and ``+`` only), ``icp`` is the ICP
        record number that links to the registry (https://beian.miit.gov.cn/).
        """
        details = {
            name: self.brand(f"company_{name}") for name in ("name", "licence", "icp", "address", "hotline", "email")
        }
        if not any(details.values()):
            return None
        hotline = details["hotline"]
        details["hotline_href"] = "tel:" + "".join(c for c in hotline if c.isdigit() or c == "+") if hotline else None
        details["email_href"] = f"mailto:{details['email']}" if details["email"] else None
        return details

    def static(self, path: str) -> str:
        return self.request.route_path("static", path=path)

    def nav(self, area: str = "portal") -> list[dict]:
        """The menu of ``area`` for this viewer, arranged by the tenant's ``[menus]`` (:func:`arrange`).

        Each item: ``key``, ``title`` (a built-in entry's translation string, or the tenant's text),
        ``label`` (the text to show, in the viewer's language), ``url``, ``current``, ``children``
        (one level) and ``group`` (a heading shown above it in the back office, or ``None``).
        """
        return arrange(self.request, area, self.locale)

    def nav_groups(self, area: str = "admin") -> list[dict]:
        """The menu of ``area`` cut into groups: ``[{"heading": text or None, "items": [...]}]``.

        A heading set on an entry starts a group; the entries after it belong to it up to the next heading.
        """
        groups: list[dict] = []
        for item in self.nav(area):
            if item["group"] or not groups:
                groups.append({"heading": item["group"], "items": []})
            groups[-1]["items"].append(item)
        return groups

    def footer_links(self) -> list[dict]:
        """The tenant's footer links (``[[menus.footer]]``): ``label`` in the viewer's language and ``url``."""
        if self.tenant is None:
            return []
        links = []
        for entry in (self.tenant.menus or {}).get("footer", []):
            label = self.text(entry.get("label"))
            if label and entry.get("url") and not entry.get("hidden"):
                links.append({"key": entry["key"], "label": label, "url": entry["url"]})
        for provider in self.request.registry.get("footer_links", []):
            links += provider(self.request)
        return links

    def text(self, texts) -> str:
        """A text the tenant gave per language (``{"en": …}``) in the viewer's language, else the site's
        default language, else any it has; a plain string as it is."""
        return text_in(texts, self.locale, self.tenant.default_locale if self.tenant is not None else None)

    def locales(self) -> list[dict]:
        offered = self.tenant.locales if self.tenant is not None else list(LOCALE_NAMES)
        return [
            {
                "code": code,
                "name": locale_name(code),
                "url": self.request.current_route_path(_query={LOCALE_PARAM: code})
                if self.request.matched_route
                else f"?{LOCALE_PARAM}={code}",
                "current": code == self.locale,
            }
            for code in offered
        ]

    def html_lang(self) -> str:
        return self.html_lang_of(self.locale)

    def html_lang_of(self, locale: str) -> str:
        """A locale as an HTML ``lang`` tag (``zh_Hant`` is ``zh-Hant``)."""
        return {"zh_Hant": "zh-Hant", "zh_Hans": "zh-Hans"}.get(locale, locale)

    def brand_style(self) -> str:
        """CSS custom properties from the tenant's branding colours."""
        if self.tenant is None:
            return ""
        pairs = {
            "--brand-primary": self.tenant.brand("primary_color"),
            "--brand-accent": self.tenant.brand("accent_color"),
        }
        return ";".join(f"{k}:{v}" for k, v in pairs.items() if v)


def includeme(config):
    """The ``add_labels`` directive every domain registers its label tables with."""
    config.add_directive("add_labels", add_labels)
