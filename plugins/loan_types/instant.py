"""秒標 — the instant loan: a promotion staff publish; once full it is disbursed and repaid in one step.

The borrower is the tenant's own promotion account, which holds enough to pay
the interest; lenders get principal and interest back the moment the loan is
full. Only staff may submit one (the ``staff_only`` rule), usually for a day
term on the ``one_time`` method.
"""

from __future__ import annotations

import colander

from core import LoanApplication, LoanType, PluginInfo, RuleViolation, _, hookimpl


class Settings(colander.MappingSchema):
    max_term_months = colander.SchemaNode(
        colander.Int(),
        missing=1,
        validator=colander.Range(1, 12),
        title=_("Longest term (months)"),
        description=_("An application for a longer term is refused."),
    )
    repayment_methods = colander.SchemaNode(
        colander.List(),
        missing=["one_time"],
        choices_from="lendstack_repayment_methods",
        title=_("Repayment methods"),
        description=_("The repayment methods this type allows; none ticked: every one the site offers."),
    )


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
    name = _("Instant loan")
    description = _("A promotion: your principal and interest come back the moment the loan is full.")
    badge = _("Instant")
    settles_when_full = True
    staff_only = True

    def check_application(self, application: LoanApplication) -> list[RuleViolation]:
        problems = []
        if application.term_months > self.settings["max_term_months"]:
            problems.append(
                RuleViolation(
                    "term_months",
                    _(
                        "An instant loan runs at most ${months} months.",
                        mapping={"months": self.settings["max_term_months"]},
                    ),
                )
            )
        return problems


@hookimpl
def lendstack_loan_types(tenant):
    return InstantLoan(tenant.plugin_settings(PLUGIN.id))
