"""按季付息、到期還本 — quarterly interest, principal with the last quarter.

The term is a multiple of 3 months; every 3 months interest = q(P·a/400).
"""

from __future__ import annotations

from decimal import Decimal

from core import (
    Installment,
    LoanTerms,
    PluginInfo,
    RepaymentMethod,
    ScheduleError,
    _,
    add_months,
    hookimpl,
    round_minor,
)

PLUGIN = PluginInfo(
    id="tools.quarterly",
    kind="repayment_method",
    name={"en": "Quarterly interest", "zh_Hant": "按季還款", "zh_Hans": "按季还款"},
    version="1.0",
    description={
        "en": "Interest every quarter, the principal with the last quarter.",
        "zh_Hant": "每季付息，最後一季償還本金。",
        "zh_Hans": "每季付息，最后一季偿还本金。",
    },
    default_enabled=True,
)


class Quarterly(RepaymentMethod):
    code = "quarterly"
    name = _("Quarterly interest, principal at maturity")
    description = _("Pay interest every three months and the principal with the last quarter.")

    def validate(self, terms: LoanTerms) -> None:
        super().validate(terms)
        if terms.term % 3:
            raise ScheduleError("term_months", _("The term must be a multiple of 3 months."))

    def rows(self, terms: LoanTerms):
        principal = terms.principal.minor
        interest = round_minor(Decimal(principal) * terms.annual_rate_percent / 400)
        quarters = terms.term // 3
        for k in range(1, quarters + 1):
            last = k == quarters
            yield Installment(
                k, add_months(terms.start_date, 3 * k), principal if last else 0, interest, 0 if last else principal
            )


@hookimpl
def lendstack_repayment_methods(tenant):
    return Quarterly()
