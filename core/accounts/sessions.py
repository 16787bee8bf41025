"""Server-side sign-in sessions and API tokens: random tokens out, their hashes in.

A cookie session expires after ``IDLE`` without a request and ``ABSOLUTE``
after sign-in, whichever comes first; an API token after ``TOKEN_LIFETIME``.
Both are revoked by signing out, by "sign out everywhere", when the account
is deactivated and, for staff, when their roles or groups (or a role's
permissions) change. Signing in always makes a new session (rotation), so a
token planted before sign-in is worthless after it. Each session records
whether its sign-in passed a second factor (``second_factor_at``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa

from ..db import utcnow
from .models import AuthSession

IDLE = dt.timedelta(minutes=30)
ABSOLUTE = dt.timedelta(hours=12)
TOKEN_LIFETIME = dt.timedelta(hours=12)
TOUCH_EVERY = dt.timedelta(seconds=60)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(
    session,
    kind: str,
    principal_id: int,
    tenant_id: int | None,
    *,
    via: str = "cookie",
    address: str = "",
    user_agent: str = "",
    second_factor: bool = False,
) -> str:
    """Record a new session and return its token (shown once: only its hash is stored).

    ``second_factor``: the sign-in passed a TOTP code just now.
    """
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        AuthSession(
            token_hash=token_hash(token),
            kind=kind,
            principal_id=principal_id,
            tenant_id=tenant_id,
            via=via,
            created_at=now,
            last_seen_at=now,
            expires_at=now + (ABSOLUTE if via == "cookie" else TOKEN_LIFETIME),
            second_factor_at=now if second_factor else None,
            address=(address or "")[:64],
            user_agent=(user_agent or "")[:200],
        )
    )
    session.flush()
    return token


def find_session(session, token: str | None, via: str = "cookie") -> AuthSession | None:
    """The live session for ``token``, touched; ``None`` if unknown, revoked or expired."""
    if not token or len(token) > 100:
        return None
    found = session.scalars(
        sa.select(AuthSession).where(AuthSession.token_hash == token_hash(token), AuthSession.via == via)
    ).first()
    now = utcnow()
    if found is None or found.revoked_at is not None or found.expires_at <= now:
        return None
    if via == "cookie":
        if now - found.last_seen_at > IDLE:
            return None
        if now - found.last_seen_at > TOUCH_EVERY:
            found.last_seen_at = now
    return found


def revoke(session, auth_session: AuthSession) -> None:
    if auth_session.revoked_at is None:
        auth_session.revoked_at = utcnow()


def revoke_all(session, kind: str, principal_id: int, tenant_id: int | None, *, keep: int | None = None) -> int:
    """Revoke every live session of one principal (optionally keeping one); how many were revoked."""
    query = sa.update(AuthSession).where(
        AuthSession.kind == kind,
        AuthSession.principal_id == principal_id,
        AuthSession.revoked_at.is_(None),
        AuthSession.tenant_id.is_(None) if tenant_id is None else AuthSession.tenant_id == tenant_id,
    )
    if keep is not None:
        query = query.where(AuthSession.id != keep)
    return session.execute(query.values(revoked_at=utcnow())).rowcount


def live_sessions(session, kind: str, principal_id: int, tenant_id: int | None) -> list[AuthSession]:
    now = utcnow()
    rows = session.scalars(
        sa.select(AuthSession)
        .where(
            AuthSession.kind == kind,
            AuthSession.principal_id == principal_id,
            AuthSession.revoked_at.is_(None),
            AuthSession.expires_at > now,
            AuthSession.tenant_id.is_(None) if tenant_id is None else AuthSession.tenant_id == tenant_id,
        )
        .order_by(AuthSession.last_seen_at.desc())
    ).all()
    return [r for r in rows if r.via != "cookie" or now - r.last_seen_at <= IDLE]
