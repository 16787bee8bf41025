"""Outgoing email: the message record and its delivery as a job.

:func:`queue_mail` records a message and enqueues delivery after commit. With
``lendstack.mail.smtp_host`` set, the job sends it over SMTP (STARTTLS when
``lendstack.mail.smtp_starttls = true``); without it the message stays in the
outbox (status ``outbox``), listed in the back office — the development
default, like the SMS outbox.

A message holding a one-time code is stored with the code masked (that is
what the back office lists); the text to deliver is kept in ``sealed``
(encrypted with the install's secret) until it is sent. The outbox has no
reader but the developer: it writes the delivered text to the
``lendstack.outbox.mail`` log at INFO — shown by ``development.ini``'s
console, not by ``production.ini`` (whose root logger is at WARN).
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from email.message import EmailMessage

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from . import jobs
from .db import Base, SealedJSON, TenantOwned, utcnow
from .settings import MailSettings

OUTBOX_LOG = logging.getLogger("lendstack.outbox.mail")


class MailMessage(TenantOwned, Base):
    __tablename__ = "mail_messages"
    __table_args__ = (sa.Index("ix_mail_messages_tenant_address", "tenant_id", "address", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    purpose: Mapped[str] = mapped_column(sa.String(40))
    status: Mapped[str] = mapped_column(sa.String(16), default="queued")
    error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]
    # {"body"} as the recipient must read it, when it holds a one-time code; encrypted, cleared once settled.
    sealed: Mapped[dict | None] = mapped_column(SealedJSON)

    @property
    def delivered_body(self) -> str:
        """The text the recipient gets (the sealed one while it is kept)."""
        return (self.sealed or {}).get("body", self.body)


def queue_mail(
    session, tenant, address: str, subject: str, body: str, purpose: str, *, sealed_body: str | None = None
) -> MailMessage:
    """Record an email and deliver it after commit.

    ``body`` is what is kept and listed; a message holding a one-time code
    passes it masked and gives the real text as ``sealed_body``.
    """
    sealed = {"body": sealed_body} if sealed_body is not None else None
    message = MailMessage(
        tenant_id=tenant.id, address=address, subject=subject[:200], body=body, purpose=purpose, sealed=sealed
    )
    session.add(message)
    session.flush()
    jobs.enqueue(session, deliver_mail, tenant.id, message.id)
    return message


@jobs.huey.task(retries=3, retry_delay=60)
def deliver_mail(tenant_id: int, message_id: int) -> None:
    """Send one queued email over SMTP, or hold it in the outbox when no SMTP host is set (a job)."""
    with jobs.task_session(tenant_id) as session:
        tenant = jobs.load_tenant(session, tenant_id)
        message = session.get(MailMessage, message_id)
        if tenant is None or message is None or message.status in ("sent", "outbox"):
            return
        settings = MailSettings.from_ini(jobs.context.settings)
        if not settings.smtp_host:
            OUTBOX_LOG.info(
                "email to %s: %s\n%s",
                message.address,
                message.subject,
                message.delivered_body,
                extra={"outbox_to": message.address, "outbox_text": message.delivered_body},
            )
            message.status, message.sealed = "outbox", None
            return
        mail = EmailMessage()
        mail["From"] = settings.sender_for(tenant.slug)
        mail["To"], mail["Subject"] = message.address, message.subject
        mail.set_content(message.delivered_body)
        # A failure raises: the transaction rolls back (the row stays queued) and huey retries.
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=20) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password)
            smtp.send_message(mail)
        message.status, message.sent_at, message.error, message.sealed = "sent", utcnow(), None, None
