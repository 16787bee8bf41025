"""An SMS provider that posts each message to an HTTP endpoint (a loopback gateway for demos and tests).

Each message is POSTed as JSON ``{"to", "body", "reference"}`` to the
configured ``endpoint`` with an ``X-Signature`` header (HMAC-SHA256 of the
body with ``secret``); a 2xx answer with ``{"id": …}`` means accepted.
Delivery reports come back to ``/callbacks/sms/sandbox_http`` as
``{"id", "status": "delivered"|"failed"}`` signed the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import colander

from core import HttpError, PluginInfo, SmsProvider, SmsResult, SmsStatus, SmsView, hookimpl, http_client


class Settings(colander.MappingSchema):
    endpoint = colander.SchemaNode(colander.String(), validator=colander.Regex(r"^https?://"))
    secret = colander.SchemaNode(colander.String(), validator=colander.Length(min=16))
    priority = colander.SchemaNode(colander.Int(), missing=100, validator=colander.Range(0, 1000))


PLUGIN = PluginInfo(
    id="sms.sandbox_http",
    kind="sms",
    name="SMS over HTTP (sandbox)",
    version="1.0",
    description="Posts messages to a configurable HTTP endpoint, with signed delivery reports.",
    settings=Settings(),
    default_enabled=False,
    secret_settings=('secret',),
)


def signature(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class SandboxHttpProvider(SmsProvider):
    code = "sandbox_http"
    name = "HTTP sandbox"

    def send(self, message: SmsView) -> SmsResult:
        body = json.dumps({"to": message.phone, "body": message.body, "reference": str(message.id)}).encode()
        endpoint = self.settings["endpoint"]
        base, _, path = endpoint.partition("://")[2].partition("/")
        scheme = endpoint.split("://")[0]
        try:
            with http_client(f"{scheme}://{base}") as client:
                response = client.post(
                    "/" + path,
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
