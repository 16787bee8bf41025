"""秒標 — the instant loan: a promotion staff publish; once full it is disbursed and repaid in one step.

The borrower is the tenant's own promotion account, which holds enough to pay
the interest; lenders get principal and interest back the moment the loan is
full. Only staff may submit one (the ``staff_only`` rule), usually for a day
term on the ``one_time`` method.
"""

from __future__ import annotations

import colander

from core import (
    LoanApplication,
    LoanType,
    PluginInfo,
    RuleViolation,
    _,
    hookimpl,
    longest_term_setting,
    repayment_methods_setting,
)


class Settings(colander.MappingSchema):
    max_term_months = longest_term_setting(1, most=12)
    repayment_methods = repayment_methods_setting(("one_time",))


PLUGIN = PluginInfo(
    id="loan_types.instant",
    kind="loan_type",
    name={"en": "Instant loan", "zh_Hant": "秒標", "zh_Hans": "秒标"},
    version="1.0",
    description={
        "en": "A promotion: disbursed and repaid at once as soon as it is fully funded.",
        "zh_Hant": "推廣活動：滿標後立即放款並還款。",
        "zh_Hans": "推广活动：满标后立即放款并还款。",
    },
    settings=Settings(),
    default_enabled=False,
)


class InstantLoan(LoanType):
    code = "instant"
    term_message = _("An instant loan runs at most ${months} months.")
    name = _("Instant loan")
    description = _("A promotion: your principal and interest come back the moment the loan is full.")
    badge = _("Instant")
    settles_when_full = True
    staff_only = True

    def check_application(self, application: LoanApplication) -> list[RuleViolation]:
        problems = []
        problems += self.term_violations(application)
        return problems


@hookimpl
def lendstack_loan_types(tenant):
    return InstantLoan(tenant.plugin_settings(PLUGIN.id))
