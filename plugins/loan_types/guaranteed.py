"""擔保標 — the guaranteed loan: a guarantor institution stands behind it and advances when it is overdue.

The borrower names one of the tenant's guarantors (``guarantor_id``); core
checks the guarantor's quota and, when an installment stays overdue, pays the
lenders from the guarantor's deposit. This plugin checks the product's bounds.
"""

from __future__ import annotations

import colander

from core import (
    LoanApplication,
    LoanType,
    Money,
    PluginInfo,
    RuleViolation,
    _,
    hookimpl,
    longest_term_setting,
    repayment_methods_setting,
)


class Settings(colander.MappingSchema):
    max_amount = colander.SchemaNode(
        colander.Decimal(),
        missing="500000",
        validator=colander.Range(min=0),
        title=_("Largest amount"),
        description=_("The largest loan, in the site's currency."),
    )
    max_term_months = longest_term_setting(36)
    repayment_methods = repayment_methods_setting()


PLUGIN = PluginInfo(
    id="loan_types.guaranteed",
    kind="loan_type",
    name={"en": "Guaranteed loan", "zh_Hant": "擔保標", "zh_Hans": "担保标"},
    version="1.0",
    description={
        "en": "Loans backed by a guarantor institution, which advances overdue installments.",
        "zh_Hant": "由擔保機構擔保的借款，逾期時由擔保機構墊付。",
        "zh_Hans": "由担保机构担保的借款，逾期时由担保机构垫付。",
    },
    settings=Settings(),
    default_enabled=False,
)


class GuaranteedLoan(LoanType):
    code = "guaranteed"
    term_message = _("A guaranteed loan runs at most ${months} months.")
    name = _("Guaranteed loan")
    description = _("A guarantor institution stands behind the loan and pays lenders if it falls overdue.")
    badge = _("Guaranteed")
    needs_guarantor = True

    def check_application(self, application: LoanApplication) -> list[RuleViolation]:
        problems = []
        high = Money.from_decimal(self.settings["max_amount"], application.amount.currency)
        if application.amount > high:
            problems.append(
                RuleViolation("amount", _("A guaranteed loan is at most ${high}.", mapping={"high": str(high)}))
            )
        problems += self.term_violations(application)
        return problems


@hookimpl
def lendstack_loan_types(tenant):
    return GuaranteedLoan(tenant.plugin_settings(PLUGIN.id))
