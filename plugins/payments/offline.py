"""線下充值 — offline recharge: the member transfers to the tenant's bank account.

The member is shown the account and a reference to quote; a cashier matches
the bank statement and confirms, which credits the member (core's flow).
"""

from __future__ import annotations

import colander

from core import GatewaySettings, PaymentGateway, PaymentInstruction, PaymentRequest, PluginInfo, _, hookimpl


class Settings(GatewaySettings):
    bank_name = colander.SchemaNode(
        colander.String(), title=_("Bank"), description=_("The bank members transfer to, as they should name it.")
    )
    account_name = colander.SchemaNode(colander.String(), title=_("Account name"))
    account_number = colander.SchemaNode(colander.String(), validator=colander.Length(4, 40), title=_("Account number"))
    min_amount = colander.SchemaNode(
        colander.Decimal(),
        missing="100",
        validator=colander.Range(min=0),
        title=_("Smallest recharge"),
        description=_("In the site's currency."),
    )
    max_amount = colander.SchemaNode(
        colander.Decimal(),
        missing="5000000",
        validator=colander.Range(min=1),
        title=_("Largest recharge"),
        description=_("In the site's currency."),
    )


PLUGIN = PluginInfo(
    id="payments.offline",
    kind="payment",
    name={"en": "Offline bank transfer", "zh_Hant": "線下充值", "zh_Hans": "线下充值"},
    version="1.0",
    description={
        "en": "Members transfer to your bank account; cashiers confirm.",
        "zh_Hant": "會員轉帳至您的銀行帳戶，由出納確認。",
        "zh_Hans": "会员转账至您的银行账户，由出纳确认。",
    },
    settings=Settings(),
    default_enabled=False,
)


class OfflineGateway(PaymentGateway):
    code = "offline"
    name = _("Bank transfer")
    online = False

    def create_payment(self, request: PaymentRequest) -> PaymentInstruction:
        return PaymentInstruction(
            kind="instructions",
            lines=(
                (_("Bank"), self.settings["bank_name"]),
                (_("Account name"), self.settings["account_name"]),
                (_("Account number"), self.settings["account_number"]),
                (_("Amount"), str(request.amount)),
                (_("Reference to quote"), request.reference),
            ),
        )


@hookimpl
def lendstack_payment_gateways(tenant):
    return OfflineGateway(tenant.plugin_settings(PLUGIN.id))
