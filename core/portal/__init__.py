"""The public portal (前臺): home and the calculators; later issues add invest, borrow, account."""

from __future__ import annotations

from ..i18n import _
from ..schedules import repayment_methods


def _has_calculators(request) -> bool:
    return request.hooks is not None and bool(repayment_methods(request.hooks))


def includeme(config):
    config.add_route("portal.home", "/", host_kind="tenant")
    config.add_route("tools.index", "/tools", host_kind="tenant")
    config.add_route("tools.method", "/tools/{code}", host_kind="tenant")
    config.add_nav("portal.home", _("Home"), "portal.home", order=0)
    config.add_nav("tools", _("Calculators"), "tools.index", order=60, visible=_has_calculators)
    config.include(".names")
    config.scan(".views")
