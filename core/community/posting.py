"""Writing in the community: a topic, a reply (maybe quoting a post), a report; the points a post earns.

Who may post is checked here, first to last: a member verified where the tenant
asks it (``verified_only``), with no active posting ban (a violation, see
``core.members.conduct.posting_ban``), in a board members post in, in a topic
that is open. Then the text: its size, and the tenant's sensitive words (the
post is held for review or refused, per the settings). Each refusal is a
:class:`CommunityError` by field, and nothing is stored.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import sqlalchemy as sa

from ..db import utcnow
from ..i18n import _
from ..members import conduct
from ..members.models import Member
from .boards import CommunityError, settings_of
from .models import POSTS, Board, CommunitySettings, Post, PostStatus, Report, Topic

MAX_BODY = 20_000
MAX_TITLE = 120
MIN_TITLE = 2
MAX_REASON = 300


def author_of(member: Member) -> str:
    """How a member signs posts: ``member:<id>:<name>`` with their chosen name, else their masked phone."""
    return f"member:{member.id}:{member.display_name or member.masked_phone or member.masked_name}"


def may_post(session, tenant, member: Member, settings: CommunitySettings | None = None) -> None:
    """Refuse (on ``body``) a member who may not post now: unverified where that is required, or banned."""
    settings = settings or settings_of(session, tenant)
    if settings.verified_only and not member.is_verified:
        raise CommunityError("body", _("Only members who completed real-name verification may post."))
    ban = conduct.posting_ban(session, member)
    if ban is not None:
        if ban.ends_at is None:
            raise CommunityError("body", _("You are banned from posting: ${reason}", mapping={"reason": ban.reason}))
        until = ban.ends_at.astimezone(ZoneInfo(tenant.timezone)).strftime("%Y-%m-%d %H:%M")
        raise CommunityError(
            "body",
            _("You are banned from posting until ${until}: ${reason}", mapping={"until": until, "reason": ban.reason}),
        )


def _text(value, field: str, low: int, high: int, message) -> str:
    text = str(value or "").replace("\r\n", "\n").strip()
    if "\x00" in text:
        raise CommunityError(field, _("The text holds a character that cannot be stored."))
    if len(text) > high:
        raise CommunityError(
            field,
            _(
                "Keep it under ${limit} characters (this one has ${count}).",
                mapping={"limit": f"{high:,}", "count": f"{len(text):,}"},
            ),
        )
    if len(text) < low:
        raise CommunityError(field, message)
    return text


def _screened(settings: CommunitySettings, *texts: str) -> PostStatus:
    """Published, or held when a sensitive word appears (refused instead where the tenant says so)."""
    folded = "\n".join(texts).casefold()
    word = next((w for w in settings.words if w.casefold() in folded), None)
    if word is None:
        return PostStatus.PUBLISHED
    if settings.sensitive_action == "refuse":
        raise CommunityError(
            "body", _("Your post contains a word this site does not allow: ${word}", mapping={"word": word})
        )
    return PostStatus.HELD


def start_topic(session, tenant, board: Board, member: Member, *, title: str, body: str) -> Topic:
    """A member's new topic in ``board``: held for review when it holds a sensitive word."""
    settings = settings_of(session, tenant)
    may_post(session, tenant, member, settings)
    if board.staff_only:
        raise CommunityError("title", _("Only the site's staff post in this board."))
    title = _text(title, "title", MIN_TITLE, MAX_TITLE, _("Give a title of 2 to 120 characters."))
    body = _text(body, "body", 1, MAX_BODY, _("Write something."))
    status = _screened(settings, title, body)
    topic, post = _topic(session, tenant, board, author_of(member), member.id, title, body, status)
    if status == PostStatus.PUBLISHED:
        grant_points(session, post, member, settings)
    return topic


def announce(session, tenant, board: Board, *, author: str, title: str, body: str) -> Topic:
    """A topic staff post (in any board, a staff-only one included); staff text is not screened."""
    title = _text(title, "title", MIN_TITLE, MAX_TITLE, _("Give a title of 2 to 120 characters."))
    body = _text(body, "body", 1, MAX_BODY, _("Write something."))
    topic, _post = _topic(session, tenant, board, author, None, title, body, PostStatus.PUBLISHED)
    return topic


