"""沙盒支付 — the sandbox gateway: a hosted checkout page of its own, for demos and tests.

The member is sent to ``/sandbox-gateway/checkout/<reference>`` (its query is
signed, so the amount cannot be edited). Its "Pay" and "Fail" buttons make
the gateway's server-to-server callback — a JSON body signed with HMAC-SHA256
over ``"<timestamp>.<body>"`` in the ``Sandbox-Signature: t=…,v1=…`` header —
and deliver it through the same verification as the public callback URL
(``/callbacks/payments/sandbox``), then send the member back to the site's
return page, which only shows the status. Payouts settle at once; a card
number ending in 0000 is declined (to try failures).

The gateway signs with the tenant's own ``secret`` (16 characters or more and
no default: a published one would let anyone forge a "paid" callback). An
install that says it is a production one (``lendstack.environment =
production``) refuses to enable this plugin at all (``core.tenancy.manifest``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from pathlib import Path
from urllib.parse import urlencode

import colander
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther

from core import (
    Callback,
    CallbackRejected,
    GatewaySettings,
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
log = logging.getLogger(__name__)


# The default this gateway once shipped with: stored for tenants that set no secret, and public.
PUBLISHED_SECRETS = ("sandbox-demo-secret-0001",)
SECRET_HELP = "the sandbox's own signing secret, 16 characters or more (there is no default)"


class Settings(GatewaySettings):
    secret = colander.SchemaNode(
        colander.String(),
        missing=colander.required,
        missing_msg=f"Required: {SECRET_HELP}",
        validator=colander.All(
            colander.Length(min=16, min_err=f"Too short: {SECRET_HELP}"),
            colander.NoneOf(PUBLISHED_SECRETS, msg_err=f"A published secret: {SECRET_HELP}"),
        ),
        title=_("Signing secret"),
        description=_("The sandbox's own signing secret, 16 characters or more; there is no default."),
    )
    tolerance_seconds = colander.SchemaNode(
        colander.Int(),
        missing=300,
        validator=colander.Range(30, 3600),
        title=_("Callback time tolerance (seconds)"),
        description=_("A callback signed longer ago than this is refused."),
    )


PLUGIN = PluginInfo(
    id="payments.sandbox",
    kind="payment",
    name={"en": "Sandbox gateway", "zh_Hant": "沙盒支付", "zh_Hans": "沙盒支付"},
    version="1.0",
    description={
        "en": "A hosted checkout page with Pay and Fail buttons and signed callbacks; no money moves.",
        "zh_Hant": "附「支付」與「失敗」按鈕的模擬收銀頁，回調經簽名；不會有資金移動。",
        "zh_Hans": "附“支付”与“失败”按钮的模拟收银页，回调经签名；不会有资金移动。",
    },
    settings=Settings(),
    default_enabled=False,
    secret_settings=('secret',),
    development_only=True,
)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


class SandboxNotConfigured(ValueError):
    """The tenant's sandbox settings hold no usable secret: signing with a guessable one would be worse."""


class SandboxGateway(PaymentGateway):
    code = "sandbox"
    name = _("Sandbox payment")
    online = True

    def __init__(self, settings: dict):
        secret = str(settings.get("secret") or "")
        if len(secret) < 16 or secret in PUBLISHED_SECRETS:
            raise SandboxNotConfigured(
                f'{PLUGIN.id}: secret: {SECRET_HELP}; set [plugins."{PLUGIN.id}"] '
                "secret in the tenant's manifest and apply it"
            )
        super().__init__(settings)

    def _query_signature(self, reference: str, amount: str, currency: str, return_url: str) -> str:
        message = f"{reference}|{amount}|{currency}|{return_url}".encode()
        return hmac.new(self.settings["secret"].encode(), message, hashlib.sha256).hexdigest()

    def create_payment(self, request: PaymentRequest) -> PaymentInstruction:
        amount, currency = str(request.amount), request.amount.currency
        query = {
            "amount": amount,
            "currency": currency,
            "return": request.return_url,
            "sig": self._query_signature(request.reference, amount, currency, request.return_url),
        }
        return PaymentInstruction(
            kind="redirect", url=f"/sandbox-gateway/checkout/{request.reference}?{urlencode(query)}"
        )

    def checkout(self, reference: str, params) -> dict | None:
        """The signed checkout query, or ``None`` when it was tampered with."""
        amount, currency, back = params.get("amount", ""), params.get("currency", ""), params.get("return", "")
        expected = self._query_signature(reference, amount, currency, back)
        if not hmac.compare_digest(expected, params.get("sig", "")):
            return None
        return {"reference": reference, "amount": amount, "currency": currency, "return": back}

    def callback_body(self, reference: str, succeeded: bool, amount: str, currency: str) -> tuple[bytes, dict]:
        body = json.dumps(
            {
                "reference": reference,
                "status": "succeeded" if succeeded else "failed",
                "amount": amount,
                "currency": currency,
                "id": f"sbx_{secrets.token_hex(8)}",
            }
        ).encode()
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
        return PayoutResult(
            gateway_ref=f"sbx_po_{secrets.token_hex(6)}",
            settled=True,
            succeeded=not declined,
            error="card declined by the sandbox" if declined else "",
        )


def _gateway(request) -> SandboxGateway:
    try:
        return SandboxGateway(request.tenant.plugin_settings(PLUGIN.id))
    except SandboxNotConfigured as error:
        log.error("%s: %s", request.tenant.slug, error)
        raise HTTPNotFound() from None


def checkout_page(request):
    data = _gateway(request).checkout(request.matchdict["reference"], request.params)
    if data is None:
        raise HTTPNotFound()
    try:  # shown as the site shows money; the signature vouches for the amount, not for its shape
        amount = Money.parse(data["amount"], data["currency"])
    except (MoneyError, ValueError):
        raise HTTPNotFound() from None
    return {"checkout": data, "amount": amount, "site": request.tenant.brand("site_title", request.tenant.name)}


def checkout_submit(request):
    gateway = _gateway(request)
    data = gateway.checkout(request.matchdict["reference"], request.params)
    if data is None:
        raise HTTPNotFound()
    body, headers = gateway.callback_body(
        data["reference"], request.POST.get("outcome") == "pay", data["amount"], data["currency"]
    )
    receive_callback(request, gateway.code, body, headers)
    back = data["return"] if data["return"].startswith("/") and not data["return"].startswith("//") else "/"
    return HTTPSeeOther(back)


@hookimpl
def lendstack_includeme(config):
    config.add_theme_templates(Path(__file__).parent / "templates")
    config.add_route("sandbox.checkout", "/sandbox-gateway/checkout/{reference}", host_kind="tenant")
    config.add_view(
        checkout_page,
        route_name="sandbox.checkout",
        request_method="GET",
        plugin=PLUGIN.id,
        renderer="sandbox/checkout.pt",
    )
    config.add_view(checkout_submit, route_name="sandbox.checkout", request_method="POST", plugin=PLUGIN.id)


@hookimpl
def lendstack_payment_gateways(tenant):
    """The sandbox gateway, or none (and the reason in the log) while the tenant's secret is missing."""
    try:
        return SandboxGateway(tenant.plugin_settings(PLUGIN.id))
    except ValueError as error:  # settings the schema refuses, or no usable secret: never sign with a guess
        log.error("%s: %s", tenant.slug, error)
        return None
