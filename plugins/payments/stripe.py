"""Stripe — card payments through Stripe Checkout, confirmed by signed webhooks.

Recharge: a Checkout Session is created over Stripe's API
(``POST /v1/checkout/sessions``, form-encoded, the secret key as bearer token)
with our reference as ``client_reference_id``; the member is redirected to the
session's ``url``. Stripe then calls the tenant's
``/callbacks/payments/stripe`` with the event: ``checkout.session.completed``
with ``payment_status = paid`` settles the recharge, ``checkout.session.expired``
and ``checkout.session.async_payment_failed`` fail it. The webhook is verified
as Stripe documents: the ``Stripe-Signature`` header carries ``t=<unix time>``
and ``v1=<HMAC-SHA256 of "<t>.<raw body>" with the endpoint's signing
secret>``; events older than the tolerance are refused. Payouts to members'
bank cards are not done through Stripe: choose ``offline`` as the tenant's
``payout_gateway``. The connection check reads the account's balance
(``GET /v1/balance``): harmless, and it proves the secret key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import colander
import httpx

from core import (
    Callback,
    CallbackRejected,
    GatewaySettings,
    GatewayUnavailable,
    HttpError,
    Money,
    MoneyError,
    PaymentGateway,
    PaymentInstruction,
    PaymentRequest,
    PluginInfo,
    _,
    hookimpl,
    http_client,
)

API_BASE = "https://api.stripe.com"
SUCCESS = "checkout.session.completed"
FAILURES = {"checkout.session.expired", "checkout.session.async_payment_failed"}


CHECK_TIMEOUT = 5  # seconds: a button waits for the answer


class Settings(GatewaySettings):
    secret_key = colander.SchemaNode(
        colander.String(),
        validator=colander.Regex(r"^sk_(test|live)_\w+$"),
        title=_("Secret key"),
        description=_("Stripe's secret API key (sk_live_… or sk_test_…)."),
    )
    webhook_secret = colander.SchemaNode(
        colander.String(),
        validator=colander.Regex(r"^whsec_\w+$"),
        title=_("Webhook signing secret"),
        description=_("The signing secret of the webhook endpoint (whsec_…)."),
    )
    site_url = colander.SchemaNode(
        colander.String(),
        validator=colander.Regex(r"^https?://"),
        title=_("Site address"),
        description=_("The site's public address (https://…), for Stripe's return links."),
    )
    api_base = colander.SchemaNode(
        colander.String(),
        missing=API_BASE,
        title=_("API address"),
        description=_("Stripe's API; change it only for a test double."),
    )
    tolerance_seconds = colander.SchemaNode(
        colander.Int(),
        missing=300,
        validator=colander.Range(30, 3600),
        title=_("Callback time tolerance (seconds)"),
        description=_("A webhook signed longer ago than this is refused."),
    )
    max_amount = colander.SchemaNode(
        colander.Decimal(),
        missing="100000",
        validator=colander.Range(min=1),
        title=_("Largest recharge"),
        description=_("In the site's currency."),
    )


PLUGIN = PluginInfo(
    id="payments.stripe",
    kind="payment",
    name={"en": "Stripe Checkout", "zh_Hant": "Stripe 收銀台", "zh_Hans": "Stripe 收银台"},
    version="1.0",
    description={
        "en": "Card payments on Stripe's hosted checkout, confirmed by signed webhooks.",
        "zh_Hant": "在 Stripe 託管的收銀頁以卡付款，由簽名的 webhook 確認。",
        "zh_Hans": "在 Stripe 托管的收银页以卡付款，由签名的 webhook 确认。",
    },
    settings=Settings(),
    default_enabled=False,
    secret_settings=('secret_key', 'webhook_secret'),
)


def webhook_signature(secret: str, body: bytes, timestamp: int) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


class StripeGateway(PaymentGateway):
    code = "stripe"
    name = _("Card (Stripe)")
    online = True

    def create_payment(self, request: PaymentRequest) -> PaymentInstruction:
        amount = request.amount
        site = self.settings["site_url"].rstrip("/")
        form = {
            "mode": "payment",
            "client_reference_id": request.reference,
            "success_url": site + request.return_url,
            "cancel_url": site + request.return_url,
            "line_items[0][quantity]": "1",
            "line_items[0][price_data][currency]": amount.currency.lower(),
            "line_items[0][price_data][unit_amount]": str(amount.minor),
            "line_items[0][price_data][product_data][name]": request.description or request.reference,
            "metadata[reference]": request.reference,
        }
        try:
            with http_client(self.settings["api_base"]) as client:
                response = client.post(
                    "/v1/checkout/sessions",
                    data=form,
                    headers={
                        "Authorization": f"Bearer {self.settings['secret_key']}",
                        "Idempotency-Key": f"lendstack-{request.reference}",
                    },
                )
                response.raise_for_status()
                session = response.json()
        except (HttpError, ValueError) as error:
            raise GatewayUnavailable(f"Stripe did not create the checkout session: {error}") from error
        return PaymentInstruction(kind="redirect", url=session["url"], gateway_ref=session.get("id", ""))

    def query_payment(self, reference: str, gateway_ref: str) -> Callback | None:
        """Retrieve the Checkout Session: ``complete`` and ``paid`` settles, ``expired`` fails."""
        if not gateway_ref:
            return None
        try:
            with http_client(self.settings["api_base"]) as client:
                response = client.get(
                    f"/v1/checkout/sessions/{gateway_ref}",
                    headers={"Authorization": f"Bearer {self.settings['secret_key']}"},
                )
                response.raise_for_status()
                session = response.json()
        except (HttpError, ValueError) as error:
            raise GatewayUnavailable(f"Stripe did not answer: {error}") from error
        if session.get("status") == "open":
            return None
        amount = Money(int(session["amount_total"]), session["currency"].upper())
        paid = session.get("status") == "complete" and session.get("payment_status") == "paid"
        return Callback(session.get("client_reference_id", reference), paid, amount, session.get("id", ""))

    def verify_callback(self, body: bytes, headers: dict) -> Callback:
        header = {k.lower(): v for k, v in headers.items()}.get("stripe-signature", "")
        timestamp, signatures = None, []
        for part in header.split(","):
            key, _sep, value = part.strip().partition("=")
            if key == "t" and value.isdigit():
                timestamp = int(value)
            elif key == "v1":
                signatures.append(value)
        if timestamp is None or not signatures:
            raise CallbackRejected("missing signature")
        if abs(time.time() - timestamp) > self.settings.get("tolerance_seconds", 300):
            raise CallbackRejected("timestamp outside the tolerance")
        expected = webhook_signature(self.settings["webhook_secret"], body, timestamp)
        if not any(hmac.compare_digest(expected, s) for s in signatures):
            raise CallbackRejected("bad signature")
        try:
            event = json.loads(body)
            session = event["data"]["object"]
            kind = event["type"]
            if kind != SUCCESS and kind not in FAILURES:
                raise CallbackRejected(f"event {kind} is not about a payment's outcome")
            amount = Money(int(session["amount_total"]), session["currency"].upper())
            succeeded = kind == SUCCESS and session.get("payment_status") == "paid"
            return Callback(session["client_reference_id"], succeeded, amount, session.get("id", ""))
        except (ValueError, KeyError, TypeError, MoneyError):
            raise CallbackRejected("malformed event") from None


@hookimpl
def lendstack_payment_gateways(tenant):
    return StripeGateway(tenant.plugin_settings(PLUGIN.id))


@hookimpl
def lendstack_plugin_check(tenant, plugin_id, settings):
    """Read the balance with the secret key: 200 proves the key, 401 refuses it."""
    if plugin_id != PLUGIN.id:
        return None
    try:
        with http_client(settings["api_base"]) as client:
            response = client.get(
                "/v1/balance",
                headers={"Authorization": f"Bearer {settings['secret_key']}"},
                timeout=CHECK_TIMEOUT,
            )
    except httpx.TimeoutException:
        return False, _("Stripe did not answer within ${seconds} seconds.", mapping={"seconds": CHECK_TIMEOUT})
    except HttpError as error:
        return False, _("Stripe could not be reached: ${error}", mapping={"error": str(error)})
    if response.status_code in (401, 403):
        return False, _("Stripe refused the secret key.")
    if response.status_code != 200:
        return False, _("Stripe answered HTTP ${status}.", mapping={"status": response.status_code})
    if settings["secret_key"].startswith("sk_test_"):
        return True, _("Stripe accepted the secret key. It is a test key: no card is really charged.")
    return True, _("Stripe accepted the secret key.")
