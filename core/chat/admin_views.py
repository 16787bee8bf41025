"""The staff's side (``support.reply``): duty, the queue, a chat (accept, reply, close), canned replies and
office hours, and a member's chats."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from .. import audit
from ..forms import by_field, on_refusal
from ..members.models import Member
from ..portal.names import greeting_name
from . import hours, polling, services
from .models import Chat
from .views import MAX_ID, chat_page, json_answer, wants_json

PERMISSION = "support.reply"


def _staff(request):
    return request.identity.user


def _chat(request) -> Chat:
    chat_id = int(request.matchdict["id"])
    chat = request.dbsession.get(Chat, chat_id) if chat_id <= MAX_ID else None
    if chat is None or chat.tenant_id != request.tenant.id:
        raise HTTPNotFound()
    return chat


def _recorded(chat: Chat) -> dict:
    return {"name": chat.name, "status": chat.status}


@view_config(route_name="admin.chat", renderer="admin/chat.pt", permission=PERMISSION)
def queue(request):
    db, staff = request.dbsession, _staff(request)
    services.seen(db, request.tenant, staff.id)
    duty = services.agent(db, request.tenant, staff.id)
    return {
        "duty": duty,
        "waiting": services.queue(db),
        "active": services.active(db),
        "closed": services.recently_closed(db),
        "closed_now": services.why_closed(db, request.tenant),
        "me": staff.id,
    }


@view_config(route_name="admin.chat_duty", permission=PERMISSION, request_method="POST")
def duty(request):
    on_duty = request.POST.get("on_duty") == "1"
    before = services.agent(request.dbsession, request.tenant, _staff(request).id).on_duty
    services.set_duty(request.dbsession, request.tenant, _staff(request).id, on_duty)
    if before != on_duty:
        audit.record(request, "chat.duty", "staff", _staff(request).id, {"on_duty": before}, {"on_duty": on_duty})
    return HTTPSeeOther(request.route_path("admin.chat"))


def _chat_page(request, chat: Chat, **extra) -> dict:
    replies = services.canned_replies(request.dbsession, chat.locale or None) or services.canned_replies(
        request.dbsession
    )
    return chat_page(
        request, chat, "admin.chat_messages", canned=replies, mine=chat.staff_id == _staff(request).id, **extra
    )


@view_config(route_name="admin.chat_view", renderer="admin/chat_view.pt", permission=PERMISSION)
def chat_view(request):
    chat = _chat(request)
    services.seen(request.dbsession, request.tenant, _staff(request).id)
    return _chat_page(request, chat)


@view_config(route_name="admin.chat_accept", permission=PERMISSION, request_method="POST")
def accept(request):
    chat = _chat(request)
    before = _recorded(chat)
    services.accept(request.dbsession, chat.id, _staff(request))
    audit.record(request, "chat.accept", "chat", chat.id, before, _recorded(chat))
    return HTTPSeeOther(request.route_path("admin.chat_view", id=chat.id, _anchor="chat-form"))


@view_config(route_name="admin.chat_reply", renderer="admin/chat_view.pt", permission=PERMISSION, request_method="POST")
def reply(request):
    chat = _chat(request)
    body = request.POST.get("body", "").strip()
    if not body and request.POST.get("canned"):
        canned = services.canned_reply(request.dbsession, request.POST["canned"])
        body = canned.body if canned is not None and canned.tenant_id == request.tenant.id else ""
    on_refusal(request, lambda error: by_field(_chat_page(request, chat, form=dict(request.POST)), error))
    message = services.say(request.dbsession, chat.id, body, staff=_staff(request))
    if wants_json(request):
        return json_answer(request, {"seq": message.seq})
    return HTTPSeeOther(request.route_path("admin.chat_view", id=chat.id, _anchor="chat-form"))


@view_config(route_name="admin.chat_close", permission=PERMISSION, request_method="POST")
def close(request):
    chat = _chat(request)
    before = _recorded(chat)
    services.close(request.dbsession, chat.id)
    audit.record(request, "chat.close", "chat", chat.id, before, _recorded(chat))
    return HTTPSeeOther(request.route_path("admin.chat"))


@view_config(route_name="admin.chat_messages", renderer="json", permission=PERMISSION, request_method="GET")
def messages(request):
    chat = _chat(request)
    services.seen(request.dbsession, request.tenant, _staff(request).id)
    return polling.answer(request, chat)


@view_config(route_name="admin.chat_settings", renderer="admin/chat_settings.pt", permission=PERMISSION)
def chat_settings(request):
    db, tenant = request.dbsession, request.tenant
    current = services.office_hours(db)
    data = {
        "replies": services.canned_replies(db),
        "locales": tenant.locales,
        "hours": current,
        "form": dict(request.POST)
        if request.method == "POST"
        else {f"opens{d}": current.get(d, ("", ""))[0] for d in hours.WEEKDAYS}
        | {f"closes{d}": current.get(d, ("", ""))[1] for d in hours.WEEKDAYS}
        | {"locale": request.locale_name if request.locale_name in tenant.locales else tenant.default_locale},
        "errors": {},
        "saved": request.params.get("saved"),
    }
    if request.method != "POST":
        return data
    on_refusal(request, lambda error: by_field(data, error))
    action = request.POST.get("action")
    if action == "hours":
        days = {
            d: hours.parse_day(d, request.POST.get(f"opens{d}", ""), request.POST.get(f"closes{d}", ""))
            for d in hours.WEEKDAYS
        }
        before = {str(d): f"{o}–{c}" for d, (o, c) in current.items()}
        after = services.set_office_hours(db, tenant, days)
        audit.record(request, "chat.hours", "tenant", tenant.id, before, after)
    elif action == "add_reply":
        reply = services.save_canned(
            db,
            tenant,
            locale=request.POST.get("locale", ""),
            title=request.POST.get("title", ""),
            body=request.POST.get("reply_body", ""),
        )
        audit.record(request, "chat.canned_save", "chat_canned_reply", reply.id, None, {"title": reply.title})
    elif action == "delete_reply":
        reply = services.canned_reply(db, request.POST.get("reply", ""))
        if reply is None or reply.tenant_id != tenant.id:
            raise HTTPNotFound()
        audit.record(request, "chat.canned_delete", "chat_canned_reply", reply.id, {"title": reply.title}, None)
        db.delete(reply)
    return HTTPSeeOther(request.route_path("admin.chat_settings", _query={"saved": action or ""}))


@view_config(route_name="admin.member_chats", renderer="admin/chat_member.pt", permission=PERMISSION)
def member_chats(request):
    member_id = int(request.matchdict["id"])
    member = request.dbsession.get(Member, member_id) if member_id <= MAX_ID else None
    if member is None or member.tenant_id != request.tenant.id:
        raise HTTPNotFound()
    return {
        "member": member,
        "member_name": greeting_name(member),
        "chats": services.chats_of_member(request.dbsession, member.id),
    }
