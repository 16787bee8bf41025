"""阿里雲短信 — Aliyun SMS (Dysmsapi ``SendSms``), which sends pre-approved templates, not free text.

Each of our template codes is mapped to the tenant's approved Aliyun template
(``templates``, e.g. ``{"verification_code": "SMS_1234"}``); the message's
parameters go as ``TemplateParam`` JSON. A message whose template has no
mapping is refused, so the next provider (failover) carries it. Requests are
signed as Aliyun's RPC API documents (signature version 1.0): the parameters
sorted by name and percent-encoded (RFC 3986), the string
``POST&%2F&<encoded query>`` signed HMAC-SHA1 with ``<AccessKeySecret>&``,
base64. Delivery reports reach Aliyun's message queue, not an HTTP callback,
so messages stay ``sent``.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
from urllib.parse import quote

import colander

from core import HttpError, PluginInfo, SmsProvider, SmsResult, SmsView, hookimpl, http_client

API_BASE = "https://dysmsapi.aliyuncs.com"


class Settings(colander.MappingSchema):
    access_key_id = colander.SchemaNode(colander.String(), validator=colander.Length(min=8))
    access_key_secret = colander.SchemaNode(colander.String(), validator=colander.Length(min=8))
    sign_name = colander.SchemaNode(colander.String(), validator=colander.Length(min=2, max=30))
    templates = colander.SchemaNode(
        colander.Mapping(unknown="preserve"),
        missing={},
        description="our template code → the approved Aliyun template code",
    )
    api_base = colander.SchemaNode(colander.String(), missing=API_BASE)
    priority = colander.SchemaNode(colander.Int(), missing=40, validator=colander.Range(0, 1000))


PLUGIN = PluginInfo(
    id="sms.aliyun",
    kind="sms",
    name="Aliyun SMS (阿里雲短信)",
    version="1.0",
    description="Aliyun's SendSms with approved templates and signed RPC requests.",
    settings=Settings(),
    default_enabled=False,
    secret_settings=('access_key_secret',),
)


def encode(value: str) -> str:
    return quote(str(value), safe="~")


def sign(secret: str, params: dict) -> str:
    query = "&".join(f"{encode(k)}={encode(params[k])}" for k in sorted(params))
    string_to_sign = f"POST&{encode('/')}&{encode(query)}"
    return base64.b64encode(hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()).decode()


class AliyunProvider(SmsProvider):
    code = "aliyun"
    name = "Aliyun"

    def send(self, message: SmsView) -> SmsResult:
        template = (self.settings.get("templates") or {}).get(message.template)
        if not template:
            return SmsResult("", delivered=False, error=f"no Aliyun template for {message.template or 'free text'}")
        phone = message.phone[3:] if message.phone.startswith("+86") else message.phone.lstrip("+")
        params = {
            "AccessKeyId": self.settings["access_key_id"],
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": phone,
            "RegionId": "cn-hangzhou",
            "SignName": self.settings["sign_name"],
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": secrets.token_hex(16),
            "SignatureVersion": "1.0",
            "TemplateCode": template,
            "TemplateParam": json.dumps(message.params or {}, ensure_ascii=False),
            "Timestamp": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        params["Signature"] = sign(self.settings["access_key_secret"], params)
        try:
            with http_client(self.settings["api_base"]) as client:
                response = client.post("/", data=params)
                answer = response.json()
        except (HttpError, ValueError) as error:
            return SmsResult("", delivered=False, error=f"{type(error).__name__}: {error}")
        if answer.get("Code") != "OK":
            return SmsResult("", delivered=False, error=f"{answer.get('Code')}: {answer.get('Message', '')}")
        return SmsResult(provider_ref=str(answer.get("BizId", "")))


@hookimpl
def lendstack_sms_providers(tenant):
    return AliyunProvider(tenant.plugin_settings(PLUGIN.id))
