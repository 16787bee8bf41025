"""The plugin manager: discovery, metadata, settings validation, per-tenant callers.

Also the two questions the settings pages ask about one plugin: does its
connection work (:meth:`PluginRegistry.check_connection`, the optional
``lendstack_plugin_check`` hook), and may a tenant turn it off
(:func:`check_disable`, answered by the in-use checks core's domains register
with :func:`register_in_use_check`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import colander
import pluggy

from . import hookspecs

PROJECT = "lendstack"
ENTRY_POINT_GROUP = "lendstack.plugins"
KINDS = ("loan_type", "payment", "sms", "repayment_method", "extension")

hookimpl = pluggy.HookimplMarker(PROJECT)


class PluginError(ValueError):
    """A plugin is unknown, malformed, or given settings it does not accept.

    ``field`` names the setting at fault, ``detail`` says what is wrong with it (the message without the names).
    """

    def __init__(self, message: str, field: str | None = None, detail: str | None = None):
        super().__init__(message)
        self.field, self.detail = field, detail or message


FALLBACK_LOCALE = "en"


class LocalizedText(str):
    """A text a plugin gives per locale (``{"en": …, "zh_Hant": …}``): as a string, its English text.

    Reading it as a plain string (a log line, the ``lendstack plugins`` table) gives English; a page asks
    :meth:`in_locale` for the reader's language, falling back to English.
    """

    texts: Mapping[str, str]

    def __new__(cls, texts: Mapping[str, str]):
        if FALLBACK_LOCALE not in texts:
            raise PluginError(f"a text per locale needs an {FALLBACK_LOCALE!r} one: {dict(texts)!r}")
        text = super().__new__(cls, texts[FALLBACK_LOCALE])
        text.texts = dict(texts)
        return text

    def in_locale(self, locale: str | None) -> str:
        return self.texts.get(locale or FALLBACK_LOCALE) or self.texts[FALLBACK_LOCALE]


def localized(value, locale: str | None) -> str:
    """``value`` (a plain string, a :class:`LocalizedText` or a ``{locale: text}`` dict) in ``locale``."""
    if isinstance(value, LocalizedText):
        return value.in_locale(locale)
    if isinstance(value, Mapping):
        return LocalizedText(value).in_locale(locale)
    return value


@dataclass(frozen=True)
class PluginInfo:
    """What a plugin says about itself (its module's ``PLUGIN`` attribute).

    ``settings`` is a colander mapping schema; its defaults fill what a tenant
    manifest leaves out, and a key it does not know is an error (whatever the
    schema's own ``unknown`` policy).

    ``development_only`` marks a plugin fit for development, demos and tests
    but never for a live site (an outbox that delivers nothing, a sandbox
    gateway): the operator console and the back office flag it where
    plugins are listed.

    ``name`` and ``description`` are one text, or a text per locale
    (``{"en": "Credit loan", "zh_Hant": "信用標", "zh_Hans": "信用标"}``, ``en``
    required); pages show :meth:`display_name` / :meth:`display_description`
    in the reader's language. Each setting of the schema may carry a
    ``title`` and a ``description`` (help text), either ``_("…")`` or a
    ``{locale: text}`` dict: the back office builds the settings form from
    them (``core.plugin_forms``). ``secret_settings`` are never shown again
    once stored, only their last four characters.
    """

    id: str
    kind: str
    name: str = field(hash=False)
    version: str = "0"
    description: str = field(default="", hash=False)
    settings: colander.SchemaNode | None = None
    default_enabled: bool = False
    secret_settings: tuple[str, ...] = field(default=())
    development_only: bool = False

    def __post_init__(self):
        for attribute in ("name", "description"):
            value = getattr(self, attribute)
            if isinstance(value, Mapping) and not isinstance(value, LocalizedText):
                object.__setattr__(self, attribute, LocalizedText(value))

    def display_name(self, locale: str | None = None) -> str:
        """The plugin's name in ``locale`` (English when it gives none for it)."""
        return localized(self.name, locale)

    def display_description(self, locale: str | None = None) -> str:
        """The plugin's description in ``locale`` (English when it gives none for it)."""
        return localized(self.description, locale)

    def masked(self, settings: dict) -> dict:
        """Settings fit to show: every ``secret_settings`` value cut to its last 4 characters."""
        return {k: (f"••••{str(v)[-4:]}" if k in self.secret_settings and v else v) for k, v in settings.items()}

    def stored_settings(self, raw: dict | None) -> dict:
        """Validated settings in their serialized (JSON-safe) form, for the database."""
        appstruct = self.validate_settings(raw)
        return self.settings.serialize(appstruct) if self.settings is not None else {}

    def validate_settings(self, raw: dict | None) -> dict:
        """Settings with defaults applied, or :class:`PluginError` naming the field."""
        raw = dict(raw or {})
        if self.settings is None:
            if raw:
                raise PluginError(f"{self.id} takes no settings", field=sorted(raw)[0], detail="unknown setting")
            return {}
        unknown = sorted(set(raw) - {child.name for child in self.settings.children})
        if unknown:
            raise PluginError(f"{self.id}: {unknown[0]}: unknown setting", field=unknown[0], detail="unknown setting")
        try:
            return self.settings.deserialize(raw)
        except colander.Invalid as invalid:
            errors = invalid.asdict()
            name, message = next(iter(sorted(errors.items())))
            raise PluginError(f"{self.id}: {name}: {message}", field=name, detail=message) from None


class CheckResult(NamedTuple):
    """What ``lendstack_plugin_check`` found: whether the connection works, and a sentence saying so."""

    ok: bool
    message: Any  # a translation string (``_("…")``) or plain text


CHECK_HOOK = "lendstack_plugin_check"
PROVIDER_HOOKS = (
    "lendstack_loan_types",
    "lendstack_repayment_methods",
    "lendstack_payment_gateways",
    "lendstack_sms_providers",
)


class PluginRegistry:
    """One pluggy manager for the install, and callers restricted to a tenant's plugins."""

    def __init__(self):
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self._callers: dict[tuple[str, frozenset], Any] = {}

    def load_entry_points(self) -> None:
        self.pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        for name, plugin in self.pm.list_name_plugin():
            self._check_info(name, plugin)
        self.pm.check_pending()

    def register(self, plugin) -> str:
        """Register ``plugin`` under its ``PLUGIN.id`` (tests and embedders use this)."""
        info = getattr(plugin, "PLUGIN", None)
        if not isinstance(info, PluginInfo):
            raise PluginError(f"{plugin!r} has no PLUGIN = PluginInfo(...)")
        if self.pm.get_plugin(info.id) is not plugin:
            self.pm.register(plugin, name=info.id)
        self.pm.check_pending()
        self._callers.clear()
        return info.id

    def unregister(self, plugin_id: str) -> None:
        self.pm.unregister(name=plugin_id)
        self._callers.clear()

    def _check_info(self, name: str, plugin) -> None:
        info = getattr(plugin, "PLUGIN", None)
        if not isinstance(info, PluginInfo):
            raise PluginError(f"plugin {name} has no PLUGIN = PluginInfo(...)")
        if info.id != name:
            raise PluginError(f"entry point {name} declares id {info.id}")
        if info.kind not in KINDS:
            raise PluginError(f"plugin {name} has unknown kind {info.kind!r}")

    # -- metadata -------------------------------------------------------------

    def infos(self) -> list[PluginInfo]:
        return sorted((p.PLUGIN for _n, p in self.pm.list_name_plugin()), key=lambda i: (i.kind, i.id))

    def info(self, plugin_id: str) -> PluginInfo:
        plugin = self.pm.get_plugin(plugin_id)
        if plugin is None:
            raise PluginError(f"unknown plugin {plugin_id!r}", field=plugin_id)
        return plugin.PLUGIN

    def implements(self, plugin_id: str, hook_name: str) -> bool:
        """Whether the installed plugin ``plugin_id`` implements ``hook_name`` (an optional hook)."""
        hook = getattr(self.pm.hook, hook_name, None)
        return hook is not None and any(impl.plugin_name == plugin_id for impl in hook.get_hookimpls())

    # -- questions the settings pages ask about one plugin ----------------------

    def check_connection(self, tenant, plugin_id: str, settings: dict) -> CheckResult:
        """Ask ``plugin_id`` whether ``settings`` (validated, deserialized) reach its service.

        Only that plugin is asked, enabled for ``tenant`` or not yet (settings are tried before they are
        saved). An error the plugin raises is its answer: the check failed, and says why.
        """
        if not self.implements(plugin_id, CHECK_HOOK):
            raise PluginError(f"{plugin_id} has no connection check", field=plugin_id)
        caller = self.caller(CHECK_HOOK, frozenset({plugin_id}))
        try:
            answer = caller(tenant=TenantView(self, tenant), plugin_id=plugin_id, settings=settings)
        except Exception as error:  # the plugin's own failure is the check's finding, not a crash of the page
            return CheckResult(False, f"{type(error).__name__}: {error}")
        if not isinstance(answer, tuple) or len(answer) != 2:
            return CheckResult(False, f"{plugin_id} answered its connection check with {answer!r}, not (ok, message)")
        ok, message = answer
        return CheckResult(bool(ok), message)

    def provided_codes(self, tenant, plugin_id: str) -> dict[str, frozenset[str]]:
        """The codes of the providers ``plugin_id`` gives ``tenant``, by provider hook
        (``{"lendstack_payment_gateways": {"sandbox"}}``); a provider its settings cannot build gives none."""
        view = TenantView(self, tenant)
        found = {}
        for hook_name in PROVIDER_HOOKS:
            try:
                answers = self.caller(hook_name, frozenset({plugin_id}))(tenant=view)
            except (ValueError, KeyError, TypeError):  # settings the schema refuses, a provider that will not build
                continue
            codes = set()
            for answer in answers:
                for provider in answer if isinstance(answer, (list, tuple)) else [answer]:
                    if provider is not None:
                        codes.add(provider.code)
            if codes:
                found[hook_name] = frozenset(codes)
        return found

    # -- per-tenant calls -----------------------------------------------------

    def for_tenant(self, tenant) -> "TenantHooks":
        return TenantHooks(self, tenant)

    def caller(self, hook_name: str, enabled: frozenset[str]):
        """A hook caller reaching only ``enabled`` plugins, cached per enabled set.

        The cache key is the set itself, so a tenant whose plugins change gets a
        fresh caller on its next call and no explicit invalidation is needed.
        """
        key = (hook_name, enabled)
        caller = self._callers.get(key)
        if caller is None:
            excluded = [p for n, p in self.pm.list_name_plugin() if n not in enabled]
            caller = self.pm.subset_hook_caller(hook_name, remove_plugins=excluded)
            self._callers[key] = caller
        return caller


class TenantView:
    """The read-only tenant that hooks receive: identity, money, dates and plugin settings."""

    def __init__(self, registry: PluginRegistry, tenant):
        self._registry = registry
        self._tenant = tenant
        self._settings: dict[str, dict] = {}
        for name in (
            "id",
            "slug",
            "name",
            "currency",
            "timezone",
            "business_date",
            "default_locale",
            "locales",
            "theme",
        ):
            setattr(self, name, getattr(tenant, name))

    def plugin_settings(self, plugin_id: str) -> dict:
        """This tenant's settings of ``plugin_id``, deserialized by the plugin's schema."""
        if plugin_id not in self._settings:
            info = self._registry.info(plugin_id)
            self._settings[plugin_id] = info.validate_settings(self._tenant.plugin_settings(plugin_id))
        return self._settings[plugin_id]

    def __repr__(self) -> str:
        return f"<TenantView {self.slug}>"


class TenantHooks:
    """``hooks.lendstack_loan_types()`` calls the tenant's enabled plugins with ``tenant``."""

    def __init__(self, registry: PluginRegistry, tenant):
        self._registry = registry
        self.tenant = TenantView(registry, tenant)
        self.enabled = tenant.enabled_plugin_ids

    def __getattr__(self, hook_name: str):
        caller = self._registry.caller(hook_name, self.enabled)
        tenant = self.tenant

        def call(**kwargs):
            return caller(tenant=tenant, **kwargs)

        return call

    def collect(self, hook_name: str, **kwargs) -> list:
        """Flatten the providers every enabled plugin returned for ``hook_name``."""
        found = []
        for answer in getattr(self, hook_name)(**kwargs):
            if isinstance(answer, (list, tuple)):
                found.extend(answer)
            elif answer is not None:
                found.append(answer)
        return found

    def is_enabled(self, plugin_id: str) -> bool:
        return plugin_id in self.enabled


def collect_by_code(hooks, hook_name: str) -> dict:
    """The providers the tenant's enabled plugins return for ``hook_name`` (loan types, repayment methods,
    gateways, SMS providers) by their ``code``, in code order: the one collector every provider type uses."""
    return {provider.code: provider for provider in sorted(hooks.collect(hook_name), key=lambda p: p.code)}


# -- may a tenant turn a plugin off? ---------------------------------------------------------------------------

InUseCheck = Callable[[Any, Any, PluginInfo, Mapping[str, frozenset[str]]], Any]
_IN_USE_CHECKS: list[InUseCheck] = []


def register_in_use_check(check: InUseCheck) -> InUseCheck:
    """Register ``check(session, tenant, info, provided)``: why ``tenant`` may not turn the plugin off, or None.

    ``provided`` maps each provider hook to the codes the plugin gives the tenant
    (``{"lendstack_loan_types": {"credit"}}``), the codes its live records name. The reason is
    a translation string (``_("…")``) that reads on its own. A domain registers its check when
    it is imported (``core.payments``: money in flight; ``core.loans``: open loans); usable as a decorator.
    """
    if check not in _IN_USE_CHECKS:
        _IN_USE_CHECKS.append(check)
    return check


def check_disable(session, tenant, plugin_id: str, plugins: PluginRegistry | None = None):
    """Why ``tenant`` may not turn ``plugin_id`` off now (live records depend on it), or None.

    Every path that turns a plugin off asks this first (``core.tenancy.manifest.apply``, hence the back
    office, the settings API, the operator console and ``lendstack tenant apply``). ``plugins`` defaults to
    the registry the session was made with.
    """
    plugins = plugins if plugins is not None else session.info.get("plugins")
    if plugins is None:
        return None
    try:
        info = plugins.info(plugin_id)
    except PluginError:  # no longer installed: nothing of it can be asked
        return None
    provided = plugins.provided_codes(tenant, plugin_id)
    for check in _IN_USE_CHECKS:
        reason = check(session, tenant, info, provided)
        if reason:
            return reason
    return None
