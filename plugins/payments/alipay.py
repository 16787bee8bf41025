"""支付寶 — Alipay page pay (電腦網站支付), confirmed by the asynchronous notify.

Recharge: the member is redirected to Alipay's gateway with an
``alipay.trade.page.pay`` request — the common parameters plus
``biz_content`` (``out_trade_no`` = our reference, ``total_amount`` in yuan,
``product_code = FAST_INSTANT_TRADE_PAY``), signed RSA2 (SHA256withRSA over
the parameters sorted by name, ``k=v`` joined by ``&``, ``sign`` and empty
values left out) with the tenant's application private key. Alipay posts the
outcome to ``/callbacks/payments/alipay`` (form-encoded): the notify is
verified with Alipay's public key over the same canonical string (without
``sign`` and ``sign_type``), its ``app_id`` must be ours, and
``TRADE_SUCCESS``/``TRADE_FINISHED`` settle the recharge while
``TRADE_CLOSED`` fails it. Alipay expects the body ``success`` once a notify
is handled, anything else makes it retry. Payouts go through ``offline``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from urllib.parse import parse_qsl, urlencode

import colander
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from core import (
    Callback,
    CallbackRejected,
    GatewaySettings,
    GatewayUnavailable,
    Money,
    MoneyError,
    PaymentGateway,
    PaymentInstruction,
    PaymentRequest,
    PluginInfo,
    _,
    hookimpl,
)

GATEWAY = "https://openapi.alipay.com/gateway.do"
PAID = {"TRADE_SUCCESS", "TRADE_FINISHED"}
CLOSED = {"TRADE_CLOSED"}


def _pem(node, value):
    if "-----BEGIN" not in (value or ""):
        raise colander.Invalid(node, "a PEM key")


class Settings(GatewaySettings):
    app_id = colander.SchemaNode(colander.String(), validator=colander.Regex(r"^\d{8,32}$"))
    app_private_key = colander.SchemaNode(colander.String(), validator=_pem)
    alipay_public_key = colander.SchemaNode(colander.String(), validator=_pem)
    site_url = colander.SchemaNode(colander.String(), validator=colander.Regex(r"^https?://"))
    gateway_url = colander.SchemaNode(colander.String(), missing=GATEWAY)
    max_amount = colander.SchemaNode(colander.Decimal(), missing="500000", validator=colander.Range(min=1))


PLUGIN = PluginInfo(
    id="payments.alipay",
    kind="payment",
    name="Alipay page pay (支付寶)",
    version="1.0",
    description="Alipay's web checkout with RSA2-signed requests and asynchronous notifies.",
    settings=Settings(),
    default_enabled=False,
    secret_settings=('app_private_key',),
)


def canonical(params: dict, *, skip=("sign",)) -> bytes:
    """The string Alipay signs: non-empty parameters sorted by name, ``k=v`` joined by ``&``."""
    return "&".join(f"{k}={params[k]}" for k in sorted(params) if k not in skip and params[k] not in ("", None)).encode(
        "utf-8"
    )


def rsa2_sign(private_key_pem: str, message: bytes) -> str:
    key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa2_verify(public_key_pem: str, message: bytes, signature: str) -> bool:
    key = serialization.load_pem_public_key(public_key_pem.encode())
    try:
        key.verify(base64.b64decode(signature), message, padding.PKCS1v15(), hashes.SHA256())
        return True
    except (InvalidSignature, ValueError):
        return False


class AlipayGateway(PaymentGateway):
    code = "alipay"
    name = _("Alipay")
    online = True

    def create_payment(self, request: PaymentRequest) -> PaymentInstruction:
        if request.amount.currency != "CNY":
            raise GatewayUnavailable("Alipay takes CNY only")
        site = self.settings["site_url"].rstrip("/")
        params = {
            "app_id": self.settings["app_id"],
            "method": "alipay.trade.page.pay",
            "format": "JSON",
            "charset": "utf-8",
            "sign_type": "RSA2",
            "timestamp": dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M:%S"),
            "version": "1.0",
            "return_url": site + request.return_url,
            "notify_url": site + "/callbacks/payments/alipay",
            "biz_content": json.dumps(
                {
                    "out_trade_no": request.reference,
                    "product_code": "FAST_INSTANT_TRADE_PAY",
                    "total_amount": str(request.amount),
                    "subject": request.description or request.reference,
                },
                ensure_ascii=False,
                separators=(",", ":"),
            ),
        }
        params["sign"] = rsa2_sign(self.settings["app_private_key"], canonical(params))
        return PaymentInstruction(kind="redirect", url=f"{self.settings['gateway_url']}?{urlencode(params)}")

    def verify_callback(self, body: bytes, headers: dict) -> Callback:
        params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        signature = params.get("sign", "")
        if not signature or params.get("sign_type", "RSA2") != "RSA2":
            raise CallbackRejected("missing signature")
        if not rsa2_verify(
            self.settings["alipay_public_key"], canonical(params, skip=("sign", "sign_type")), signature
        ):
            raise CallbackRejected("bad signature")
        if params.get("app_id") != self.settings["app_id"]:
            raise CallbackRejected("notify for another application")
        status = params.get("trade_status", "")
        if status not in PAID | CLOSED:
            raise CallbackRejected(f"trade status {status or '?'} is not an outcome")
        try:
            amount = Money.parse(params["total_amount"], "CNY")
            return Callback(params["out_trade_no"], status in PAID, amount, params.get("trade_no", ""))
        except (KeyError, MoneyError):
            raise CallbackRejected("malformed notify") from None

    def acknowledge(self, verdict: str):
        """Alipay wants the bare word ``success`` for a handled notify, else it retries."""
        return "text/plain", "fail" if verdict == "rejected" else "success"


@hookimpl
def lendstack_payment_gateways(tenant):
    return AlipayGateway(tenant.plugin_settings(PLUGIN.id))
