"""阿里雲短信 — Aliyun SMS (Dysmsapi ``SendSms``), which sends pre-approved templates, not free text.

Each of our template codes is mapped to the tenant's approved Aliyun template
(``templates``, e.g. ``{"verification_code": "SMS_1234"}``); the message's
parameters go as ``TemplateParam`` JSON. A message whose template has no
mapping is refused, so the next provider (failover) carries it. Requests are
signed as Aliyun's RPC API documents (signature version 1.0): the parameters
sorted by name and percent-encoded (RFC 3986), the string
``POST&%2F&<encoded query>`` signed HMAC-SHA1 with ``<AccessKeySecret>&``,
base64. Delivery reports reach Aliyun's message queue, not an HTTP callback,
so messages stay ``sent``. The connection check asks for the signature
name's review status (``QuerySmsSign``), which sends nothing.
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
import httpx

from core import HttpError, PluginInfo, SmsProvider, SmsResult, SmsView, _, hookimpl, http_client

API_BASE = "https://dysmsapi.aliyuncs.com"
CHECK_TIMEOUT = 5  # seconds: a button waits for the answer


class Settings(colander.MappingSchema):
    access_key_id = colander.SchemaNode(colander.String(), validator=colander.Length(min=8), title=_("AccessKey ID"))
    access_key_secret = colander.SchemaNode(
        colander.String(), validator=colander.Length(min=8), title=_("AccessKey secret")
    )
    sign_name = colander.SchemaNode(
        colander.String(),
        validator=colander.Length(min=2, max=30),
        title=_("Signature name"),
        description=_("The approved SMS signature, shown at the start of every text."),
    )
    templates = colander.SchemaNode(
        colander.Mapping(unknown="preserve"),
        missing={},
        title=_("Templates"),
        description=_("Each of our SMS templates and the approved Aliyun template (SMS_…) it is sent as."),
    )
    api_base = colander.SchemaNode(
        colander.String(),
        missing=API_BASE,
        title=_("API address"),
        description=_("Aliyun's SMS API; change it only for a test double."),
    )
    priority = colander.SchemaNode(
        colander.Int(),
        missing=40,
        validator=colander.Range(0, 1000),
        title=_("Priority"),
        description=_("Providers are tried from the lowest number up; the next takes over when one fails."),
    )


PLUGIN = PluginInfo(
    id="sms.aliyun",
    kind="sms",
    name={"en": "Aliyun SMS", "zh_Hant": "阿里雲簡訊", "zh_Hans": "阿里云短信"},
    version="1.0",
    description={
        "en": "Aliyun's SendSms with approved templates and signed requests.",
        "zh_Hant": "使用阿里雲 SendSms 與已審核的範本，請求經簽名。",
        "zh_Hans": "使用阿里云 SendSms 与已审核的模板，请求经签名。",
    },
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


def signed(settings: dict, action: str, **params) -> dict:
    """The common parameters of an RPC request for ``action``, ``params`` added, and its ``Signature``."""
    params = {
        "AccessKeyId": settings["access_key_id"],
        "Action": action,
        "Format": "JSON",
        "RegionId": "cn-hangzhou",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": secrets.token_hex(16),
        "SignatureVersion": "1.0",
        "Timestamp": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Version": "2017-05-25",
        **params,
    }
    params["Signature"] = sign(settings["access_key_secret"], params)
    return params


class AliyunProvider(SmsProvider):
    code = "aliyun"
    name = "Aliyun"

    def send(self, message: SmsView) -> SmsResult:
        template = (self.settings.get("templates") or {}).get(message.template)
        if not template:
            return SmsResult("", delivered=False, error=f"no Aliyun template for {message.template or 'free text'}")
        phone = message.phone[3:] if message.phone.startswith("+86") else message.phone.lstrip("+")
        params = signed(
            self.settings,
            "SendSms",
            PhoneNumbers=phone,
            SignName=self.settings["sign_name"],
            TemplateCode=template,
            TemplateParam=json.dumps(message.params or {}, ensure_ascii=False),
        )
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


@hookimpl
def lendstack_plugin_check(tenant, plugin_id, settings):
    """Ask for the signature name's status: ``OK`` proves the AccessKey (and that Aliyun knows the name)."""
    if plugin_id != PLUGIN.id:
        return None
    params = signed(settings, "QuerySmsSign", SignName=settings["sign_name"])
    try:
        with http_client(settings["api_base"]) as client:
            answer = client.post("/", data=params, timeout=CHECK_TIMEOUT).json()
    except httpx.TimeoutException:
        return False, _("Aliyun did not answer within ${seconds} seconds.", mapping={"seconds": CHECK_TIMEOUT})
    except (HttpError, ValueError) as error:
        return False, _("Aliyun could not be reached: ${error}", mapping={"error": str(error)})
    if answer.get("Code") != "OK":
        return False, _(
            "Aliyun answered ${code}: ${message}",
            mapping={"code": answer.get("Code", "?"), "message": answer.get("Message", "")},
        )
    return True, _("Aliyun accepted the AccessKey and knows the signature name.")
