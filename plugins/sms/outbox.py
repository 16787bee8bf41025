"""The SMS outbox: messages are kept in the database instead of reaching a carrier.

For development, demos and tests: every message is recorded by core already;
this provider marks it delivered to the outbox so staff (and browser tests)
can read verification codes from the back office.
"""
from __future__ import annotations

import colander

from core import PluginInfo, SmsProvider, SmsResult, SmsView, hookimpl


class Settings(colander.MappingSchema):
    sender = colander.SchemaNode(colander.String(), missing="Lendstack")
    priority = colander.SchemaNode(colander.Int(), missing=1000, validator=colander.Range(0, 1000))


PLUGIN = PluginInfo(
    id="sms.outbox",
    kind="sms",
    name="SMS outbox (development)",
    version="1.0",
    description="Keeps messages in the database outbox; nothing leaves the platform.",
    settings=Settings(),
    default_enabled=True,
)


class OutboxProvider(SmsProvider):
    code = "outbox"
    name = "Outbox"

    @property
    def priority(self) -> int:
        """Last by default: with a real provider enabled, the outbox is the final fallback."""
        return int(self.settings.get("priority", 1000))

    def send(self, message: SmsView) -> SmsResult:
        return SmsResult(provider_ref=f"outbox-{message.id}")


@hookimpl
def lendstack_sms_providers(tenant):
    return OutboxProvider(tenant.plugin_settings(PLUGIN.id))
