"""Outgoing SMS: the message record, the provider type, and delivery as a job.

:func:`queue_sms` records a message and enqueues its delivery after commit;
the job hands it to the tenant's enabled SMS provider (hook
``lendstack_sms_providers``) and records the outcome. Every message a tenant
ever sent is in ``sms_messages``, whichever provider carried it.
"""
from __future__ import annotations

import abc
import datetime as dt
from dataclasses import dataclass

import phonenumbers
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from . import jobs
from .db import Base, TenantOwned, utcnow


class SmsError(ValueError):
    def __init__(self, message: str, field: str = "phone"):
        super().__init__(message)
        self.field = field


class SmsMessage(TenantOwned, Base):
    __tablename__ = "sms_messages"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "id"),
        sa.Index("ix_sms_messages_tenant_phone", "tenant_id", "phone", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(20))
    body: Mapped[str] = mapped_column(sa.Text)
    purpose: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[str] = mapped_column(sa.String(16), default="queued")
    provider: Mapped[str | None] = mapped_column(sa.String(100))
    provider_ref: Mapped[str | None] = mapped_column(sa.String(200))
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]


@dataclass(frozen=True)
class SmsView:
    """What a provider is given: never the ORM row."""

    id: int
    phone: str
    body: str
    purpose: str


@dataclass(frozen=True)
class SmsResult:
    provider_ref: str
    delivered: bool = True
    error: str = ""


class SmsProvider(abc.ABC):
    """Base of SMS-provider providers; ``code`` and ``name`` identify it."""

    code: str = ""
    name: str = ""

    def __init__(self, settings: dict):
        self.settings = settings

    @abc.abstractmethod
    def send(self, message: SmsView) -> SmsResult:
        """Hand ``message`` to the carrier; raise or return ``delivered=False`` on failure."""


def normalize_phone(phone: str, region: str = "CN") -> str:
    """E.164 form of ``phone`` (``+8613800138000``), or :class:`SmsError`."""
    try:
        parsed = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        raise SmsError(f"{phone!r} is not a phone number") from None
    if not phonenumbers.is_valid_number(parsed):
        raise SmsError(f"{phone!r} is not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def queue_sms(session, tenant, phone: str, body: str, purpose: str) -> SmsMessage:
    """Record an SMS for ``tenant`` and deliver it in the background after commit."""
    message = SmsMessage(
        tenant_id=tenant.id, phone=normalize_phone(phone), body=body, purpose=purpose
    )
    session.add(message)
    session.flush()
    jobs.enqueue(session, deliver_sms, tenant.id, message.id)
    return message


def pick_provider(hooks) -> SmsProvider | None:
    providers = sorted(hooks.collect("lendstack_sms_providers"), key=lambda p: p.code)
    return providers[0] if providers else None


@jobs.huey.task(retries=3, retry_delay=30)
def deliver_sms(tenant_id: int, message_id: int) -> None:
    """Send one queued message through the tenant's SMS provider (a job)."""
    with jobs.task_session(tenant_id) as session:
        tenant = jobs.load_tenant(session, tenant_id)
        message = session.get(SmsMessage, message_id)
        if tenant is None or message is None or message.status == "sent":
            return
        hooks = jobs.context.plugins.for_tenant(tenant)
        provider = pick_provider(hooks)
        if provider is None:
            message.status, message.error = "failed", "no SMS provider is enabled"
            return
        view = SmsView(message.id, message.phone, message.body, message.purpose)
        result = provider.send(view)
        message.provider = provider.code
        message.provider_ref = result.provider_ref
        if result.delivered:
            message.status, message.sent_at = "sent", utcnow()
            hooks.lendstack_sms_delivered(message=view)
        else:
            message.status, message.error = "failed", result.error
