"""擔保標 — the guaranteed loan: a guarantor institution stands behind it and advances when it is overdue.

The borrower names one of the tenant's guarantors (``guarantor_id``); core
checks the guarantor's quota and, when an installment stays overdue, pays the
lenders from the guarantor's deposit. This plugin checks the product's bounds.
"""

from __future__ import annotations

import colander

from core import LoanApplication, LoanType, Money, PluginInfo, RuleViolation, _, hookimpl


class Settings(colander.MappingSchema):
    max_amount = colander.SchemaNode(colander.Decimal(), missing="500000", validator=colander.Range(min=0))
    max_term_months = colander.SchemaNode(colander.Int(), missing=36, validator=colander.Range(1, 360))
    repayment_methods = colander.SchemaNode(colander.List(), missing=[])


PLUGIN = PluginInfo(
    id="loan_types.guaranteed",
    kind="loan_type",
    name="Guaranteed loan (擔保標)",
    version="1.0",
    description="Loans backed by a guarantor institution, which advances on overdue installments.",
    settings=Settings(),
    default_enabled=False,
)


class GuaranteedLoan(LoanType):
    code = "guaranteed"
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
        if application.term_months > self.settings["max_term_months"]:
            problems.append(
                RuleViolation(
                    "term_months",
                    _(
                        "A guaranteed loan runs at most ${months} months.",
                        mapping={"months": self.settings["max_term_months"]},
                    ),
                )
            )
        return problems


@hookimpl
def lendstack_loan_types(tenant):
    return GuaranteedLoan(tenant.plugin_settings(PLUGIN.id))
