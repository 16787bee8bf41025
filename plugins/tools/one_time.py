"""一次性還本付息 — principal and interest in one payment at maturity.

Term in months: interest = q(P·a/100·months/12). Term in days:
interest = q(P·a/100·days/basis), basis 365 unless the tenant sets 360.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import colander

from core import DAY, MONTH, Installment, LoanTerms, PluginInfo, RepaymentMethod, _, add_months, hookimpl, round_minor


class Settings(colander.MappingSchema):
    day_basis = colander.SchemaNode(
        colander.Int(),
        missing=365,
        validator=colander.OneOf([360, 365]),
        title=_("Days in a year"),
        description=_("For terms in days: a day's interest is the annual rate divided by this number."),
    )


PLUGIN = PluginInfo(
    id="tools.one_time",
    kind="repayment_method",
    name={"en": "One-time repayment", "zh_Hant": "一次性還本付息", "zh_Hans": "一次性还本付息"},
    version="1.0",
    description={
        "en": "Principal and interest together at maturity; terms in months or days.",
        "zh_Hant": "到期一次償還本金與利息；期限可按月或按日計。",
        "zh_Hans": "到期一次偿还本金与利息；期限可按月或按日计。",
    },
    settings=Settings(),
    default_enabled=True,
)


class OneTime(RepaymentMethod):
    code = "one_time"
    name = _("One-time repayment")
    description = _("Repay the principal and all interest in a single payment at maturity.")
    term_units = (MONTH, DAY)

    def __init__(self, settings: dict):
        self.day_basis = settings["day_basis"]

    def rows(self, terms: LoanTerms):
        principal = Decimal(terms.principal.minor)
        rate = terms.annual_rate_percent / 100
        if terms.term_unit == DAY:
            interest = round_minor(principal * rate * terms.term / self.day_basis)
            due = terms.start_date + dt.timedelta(days=terms.term)
        else:
            interest = round_minor(principal * rate * terms.term / 12)
            due = add_months(terms.start_date, terms.term)
        yield Installment(1, due, terms.principal.minor, interest, 0)


@hookimpl
def lendstack_repayment_methods(tenant):
    return OneTime(tenant.plugin_settings(PLUGIN.id))
