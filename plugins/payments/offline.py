"""線下充值 — offline recharge: the member transfers to the tenant's bank account.

The member is shown the account and a reference to quote; a cashier matches
the bank statement and confirms, which credits the member (core's flow).
"""

from __future__ import annotations

import colander

from core import GatewaySettings, PaymentGateway, PaymentInstruction, PaymentRequest, PluginInfo, _, hookimpl


class Settings(GatewaySettings):
    bank_name = colander.SchemaNode(colander.String())
    account_name = colander.SchemaNode(colander.String())
    account_number = colander.SchemaNode(colander.String(), validator=colander.Length(4, 40))
    min_amount = colander.SchemaNode(colander.Decimal(), missing="100", validator=colander.Range(min=0))
    max_amount = colander.SchemaNode(colander.Decimal(), missing="5000000", validator=colander.Range(min=1))


PLUGIN = PluginInfo(
    id="payments.offline",
    kind="payment",
    name="Offline bank transfer (線下充值)",
    version="1.0",
    description="Members transfer to the tenant's bank account; cashiers confirm.",
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
