"""What staff do about a member: violations (違規) that freeze, VIP points (VIP積分), messages (站內信).

A violation freezes what it names: signing in, bidding, withdrawing (flags on
the member, kept as the union of the active violations) or posting in the
community (a posting ban, read when a member posts: :func:`posting_ban`),
until staff lift it or, for a posting ban with a duration, until it ends.

Each function takes the session, the member and who acts, raises
:class:`~core.members.services.MemberError` on bad input and changes nothing then.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from ..db import utcnow
from ..i18n import _
from .models import Member, Message, PointsEntry, Violation
from .services import MemberError

DEFAULT_VIP_LEVELS = (("V0", 0), ("V1", 1000), ("V2", 5000), ("V3", 20000), ("V4", 100000))
DEFAULT_POINTS_PER_100 = 1


# -- violations -----------------------------------------------------------------


def record_violation(
    session,
    member: Member,
    *,
    reason: str,
    freeze_login=False,
    freeze_bidding=False,
    freeze_withdrawal=False,
    freeze_posting=False,
    ends_at: dt.datetime | None = None,
    by: str,
) -> Violation:
    """Record a violation freezing what it names; ``ends_at`` (a posting ban only): when it stops freezing."""
    reason = (reason or "").strip()
    if not reason:
        raise MemberError("reason", _("Give the member a reason."))
    if len(reason) > 300:
        raise MemberError("reason", _("Use at most ${n} characters.", mapping={"n": 300}))
    if ends_at is not None and not freeze_posting:
        raise MemberError("ends_at", _("Only a posting ban ends by itself."))
    if ends_at is not None and ends_at <= utcnow():
        raise MemberError("ends_at", _("A ban ends in the future."))
    violation = Violation(
        tenant_id=member.tenant_id,
        member_id=member.id,
        reason=reason,
        freeze_login=bool(freeze_login),
        freeze_bidding=bool(freeze_bidding),
        freeze_withdrawal=bool(freeze_withdrawal),
        freeze_posting=bool(freeze_posting),
        ends_at=ends_at if freeze_posting else None,
        recorded_by=by,
    )
    session.add(violation)
    session.flush()
    _refresh_freezes(session, member)
    return violation


def lift_violation(session, member: Member, violation_id: int, *, by: str) -> Violation:
    violation = session.scalars(
        sa.select(Violation).where(Violation.id == violation_id, Violation.member_id == member.id)
    ).first()
    if violation is None or violation.lifted_at is not None:
        raise MemberError("violation", _("There is no such active violation."))
    violation.lifted_at, violation.lifted_by = utcnow(), by
    session.flush()
    _refresh_freezes(session, member)
    return violation


def violations(session, member: Member, active_only: bool = False) -> list[Violation]:
    query = sa.select(Violation).where(Violation.member_id == member.id)
    if active_only:
        query = query.where(Violation.lifted_at.is_(None))
    return session.scalars(query.order_by(Violation.id.desc())).all()


def login_freeze_reasons(session, member: Member) -> str | None:
    """Why ``member`` may not sign in (the reasons of the violations freezing it), or ``None``.

    The sign-in form and the API's token request both refuse a frozen member
    with these reasons, after the password was right.
    """
    if not member.login_frozen:
        return None
    return "; ".join(v.reason for v in violations(session, member, active_only=True) if v.freeze_login)


def posting_ban(session, member: Member, now: dt.datetime | None = None) -> Violation | None:
    """The active violation that freezes ``member``'s posting (the one ending last), or ``None``.

    A posting ban is lifted by staff or ends at its ``ends_at``; without one it lasts until lifted.
    """
    now = now or utcnow()
    bans = [
        v
        for v in violations(session, member, active_only=True)
        if v.freeze_posting and (v.ends_at is None or v.ends_at > now)
    ]
    if not bans:
        return None
    return max(bans, key=lambda v: (v.ends_at is None, v.ends_at or now))


def _refresh_freezes(session, member: Member) -> None:
    """The member's freeze flags are the union of their active violations."""
    active = violations(session, member, active_only=True)
    member.login_frozen = any(v.freeze_login for v in active)
    member.bidding_frozen = any(v.freeze_bidding for v in active)
    member.withdrawal_frozen = any(v.freeze_withdrawal for v in active)
    if member.login_frozen:
        from ..accounts.sessions import revoke_all

        revoke_all(session, "member", member.id, member.tenant_id)


