"""What moderators (``community.moderate``) do: the queue, pin, lock, move, hide, restore, approve, ban.

Hiding a post takes back the VIP points it earned (restoring it gives them
again): points reward what stays readable. Hiding resolves the post's
reports; hiding a topic's opening post hides the whole topic. The author of
what is hidden, and a banned member, get a notice with the reason
(:mod:`.notices`). A ban is a violation of the posting kind (``core.members.conduct``)
with a duration, so it shows on the member's record and can be lifted there.
Views audit every action.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from ..db import utcnow
from ..i18n import _
from ..members import conduct
from ..members.models import Member, Violation
from . import notices
from .boards import CommunityError, find_board, settings_of, whole
from .models import POSTS, Board, Post, PostStatus, Report, Topic
from .posting import grant_points, lock_topic, published_reply, take_back_points

BAN_DAYS = (1, 7, 30, 0)
"""The durations a moderator chooses from, in days (0: until lifted)."""


def held(session) -> list[Post]:
    """Posts waiting for review (a topic's opening post stands for the topic), oldest first."""
    return session.scalars(
        sa.select(Post).where(Post.status == PostStatus.HELD.value).order_by(Post.id).limit(200)
    ).all()


def reported(session) -> list[tuple[Post, list[Report]]]:
    """Posts with open reports, the most reported first, with their reports."""
    reports = session.scalars(sa.select(Report).where(Report.resolved_at.is_(None)).order_by(Report.id)).all()
    by_post: dict[int, list[Report]] = {}
    for found in reports:
        by_post.setdefault(found.post_id, []).append(found)
    posts = {p.id: p for p in session.scalars(sa.select(Post).where(Post.id.in_(list(by_post)))).all()}
    rows = [(posts[post_id], found) for post_id, found in by_post.items() if post_id in posts]
    return sorted(rows, key=lambda row: (-len(row[1]), row[0].id))[:200]


def _reason(text: str) -> str:
    reason = (text or "").strip()
    if not reason:
        raise CommunityError("reason", _("Give the reason; the author reads it."))
    if len(reason) > 300:
        raise CommunityError("reason", _("Use at most ${n} characters.", mapping={"n": 300}))
    return reason


def _author(session, post: Post) -> Member | None:
    return session.get(Member, post.member_id) if post.member_id else None


def _resolve_reports(session, post: Post, by: str) -> int:
    reports = session.scalars(sa.select(Report).where(Report.post_id == post.id, Report.resolved_at.is_(None))).all()
    for found in reports:
        found.resolved_at, found.resolved_by = utcnow(), by
    return len(reports)


def dismiss_reports(session, post: Post, *, by: str) -> int:
    """The post stays as it is; its open reports are closed."""
    closed = _resolve_reports(session, post, by)
    if not closed:
        raise CommunityError("post", _("This post has no open reports."))
    return closed


def hide_post(session, post: Post, *, reason: str, by: str) -> None:
    """Hide a post (or reject a held one) with a reason its author reads; its points go back.

    A topic's opening post is the topic's own text: hiding it hides the whole topic (:func:`hide_topic`).
    """
    if post.opening:
        hide_topic(session, post.topic, reason=reason, by=by)
        return
    reason = _reason(reason)
    lock_topic(session, post.topic)
    was = post.status
    POSTS.move(post, PostStatus.HIDDEN)
    post.hidden_reason = reason
    if was == PostStatus.PUBLISHED.value and not post.opening:
        post.topic.replies = max(0, post.topic.replies - 1)
    take_back_points(session, post, _author(session, post))
    _resolve_reports(session, post, by)
    notices.tell_hidden(session, post.member_id, title=post.topic.title, reason=reason, topic=False)


def restore_post(session, tenant, post: Post) -> None:
    """Show a hidden post again, or approve a held one: published, its points given. The opening post of a
    hidden topic restores the topic (:func:`restore_topic`)."""
    if post.opening and post.topic.status == PostStatus.HIDDEN.value:
        restore_topic(session, tenant, post.topic)
        return
    lock_topic(session, post.topic)
    POSTS.move(post, PostStatus.PUBLISHED)
    post.hidden_reason = ""
    if not post.opening:
        published_reply(post.topic, post)
    elif post.topic.status == PostStatus.HELD.value:  # approving a held topic publishes it with its text
        POSTS.move(post.topic, PostStatus.PUBLISHED)
    grant_points(session, post, _author(session, post), settings_of(session, tenant))


def opening_post(session, topic: Topic) -> Post:
    return session.scalars(sa.select(Post).where(Post.topic_id == topic.id, Post.opening.is_(True))).one()


def hide_topic(session, topic: Topic, *, reason: str, by: str) -> None:
    """Hide a whole topic (its list entry and thread read "hidden by a moderator"); its opening post's points go
    back."""
    reason = _reason(reason)
    lock_topic(session, topic)
    POSTS.move(topic, PostStatus.HIDDEN)
    topic.hidden_reason = reason
    opening = opening_post(session, topic)
    take_back_points(session, opening, _author(session, opening))
    _resolve_reports(session, opening, by)
    notices.tell_hidden(session, opening.member_id, title=topic.title, reason=reason, topic=True)


def restore_topic(session, tenant, topic: Topic) -> None:
    lock_topic(session, topic)
    POSTS.move(topic, PostStatus.PUBLISHED)
    topic.hidden_reason = ""
    opening = opening_post(session, topic)
    if opening.status == PostStatus.HELD.value:
        POSTS.move(opening, PostStatus.PUBLISHED)
    if opening.status == PostStatus.PUBLISHED.value:
        grant_points(session, opening, _author(session, opening), settings_of(session, tenant))


def set_pinned(topic: Topic, pinned: bool) -> None:
    if topic.pinned == pinned:
        raise CommunityError("pinned", _("The topic is already so."))
    topic.pinned = pinned


def set_locked(topic: Topic, locked: bool) -> None:
    if topic.locked == locked:
        raise CommunityError("locked", _("The topic is already so."))
    topic.locked = locked


def move(session, topic: Topic, board_id) -> Board:
    """Move a topic to another board of the tenant (another tenant's board is not found)."""
    board = find_board(session, board_id)
    if board.id == topic.board_id:
        raise CommunityError("board", _("The topic is already in this board."))
    topic.board_id = board.id
    topic.board = board
    return board


def ban(session, member: Member, *, days, reason: str, by: str) -> Violation:
    """Ban ``member`` from posting for ``days`` (0: until lifted): a violation that freezes posting."""
    days = whole(days)
    if days not in BAN_DAYS:
        raise CommunityError("days", _("Choose how long the ban lasts."))
    ends_at = utcnow() + dt.timedelta(days=days) if days else None
    violation = conduct.record_violation(session, member, reason=reason, freeze_posting=True, ends_at=ends_at, by=by)
    notices.tell_banned(session, member, reason=violation.reason, ends_at=violation.ends_at)
    return violation
