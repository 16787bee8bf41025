"""The answer to ``GET …/messages?after=N&wait=1``, for the visitor's and the staff's pages alike.

The request reads what is new in its own transaction. When nothing is, and the
client asked to wait, the request commits that transaction (it only read) and
waits in :data:`core.chat.waiting.ROOM` holding no database transaction;
then it reads again in a new one. With no free place in the waiting room it
answers at once and tells the client when to ask again (``retry_ms``).
"""

from __future__ import annotations

from . import services, waiting
from .models import Chat, ChatStatus


def message_json(request, message) -> dict:
    text = message.body
    if message.author == "event":
        labels = request.registry.get("labels", {}).get("chat_event", {})
        label = labels.get(message.body)
        text = request.localizer.translate(label, mapping={"name": message.author_name}) if label else message.body
    return {
        "seq": message.seq,
        "author": message.author,
        "name": message.author_name,
        "text": text,
        "at": message.created_at.isoformat(),
    }


def after_of(request) -> int:
    value = request.params.get("after", "0")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else 0


def answer(request, chat: Chat) -> dict:
    """What is new in ``chat`` after the client's ``after``, waiting for it when asked and a place is free."""
    after = after_of(request)
    messages = services.messages_after(request.dbsession, chat, after) if chat.last_seq > after else []
    retry_ms = waiting.RETRY_MS
    if not messages and request.params.get("wait") == "1" and chat.status != ChatStatus.CLOSED:
        with waiting.ROOM.place() as placed:
            if placed:
                chat, messages = _wait(request, chat, after)
                retry_ms = 0  # it waited: ask again at once
    return {
        "status": chat.status,
        "staff": chat.staff_name,
        "messages": [message_json(request, m) for m in messages],
        "last": messages[-1].seq if messages else after,
        "retry_ms": 0 if messages else retry_ms,
    }


def _wait(request, chat: Chat, after: int):
    """Wait in the room for news of ``chat``, outside any transaction; the chat and its new messages then."""
    tenant_id, chat_id, status = chat.tenant_id, chat.id, chat.status
    engine = request.registry["db_engine"]
    request.tm.commit()  # it only read: wait holding no transaction (on SQLite, no write lock)
    try:
        waiting.ROOM.wait(
            lambda: services.changed_since(engine, tenant_id, chat_id, after, status), waiting.HOLD_SECONDS
        )
    finally:
        request.tm.begin()
    chat = request.dbsession.get(Chat, chat_id)
    if chat is None:  # gone while the poll waited (its tenant's data removed): nothing more to say
        from pyramid.httpexceptions import HTTPNotFound

        raise HTTPNotFound()
    return chat, services.messages_after(request.dbsession, chat, after)
