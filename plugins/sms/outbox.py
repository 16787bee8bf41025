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

from core import PluginInfo, SmsProvider, SmsResult, SmsView, hookimpl

LOG = logging.getLogger("lendstack.outbox.sms")


class Settings(colander.MappingSchema):
    sender = colander.SchemaNode(colander.String(), missing="Lendstack")
    priority = colander.SchemaNode(colander.Int(), missing=1000, validator=colander.Range(0, 1000))


PLUGIN = PluginInfo(
    id="sms.outbox",
    kind="sms",
    name="SMS outbox (development)",
    version="1.1",
    description="Development only: records messages and writes their text to the server's development log; "
    "nothing reaches a phone.",
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
