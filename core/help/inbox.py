"""The messages inbox (留言): threads between staff and a visitor or a member.

Someone asks (:func:`ask`: the contact page, a member's messages page, the
API), staff with ``support.reply`` answer (:func:`reply`), assign, close and
reopen; a member answers back in their messages (:func:`member_reply`); staff
may start a thread with a member (:func:`start`). Every status change goes
through :data:`~core.help.models.THREADS`. A reply is told to its reader
(:mod:`core.help.notices`): a member by SMS or email as their preferences say
(the reply itself is in their 站內信), a visitor by email when they gave one.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from .. import search
from ..db import utcnow
from ..i18n import _
from ..members.models import Member, Message
from ..members.services import clean_email
from ..sms import SmsError, normalize_phone
from . import notices
from .faq import HelpError
from .models import THREADS, Thread, ThreadStatus

MAX_BODY = 5000
INBOX_FILTERS = ("waiting", "answered", "closed", "all")
ASSIGN_REFUSED = _("Choose a staff member who answers messages.")
UNKNOWN_ACTION = _("Choose reply, assign, close or reopen.")


@dataclass(frozen=True)
class Asker:
    """Who writes a new thread: a member (``member``), else a visitor's ``name`` and ``email`` or ``phone``."""

    member: Member | None = None
    name: str = ""
    email: str = ""
    phone: str = ""


def _subject(text) -> str:
    subject = str(text or "").strip()
    if not subject or len(subject) > 200:
        raise HelpError("subject", _("Enter a subject of up to 200 characters."))
    return subject


def _body(text) -> str:
    body = str(text or "").strip()
    if not body or len(body) > MAX_BODY:
        raise HelpError("body", _("Enter a message of up to 5,000 characters."))
    return body


def visitor(name, email, phone) -> Asker:
    """A visitor as they introduced themselves: a name, and an email address or a phone number (or both)."""
    name = str(name or "").strip()
    if not name or len(name) > 80:
        raise HelpError("name", _("Enter your name (up to 80 characters)."))
    email, phone = str(email or "").strip(), str(phone or "").strip()
    if not email and not phone:
        raise HelpError("email", _("Give an email address or a mobile number so that we can answer."))
    if email:
        email = clean_email(email)
    if phone:
        try:
            phone = normalize_phone(phone)
        except SmsError:
            raise HelpError("phone", _("Enter a valid mobile number.")) from None
    return Asker(name=name, email=email, phone=phone)


def ask(session, tenant, asker: Asker, *, subject, body, origin: str, locale: str = "") -> Thread:
    """A new thread from a visitor or a member, waiting for staff."""
    subject, body = _subject(subject), _body(body)
    member = asker.member
    thread = Thread(
        tenant_id=tenant.id,
        member_id=member.id if member else None,
        name=(member.display_name or member.masked_name or member.contact)[:80] if member else asker.name,
        email=(member.email or "") if member else asker.email,
        phone=(member.phone or "") if member else asker.phone,
        locale=locale,
        subject=subject,
        origin=origin,
        status=THREADS.initial.value,
    )
    session.add(thread)
    session.flush()
    _add(session, thread, body, direction="to_staff", sender="member" if member else "visitor")
    return thread


def start(session, tenant, member: Member, *, subject, body, sender: str) -> Thread:
    """A thread staff start with a member (from the member's page): answered until the member writes back."""
    subject, body = _subject(subject), _body(body)
    thread = Thread(
        tenant_id=tenant.id,
        member_id=member.id,
        name=(member.display_name or member.masked_name or member.contact)[:80],
        email=member.email or "",
        phone=member.phone or "",
        locale=member.locale or "",
        subject=subject,
        origin="staff",
        status=ThreadStatus.ANSWERED.value,
    )
    session.add(thread)
    session.flush()
    _add(session, thread, body, direction="to_member", sender=sender)
    return thread


def reply(session, tenant, thread: Thread, *, body, sender: str) -> Message:
    """Staff's answer: kept in the thread (the member's 站內信) and told to the asker."""
    body = _body(body)
    if thread.status == ThreadStatus.CLOSED:
        raise HelpError("body", _("This conversation is closed: reopen it to reply."))
    if thread.status == ThreadStatus.OPEN:
        THREADS.move(thread, ThreadStatus.ANSWERED)
    message = _add(session, thread, body, direction="to_member", sender=sender)
    mark_read(session, thread, "to_staff")
    notices.tell_reply(session, tenant, thread, body)
    return message


