"""An SMS provider that posts each message to an HTTP endpoint (a loopback gateway for demos and tests).

Each message is POSTed as JSON ``{"to", "body", "reference"}`` to the
configured ``endpoint`` with an ``X-Signature`` header (HMAC-SHA256 of the
body with ``secret``); a 2xx answer with ``{"id": …}`` means accepted.
Delivery reports come back to ``/callbacks/sms/sandbox_http`` as
``{"id", "status": "delivered"|"failed"}`` signed the same way. The
connection check sends ``HEAD`` to the endpoint, signed over an empty body:
any answer but a refusal (401, 403) or a server error means it is reachable.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import colander
import httpx

from core import HttpError, PluginInfo, SmsProvider, SmsResult, SmsStatus, SmsView, _, hookimpl, http_client

CHECK_TIMEOUT = 3  # seconds: a button waits for the answer


class Settings(colander.MappingSchema):
    endpoint = colander.SchemaNode(
        colander.String(),
        validator=colander.Regex(r"^https?://"),
        title=_("Endpoint"),
        description=_("The address messages are posted to (http:// or https://)."),
    )
    secret = colander.SchemaNode(
        colander.String(),
        validator=colander.Length(min=16),
        title=_("Signing secret"),
        description=_("Signs each message and checks each delivery report; 16 characters or more."),
    )
    priority = colander.SchemaNode(
        colander.Int(),
        missing=100,
        validator=colander.Range(0, 1000),
        title=_("Priority"),
        description=_("Providers are tried from the lowest number up; the next takes over when one fails."),
    )


PLUGIN = PluginInfo(
    id="sms.sandbox_http",
    kind="sms",
    name={"en": "SMS over HTTP (sandbox)", "zh_Hant": "HTTP 簡訊（沙盒）", "zh_Hans": "HTTP 短信（沙盒）"},
    version="1.0",
    description={
        "en": "Posts messages to a configurable HTTP endpoint, with signed delivery reports.",
        "zh_Hant": "把簡訊傳送至可設定的 HTTP 端點，送達報告經簽名。",
        "zh_Hans": "把短信发送至可设置的 HTTP 端点，送达报告经签名。",
    },
    settings=Settings(),
    default_enabled=False,
    secret_settings=('secret',),
)


def signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def split_endpoint(endpoint: str) -> tuple[str, str]:
    """``https://host:port/path`` as the client's base (``https://host:port``) and the path (``/path``)."""
    scheme, _sep, rest = endpoint.partition("://")
    host, _sep, path = rest.partition("/")
    return f"{scheme}://{host}", "/" + path


class SandboxHttpProvider(SmsProvider):
    code = "sandbox_http"
    name = "HTTP sandbox"

    def send(self, message: SmsView) -> SmsResult:
        body = json.dumps({"to": message.phone, "body": message.body, "reference": str(message.id)}).encode()
        base, path = split_endpoint(self.settings["endpoint"])
        try:
            with http_client(base) as client:
                response = client.post(
                    path,
                    content=body,
                    headers={
                        "Content-Type": "application/json",
                        "X-Signature": signature(self.settings["secret"], body),
                    },
                )
                response.raise_for_status()
                return SmsResult(provider_ref=str(response.json()["id"]))
        except (HttpError, ValueError, KeyError) as error:
            return SmsResult("", delivered=False, error=f"{type(error).__name__}: {error}")

    def verify_status_callback(self, body: bytes, headers: dict) -> SmsStatus:
        given = {k.lower(): v for k, v in headers.items()}.get("x-signature", "")
        if not hmac.compare_digest(signature(self.settings["secret"], body), given):
            raise ValueError("bad signature")
        data = json.loads(body)
        return SmsStatus(str(data["id"]), data.get("status") == "delivered", data.get("error", ""))


@hookimpl
def lendstack_sms_providers(tenant):
    return SandboxHttpProvider(tenant.plugin_settings(PLUGIN.id))


@hookimpl
def lendstack_plugin_check(tenant, plugin_id, settings):
    """A signed ``HEAD`` to the endpoint, which sends nothing: is it there, and does it take our signature?"""
    if plugin_id != PLUGIN.id:
        return None
    base, path = split_endpoint(settings["endpoint"])
    try:
        with http_client(base) as client:
            response = client.head(
                path, headers={"X-Signature": signature(settings["secret"], b"")}, timeout=CHECK_TIMEOUT
            )
    except httpx.TimeoutException:
        return False, _("The endpoint did not answer within ${seconds} seconds.", mapping={"seconds": CHECK_TIMEOUT})
    except HttpError as error:
        return False, _("The endpoint could not be reached: ${error}", mapping={"error": str(error)})
    if response.status_code in (401, 403):
        return False, _("The endpoint refused the signature: check the secret.")
    if response.status_code >= 500:
        return False, _("The endpoint answered HTTP ${status}.", mapping={"status": response.status_code})
    return True, _("The endpoint answered (HTTP ${status}).", mapping={"status": response.status_code})
