"""What a chat does: open, say, accept, close; who is on duty; canned replies; office hours.

Each message takes the next number of its chat under a lock on the chat row,
so numbers follow the order of commits and a client asking for the messages
``after`` the last number it has never misses one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa

from ..db import utcnow
from ..help import inbox
from ..i18n import _
from . import hours as office
from .errors import ChatError
from .models import CHATS, CannedReply, Chat, ChatAgent, ChatMessage, ChatStatus, OfficeHours
from .waiting import announce_after_commit

NAME_LENGTH = 60
BODY_LENGTH = 2000
DUTY_LAPSES = dt.timedelta(minutes=15)
"""Staff on duty who have not looked at the queue or a chat for this long count as away."""
SEEN_EVERY = dt.timedelta(minutes=1)
WRITE_SOMETHING = _("Write a message.")


def new_token() -> str:
    """The secret a chat's opener keeps in a cookie; only its hash is stored."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _text(value: str, field: str, limit: int, missing=None) -> str:
    """``value`` trimmed and checked: ``missing`` is the message when it is blank (None: it may be)."""
    text = (value or "").replace("\r\n", "\n").strip()
    if missing is not None and not text:
        raise ChatError(field, missing)
    if len(text) > limit:
        raise ChatError(field, _("Use at most ${n} characters.", mapping={"n": limit}))
    if "\x00" in text:
        raise ChatError(field, _("This value holds characters that are not allowed."))
    return text


# -- availability ---------------------------------------------------------------------------------


def office_hours(session) -> dict[int, tuple[str, str]]:
    rows = session.scalars(sa.select(OfficeHours).order_by(OfficeHours.weekday))
    return {row.weekday: (row.opens, row.closes) for row in rows}


def set_office_hours(session, tenant, days: dict[int, tuple[str, str] | None]) -> dict:
    """Replace the tenant's office hours (a weekday with ``None`` is closed); returns them as recorded."""
    session.execute(sa.delete(OfficeHours).where(OfficeHours.tenant_id == tenant.id))
    for weekday, day in sorted(days.items()):
        if day is not None:
            session.add(OfficeHours(tenant_id=tenant.id, weekday=weekday, opens=day[0], closes=day[1]))
    session.flush()
    return {str(weekday): f"{day[0]}–{day[1]}" for weekday, day in sorted(days.items()) if day}


def staff_on_duty(session, now: dt.datetime | None = None) -> int:
    now = now or utcnow()
    return session.scalar(
        sa.select(sa.func.count())
        .select_from(ChatAgent)
        .where(ChatAgent.on_duty.is_(True), ChatAgent.seen_at >= now - DUTY_LAPSES)
    )


def why_closed(session, tenant, now: dt.datetime | None = None) -> str | None:
    """None when a visitor can chat now; else ``hours`` (outside office hours) or ``away`` (nobody on duty)."""
    now = now or utcnow()
    if not office.is_open(office_hours(session), tenant.timezone, now):
        return "hours"
    if not staff_on_duty(session, now):
        return "away"
    return None


def agent(session, tenant, staff_id: int) -> ChatAgent:
    found = session.scalars(sa.select(ChatAgent).where(ChatAgent.staff_id == staff_id)).one_or_none()
    if found is None:
        found = ChatAgent(tenant_id=tenant.id, staff_id=staff_id, on_duty=False, seen_at=utcnow())
        session.add(found)
        session.flush()
    return found


def set_duty(session, tenant, staff_id: int, on_duty: bool) -> ChatAgent:
    duty = agent(session, tenant, staff_id)
    duty.on_duty, duty.seen_at = on_duty, utcnow()
    return duty


def seen(session, tenant, staff_id: int) -> None:
    """The staff member is looking at the chats: keep their duty fresh (a write at most once a minute)."""
    duty = session.scalars(sa.select(ChatAgent).where(ChatAgent.staff_id == staff_id)).one_or_none()
    now = utcnow()
    if duty is not None and duty.on_duty and now - duty.seen_at >= SEEN_EVERY:
        duty.seen_at = now


# -- a chat's life ---------------------------------------------------------------------------------


def open_chat(session, tenant, *, name: str, body: str, token: str, member=None, locale: str = "") -> Chat:
    """A new chat in the queue with its first message."""
    name = _text(name, "name", NAME_LENGTH, _("Tell us your name."))
    body = _text(body, "body", BODY_LENGTH, WRITE_SOMETHING)
    chat = Chat(
        tenant_id=tenant.id,
        status=CHATS.initial,
        name=name,
        member_id=getattr(member, "id", None),
        token_hash=token_hash(token),
        locale=locale,
    )
    session.add(chat)
    session.flush()
    _append(session, chat, "visitor", body, author_name=name)
    return chat


def leave_message(session, tenant, *, member=None, name="", email="", phone="", body="", locale=""):
    """Nobody can chat now: the message goes to the help centre's inbox (留言), answered from there."""
    body = _text(body, "body", BODY_LENGTH, WRITE_SOMETHING)
    asker = inbox.Asker(member=member) if member is not None else inbox.visitor(name, email, phone)
    first_line = body.splitlines()[0]
    subject = first_line if len(first_line) <= 60 else first_line[:59] + "…"
    return inbox.ask(session, tenant, asker, subject=subject, body=body, origin="chat", locale=locale)


def locked(session, chat_id: int) -> Chat:
    chat = session.scalars(sa.select(Chat).where(Chat.id == chat_id).with_for_update()).one_or_none()
    if chat is None:
        raise ChatError("chat", _("This chat does not exist."))
    return chat


