"""Back-office pages for moderators (``community.moderate``): the queue, a topic's moderation, bans,
boards and staff topics, and the community settings. Every action is audited."""

from __future__ import annotations

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config

from .. import audit
from ..forms import by_field, on_refusal
from ..i18n import _
from ..markup import render
from ..members.models import Member
from . import boards as boards_service
from . import moderation, posting
from .boards import CommunityError
from .models import SENSITIVE_ACTIONS, Board, Post, PostStatus, Topic
from .views import board_name, found_or_404

PERMISSION = "community.moderate"


def _common(request) -> dict:
    return {
        "board_name": lambda board: board_name(request, board),
        "render": render,
        "errors": {},
        "error": None,
        "ban_days": moderation.BAN_DAYS,
        "statuses": PostStatus,
    }


def _refused_on(request, page) -> None:
    """A refusal shows ``page`` with the message on top and by its field."""

    def shown(error):
        data = page()
        data["error"] = error.message
        return by_field(data, error)

    on_refusal(request, shown)


@view_config(route_name="admin.community", renderer="admin/community.pt", permission=PERMISSION)
def queue(request):
    session = request.dbsession
    return {**_common(request), "held": moderation.held(session), "reported": moderation.reported(session)}


def topic_page(request, topic: Topic) -> dict:
    session = request.dbsession
    posts = session.scalars(sa.select(Post).where(Post.topic_id == topic.id).order_by(Post.id).limit(500)).all()
    return {
        **_common(request),
        "topic": topic,
        "posts": posts,
        "boards": boards_service.boards(session, request.tenant),
    }


def _topic_facts(topic: Topic) -> dict:
    return {
        "title": topic.title,
        "status": str(topic.status),
        "pinned": topic.pinned,
        "locked": topic.locked,
        "board": topic.board.slug,
    }


@view_config(
    route_name="admin.community_topic", renderer="admin/community_topic.pt", request_method="GET", permission=PERMISSION
)
def topic(request):
    return topic_page(request, found_or_404(request, Topic))


@view_config(
    route_name="admin.community_topic",
    renderer="admin/community_topic.pt",
    request_method="POST",
    permission=PERMISSION,
)
def moderate_topic(request):
    """Pin, unpin, lock, unlock, move, hide or restore a topic."""
    session, found = request.dbsession, found_or_404(request, Topic)
    before = _topic_facts(found)
    _refused_on(request, lambda: topic_page(request, found))
    action = request.POST.get("action", "")
    reason = request.POST.get("reason", "")
    if action in ("pin", "unpin"):
        moderation.set_pinned(found, action == "pin")
    elif action in ("lock", "unlock"):
        moderation.set_locked(found, action == "lock")
    elif action == "move":
        moderation.move(session, found, request.POST.get("board"))
    elif action == "hide":
        moderation.hide_topic(session, found, reason=reason, by=audit.actor_of(request))
    elif action == "restore":
        moderation.restore_topic(session, request.tenant, found)
    else:
        raise CommunityError("action", _("Choose what to do."))
    after = _topic_facts(found)
    if action == "hide":
        after["reason"] = found.hidden_reason
    audit.record(request, f"community.topic.{action}", "community_topic", found.id, before, after)
    return HTTPSeeOther(request.route_path("admin.community_topic", id=found.id))


@view_config(
    route_name="admin.community_post", renderer="admin/community_topic.pt", request_method="POST", permission=PERMISSION
)
def moderate_post(request):
    """Hide, restore, approve a post, or close its reports."""
    session, post = request.dbsession, found_or_404(request, Post)
    before = {"title": post.topic.title, "status": str(post.status)}
    _refused_on(request, lambda: topic_page(request, post.topic))
    action = request.POST.get("action", "")
    by = audit.actor_of(request)
    after = {"title": post.topic.title}
    if action == "hide":
        moderation.hide_post(session, post, reason=request.POST.get("reason", ""), by=by)
        after["reason"] = post.topic.hidden_reason if post.opening else post.hidden_reason
        if post.opening:
            after["topic"] = str(post.topic.status)  # an opening post hides its whole topic
    elif action in ("restore", "approve"):
        if (post.status == PostStatus.HELD.value) != (action == "approve"):
            raise CommunityError("action", _("Choose what to do."))
        moderation.restore_post(session, request.tenant, post)
    elif action == "dismiss":
        after["reports"] = moderation.dismiss_reports(session, post, by=by)
    else:
        raise CommunityError("action", _("Choose what to do."))
    after["status"] = str(post.status)
    audit.record(request, f"community.post.{action}", "community_post", post.id, before, after)
    return HTTPSeeOther(_back(request, post))


def _back(request, post: Post) -> str:
    if request.POST.get("next") == "queue":
        return request.route_path("admin.community")
    return request.route_path("admin.community_topic", id=post.topic_id, _anchor=f"post-{post.id}")


