"""The plugin manager: discovery, metadata, settings validation, per-tenant callers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import colander
import pluggy

from . import hookspecs

PROJECT = "lendstack"
ENTRY_POINT_GROUP = "lendstack.plugins"
KINDS = ("loan_type", "payment", "sms", "repayment_method", "extension")

hookimpl = pluggy.HookimplMarker(PROJECT)


class PluginError(ValueError):
    """A plugin is unknown, malformed, or given settings it does not accept."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


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
    """

    id: str
    kind: str
    name: str
    version: str = "0"
    description: str = ""
    settings: colander.SchemaNode | None = None
    default_enabled: bool = False
    secret_settings: tuple[str, ...] = field(default=())
    development_only: bool = False

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
                raise PluginError(f"{self.id} takes no settings", field=sorted(raw)[0])
            return {}
        unknown = sorted(set(raw) - {child.name for child in self.settings.children})
        if unknown:
            raise PluginError(f"{self.id}: {unknown[0]}: unknown setting", field=unknown[0])
        try:
            return self.settings.deserialize(raw)
        except colander.Invalid as invalid:
            errors = invalid.asdict()
            name, message = next(iter(sorted(errors.items())))
            raise PluginError(f"{self.id}: {name}: {message}", field=name) from None


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
