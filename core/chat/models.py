"""Live chats (在線客服): a chat between a visitor or member and one staff member, its messages, who is on duty,
canned replies per language and the tenant's office hours."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, TenantOwned, utcnow
from ..i18n import _
from ..states import StateMachine


class ChatStatus(StrEnum):
    WAITING = "waiting"  # in the queue: nobody has accepted it yet
    ACTIVE = "active"  # one staff member accepted it and answers
    CLOSED = "closed"  # ended by either side; the transcript is kept


CHATS = StateMachine(
    "chat",
    ChatStatus,
    {ChatStatus.WAITING: {ChatStatus.ACTIVE, ChatStatus.CLOSED}, ChatStatus.ACTIVE: {ChatStatus.CLOSED}},
    initial=ChatStatus.WAITING,
)

STATUS_LABELS = {"waiting": _("Waiting"), "active": _("In progress"), "closed": _("Closed")}

AUTHORS = ("visitor", "staff", "event")
"""Who wrote a message: the person who opened the chat, a staff member, or the chat itself (an event)."""

EVENT_LABELS = {
    "accepted": _("${name} joined the chat"),
    "closed": _("The chat was closed"),
}
"""What an ``event`` message (its body is the event's code) reads as."""


class Chat(TenantOwned, Base):
    __tablename__ = "chats"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "id"),
        sa.Index("ix_chats_queue", "tenant_id", "status", "created_at"),
        sa.Index("ix_chats_member", "tenant_id", "member_id", "id"),
        sa.Index("ix_chats_token", "tenant_id", "token_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(sa.String(12), default=ChatStatus.WAITING)
    name: Mapped[str] = mapped_column(sa.String(60))
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"))
    token_hash: Mapped[str] = mapped_column(sa.String(64))  # sha256 of the opener's chat cookie
    locale: Mapped[str] = mapped_column(sa.String(16), default="")
    staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))
    staff_name: Mapped[str] = mapped_column(sa.String(200), default="")
    last_seq: Mapped[int] = mapped_column(default=0)  # the last message's number in this chat
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    last_message_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ChatMessage(TenantOwned, Base):
    __tablename__ = "chat_messages"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "chat_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(sa.ForeignKey("chats.id", ondelete="CASCADE"))
    seq: Mapped[int]  # 1, 2, 3 … within the chat, in the order the messages were committed
    author: Mapped[str] = mapped_column(sa.String(8))  # visitor | staff | event
    author_name: Mapped[str] = mapped_column(sa.String(200), default="")
    staff_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(sa.Text)  # plain text, never Markdown; an event's code for ``event``
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ChatAgent(TenantOwned, Base):
    """A staff member's duty: on duty and seen lately means visitors can chat now."""

    __tablename__ = "chat_agents"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "staff_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="CASCADE"))
    on_duty: Mapped[bool] = mapped_column(default=False)
    seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CannedReply(TenantOwned, Base):
    __tablename__ = "chat_canned_replies"
    __table_args__ = (sa.Index("ix_chat_canned_replies_locale", "tenant_id", "locale", "title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    locale: Mapped[str] = mapped_column(sa.String(16))
    title: Mapped[str] = mapped_column(sa.String(80))
    body: Mapped[str] = mapped_column(sa.String(1000))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class OfficeHours(TenantOwned, Base):
    """One weekday's opening hours (0 = Monday) in the tenant's time zone; a weekday without a row is closed.
    A tenant without any row has no office hours: chat is open whenever someone is on duty."""

    __tablename__ = "chat_office_hours"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "weekday"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    weekday: Mapped[int]
    opens: Mapped[str] = mapped_column(sa.String(5))  # "09:00"
    closes: Mapped[str] = mapped_column(sa.String(5))  # "18:00", after ``opens``