@view_config(
    route_name="admin.community_ban", renderer="admin/community_topic.pt", request_method="POST", permission=PERMISSION
)
def ban(request):
    """Ban a post's author from posting: a violation of the posting kind on their record."""
    session, post = request.dbsession, found_or_404(request, Post)
    _refused_on(request, lambda: topic_page(request, post.topic))
    member = session.scalars(sa.select(Member).where(Member.id == (post.member_id or -1))).first()
    if member is None:
        raise CommunityError("days", _("Only a member's post can lead to a ban."))
    violation = moderation.ban(
        session,
        member,
        days=request.POST.get("days"),
        reason=request.POST.get("reason", ""),
        by=audit.actor_of(request),
    )
    audit.record(
        request,
        "community.ban",
        "member",
        member.id,
        None,
        {
            "violation": violation.id,
            "reason": violation.reason,
            "until": violation.ends_at.isoformat() if violation.ends_at else None,
            "title": post.topic.title,
        },
    )
    return HTTPSeeOther(_back(request, post))


def settings_page(request, form: dict | None = None) -> dict:
    found = boards_service.settings_of(request.dbsession, request.tenant)
    shown = form or {
        "verified_only": "on" if found.verified_only else "",
        "points_per_topic": str(found.points_per_topic),
        "points_per_reply": str(found.points_per_reply),
        "sensitive_words": found.sensitive_words,
        "sensitive_action": found.sensitive_action,
    }
    return {**_common(request), "form": shown, "actions": SENSITIVE_ACTIONS, "saved": request.params.get("saved")}


def _settings_facts(found) -> dict:
    return {
        "verified_only": found.verified_only,
        "points_per_topic": found.points_per_topic,
        "points_per_reply": found.points_per_reply,
        "sensitive_words": len(found.words),
        "sensitive_action": found.sensitive_action,
    }


@view_config(route_name="admin.community_settings", renderer="admin/community_settings.pt", permission=PERMISSION)
def settings(request):
    if request.method != "POST":
        return settings_page(request)
    session = request.dbsession
    before = _settings_facts(boards_service.settings_of(session, request.tenant))
    data = settings_page(request, dict(request.POST))
    on_refusal(request, lambda error: by_field(data, error))
    saved = boards_service.save_settings(session, request.tenant, dict(request.POST))
    audit.record(request, "community.settings", "community_settings", saved.id, before, _settings_facts(saved))
    return HTTPSeeOther(request.route_path("admin.community_settings", _query={"saved": "1"}))


def boards_page(request, form: dict | None = None, board: Board | None = None) -> dict:
    return {
        **_common(request),
        "boards": boards_service.boards(request.dbsession, request.tenant),
        "board": board,
        "locales": request.tenant.locales,
        "topic_form": {},
        "form": form
        or (
            {
                "slug": board.slug,
                "position": str(board.position),
                "staff_only": "on" if board.staff_only else "",
                **{f"name_{k}": v for k, v in board.names.items()},
                **{f"description_{k}": v for k, v in board.descriptions.items()},
            }
            if board
            else {}
        ),
    }


@view_config(route_name="admin.community_boards", renderer="admin/community_boards.pt", permission=PERMISSION)
@view_config(route_name="admin.community_board", renderer="admin/community_boards.pt", permission=PERMISSION)
def boards(request):
    """The boards: add one, change one (names and descriptions per language, order, staff only)."""
    found = found_or_404(request, Board) if "id" in request.matchdict else None
    if request.method != "POST":
        return boards_page(request, board=found)
    data = boards_page(request, dict(request.POST), found)
    on_refusal(request, lambda error: by_field(data, error))
    before = {"name": found.slug, "names": dict(found.names), "staff_only": found.staff_only} if found else None
    saved = boards_service.save_board(request.dbsession, request.tenant, dict(request.POST), found)
    after = {"name": saved.slug, "names": dict(saved.names), "staff_only": saved.staff_only}
    audit.record(request, "community.board", "community_board", saved.id, before, after)
    return HTTPSeeOther(request.route_path("admin.community_boards"))


@view_config(
    route_name="admin.community_announce",
    renderer="admin/community_boards.pt",
    request_method="POST",
    permission=PERMISSION,
)
def announce(request):
    """Staff post a topic (an announcement in 官方公告, or in any board) under their name."""
    session = request.dbsession
    data = boards_page(request)
    data["topic_form"] = dict(request.POST)
    on_refusal(request, lambda error: by_field(data, error))
    board = boards_service.find_board(session, request.POST.get("board"))
    identity = request.identity
    found = posting.announce(
        session,
        request.tenant,
        board,
        author=f"staff:{identity.principal_id}:{identity.display_name}",
        title=request.POST.get("title", ""),
        body=request.POST.get("body", ""),
    )
    audit.record(request, "community.topic.post", "community_topic", found.id, None, {"title": found.title})
    return HTTPSeeOther(request.route_path("community.topic", id=found.id))