def _topic(session, tenant, board, author, member_id, title, body, status) -> tuple[Topic, Post]:
    now = utcnow()
    topic = Topic(
        tenant_id=tenant.id,
        board_id=board.id,
        member_id=member_id,
        author=author,
        title=title,
        status=status.value,
        created_at=now,
        last_posted_at=now,
    )
    session.add(topic)
    session.flush()
    post = Post(
        tenant_id=tenant.id,
        topic_id=topic.id,
        member_id=member_id,
        author=author,
        opening=True,
        body=body,
        status=status.value,
        created_at=now,
    )
    session.add(post)
    session.flush()
    return topic, post


def lock_topic(session, topic: Topic) -> Topic:
    """Lock the topic's row and read it afresh: replies and moderation of one topic count its replies one after
    the other (and see a lock or a hide made meanwhile). NO KEY UPDATE: posts that refer to it are not held up."""
    return session.scalars(sa.select(Topic).where(Topic.id == topic.id).with_for_update(key_share=True)).one()


def reply(session, tenant, topic: Topic, member: Member, *, body: str, quote_id: int | None = None) -> Post:
    """A member's reply to an open topic, quoting one of its published posts if ``quote_id`` is given."""
    topic = lock_topic(session, topic)
    settings = settings_of(session, tenant)
    may_post(session, tenant, member, settings)
    if topic.locked:
        raise CommunityError("body", _("This topic is locked: it takes no more replies."))
    if topic.status != PostStatus.PUBLISHED:
        raise CommunityError("body", _("This topic takes no replies now."))
    body = _text(body, "body", 1, MAX_BODY, _("Write something."))
    quote = None
    if quote_id is not None:
        quote = session.scalars(
            sa.select(Post).where(
                Post.id == quote_id, Post.topic_id == topic.id, Post.status == PostStatus.PUBLISHED.value
            )
        ).first()
        if quote is None:
            raise CommunityError("quote", _("The post you quote is not in this topic."))
    status = _screened(settings, body)
    post = Post(
        tenant_id=tenant.id,
        topic_id=topic.id,
        member_id=member.id,
        author=author_of(member),
        body=body,
        quote_id=quote.id if quote else None,
        status=status.value,
    )
    session.add(post)
    session.flush()
    if status == PostStatus.PUBLISHED:
        published_reply(topic, post)
        grant_points(session, post, member, settings)
    return post


def published_reply(topic: Topic, post: Post) -> None:
    """A reply became visible: the topic counts it and sorts by it."""
    topic.replies += 1
    topic.last_posted_at = max(topic.last_posted_at, post.created_at)


def report(session, tenant, post: Post, member: Member, *, reason: str) -> Report:
    """A member reports a post they can see, once per post."""
    if post.status != PostStatus.PUBLISHED:
        raise CommunityError("reason", _("This post cannot be reported."))
    if post.member_id == member.id:
        raise CommunityError("reason", _("You cannot report your own post."))
    reason = _text(reason, "reason", 0, MAX_REASON, None)
    existing = session.scalars(
        sa.select(Report).where(Report.post_id == post.id, Report.member_id == member.id)
    ).first()
    if existing is not None:
        raise CommunityError("reason", _("You have already reported this post."))
    found = Report(tenant_id=tenant.id, post_id=post.id, member_id=member.id, reason=reason)
    session.add(found)
    session.flush()
    return found


# -- VIP points for posting ---------------------------------------------------------------------------------


def grant_points(session, post: Post, member: Member | None, settings: CommunitySettings) -> None:
    """Give the author the tenant's points for a published post (once per publication, through the ledger)."""
    points = settings.points_per_topic if post.opening else settings.points_per_reply
    if member is None or points <= 0 or post.points:
        return
    post.moderations += 1  # each change of the post's points is its own entry in the points ledger
    reason = "community.topic" if post.opening else "community.reply"
    conduct.award_points(session, member, points, reason=reason, ref=f"community:post:{post.id}:{post.moderations}")
    post.points = points


def take_back_points(session, post: Post, member: Member | None) -> None:
    """A hidden post's points go back (never more than the member holds)."""
    if member is None or not post.points:
        return
    points = min(post.points, member.vip_points)
    post.moderations += 1
    if points:
        conduct.award_points(
            session, member, -points, reason="community.hidden", ref=f"community:post:{post.id}:{post.moderations}"
        )
    post.points = 0


def move_status(post_or_topic, to: PostStatus) -> None:
    POSTS.move(post_or_topic, to.value)