def _append(session, chat: Chat, author: str, body: str, *, author_name: str = "", staff_id=None) -> ChatMessage:
    chat.last_seq += 1
    chat.last_message_at = utcnow()
    message = ChatMessage(
        tenant_id=chat.tenant_id,
        chat_id=chat.id,
        seq=chat.last_seq,
        author=author,
        author_name=author_name,
        staff_id=staff_id,
        body=body,
    )
    session.add(message)
    session.flush()
    announce_after_commit(session)
    return message


def say(session, chat_id: int, body: str, *, staff=None) -> ChatMessage:
    """A message from the chat's opener, or (``staff``) from the staff member who accepted it."""
    body = _text(body, "body", BODY_LENGTH, WRITE_SOMETHING)
    chat = locked(session, chat_id)
    if chat.status == ChatStatus.CLOSED:
        raise ChatError("body", _("This chat is closed. Open a new chat to write to us again."))
    if staff is None:
        return _append(session, chat, "visitor", body, author_name=chat.name)
    if chat.staff_id != staff.id:
        raise ChatError("body", _("Accept the chat before you answer it."))
    return _append(session, chat, "staff", body, author_name=staff_name(staff), staff_id=staff.id)


def staff_name(staff) -> str:
    return (staff.display_name or staff.login or "").strip()


def accept(session, chat_id: int, staff) -> Chat:
    """``staff`` takes the chat: one staff member per chat, the first to accept."""
    chat = locked(session, chat_id)
    if chat.status == ChatStatus.ACTIVE:
        raise ChatError("chat", _("${name} already accepted this chat.", mapping={"name": chat.staff_name}))
    if chat.status == ChatStatus.CLOSED:
        raise ChatError("chat", _("This chat is closed."))
    CHATS.move(chat, ChatStatus.ACTIVE)
    chat.staff_id, chat.staff_name, chat.accepted_at = staff.id, staff_name(staff), utcnow()
    _append(session, chat, "event", "accepted", author_name=chat.staff_name, staff_id=staff.id)
    return chat


def close(session, chat_id: int) -> Chat:
    chat = locked(session, chat_id)
    if chat.status == ChatStatus.CLOSED:
        raise ChatError("chat", _("This chat is closed."))
    CHATS.move(chat, ChatStatus.CLOSED)
    chat.closed_at = utcnow()
    _append(session, chat, "event", "closed")
    return chat


def messages_after(session, chat: Chat, after: int) -> list[ChatMessage]:
    return list(
        session.scalars(
            sa.select(ChatMessage)
            .where(ChatMessage.chat_id == chat.id, ChatMessage.seq > after)
            .order_by(ChatMessage.seq)
            .limit(500)
        )
    )


def changed_since(engine, tenant_id: int, chat_id: int, after: int, status: str) -> bool:
    """Whether the chat has a message past ``after`` or another status, read in a short transaction of its own
    (a waiting poll holds none: it must see what others commit meanwhile, and on SQLite a transaction holds
    the write lock)."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(Chat.last_seq, Chat.status).where(Chat.tenant_id == tenant_id, Chat.id == chat_id)
        ).one_or_none()
    return row is None or row.last_seq > after or row.status != status


# -- lists -----------------------------------------------------------------------------------------


def queue(session) -> list[Chat]:
    """Waiting chats, oldest first."""
    return list(
        session.scalars(
            sa.select(Chat).where(Chat.status == ChatStatus.WAITING).order_by(Chat.created_at, Chat.id).limit(200)
        )
    )


def active(session) -> list[Chat]:
    return list(
        session.scalars(sa.select(Chat).where(Chat.status == ChatStatus.ACTIVE).order_by(Chat.last_message_at.desc()))
    )


def recently_closed(session, limit: int = 50) -> list[Chat]:
    return list(
        session.scalars(
            sa.select(Chat).where(Chat.status == ChatStatus.CLOSED).order_by(Chat.closed_at.desc()).limit(limit)
        )
    )


def chats_of_member(session, member_id: int) -> list[Chat]:
    return list(session.scalars(sa.select(Chat).where(Chat.member_id == member_id).order_by(Chat.id.desc())))


def chats_of_token(session, token: str | None) -> list[Chat]:
    if not token:
        return []
    return list(
        session.scalars(sa.select(Chat).where(Chat.token_hash == token_hash(token)).order_by(Chat.id.desc()).limit(20))
    )


# -- canned replies --------------------------------------------------------------------------------


def canned_replies(session, locale: str | None = None) -> list[CannedReply]:
    query = sa.select(CannedReply).order_by(CannedReply.locale, CannedReply.title)
    if locale:
        query = query.where(CannedReply.locale == locale)
    return list(session.scalars(query))


def save_canned(session, tenant, *, locale: str, title: str, body: str) -> CannedReply:
    if locale not in tenant.locales:
        raise ChatError("locale", _("Choose one of the site's languages."))
    reply = CannedReply(
        tenant_id=tenant.id,
        locale=locale,
        title=_text(title, "title", 80, _("Give the reply a short title.")),
        body=_text(body, "reply_body", 1000, WRITE_SOMETHING),
    )
    session.add(reply)
    session.flush()
    return reply


def canned_reply(session, reply_id) -> CannedReply | None:
    try:
        return session.get(CannedReply, int(reply_id))
    except (TypeError, ValueError, OverflowError):
        return None
