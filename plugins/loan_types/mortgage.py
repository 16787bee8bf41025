"""抵押標 — the mortgage loan: secured by collateral, within the tenant's loan-to-value cap.

The application names the collateral (``collateral_kind``: property, vehicle
or other; ``collateral_description``; ``appraised_value`` in major units);
the amount may be at most ``max_ltv_percent`` of the appraised value. The
collateral is kept with the loan and released when it is settled (an event in
the loan's history). Appraisal documents go through the member's document
uploads.
"""

from __future__ import annotations

from decimal import Decimal

import colander

from core import (
    LoanApplication,
    LoanType,
    Money,
    MoneyError,
    PluginInfo,
    RuleViolation,
    _,
    hookimpl,
    longest_term_setting,
    repayment_methods_setting,
)

KINDS = ("property", "vehicle", "other")


class Settings(colander.MappingSchema):
    max_ltv_percent = colander.SchemaNode(
        colander.Decimal(),
        missing="70",
        validator=colander.Range(1, 100),
        title=_("Highest loan-to-value (percent)"),
        description=_("The loan may be at most this share of the collateral's appraised value."),
    )
    max_term_months = longest_term_setting(60)
    repayment_methods = repayment_methods_setting()


PLUGIN = PluginInfo(
    id="loan_types.mortgage",
    kind="loan_type",
    name={"en": "Mortgage loan", "zh_Hant": "抵押標", "zh_Hans": "抵押标"},
    version="1.0",
    description={
        "en": "Loans secured by collateral, within a loan-to-value cap.",
        "zh_Hant": "以抵押物擔保的借款，不超過抵押率上限。",
        "zh_Hans": "以抵押物担保的借款，不超过抵押率上限。",
    },
    settings=Settings(),
    default_enabled=False,
)


class MortgageLoan(LoanType):
    code = "mortgage"
    term_message = _("A mortgage loan runs at most ${months} months.")
    name = _("Mortgage loan")
    description = _("A loan secured by property, a vehicle or other collateral.")
    badge = _("Secured")
    holds_collateral = True

    def check_application(self, application: LoanApplication) -> list[RuleViolation]:
        data = application.data
        problems = []
        if data.get("collateral_kind") not in KINDS:
            problems.append(RuleViolation("collateral_kind", _("Choose the kind of collateral.")))
        if not 4 <= len((data.get("collateral_description") or "").strip()) <= 500:
            problems.append(RuleViolation("collateral_description", _("Describe the collateral.")))
        try:
            value = Money.from_input(data.get("appraised_value"), application.amount.currency, form=True)
        except MoneyError:
            problems.append(RuleViolation("appraised_value", _("Enter the appraised value, such as 500000.00.")))
            return problems
        limit = Money.from_decimal(value.amount * Decimal(self.settings["max_ltv_percent"]) / 100, value.currency)
        if application.amount > limit:
            problems.append(
                RuleViolation(
                    "amount",
                    _(
                        "At a loan-to-value of at most ${ltv}%, this collateral secures up to ${limit}.",
                        mapping={"ltv": str(self.settings["max_ltv_percent"]), "limit": str(limit)},
                    ),
                )
            )
        problems += self.term_violations(application)
        return problems


@hookimpl
def lendstack_loan_types(tenant):
    return MortgageLoan(tenant.plugin_settings(PLUGIN.id))