# -- VIP points -----------------------------------------------------------------


@dataclass(frozen=True)
class VipLevel:
    name: str
    points: int


def vip_levels(tenant) -> list[VipLevel]:
    levels = (tenant.vip or {}).get("levels") or [list(x) for x in DEFAULT_VIP_LEVELS]
    return sorted((VipLevel(name, int(points)) for name, points in levels), key=lambda level: level.points)


def vip_level(tenant, points: int) -> VipLevel:
    """The highest level whose threshold ``points`` reaches."""
    levels = vip_levels(tenant)
    reached = [level for level in levels if points >= level.points]
    return reached[-1] if reached else levels[0]


def points_for_investment(tenant, amount_minor: int, exponent: int = 2) -> int:
    """Points a tenant's rule gives for investing ``amount_minor`` (per 100 major units, rounded down)."""
    per_100 = int((tenant.vip or {}).get("points_per_100", DEFAULT_POINTS_PER_100))
    return amount_minor // (100 * 10**exponent) * per_100


def award_points(session, member: Member, points: int, *, reason: str, ref: str) -> PointsEntry | None:
    """Add (or with a negative number take) points once per ``ref``; never below zero."""
    if not ref:
        raise MemberError("ref", _("A reference is required."))
    existing = session.scalars(
        sa.select(PointsEntry).where(PointsEntry.member_id == member.id, PointsEntry.ref == ref)
    ).first()
    if existing is not None:
        return existing
    if points == 0:
        return None
    if member.vip_points + points < 0:
        raise MemberError("points", _("The member does not have that many points."))
    member.vip_points += points
    entry = PointsEntry(
        tenant_id=member.tenant_id,
        member_id=member.id,
        points=points,
        reason=reason[:120],
        ref=ref[:80],
        balance_after=member.vip_points,
    )
    session.add(entry)
    session.flush()
    return entry


def points_history(session, member: Member, limit: int = 50) -> list[PointsEntry]:
    return session.scalars(
        sa.select(PointsEntry).where(PointsEntry.member_id == member.id).order_by(PointsEntry.id.desc()).limit(limit)
    ).all()


# -- messages -------------------------------------------------------------------


def send_message(session, member: Member, *, subject: str, body: str, sender: str, to_staff: bool = False) -> Message:
    subject, body = (subject or "").strip(), (body or "").strip()
    if not subject or len(subject) > 200:
        raise MemberError("subject", _("Enter a subject of up to 200 characters."))
    if not body or len(body) > 5000:
        raise MemberError("body", _("Enter a message of up to 5,000 characters."))
    message = Message(
        tenant_id=member.tenant_id,
        member_id=member.id,
        subject=subject,
        body=body,
        sender=sender,
        direction="to_staff" if to_staff else "to_member",
    )
    session.add(message)
    session.flush()
    return message


def notify(session, member: Member, subject: str, body: str) -> Message:
    """A system notice to the member (loan funded, payback received …)."""
    return send_message(session, member, subject=subject, body=body, sender="system")


def conversation(session, member: Member, limit: int = 100) -> list[Message]:
    return session.scalars(
        sa.select(Message).where(Message.member_id == member.id).order_by(Message.id.desc()).limit(limit)
    ).all()


def mark_read(session, member: Member, direction: str) -> int:
    """Mark the messages sent to one side as read; how many were unread."""
    return session.execute(
        sa.update(Message)
        .where(
            Message.member_id == member.id,
            Message.direction == direction,
            Message.read_at.is_(None),
        )
        .values(read_at=utcnow())
    ).rowcount


def unread(session, member: Member) -> int:
    return session.scalar(
        sa.select(sa.func.count())
        .select_from(Message)
        .where(Message.member_id == member.id, Message.direction == "to_member", Message.read_at.is_(None))
    )
