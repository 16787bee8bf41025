"""信用標 — the credit loan: unsecured, within the borrower's credit line and the tenant's bounds.

Staff set each borrower's credit line after verification (``loan.credit_line``);
active credit loans use it and repayments give it back (``use_credit_line``,
on by default).
"""

from __future__ import annotations

import colander

from core import LoanApplication, LoanType, Money, PluginInfo, RuleViolation, _, hookimpl


class Settings(colander.MappingSchema):
    min_amount = colander.SchemaNode(colander.Decimal(), missing="1000", validator=colander.Range(min=0))
    max_amount = colander.SchemaNode(colander.Decimal(), missing="200000", validator=colander.Range(min=0))
    max_term_months = colander.SchemaNode(colander.Int(), missing=36, validator=colander.Range(1, 360))
    use_credit_line = colander.SchemaNode(
        colander.Boolean(), missing=True, description="the amount must fit the borrower's credit line left"
    )
    repayment_methods = colander.SchemaNode(
        colander.List(), missing=[], description="allowed repayment method codes; empty: all enabled"
    )


PLUGIN = PluginInfo(
    id="loan_types.credit",
    kind="loan_type",
    name="Credit loan (信用標)",
    version="1.0",
    description="Unsecured loans within amount and term bounds set by the tenant.",
    settings=Settings(),
    default_enabled=True,
)


class CreditLoan(LoanType):
    code = "credit"
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
        if application.term_months > self.settings["max_term_months"]:
            problems.append(
                RuleViolation(
                    "term_months",
                    _(
                        "A credit loan runs at most ${months} months.",
                        mapping={"months": self.settings["max_term_months"]},
                    ),
                )
            )
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
