"""The SMS outbox: development only — messages are recorded and nothing reaches a phone.

For development, demos and tests. Core records every message already (the
back office's SMS log, one-time codes masked); this provider marks it
delivered and hands the text a real phone would have received to its only
rightful reader in a development install, the developer: it is written to
the ``lendstack.outbox.sms`` log at INFO (``development.ini`` shows it on the
console of ``lendstack serve``; ``production.ini`` logs only warnings). No
back-office page and no staff role can read it.
"""

from __future__ import annotations

import logging

import colander

from core import PluginInfo, SmsProvider, SmsResult, SmsView, _, hookimpl

LOG = logging.getLogger("lendstack.outbox.sms")


class Settings(colander.MappingSchema):
    sender = colander.SchemaNode(
        colander.String(),
        missing="Lendstack",
        title=_("Sender name"),
        description=_("The name the outbox writes as the sender."),
    )
    priority = colander.SchemaNode(
        colander.Int(),
        missing=1000,
        validator=colander.Range(0, 1000),
        title=_("Priority"),
        description=_("Providers are tried from the lowest number up; the next takes over when one fails."),
    )


PLUGIN = PluginInfo(
    id="sms.outbox",
    kind="sms",
    name={"en": "SMS outbox (development)", "zh_Hant": "簡訊發件箱（開發用）", "zh_Hans": "短信发件箱（开发用）"},
    version="1.1",
    description={
        "en": "Development only: records messages and writes their text to the server's development log; "
        "nothing reaches a phone.",
        "zh_Hant": "僅供開發：記錄簡訊並把內容寫入伺服器的開發日誌；不會送達任何手機。",
        "zh_Hans": "仅供开发：记录短信并把内容写入服务器的开发日志；不会送达任何手机。",
    },
    settings=Settings(),
    default_enabled=True,
    development_only=True,
)


class OutboxProvider(SmsProvider):
    code = "outbox"
    name = "Outbox"

    @property
    def priority(self) -> int:
        """Last by default: with a real provider enabled, the outbox is the final fallback."""
        return int(self.settings.get("priority", 1000))

    def send(self, message: SmsView) -> SmsResult:
        LOG.info(
            "SMS to %s: %s",
            message.phone,
            message.body,
            extra={"outbox_to": message.phone, "outbox_text": message.body},
        )
        return SmsResult(provider_ref=f"outbox-{message.id}")


@hookimpl
def lendstack_sms_providers(tenant):
    return OutboxProvider(tenant.plugin_settings(PLUGIN.id))
