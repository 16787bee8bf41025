"""Outgoing email: the message record and its delivery as a job.

:func:`queue_mail` records a message and enqueues delivery after commit. With
``lendstack.mail.smtp_host`` set, the job sends it over SMTP (STARTTLS when
``lendstack.mail.smtp_starttls = true``); without it the message stays in the
outbox (status ``outbox``), readable in the back office — the development
default, like the SMS outbox.
"""
from __future__ import annotations

import datetime as dt
import smtplib
from email.message import EmailMessage

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from . import jobs
from .db import Base, TenantOwned, utcnow


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


def queue_mail(session, tenant, address: str, subject: str, body: str, purpose: str) -> MailMessage:
    message = MailMessage(tenant_id=tenant.id, address=address, subject=subject[:200], body=body, purpose=purpose)
    session.add(message)
    session.flush()
    jobs.enqueue(session, deliver_mail, tenant.id, message.id)
    return message


@jobs.huey.task(retries=3, retry_delay=60)
def deliver_mail(tenant_id: int, message_id: int) -> None:
    with jobs.task_session(tenant_id) as session:
        tenant = jobs.load_tenant(session, tenant_id)
        message = session.get(MailMessage, message_id)
        if tenant is None or message is None or message.status in ("sent", "outbox"):
            return
        settings = jobs.context.settings
        host = settings.get("lendstack.mail.smtp_host")
        if not host:
            message.status = "outbox"
            return
        mail = EmailMessage()
        mail["From"] = settings.get("lendstack.mail.sender", f"no-reply@{tenant.slug}.invalid")
        mail["To"], mail["Subject"] = message.address, message.subject
        mail.set_content(message.body)
        # A failure raises: the transaction rolls back (the row stays queued) and huey retries.
        with smtplib.SMTP(host, int(settings.get("lendstack.mail.smtp_port", 25)), timeout=20) as smtp:
            if settings.get("lendstack.mail.smtp_starttls") == "true":
                smtp.starttls()
            if settings.get("lendstack.mail.smtp_user"):
                smtp.login(settings["lendstack.mail.smtp_user"], settings.get("lendstack.mail.smtp_password", ""))
            smtp.send_message(mail)
        message.status, message.sent_at, message.error = "sent", utcnow(), None
