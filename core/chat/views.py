"""The visitor's side: open a chat (or leave a message), the chat page, its messages; a member's chats.

A chat belongs to whoever opened it: the browser holding its cookie
(:data:`COOKIE`, a random token whose hash the chat keeps) or the signed-in
member who opened it. Anyone else asking for it gets 404, as for a chat of
another site.
"""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from ..backoffice import throttle_message
from ..forms import by_field, form_page, on_refusal, refuse
from ..portal.names import greeting_name
from ..throttle import Throttled
from . import polling, services
from .errors import ChatError
from .models import Chat, ChatStatus

COOKIE = "lendstack_chat"
COOKIE_DAYS = 30
MAX_ID = 2**31 - 1


def _member(request):
    identity = request.identity
    return identity.user if identity is not None and identity.kind == "member" else None


def _token(request) -> str | None:
    token = request.cookies.get(COOKIE, "")
    return token if 20 <= len(token) <= 64 else None


def own_chat(request) -> Chat:
    """The chat of the URL if it is this visitor's (their cookie) or this member's; 404 otherwise."""
    chat_id = int(request.matchdict["id"])
    chat = request.dbsession.get(Chat, chat_id) if chat_id <= MAX_ID else None
    if chat is None or chat.tenant_id != request.tenant.id:
        raise HTTPNotFound()
    token = _token(request)
    if token is not None and services.token_hash(token) == chat.token_hash:
        return chat
    member = _member(request)
    if member is not None and chat.member_id == member.id:
        return chat
    raise HTTPNotFound()


def _remember_token(request, response, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=COOKIE_DAYS * 86400,
        path="/",
        httponly=True,
        samesite="Lax",
        secure=request.registry.settings_obj.secure_cookies,
    )


def _hit(request, rule: str, *keys) -> Throttled | None:
    try:
        request.throttle.hit(rule, request.tenant.slug, *keys)
    except Throttled as throttled:
        return throttled
    return None


@view_config(route_name="chat.start", renderer="chat/start.pt")
def start(request):
    """The chat form: a name (a member's own) and a first message. Outside office hours, or with nobody on
    duty, the form leaves a message (留言) for the help centre's inbox instead."""
    member = _member(request)
    closed = services.why_closed(request.dbsession, request.tenant)
    data = form_page(
        request,
        member=member,
        member_name=greeting_name(member) if member is not None else "",
        closed=closed,
        left=request.params.get("left"),
        chats=_my_chats(request, member),
    )
    if request.method != "POST":
        return data
    throttled = _hit(request, "chat.open", request.client_addr or "-")
    if throttled is not None:
        return refuse(request, data, ChatError("body", throttle_message(throttled)), 429)
    on_refusal(request, lambda error: by_field(data, error))
    if closed is not None:
        services.leave_message(
            request.dbsession,
            request.tenant,
            member=member,
            name=request.POST.get("name", ""),
            email=request.POST.get("email", ""),
            phone=request.POST.get("phone", ""),
            body=request.POST.get("body", ""),
            locale=request.locale_name,
        )
        return HTTPSeeOther(request.route_path("chat.start", _query={"left": 1}))
    token = _token(request) or services.new_token()
    chat = services.open_chat(
        request.dbsession,
        request.tenant,
        name=greeting_name(member) if member is not None else request.POST.get("name", ""),
        body=request.POST.get("body", ""),
        token=token,
        member=member,
        locale=request.locale_name,
    )
    response = HTTPSeeOther(request.route_path("chat.view", id=chat.id))
    _remember_token(request, response, token)
    return response


def _my_chats(request, member) -> list[Chat]:
    chats = {c.id: c for c in services.chats_of_token(request.dbsession, _token(request))}
    if member is not None:
        chats.update({c.id: c for c in services.chats_of_member(request.dbsession, member.id)[:20]})
    return sorted(chats.values(), key=lambda c: c.id, reverse=True)


def chat_page(request, chat: Chat, poll_route: str = "chat.messages", **extra) -> dict:
    """A chat page's data: the transcript, where its script polls for more, the reply form."""
    return {
        "chat": chat,
        "messages": services.messages_after(request.dbsession, chat, 0),
        "text_of": lambda message: polling.message_json(request, message)["text"],
        "poll_url": request.route_path(poll_route, id=chat.id),
        "form": {},
        "errors": {},
        **extra,
    }


@view_config(route_name="chat.view", renderer="chat/chat.pt")
def view(request):
    return chat_page(request, own_chat(request))


@view_config(route_name="chat.say", renderer="chat/chat.pt", request_method="POST")
def say(request):
    """A message from the chat's opener: back to the chat page, or JSON for the page's script."""
    chat = own_chat(request)
    data = chat_page(request, chat, form=dict(request.POST))
    throttled = _hit(request, "chat.say", str(chat.id))
    if throttled is not None:
        return refuse(request, data, ChatError("body", throttle_message(throttled)), 429)
    on_refusal(request, lambda error: by_field(data, error))
    message = services.say(request.dbsession, chat.id, request.POST.get("body", ""))
    if wants_json(request):
        return json_answer(request, {"seq": message.seq})
    return HTTPSeeOther(request.route_path("chat.view", id=chat.id, _anchor="chat-form"))


@view_config(route_name="chat.close", request_method="POST")
def close(request):
    chat = own_chat(request)
    if chat.status != ChatStatus.CLOSED:
        services.close(request.dbsession, chat.id)
    return HTTPSeeOther(request.route_path("chat.view", id=chat.id))


@view_config(route_name="chat.messages", renderer="json", request_method="GET")
def messages(request):
    """New messages after ``after``; with ``wait=1`` the answer may wait for one (see core.chat.polling)."""
    return polling.answer(request, own_chat(request))


@view_config(route_name="account.chats", renderer="chat/account.pt", permission="member")
def account_chats(request):
    member = _member(request)
    return {"chats": services.chats_of_member(request.dbsession, member.id)}


def wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def json_answer(request, body: dict, status: int = 200):
    from pyramid.renderers import render_to_response

    response = render_to_response("json", body, request=request)
    response.status = status
    return response
