"""Lendstack core: the app factory and the public API plugins may use.

Plugins import only what is listed in ``__all__`` here (and the documented
modules it names); everything else in ``core`` is internal.
"""

from __future__ import annotations

from pyramid.config import Configurator

from .http import HttpError, register_transport
from .http import client as http_client
from .i18n import _
from .loan_types import (
    BorrowerProfile,
    LoanApplication,
    LoanType,
    RuleViolation,
    longest_term_setting,
    repayment_methods_setting,
)
from .money import Money, MoneyError, split_largest_remainder
from .payments import (
    Callback,
    CallbackRejected,
    GatewaySettings,
    GatewayUnavailable,
    PaymentGateway,
    PaymentInstruction,
    PaymentRequest,
    PayoutRequest,
    PayoutResult,
)
from .payments.services import receive_callback
from .plugin_registry import PluginInfo, PluginRegistry, hookimpl
from .schedules import (
    DAY,
    MONTH,
    Installment,
    LoanTerms,
    RepaymentMethod,
    Schedule,
    ScheduleError,
    add_months,
    round_minor,
)
from .sms import SmsProvider, SmsResult, SmsStatus, SmsView

__all__ = [
    "longest_term_setting",
    "repayment_methods_setting",
    "_",
    "add_months",
    "BorrowerProfile",
    "Callback",
    "CallbackRejected",
    "DAY",
    "GatewaySettings",
    "GatewayUnavailable",
    "hookimpl",
    "http_client",
    "HttpError",
    "Installment",
    "LoanApplication",
    "LoanTerms",
    "LoanType",
    "main",
    "Money",
    "MoneyError",
    "MONTH",
    "PaymentGateway",
    "PaymentInstruction",
    "PaymentRequest",
    "PayoutRequest",
    "PayoutResult",
    "PluginInfo",
    "receive_callback",
    "register_transport",
    "RepaymentMethod",
    "round_minor",
    "RuleViolation",
    "Schedule",
    "ScheduleError",
    "SmsProvider",
    "SmsResult",
    "SmsStatus",
    "SmsView",
    "split_largest_remainder",
]


def make_config(settings: dict, plugins: PluginRegistry | None = None) -> Configurator:
    """The configured app before ``make_wsgi_app``; tests pass their own plugin registry."""
    from . import jobs, models  # noqa: F401 - every table, and every job task registered with huey
    from .db import make_engine, make_session_factory
    from .settings import AppSettings

    app_settings = AppSettings.from_ini(settings)
    config = Configurator(settings=settings)
    config.registry.settings_obj = app_settings
    from .db import configure_sealing

    configure_sealing(app_settings.secret)
    engine = make_engine(app_settings.database_url)
    config.registry["db_engine"] = engine
    if plugins is None:
        plugins = PluginRegistry()
        plugins.load_entry_points()
    config.registry["dbsession_factory"] = make_session_factory(engine, plugins)
    config.registry["plugins"] = plugins
    jobs.configure(settings, config.registry["dbsession_factory"], plugins)

    config.include(".db")
    config.include(".themes")
    config.include(".i18n")
    config.include(".tenancy")
    config.include(".accounts")
    config.include(".backoffice")
    config.include(".headers")
    config.include(".page_cache")
    config.include(".access_log")
    config.include(".plugin_views")
    config.include(".inputs")
    config.include(".errors")
    config.include(".ledger")
    config.include(".api")
    config.include(".throttle")
    config.include(".members")
    config.include(".payments.views")
    config.include(".sms")
    config.include(".loans")
    config.include(".content.views")
    config.include(".uploads")
    config.include(".community")
    config.include(".help")
    config.include(".chat")
    config.include(".portal")
    config.include(".admin")
    config.include(".credit")
    config.include(".operator")
    plugins.pm.hook.lendstack_includeme(config=config)
    return config


def main(global_config, **settings):
    """Pyramid app factory (``paste.app_factory``)."""
    return make_config(settings).make_wsgi_app()
