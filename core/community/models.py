"""The member community (會員社區): boards, topics, posts, reports and a tenant's community settings.

A topic's own text is its first post (``Post.opening``), so a thread, a search
and a member's own posts read one table. A topic and a post each have a
moderation status (:data:`POSTS`): published, held for review (a sensitive
word), or hidden by a moderator (with the reason).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, TenantOwned, utcnow
from ..i18n import _
from ..states import StateMachine


class PostStatus(StrEnum):
    PUBLISHED = "published"
    HELD = "held"  # a sensitive word: shown to its author and moderators only, until approved
    HIDDEN = "hidden"  # by a moderator, with a reason; others read "hidden by a moderator"


POSTS = StateMachine(
    "post",
    PostStatus,
    {
        PostStatus.HELD: {PostStatus.PUBLISHED, PostStatus.HIDDEN},
        PostStatus.PUBLISHED: {PostStatus.HIDDEN},
        PostStatus.HIDDEN: {PostStatus.PUBLISHED},
    },
    initial=PostStatus.PUBLISHED,
)
"""The one lifecycle of topics and posts: approve (held → published), hide, restore (hidden → published)."""

STATUS_LABELS = {
    PostStatus.PUBLISHED.value: _("Published"),
    PostStatus.HELD.value: _("Waiting for review"),
    PostStatus.HIDDEN.value: _("Hidden by a moderator"),
}

SENSITIVE_ACTIONS = {"hold": _("Hold the post for review"), "refuse": _("Refuse the post")}


def author_name(actor: str) -> str:
    """The name a post is signed with: the name part of its author (``member:3:王小明`` → 王小明)."""
    return actor.split(":", 2)[-1] if actor.count(":") >= 2 else actor


class CommunitySettings(TenantOwned, Base):
    """A tenant's rules for posting, edited on the moderation settings page (one row, made when first read)."""

    __tablename__ = "community_settings"
    __table_args__ = (sa.UniqueConstraint("tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    verified_only: Mapped[bool] = mapped_column(default=True)
    points_per_topic: Mapped[int] = mapped_column(default=0)
    points_per_reply: Mapped[int] = mapped_column(default=0)
    sensitive_words: Mapped[str] = mapped_column(sa.Text, default="")  # one per line
    sensitive_action: Mapped[str] = mapped_column(sa.String(10), default="hold")  # hold | refuse
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def words(self) -> list[str]:
        return [w.strip() for w in (self.sensitive_words or "").splitlines() if w.strip()]


class Board(TenantOwned, Base):
    """A board (版塊); names and descriptions per language; ``staff_only``: members read, staff post (官方公告)."""

    __tablename__ = "community_boards"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "slug"), sa.UniqueConstraint("tenant_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(40))
    names: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # {locale: name}
    descriptions: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # {locale: description}
    position: Mapped[int] = mapped_column(default=0)
    staff_only: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Topic(TenantOwned, Base):
    __tablename__ = "community_topics"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "id"),
        sa.Index("ix_community_topics_board", "tenant_id", "board_id", "pinned", "last_posted_at"),
        sa.Index("ix_community_topics_member", "tenant_id", "member_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(sa.ForeignKey("community_boards.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"))
    author: Mapped[str] = mapped_column(sa.String(120))  # an actor: member:<id>:<name> or staff:<id>:<login>
    title: Mapped[str] = mapped_column(sa.String(120))
    status: Mapped[str] = mapped_column(sa.String(12), default=PostStatus.PUBLISHED.value)
    hidden_reason: Mapped[str] = mapped_column(sa.String(300), default="")
    pinned: Mapped[bool] = mapped_column(default=False)
    locked: Mapped[bool] = mapped_column(default=False)
    replies: Mapped[int] = mapped_column(default=0)  # published replies
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_posted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    board: Mapped[Board] = relationship()

    @property
    def author_name(self) -> str:
        return author_name(self.author)


class Post(TenantOwned, Base):
    __tablename__ = "community_posts"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "id"),
        sa.Index("ix_community_posts_topic", "tenant_id", "topic_id", "id"),
        sa.Index("ix_community_posts_member", "tenant_id", "member_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    topic_id: Mapped[int] = mapped_column(sa.ForeignKey("community_topics.id", ondelete="CASCADE"))
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"))
    author: Mapped[str] = mapped_column(sa.String(120))
    opening: Mapped[bool] = mapped_column(default=False)  # the topic's own text
    body: Mapped[str] = mapped_column(sa.Text)  # Markdown, rendered by core.markup
    quote_id: Mapped[int | None] = mapped_column(sa.ForeignKey("community_posts.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(sa.String(12), default=PostStatus.PUBLISHED.value)
    hidden_reason: Mapped[str] = mapped_column(sa.String(300), default="")
    points: Mapped[int] = mapped_column(default=0)  # VIP points the author holds for this post now
    moderations: Mapped[int] = mapped_column(default=0)  # how often its points changed hands (the ledger's ref)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    topic: Mapped[Topic] = relationship()
    quote: Mapped[Post | None] = relationship(remote_side=[id])

    @property
    def author_name(self) -> str:
        return author_name(self.author)


class Report(TenantOwned, Base):
    """A member's report of a post (once per member and post) until a moderator deals with it."""

    __tablename__ = "community_reports"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "post_id", "member_id"),
        sa.Index("ix_community_reports_open", "tenant_id", "resolved_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(sa.ForeignKey("community_posts.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[dt.datetime | None]
    resolved_by: Mapped[str] = mapped_column(sa.String(120), default="")

    post: Mapped[Post] = relationship()
