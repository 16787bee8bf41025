"""Per-request plugin access: ``request.hooks`` and the ``plugin=ID`` view predicate."""

from __future__ import annotations

from .i18n import _

PLUGIN_KINDS = {
    "loan_type": _("Loan type"),
    "payment": _("Payment gateway"),
    "sms": _("SMS provider"),
    "repayment_method": _("Repayment method"),
    "extension": _("Extension"),
}
"""Each plugin kind (``core.plugin_registry.KINDS``) as the back office and the operator console name it."""


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
    """``request.hooks``, the ``plugin=`` view predicate, the ``add_nav`` directive and the plugin kinds' labels."""
    config.add_request_method(hooks, reify=True)
    config.add_labels(plugin_kind=PLUGIN_KINDS)
    config.add_view_predicate("plugin", PluginEnabledPredicate)
    from .templating import add_nav

    config.add_directive("add_nav", add_nav)
