"""沙盒支付 — the sandbox gateway: a hosted checkout page of its own, for demos and tests.

The member is sent to ``/sandbox-gateway/checkout/<reference>`` (its query is
signed, so the amount cannot be edited). Its "Pay" and "Fail" buttons make
the gateway's server-to-server callback — a JSON body signed with HMAC-SHA256
over ``"<timestamp>.<body>"`` in the ``Sandbox-Signature: t=…,v1=…`` header —
and deliver it through the same verification as the public callback URL
(``/callbacks/payments/sandbox``), then send the member back to the site's
return page, which only shows the status. Payouts settle at once; a card
number ending in 0000 is declined (to try failures).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from pathlib import Path
from urllib.parse import urlencode

import colander
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther

from core import (
    GatewaySettings,
    Callback,
    CallbackRejected,
    Money,
    MoneyError,
    PaymentGateway,
    PaymentInstruction,
    PaymentRequest,
    PayoutRequest,
    PayoutResult,
    PluginInfo,
    _,
    hookimpl,
    receive_callback,
)

HEADER = "Sandbox-Signature"


class Settings(GatewaySettings):
    secret = colander.SchemaNode(colander.String(), validator=colander.Length(min=16), missing="sandbox-demo-secret-0001")
    tolerance_seconds = colander.SchemaNode(colander.Int(), missing=300, validator=colander.Range(30, 3600))


PLUGIN = PluginInfo(
    id="payments.sandbox",
    kind="payment",
    name="Sandbox gateway (沙盒支付)",
    version="1.0",
    description="A hosted checkout page with Pay and Fail buttons and signed callbacks; no money moves.",
    settings=Settings(),
    default_enabled=False,
    secret_settings=('secret',),
)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


class SandboxGateway(PaymentGateway):
    code = "sandbox"
    name = _("Sandbox payment")
    online = True

    def _query_signature(self, reference: str, amount: str, currency: str, return_url: str) -> str:
        message = f"{reference}|{amount}|{currency}|{return_url}".encode()
        return hmac.new(self.settings["secret"].encode(), message, hashlib.sha256).hexdigest()

    def create_payment(self, request: PaymentRequest) -> PaymentInstruction:
        amount, currency = str(request.amount), request.amount.currency
        query = {"amount": amount, "currency": currency, "return": request.return_url,
                 "sig": self._query_signature(request.reference, amount, currency, request.return_url)}
        return PaymentInstruction(kind="redirect",
                                  url=f"/sandbox-gateway/checkout/{request.reference}?{urlencode(query)}")

    def checkout(self, reference: str, params) -> dict | None:
        """The signed checkout query, or ``None`` when it was tampered with."""
        amount, currency, back = params.get("amount", ""), params.get("currency", ""), params.get("return", "")
        expected = self._query_signature(reference, amount, currency, back)
        if not hmac.compare_digest(expected, params.get("sig", "")):
            return None
        return {"reference": reference, "amount": amount, "currency": currency, "return": back}

    def callback_body(self, reference: str, succeeded: bool, amount: str, currency: str) -> tuple[bytes, dict]:
        body = json.dumps({"reference": reference, "status": "succeeded" if succeeded else "failed",
                           "amount": amount, "currency": currency,
                           "id": f"sbx_{secrets.token_hex(8)}"}).encode()
        return body, {HEADER: signature_header(self.settings["secret"], body)}

    def _verify(self, body: bytes, headers: dict) -> Callback:
        header = {k.lower(): v for k, v in headers.items()}.get(HEADER.lower(), "")
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        try:
            timestamp = int(parts.get("t", ""))
        except ValueError:
            raise CallbackRejected("missing signature") from None
        if abs(time.time() - timestamp) > self.settings.get("tolerance_seconds", 300):
            raise CallbackRejected("timestamp outside the tolerance")
        if not hmac.compare_digest(sign(self.settings["secret"], timestamp, body), parts.get("v1", "")):
            raise CallbackRejected("bad signature")
        try:
            data = json.loads(body)
            amount = Money.parse(data["amount"], data["currency"])
            return Callback(data["reference"], data["status"] == "succeeded", amount, data.get("id", ""))
        except (ValueError, KeyError, TypeError, MoneyError):
            raise CallbackRejected("malformed body") from None

    def verify_callback(self, body: bytes, headers: dict) -> Callback:
        return self._verify(body, headers)

    def verify_payout_callback(self, body: bytes, headers: dict) -> Callback:
        return self._verify(body, headers)

    def create_payout(self, request: PayoutRequest) -> PayoutResult:
        declined = request.card_number.endswith("0000")
        return PayoutResult(gateway_ref=f"sbx_po_{secrets.token_hex(6)}", settled=True, succeeded=not declined,
                            error="card declined by the sandbox" if declined else "")


def _gateway(request) -> SandboxGateway:
    return SandboxGateway(request.tenant.plugin_settings(PLUGIN.id))


def checkout_page(request):
    data = _gateway(request).checkout(request.matchdict["reference"], request.params)
    if data is None:
        raise HTTPNotFound()
    return {"checkout": data, "site": request.tenant.brand("site_title", request.tenant.name)}


def checkout_submit(request):
    gateway = _gateway(request)
    data = gateway.checkout(request.matchdict["reference"], request.params)
    if data is None:
        raise HTTPNotFound()
    body, headers = gateway.callback_body(data["reference"], request.POST.get("outcome") == "pay",
                                          data["amount"], data["currency"])
    receive_callback(request, gateway.code, body, headers)
    back = data["return"] if data["return"].startswith("/") and not data["return"].startswith("//") else "/"
    return HTTPSeeOther(back)


@hookimpl
def lendstack_includeme(config):
    config.add_theme_templates(Path(__file__).parent / "templates")
    config.add_route("sandbox.checkout", "/sandbox-gateway/checkout/{reference}", host_kind="tenant")
    config.add_view(checkout_page, route_name="sandbox.checkout", request_method="GET",
                    plugin=PLUGIN.id, renderer="sandbox/checkout.pt")
    config.add_view(checkout_submit, route_name="sandbox.checkout", request_method="POST", plugin=PLUGIN.id)


@hookimpl
def lendstack_payment_gateways(tenant):
    return SandboxGateway(tenant.plugin_settings(PLUGIN.id))
