"""The help centre's rows: FAQ categories, questions and votes, and the inbox's threads.

A thread (:class:`Thread`) is one conversation between staff and a person who
asked: a visitor (name and an email or phone), or a member. Its messages are
the members' site messages (站內信, :class:`core.members.models.Message`) that
carry its ``thread_id``: a member's message from 留言 or from their messages
page, a reply by staff, a message staff started from a member's page — one
model, one inbox. System notices have no thread.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, TenantOwned, utcnow
from ..i18n import _
from ..members.models import Message
from ..states import StateMachine


class FaqCategory(TenantOwned, Base):
    """A group of questions in one language, shown in ``position`` order."""

    __tablename__ = "faq_categories"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "id"),
        sa.Index("ix_faq_categories_order", "tenant_id", "locale", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    locale: Mapped[str] = mapped_column(sa.String(16))
    name: Mapped[str] = mapped_column(sa.String(120))
    position: Mapped[int] = mapped_column(default=0)
    published: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    questions: Mapped[list[FaqQuestion]] = relationship(
        back_populates="category",
        order_by="(FaqQuestion.position, FaqQuestion.id)",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class FaqQuestion(TenantOwned, Base):
    """A question and its answer (Markdown, rendered by :func:`core.markup.render`), with its vote counts."""

    __tablename__ = "faq_questions"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "id"),
        sa.Index("ix_faq_questions_order", "tenant_id", "category_id", "position"),
        sa.Index("ix_faq_questions_key", "tenant_id", "key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("faq_categories.id", ondelete="CASCADE"))
    key: Mapped[str | None] = mapped_column(sa.String(40))  # a starter question's name, linked from the site's pages
    question: Mapped[str] = mapped_column(sa.String(300))
    answer: Mapped[str] = mapped_column(sa.Text)
    position: Mapped[int] = mapped_column(default=0)
    published: Mapped[bool] = mapped_column(default=False)
    helpful_yes: Mapped[int] = mapped_column(default=0)
    helpful_no: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    category: Mapped[FaqCategory] = relationship(back_populates="questions")

    @property
    def locale(self) -> str:
        return self.category.locale


class FaqVote(TenantOwned, Base):
    """One visitor's "was this helpful" answer to one question (``voter``: a hash of their cookie, or the member)."""

    __tablename__ = "faq_votes"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "question_id", "voter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(sa.ForeignKey("faq_questions.id", ondelete="CASCADE"))
    voter: Mapped[str] = mapped_column(sa.String(64))
    helpful: Mapped[bool]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ThreadStatus(StrEnum):
    OPEN = "open"  # waiting for staff: new, or the asker wrote last
    ANSWERED = "answered"  # staff wrote last
    CLOSED = "closed"


THREADS = StateMachine(
    "thread",
    ThreadStatus,
    {
        ThreadStatus.OPEN: {ThreadStatus.ANSWERED, ThreadStatus.CLOSED},
        ThreadStatus.ANSWERED: {ThreadStatus.OPEN, ThreadStatus.CLOSED},
        ThreadStatus.CLOSED: {ThreadStatus.OPEN},
    },
    initial=ThreadStatus.OPEN,
)
THREAD_STATUS_LABELS = {
    ThreadStatus.OPEN.value: _("Waiting for a reply"),
    ThreadStatus.ANSWERED.value: _("Answered"),
    ThreadStatus.CLOSED.value: _("Closed"),
}
ORIGINS = ("contact", "account", "staff", "api", "earlier", "chat")
ORIGIN_LABELS = {
    "contact": _("Contact form"),
    "account": _("Member's messages page"),
    "staff": _("Started by staff"),
    "api": _("API"),
    "earlier": _("Earlier messages"),
    "chat": _("Live help, outside office hours"),
}


class Thread(TenantOwned, Base):
    """One conversation in the inbox; ``member_id`` is set when the asker is a member."""

    __tablename__ = "help_threads"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "id"),
        sa.Index("ix_help_threads_inbox", "tenant_id", "status", "last_message_at"),
        sa.Index("ix_help_threads_member", "tenant_id", "member_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(80), default="")
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    phone: Mapped[str] = mapped_column(sa.String(20), default="")
    locale: Mapped[str] = mapped_column(sa.String(16), default="")
    subject: Mapped[str] = mapped_column(sa.String(200))
    origin: Mapped[str] = mapped_column(sa.String(12))
    status: Mapped[str] = mapped_column(sa.String(12), default=ThreadStatus.OPEN.value)
    assigned_to: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_message_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[dt.datetime | None]
    messages: Mapped[list[Message]] = relationship(Message, order_by=Message.id, viewonly=True)
    member = relationship("Member")
    assignee = relationship("StaffUser")
