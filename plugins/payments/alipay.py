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

The connection check is offline: Alipay has no harmless request without an
order, so it reads both keys, signs a sample request with the application key
and verifies it, and refuses Alipay's public key when it is the
application's own (the usual mix-up).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from urllib.parse import parse_qsl, urlencode

import colander
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

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
    app_id = colander.SchemaNode(
        colander.String(),
        validator=colander.Regex(r"^\d{8,32}$"),
        title=_("Application ID (APPID)"),
        description=_("The application's ID on the Alipay open platform, 8 to 32 digits."),
    )
    app_private_key = colander.SchemaNode(
        colander.String(),
        validator=_pem,
        multiline=True,
        title=_("Application private key"),
        description=_("The application's RSA private key in PEM form; it signs every request."),
    )
    alipay_public_key = colander.SchemaNode(
        colander.String(),
        validator=_pem,
        multiline=True,
        title=_("Alipay public key"),
        description=_("Alipay's public key in PEM form, from the open platform; it verifies notifies."),
    )
    site_url = colander.SchemaNode(
        colander.String(),
        validator=colander.Regex(r"^https?://"),
        title=_("Site address"),
        description=_("The site's public address (https://…), for Alipay's return and notify links."),
    )
    gateway_url = colander.SchemaNode(
        colander.String(),
        missing=GATEWAY,
        title=_("Gateway address"),
        description=_("Alipay's gateway; change it only for Alipay's sandbox."),
    )
    max_amount = colander.SchemaNode(
        colander.Decimal(),
        missing="500000",
        validator=colander.Range(min=1),
        title=_("Largest recharge"),
        description=_("In the site's currency."),
    )


PLUGIN = PluginInfo(
    id="payments.alipay",
    kind="payment",
    name={"en": "Alipay page pay", "zh_Hant": "支付寶電腦網站支付", "zh_Hans": "支付宝电脑网站支付"},
    version="1.0",
    description={
        "en": "Alipay's web checkout with RSA2-signed requests and asynchronous notifies.",
        "zh_Hant": "支付寶網頁收銀台：請求以 RSA2 簽名，結果以非同步通知確認。",
        "zh_Hans": "支付宝网页收银台：请求以 RSA2 签名，结果以异步通知确认。",
    },
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


@hookimpl
def lendstack_plugin_check(tenant, plugin_id, settings):
    """Offline: both keys read, the application key signs (RSA2, 2048 bits or more), Alipay's key is not ours."""
    if plugin_id != PLUGIN.id:
        return None
    try:
        private = serialization.load_pem_private_key(settings["app_private_key"].encode(), password=None)
    except (ValueError, TypeError):
        return False, _("The application private key is not a readable PEM private key.")
    if not isinstance(private, rsa.RSAPrivateKey) or private.key_size < 2048:
        return False, _("The application private key must be an RSA key of 2048 bits or more (RSA2).")
    try:
        public = serialization.load_pem_public_key(settings["alipay_public_key"].encode())
    except (ValueError, TypeError):
        return False, _("Alipay's public key is not a readable PEM public key.")
    if not isinstance(public, rsa.RSAPublicKey):
        return False, _("Alipay's public key must be an RSA key.")
    own = private.public_key()
    if public.public_numbers() == own.public_numbers():
        return False, _(
            "Alipay's public key is the application's own: copy Alipay's public key from the open platform."
        )
    sample = canonical({"app_id": settings["app_id"], "method": "alipay.trade.query", "charset": "utf-8"})
    own_pem = own.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    if not rsa2_verify(own_pem, sample, rsa2_sign(settings["app_private_key"], sample)):
        return False, _("The application private key does not sign correctly.")
    return True, _(
        "The application key signs requests (RSA2) and Alipay's public key reads; the first payment proves the pair."
    )
