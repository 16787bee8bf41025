"""Every extension point of Lendstack, in one place.

A plugin is a module (or any object) with a ``PLUGIN`` attribute of type
:class:`core.plugin_registry.PluginInfo` and functions named after the hooks
below, marked with ``core.hookimpl``. It is registered through the
entry-point group ``lendstack.plugins``; the entry-point name is its id.

Hooks whose first argument is ``tenant`` are called for one tenant at a time
and reach only the plugins that tenant enabled (``request.hooks`` or
``registry.plugins.for_tenant(tenant)``). Provider hooks
(``lendstack_loan_types`` …) return one provider object or a list of them;
the caller collects every enabled plugin's answer. Event hooks return nothing.
``tenant`` is read-only for plugins: ``tenant.slug``, ``tenant.currency``,
``tenant.business_date``, ``tenant.plugin_settings(plugin_id)``.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("lendstack")


# -- start-up ---------------------------------------------------------------


@hookspec
def lendstack_includeme(config):
    """Add routes, views, templates and translations to the Pyramid app.

    Called once at start-up for every installed plugin, whichever tenants
    enable it. Views of a plugin must be guarded with the ``plugin=ID`` view
    predicate so that tenants who have not enabled it get a 404::

        config.add_route("sandbox.checkout", "/pay/sandbox/{id}")
        config.add_view(checkout, route_name="sandbox.checkout",
                        plugin="payments.sandbox", renderer="json")
    """


# -- providers: one hook per plugin kind -------------------------------------


@hookspec
def lendstack_loan_types(tenant):
    """Loan types (信用標, 擔保標 …) this plugin offers the tenant.

    :returns: a :class:`core.loan_types.LoanType` or a list of them.
    """


@hookspec
def lendstack_repayment_methods(tenant):
    """Repayment methods (calculators: 等額本息 …) this plugin offers the tenant.

    The public calculator pages and the loan engine use the same objects.

    :returns: a :class:`core.schedules.RepaymentMethod` or a list of them.
    """


@hookspec
def lendstack_payment_gateways(tenant):
    """Payment gateways (recharge in, withdrawal out) this plugin offers the tenant.

    :returns: a :class:`core.payments.PaymentGateway` or a list of them.
    """


@hookspec
def lendstack_sms_providers(tenant):
    """SMS providers this plugin offers the tenant.

    :returns: a :class:`core.sms.SmsProvider` or a list of them.
    """


# -- questions about one plugin ------------------------------------------------


@hookspec(firstresult=True)
def lendstack_plugin_check(tenant, plugin_id, settings):
    """Does ``settings`` reach this plugin's service? The back office's "Test connection" button.

    Optional: only a plugin that talks to a remote service (a payment gateway,
    an SMS provider) implements it, and the button shows only for those. It is
    called for one plugin at a time, before or after the tenant enables it
    (so that settings can be tried before they are saved), and must not change
    anything: sign a harmless request (a balance or account read), or check the
    keys offline where the service has no such request. A network call uses a
    short timeout (a few seconds) and says so when it runs out.

    :param tenant: the tenant whose settings are tried (read-only, as in provider hooks).
    :param plugin_id: the plugin asked; answer ``None`` for any other id.
    :param settings: the settings to try, validated and deserialized by the plugin's schema
        (the stored secrets filled in where the form left them blank).
    :returns: an ``(ok, message)`` pair (``core.plugin_registry.CheckResult``): ``ok`` true when the
        connection works, ``message`` a sentence a tenant's administrator can act on (``_("…")`` or text).
        Raising counts as a failed check whose message is the error.
    """


# -- lifecycle events ----------------------------------------------------------


@hookspec
def lendstack_tenant_applied(tenant, created):
    """A tenant manifest was applied (``lendstack tenant apply``, ``make demo``).

    :param tenant: the tenant as the manifest left it (its enabled plugins only are told).
    :param created: true the first time the tenant is applied, false on every update.
    :returns: nothing. Runs inside the applying transaction; raising aborts the whole apply.
    """


@hookspec
def lendstack_sms_delivered(tenant, message):
    """An SMS left through a provider (a sign-up or reset code, a reminder …).

    :param tenant: the tenant the text was sent for (its enabled plugins only are told).
    :param message: a :class:`core.sms.SmsView` of the stored text: one-time codes in it are masked.
    :returns: nothing. Runs in the delivery job's transaction, after the provider accepted the text.
    """


@hookspec
def lendstack_loan_status_changed(tenant, loan, old_status, new_status):
    """A loan moved along its lifecycle (``bidding`` → ``full`` …), inside the transaction."""


@hookspec
def lendstack_transfers_posted(tenant, transfers):
    """A balanced batch of ledger transfers was posted, inside the transaction."""


@hookspec
def lendstack_close_of_day(tenant, business_date):
    """The close-of-day batch of ``tenant`` ran for ``business_date``, after core's own steps."""
