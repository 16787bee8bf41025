"""先息後本 — monthly interest, principal at maturity.

interest_k = q(P·r) every month with r = annual% / 1200; the whole principal
is repaid with the last month's interest.
"""

from __future__ import annotations

from decimal import Decimal

from core import Installment, LoanTerms, PluginInfo, RepaymentMethod, _, add_months, hookimpl, round_minor

PLUGIN = PluginInfo(
    id="tools.interest_first",
    kind="repayment_method",
    name={"en": "Interest first, principal at maturity", "zh_Hant": "先息後本", "zh_Hans": "先息后本"},
    version="1.0",
    description={
        "en": "Monthly interest, the whole principal in the last month.",
        "zh_Hant": "每月付息，最後一個月償還全部本金。",
        "zh_Hans": "每月付息，最后一个月偿还全部本金。",
    },
    default_enabled=True,
)


class InterestFirst(RepaymentMethod):
    code = "interest_first"
    name = _("Monthly interest, principal at maturity")
    description = _("Pay only the interest each month and the whole principal with the last payment.")

    def rows(self, terms: LoanTerms):
        principal = terms.principal.minor
        interest = round_minor(Decimal(principal) * terms.monthly_rate)
        for k in range(1, terms.term + 1):
            last = k == terms.term
            yield Installment(
                k, add_months(terms.start_date, k), principal if last else 0, interest, 0 if last else principal
            )


@hookimpl
def lendstack_repayment_methods(tenant):
    return InterestFirst()