def member_reply(session, member: Member, thread: Thread, *, body) -> Message:
    """A member writes back in one of their threads: it waits for staff again (a closed one reopens)."""
    if thread.member_id != member.id:
        raise HelpError("thread", _("There is no such conversation."))
    body = _body(body)
    if thread.status != ThreadStatus.OPEN:
        THREADS.move(thread, ThreadStatus.OPEN)
        thread.closed_at = None
    return _add(session, thread, body, direction="to_staff", sender="member")


def assign(session, thread: Thread, staff_id: int | None) -> None:
    """Give the thread to one staff user with ``support.reply`` (``None``: to nobody)."""
    if staff_id is not None and staff_id not in {user.id for user in responders(session)}:
        raise HelpError("assigned_to", ASSIGN_REFUSED)
    thread.assigned_to = staff_id


def close(thread: Thread) -> None:
    THREADS.move(thread, ThreadStatus.CLOSED)
    thread.closed_at = utcnow()


def reopen(thread: Thread) -> None:
    THREADS.move(thread, ThreadStatus.OPEN)
    thread.closed_at = None


def _add(session, thread: Thread, body: str, *, direction: str, sender: str) -> Message:
    message = Message(
        tenant_id=thread.tenant_id,
        member_id=thread.member_id,
        thread_id=thread.id,
        direction=direction,
        sender=sender,
        subject=thread.subject,
        body=body,
    )
    session.add(message)
    thread.last_message_at = utcnow()
    session.flush()
    session.expire(thread, ["messages"])
    return message


def mark_read(session, thread: Thread, direction: str) -> None:
    """Mark the thread's messages sent one way as read (``to_staff``: staff opened it; ``to_member``: the asker)."""
    session.execute(
        sa.update(Message)
        .where(Message.thread_id == thread.id, Message.direction == direction, Message.read_at.is_(None))
        .values(read_at=utcnow())
    )


# -- reading ------------------------------------------------------------------------


def thread_of(session, thread_id) -> Thread | None:
    """The tenant's thread by id (another tenant's is not found)."""
    return session.scalars(sa.select(Thread).where(Thread.id == int(thread_id))).first()


def inbox(session, *, status: str = "", assigned: str = "", query: str = "", limit: int = 200) -> list[Thread]:
    """Threads for staff, those waiting for a reply first (the longest waiting first), then the newest.

    ``status``: one of :data:`INBOX_FILTERS` (empty: every thread not closed);
    ``assigned``: ``none`` (nobody's) or a staff id; ``query`` searches subjects, names and addresses.
    """
    statement = sa.select(Thread)
    if status == "waiting":
        statement = statement.where(Thread.status == ThreadStatus.OPEN.value)
    elif status in ("answered", "closed"):
        statement = statement.where(Thread.status == status)
    elif status != "all":
        statement = statement.where(Thread.status != ThreadStatus.CLOSED.value)
    if assigned == "none":
        statement = statement.where(Thread.assigned_to.is_(None))
    elif assigned.isascii() and assigned.isdigit() and len(assigned) < 10:
        statement = statement.where(Thread.assigned_to == int(assigned))
    clause = search.matching([Thread.subject, Thread.name, Thread.email, Thread.phone], query)
    if clause is not None:
        statement = statement.where(clause)
    waiting = sa.case((Thread.status == ThreadStatus.OPEN.value, 0), else_=1)
    oldest_waiting = sa.case((Thread.status == ThreadStatus.OPEN.value, Thread.last_message_at))
    statement = statement.order_by(waiting, oldest_waiting, Thread.last_message_at.desc(), Thread.id.desc())
    return session.scalars(statement.limit(limit)).all()


def waiting_count(session) -> int:
    return session.scalar(
        sa.select(sa.func.count()).select_from(Thread).where(Thread.status == ThreadStatus.OPEN.value)
    )


def member_threads(session, member: Member, limit: int = 50) -> list[Thread]:
    """A member's threads, the latest activity first."""
    return session.scalars(
        sa.select(Thread)
        .where(Thread.member_id == member.id)
        .order_by(Thread.last_message_at.desc(), Thread.id.desc())
        .limit(limit)
    ).all()


def notices_of(session, member: Member, limit: int = 50) -> list[Message]:
    """A member's system notices (site messages outside any thread), newest first."""
    return session.scalars(
        sa.select(Message)
        .where(Message.member_id == member.id, Message.thread_id.is_(None))
        .order_by(Message.id.desc())
        .limit(limit)
    ).all()


def responders(session) -> list:
    """The tenant's active staff who may answer messages (``support.reply``)."""
    from ..accounts.models import StaffUser

    users = session.scalars(sa.select(StaffUser).where(StaffUser.active.is_(True)).order_by(StaffUser.login)).all()
    return [user for user in users if "support.reply" in user.permissions]
