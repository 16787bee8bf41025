"""Per-request plugin access: ``request.hooks`` and the ``plugin=ID`` view predicate."""

from __future__ import annotations


def hooks(request):
    """Hook callers reaching only the current tenant's enabled plugins."""
    if request.tenant is None:
        return None
    return request.registry["plugins"].for_tenant(request.tenant)


class PluginEnabledPredicate:
    """View predicate ``plugin="payments.sandbox"``: the view exists only for tenants enabling it."""

    def __init__(self, value, config):
        self.value = value

    def text(self):
        return f"plugin = {self.value}"

    phash = text

    def __call__(self, context, request):
        return request.tenant is not None and self.value in request.tenant.enabled_plugin_ids


def includeme(config):
    config.add_request_method(hooks, reify=True)
    config.add_view_predicate("plugin", PluginEnabledPredicate)
    from .templating import add_nav

    config.add_directive("add_nav", add_nav)
