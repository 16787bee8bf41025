"""Twilio Programmable Messaging: SMS through Twilio's REST API, with signed status callbacks.

Sending: ``POST /2010-04-01/Accounts/<AccountSid>/Messages.json`` with HTTP
Basic authentication (Account SID and auth token) and the form fields ``To``,
``From``, ``Body`` and ``StatusCallback``; Twilio answers 201 with the message
``sid``. Status callbacks come to ``StatusCallback`` (the tenant's
``/callbacks/sms/twilio``) as form fields ``MessageSid`` and ``MessageStatus``,
signed in ``X-Twilio-Signature``: base64 of HMAC-SHA1, keyed with the auth
token, over the callback URL followed by every field name and value sorted by
name. ``delivered`` is final success, ``undelivered`` and ``failed`` final
failure; other statuses are progress. The connection check reads the account
(``GET /2010-04-01/Accounts/<AccountSid>.json``), which sends nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl

import colander
import httpx

from core import HttpError, PluginInfo, SmsProvider, SmsResult, SmsStatus, SmsView, _, hookimpl, http_client

API_BASE = "https://api.twilio.com"
CHECK_TIMEOUT = 5  # seconds: a button waits for the answer


class Settings(colander.MappingSchema):
    account_sid = colander.SchemaNode(
        colander.String(),
        validator=colander.Regex(r"^AC[0-9a-fA-F]{32}$"),
        title=_("Account SID"),
        description=_("AC followed by 32 hexadecimal characters, from the Twilio console."),
    )
    auth_token = colander.SchemaNode(
        colander.String(),
        validator=colander.Length(min=16),
        title=_("Auth token"),
        description=_("Twilio's auth token: it authenticates requests and signs status callbacks."),
    )
    sender = colander.SchemaNode(
        colander.String(),
        validator=colander.Regex(r"^\+\d{6,15}$|^MG[0-9a-fA-F]{32}$"),
        title=_("Sender"),
        description=_("A phone number in international form (+14155550100) or a Messaging Service SID (MG…)."),
    )
    status_callback_url = colander.SchemaNode(
        colander.String(),
        validator=colander.Regex(r"^https?://"),
        title=_("Status callback address"),
        description=_("The site's public /callbacks/sms/twilio address (https://…)."),
    )
    api_base = colander.SchemaNode(
        colander.String(),
        missing=API_BASE,
        title=_("API address"),
        description=_("Twilio's API; change it only for a test double."),
    )
    priority = colander.SchemaNode(
        colander.Int(),
        missing=50,
        validator=colander.Range(0, 1000),
        title=_("Priority"),
        description=_("Providers are tried from the lowest number up; the next takes over when one fails."),
    )


PLUGIN = PluginInfo(
    id="sms.twilio",
    kind="sms",
    name={"en": "Twilio SMS", "zh_Hant": "Twilio 簡訊", "zh_Hans": "Twilio 短信"},
    version="1.0",
    description={
        "en": "SMS through Twilio's Messaging API with signed delivery status callbacks.",
        "zh_Hant": "透過 Twilio Messaging API 發送簡訊，送達狀態回調經簽名。",
        "zh_Hans": "通过 Twilio Messaging API 发送短信，送达状态回调经签名。",
    },
    settings=Settings(),
    default_enabled=False,
    secret_settings=('auth_token',),
)


def request_signature(auth_token: str, url: str, params: dict) -> str:
    payload = url + "".join(f"{k}{params[k]}" for k in sorted(params))
    return base64.b64encode(hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()).decode()


class TwilioProvider(SmsProvider):
    code = "twilio"
    name = "Twilio"

    def send(self, message: SmsView) -> SmsResult:
        sid = self.settings["account_sid"]
        sender_field = "MessagingServiceSid" if self.settings["sender"].startswith("MG") else "From"
        form = {
            "To": message.phone,
            sender_field: self.settings["sender"],
            "Body": message.body,
            "StatusCallback": self.settings["status_callback_url"],
        }
        try:
            with http_client(self.settings["api_base"]) as client:
                response = client.post(
                    f"/2010-04-01/Accounts/{sid}/Messages.json", data=form, auth=(sid, self.settings["auth_token"])
                )
                response.raise_for_status()
                return SmsResult(provider_ref=response.json()["sid"])
        except (HttpError, ValueError, KeyError) as error:
            return SmsResult("", delivered=False, error=f"{type(error).__name__}: {error}")

    def verify_status_callback(self, body: bytes, headers: dict) -> SmsStatus:
        params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        given = {k.lower(): v for k, v in headers.items()}.get("x-twilio-signature", "")
        expected = request_signature(self.settings["auth_token"], self.settings["status_callback_url"], params)
        if not hmac.compare_digest(expected, given):
            raise ValueError("bad signature")
        status = params.get("MessageStatus", "")
        final = status in ("delivered", "undelivered", "failed")
        return SmsStatus(
            params.get("MessageSid", ""),
            status == "delivered",
            params.get("ErrorCode", "") if status != "delivered" else "",
            final=final,
        )


@hookimpl
def lendstack_sms_providers(tenant):
    return TwilioProvider(tenant.plugin_settings(PLUGIN.id))


@hookimpl
def lendstack_plugin_check(tenant, plugin_id, settings):
    """Read the account with the SID and auth token: 200 proves them, 401 or 404 refuses them."""
    if plugin_id != PLUGIN.id:
        return None
    sid = settings["account_sid"]
    try:
        with http_client(settings["api_base"]) as client:
            response = client.get(
                f"/2010-04-01/Accounts/{sid}.json", auth=(sid, settings["auth_token"]), timeout=CHECK_TIMEOUT
            )
    except httpx.TimeoutException:
        return False, _("Twilio did not answer within ${seconds} seconds.", mapping={"seconds": CHECK_TIMEOUT})
    except HttpError as error:
        return False, _("Twilio could not be reached: ${error}", mapping={"error": str(error)})
    if response.status_code in (401, 403, 404):
        return False, _("Twilio refused the account SID or the auth token.")
    if response.status_code != 200:
        return False, _("Twilio answered HTTP ${status}.", mapping={"status": response.status_code})
    return True, _("Twilio accepted the account SID and the auth token.")
