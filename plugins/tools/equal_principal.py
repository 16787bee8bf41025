"""等額本金 — equal principal: the same principal every month, interest on what is left.

principal_k = q(P/n), the last month the remainder; interest_k = q(balance·r)
with r = annual% / 1200. Payments fall month by month.
"""

from __future__ import annotations

from decimal import Decimal

from core import Installment, LoanTerms, PluginInfo, RepaymentMethod, _, add_months, hookimpl, round_minor

PLUGIN = PluginInfo(
    id="tools.equal_principal",
    kind="repayment_method",
    name={"en": "Equal principal", "zh_Hant": "等額本金", "zh_Hans": "等额本金"},
    version="1.0",
    description={
        "en": "Equal monthly principal plus interest on the remaining balance.",
        "zh_Hant": "每月償還相同本金，另付剩餘本金的利息。",
        "zh_Hans": "每月偿还相同本金，另付剩余本金的利息。",
    },
    default_enabled=True,
)


class EqualPrincipal(RepaymentMethod):
    code = "equal_principal"
    name = _("Equal principal")
    description = _("The same principal every month plus interest on the balance, so payments fall over time.")

    def rows(self, terms: LoanTerms):
        balance = terms.principal.minor
        part = round_minor(Decimal(balance) / terms.term)
        for k in range(1, terms.term + 1):
            interest = round_minor(Decimal(balance) * terms.monthly_rate)
            principal = balance if k == terms.term else min(balance, part)
            balance -= principal
            yield Installment(k, add_months(terms.start_date, k), principal, interest, balance)


@hookimpl
def lendstack_repayment_methods(tenant):
    return EqualPrincipal()
