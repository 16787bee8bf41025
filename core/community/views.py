"""Community pages of the portal: boards, a board's topics, a thread, search, posting, reporting, my posts.

Anyone reads; a signed-in member posts and reports. Posting is throttled per
member (``community.post.minute``, ``community.post.day``): a flood is
answered 429 and stores nothing.
"""

from __future__ import annotations

import math

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from ..forms import by_field, on_refusal, refuse
from ..i18n import _
from ..markup import plain, render
from ..templating import text_in
from ..throttle import Throttled
from . import boards as boards_service
from . import posting, reading
from .boards import CommunityError
from .models import Board, Post, PostStatus, Topic

NOTICES = {
    "reported": _("Thank you. A moderator will look at the post."),
    "held": _("Your post waits for a moderator's review before others can read it."),
}


def viewer(request):
    """The signed-in member reading the page, or ``None`` (a visitor or staff)."""
    identity = request.identity
    return identity.user if identity is not None and identity.kind == "member" else None


def found_or_404(request, model, key="id"):
    """The tenant's row of ``model`` whose id is in the URL; another tenant's id (or none) answers 404."""
    value = int(request.matchdict[key])
    found = request.dbsession.scalars(sa.select(model).where(model.id == value)).first()
    if found is None or found.tenant_id != request.tenant.id:
        raise HTTPNotFound()
    return found


def board_name(request, board: Board) -> str:
    return text_in(board.names, request.locale_name, request.tenant.default_locale)


def board_description(request, board: Board) -> str:
    return text_in(board.descriptions, request.locale_name, request.tenant.default_locale)


def _common(request) -> dict:
    return {
        "board_name": lambda board: board_name(request, board),
        "board_description": lambda board: board_description(request, board),
        "render": render,
        "plain": plain,
        "q": "",
        "member": viewer(request),
        "errors": {},
        "notice": NOTICES.get(request.params.get("done", "")),
        "statuses": PostStatus,
    }


def _throttled(request, member, data: dict):
    """Count one post; a 429 page with the wait when the member posts too often, else ``None``."""
    try:
        request.throttle.hit("community.post.minute", request.tenant.slug, str(member.id))
        request.throttle.hit("community.post.day", request.tenant.slug, str(member.id))
    except Throttled as throttled:
        message = _(
            "You are posting too often. Try again in ${minutes} minutes.",
            mapping={"minutes": max(1, math.ceil(throttled.retry_after / 60))},
        )
        return refuse(request, data, CommunityError("body", message), 429)
    return None


@view_config(route_name="community.index", renderer="community/index.pt")
def index(request):
    found = boards_service.boards(request.dbsession, request.tenant)
    return {**_common(request), "boards": found, "counts": reading.board_counts(request.dbsession)}


def board_page(request, board: Board, form: dict | None = None) -> dict:
    member = viewer(request)
    number = reading.page_number(request.params.get("page"))
    return {
        **_common(request),
        "board": board,
        "topics": reading.board_topics(request.dbsession, board, number, member.id if member else None),
        "form": form or {},
    }


@view_config(route_name="community.board", renderer="community/board.pt", request_method="GET")
def board(request):
    boards_service.boards(request.dbsession, request.tenant)
    return board_page(request, found_or_404(request, Board))


@view_config(route_name="community.board", renderer="community/board.pt", request_method="POST", permission="member")
def new_topic(request):
    found = found_or_404(request, Board)
    data = board_page(request, found, dict(request.POST))
    refused = _throttled(request, data["member"], data)
    if refused is not None:
        return refused
    on_refusal(request, lambda error: by_field(data, error))
    topic = posting.start_topic(
        request.dbsession,
        request.tenant,
        found,
        data["member"],
        title=request.POST.get("title", ""),
        body=request.POST.get("body", ""),
    )
    done = {"done": "held"} if topic.status == PostStatus.HELD.value else {}
    return HTTPSeeOther(request.route_path("community.topic", id=topic.id, _query=done))


def topic_page(request, topic: Topic, form: dict | None = None) -> dict:
    member = viewer(request)
    member_id = member.id if member else None
    if not reading.may_read(topic, member_id):
        raise HTTPNotFound()
    number = reading.page_number(request.params.get("page"))
    quote = None
    quote_id = (form or {}).get("quote") or request.params.get("quote")
    if str(quote_id or "").isdigit() and len(str(quote_id)) < 10:
        quote = request.dbsession.scalars(
            sa.select(Post).where(
                Post.id == int(quote_id), Post.topic_id == topic.id, Post.status == PostStatus.PUBLISHED.value
            )
        ).first()
    return {
        **_common(request),
        "topic": topic,
        "posts": reading.thread(request.dbsession, topic, number, member_id),
        "quote": quote,
        "form": form or {},
        "may_reply": topic.status == PostStatus.PUBLISHED.value and not topic.locked,
    }


@view_config(route_name="community.topic", renderer="community/topic.pt", request_method="GET")
def topic(request):
    return topic_page(request, found_or_404(request, Topic))


@view_config(route_name="community.topic", renderer="community/topic.pt", request_method="POST", permission="member")
def new_reply(request):
    found = found_or_404(request, Topic)
    data = topic_page(request, found, dict(request.POST))
    refused = _throttled(request, data["member"], data)
    if refused is not None:
        return refused
    on_refusal(request, lambda error: by_field(data, error))
    quote = request.POST.get("quote", "")
    post = posting.reply(
        request.dbsession,
        request.tenant,
        found,
        data["member"],
        body=request.POST.get("body", ""),
        quote_id=int(quote) if quote.isdigit() and len(quote) < 10 else None,
    )
    query = {"done": "held"} if post.status == PostStatus.HELD.value else {}
    last = reading.page_number(math.ceil(max(found.replies + 1, 1) / reading.PER_PAGE))
    if last > 1:
        query["page"] = last
    return HTTPSeeOther(request.route_path("community.topic", id=found.id, _query=query, _anchor=f"post-{post.id}"))


@view_config(route_name="community.report", renderer="community/topic.pt", request_method="POST", permission="member")
def report(request):
    post = found_or_404(request, Post)
    data = topic_page(request, post.topic)
    on_refusal(request, lambda error: by_field(data, error))
    posting.report(request.dbsession, request.tenant, post, data["member"], reason=request.POST.get("reason", ""))
    return HTTPSeeOther(request.route_path("community.topic", id=post.topic_id, _query={"done": "reported"}))


@view_config(route_name="community.search", renderer="community/search.pt")
def search(request):
    query = request.params.get("q", "").strip()
    number = reading.page_number(request.params.get("page"))
    return {**_common(request), "q": query, "results": reading.search(request.dbsession, query, number)}


@view_config(route_name="account.community", renderer="community/mine.pt", permission="member")
def my_posts(request):
    number = reading.page_number(request.params.get("page"))
    return {**_common(request), "posts": reading.member_posts(request.dbsession, request.identity.user.id, number)}
