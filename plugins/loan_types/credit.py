"""信用標 — the credit loan: unsecured, within the borrower's credit line and the tenant's bounds.

Staff set each borrower's credit line after verification (``loan.credit_line``);
active credit loans use it and repayments give it back (``use_credit_line``,
on by default).
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
    min_amount = colander.SchemaNode(
        colander.Decimal(),
        missing="1000",
        validator=colander.Range(min=0),
        title=_("Smallest amount"),
        description=_("The smallest loan, in the site's currency."),
    )
    max_amount = colander.SchemaNode(
        colander.Decimal(),
        missing="200000",
        validator=colander.Range(min=0),
        title=_("Largest amount"),
        description=_("The largest loan, in the site's currency."),
    )
    max_term_months = longest_term_setting(36)
    use_credit_line = colander.SchemaNode(
        colander.Boolean(),
        missing=True,
        title=_("Within the credit line"),
        description=_(
            "The amount must fit the borrower's credit line left; staff set credit lines after verification."
        ),
    )
    repayment_methods = repayment_methods_setting()


PLUGIN = PluginInfo(
    id="loan_types.credit",
    kind="loan_type",
    name={"en": "Credit loan", "zh_Hant": "信用標", "zh_Hans": "信用标"},
    version="1.0",
    description={
        "en": "Unsecured loans within the borrower's credit line and the amount and term bounds you set.",
        "zh_Hant": "無抵押借款：不超過借款人的信用額度，並在您設定的金額與期限範圍內。",
        "zh_Hans": "无抵押借款：不超过借款人的信用额度，并在您设定的金额与期限范围内。",
    },
    settings=Settings(),
    default_enabled=True,
)


class CreditLoan(LoanType):
    code = "credit"
    term_message = _("A credit loan runs at most ${months} months.")
    name = _("Credit loan")
    description = _("An unsecured loan granted on the borrower's credit standing.")
    badge = _("Credit")

    def check_application(self, application: LoanApplication) -> list[RuleViolation]:
        currency = application.amount.currency
        low = Money.from_decimal(self.settings["min_amount"], currency)
        high = Money.from_decimal(self.settings["max_amount"], currency)
        problems = []
        if application.amount < low or application.amount > high:
            problems.append(
                RuleViolation(
                    "amount",
                    _("A credit loan is between ${low} and ${high}.", mapping={"low": str(low), "high": str(high)}),
                )
            )
        problems += self.term_violations(application)
        profile = application.borrower
        if (
            self.settings.get("use_credit_line", True)
            and profile is not None
            and application.amount > profile.credit_available
        ):
            problems.append(
                RuleViolation(
                    "amount",
                    _(
                        "Your credit line left is ${left}; staff set credit lines after verification.",
                        mapping={"left": str(profile.credit_available)},
                    ),
                )
            )
        return problems


@hookimpl
def lendstack_loan_types(tenant):
    return CreditLoan(tenant.plugin_settings(PLUGIN.id))
