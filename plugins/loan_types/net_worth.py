"""淨值標 — the net-worth loan: borrowed against the borrower's own net assets on the platform.

The amount may be at most ``ratio`` × the borrower's net assets (available +
frozen + principal owed to them − principal they owe). While such a loan is
outstanding, core refuses withdrawals that would take net assets below the
principal still owed on it.
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
    ratio = colander.SchemaNode(
        colander.Decimal(),
        missing="0.9",
        validator=colander.Range(0, 1),
        title=_("Share of net assets"),
        description=_("The largest loan as a share of the borrower's net assets on the platform, from 0 to 1."),
    )
    max_term_months = longest_term_setting(12, most=60)
    repayment_methods = repayment_methods_setting()


PLUGIN = PluginInfo(
    id="loan_types.net_worth",
    kind="loan_type",
    name={"en": "Net-worth loan", "zh_Hant": "淨值標", "zh_Hans": "净值标"},
    version="1.0",
    description={
        "en": "Loans up to a share of the borrower's net assets on the platform.",
        "zh_Hant": "借款金額不超過借款人在平臺淨資產的一定比例。",
        "zh_Hans": "借款金额不超过借款人在平台净资产的一定比例。",
    },
    settings=Settings(),
    default_enabled=False,
)


class NetWorthLoan(LoanType):
    code = "net_worth"
    term_message = _("A net-worth loan runs at most ${months} months.")
    name = _("Net-worth loan")
    description = _("Borrow against your own balance and receivables on this site.")
    badge = _("Net worth")

    def check_application(self, application: LoanApplication) -> list[RuleViolation]:
        problems = []
        profile = application.borrower
        if profile is not None:
            limit = Money.from_decimal(profile.net_assets.amount * self.settings["ratio"], profile.net_assets.currency)
            if application.amount > limit:
                problems.append(
                    RuleViolation(
                        "amount",
                        _(
                            "A net-worth loan is at most ${limit}: ${percent} percent of your net assets.",
                            mapping={
                                "limit": str(max(limit, Money(0, limit.currency))),
                                "percent": str(self.settings["ratio"] * 100),
                            },
                        ),
                    )
                )
        problems += self.term_violations(application)
        return problems


@hookimpl
def lendstack_loan_types(tenant):
    return NetWorthLoan(tenant.plugin_settings(PLUGIN.id))
