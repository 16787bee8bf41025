"""等額本息 — equal installment: the same payment every month, the last one evening out.

r = annual% / 1200; A = q(P·r·(1+r)^n / ((1+r)^n − 1)), or q(P/n) at 0%;
interest_k = q(balance·r); principal_k = A − interest_k; the last month pays
the remaining balance plus its interest. q() rounds half-up to the minor unit.
"""

from __future__ import annotations

from decimal import Decimal, localcontext

from core import Installment, LoanTerms, PluginInfo, RepaymentMethod, _, add_months, hookimpl, round_minor

PLUGIN = PluginInfo(
    id="tools.equal_installment",
    kind="repayment_method",
    name={"en": "Equal installments", "zh_Hant": "等額本息", "zh_Hans": "等额本息"},
    version="1.0",
    description={
        "en": "Equal monthly payments of principal and interest.",
        "zh_Hant": "每月以相同金額償還本金與利息。",
        "zh_Hans": "每月以相同金额偿还本金与利息。",
    },
    default_enabled=True,
)


class EqualInstallment(RepaymentMethod):
    code = "equal_installment"
    name = _("Equal installments")
    description = _("The same payment every month; each covers the month's interest and part of the principal.")

    def payment(self, terms: LoanTerms) -> int:
        """The level monthly payment in minor units, rounded half-up."""
        principal, n, r = Decimal(terms.principal.minor), terms.term, terms.monthly_rate
        if r == 0:
            return round_minor(principal / n)
        with localcontext() as ctx:
            ctx.prec = 50
            growth = (1 + r) ** n
            return round_minor(principal * r * growth / (growth - 1))

    def rows(self, terms: LoanTerms):
        level = self.payment(terms)
        balance = terms.principal.minor
        r = terms.monthly_rate
        for k in range(1, terms.term + 1):
            interest = round_minor(Decimal(balance) * r)
            principal = balance if k == terms.term else min(balance, level - interest)
            balance -= principal
            yield Installment(k, add_months(terms.start_date, k), principal, interest, balance)


@hookimpl
def lendstack_repayment_methods(tenant):
    return EqualInstallment()
