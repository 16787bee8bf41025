"""Flat-rate installments: interest on the original principal every month.

Common in consumer lending: each month pays q(P/n) of principal (the last
month the remainder) plus q(P·a/1200) interest on the *original* principal,
so every payment is (almost) the same. The tenant may add a one-off
``handling_fee_percent`` to the first month's interest.
"""

from __future__ import annotations

from decimal import Decimal

import colander

from core import Installment, LoanTerms, PluginInfo, RepaymentMethod, _, add_months, hookimpl, round_minor


class Settings(colander.MappingSchema):
    # A third-party plugin has no place in Lendstack's catalogues: its texts carry their translations.
    handling_fee_percent = colander.SchemaNode(
        colander.Decimal(),
        missing="0",
        validator=colander.Range(0, 5),
        title={"en": "Handling fee (percent)", "zh_Hant": "手續費（百分比）", "zh_Hans": "手续费（百分比）"},
        description={
            "en": "Added once to the first month's interest, as a percentage of the amount borrowed.",
            "zh_Hant": "按借款金額的百分比計算，一次加在首月利息上。",
            "zh_Hans": "按借款金额的百分比计算，一次加在首月利息上。",
        },
    )


PLUGIN = PluginInfo(
    id="tools.flat_rate",
    kind="repayment_method",
    name={
        "en": "Flat-rate installments (example plugin)",
        "zh_Hant": "等本等息（範例外掛程式）",
        "zh_Hans": "等本等息（示例插件）",
    },
    version="1.0.0",
    description={
        "en": "Monthly interest on the original principal; shows how a third party writes a plugin.",
        "zh_Hant": "每月按原始本金計息；示範第三方如何撰寫外掛程式。",
        "zh_Hans": "每月按原始本金计息；示范第三方如何编写插件。",
    },
    settings=Settings(),
    default_enabled=False,
)


class FlatRate(RepaymentMethod):
    code = "flat_rate"
    name = _("Flat-rate installments")
    description = _("Interest is charged on the original amount every month.")

    def __init__(self, settings: dict):
        self.fee_percent = settings["handling_fee_percent"]

    def rows(self, terms: LoanTerms):
        total = terms.principal.minor
        n = terms.term
        monthly_principal = round_minor(Decimal(total) / n)
        monthly_interest = round_minor(Decimal(total) * terms.monthly_rate)
        fee = round_minor(Decimal(total) * self.fee_percent / 100)
        balance = total
        for k in range(1, n + 1):
            principal = balance if k == n else min(balance, monthly_principal)
            balance -= principal
            interest = monthly_interest + (fee if k == 1 else 0)
            yield Installment(k, add_months(terms.start_date, k), principal, interest, balance)


@hookimpl
def lendstack_repayment_methods(tenant):
    return FlatRate(tenant.plugin_settings(PLUGIN.id))
