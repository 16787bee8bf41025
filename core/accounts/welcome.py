"""A new tenant's first administrator: a one-time welcome link to choose a password and confirm two-factor sign-in.

The operator console creates the administrator with a random password nobody
knows and a TOTP secret, and shows the link and the enrolment QR code once.
Only the token's hash is stored; the link works once and for ``LIFETIME``.
Opening it, the administrator types a new password twice and a current code
from the authenticator app: the code proves the enrolment, so the first
sign-in already passed a second factor.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, TenantOwned, utcnow
from ..i18n import _
from . import totp
from .models import StaffUser
from .passwords import MIN_LENGTH, WeakPassword, hash_password
from .services import AccountError

LIFETIME = dt.timedelta(hours=72)


class WelcomeToken(TenantOwned, Base):
    """A one-time link for one staff user to set their password; ``used_at`` once it did."""

    __tablename__ = "welcome_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    created_by: Mapped[str] = mapped_column(sa.String(120), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None]


class WelcomeGone(LookupError):
    """The link was used already or has expired (a 410 page, not a 404: it existed)."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(session, staff: StaffUser, *, email: str = "", by: str = "") -> str:
    """A new welcome link's token for ``staff`` (shown once: only its hash is kept); earlier unused ones end."""
    now = utcnow()
    session.execute(
        sa.update(WelcomeToken)
        .where(WelcomeToken.staff_id == staff.id, WelcomeToken.used_at.is_(None))
        .values(expires_at=now)
    )
    token = secrets.token_urlsafe(32)
    session.add(
        WelcomeToken(
            tenant_id=staff.tenant_id,
            staff_id=staff.id,
            token_hash=_hash(token),
            email=email,
            created_by=by[:120],
            created_at=now,
            expires_at=now + LIFETIME,
        )
    )
    session.flush()
    return token


def find(session, tenant, token: str, *, lock: bool = False) -> tuple[WelcomeToken, StaffUser]:
    """The live link ``token`` names at ``tenant`` and its staff user.

    ``LookupError`` when no such link exists here; :class:`WelcomeGone` when it was used or has expired.
    ``lock``: take the row for update (two tabs submitting the same link: one wins).
    """
    if not token or len(token) > 100:
        raise LookupError("no such welcome link")
    query = sa.select(WelcomeToken).where(WelcomeToken.tenant_id == tenant.id, WelcomeToken.token_hash == _hash(token))
    welcome = session.scalars(query.with_for_update() if lock else query).first()
    if welcome is None:
        raise LookupError("no such welcome link")
    staff = session.get(StaffUser, welcome.staff_id)
    if welcome.used_at is not None or welcome.expires_at <= utcnow() or staff is None or not staff.active:
        raise WelcomeGone("this welcome link was used or has expired")
    return welcome, staff


def accept(session, welcome: WelcomeToken, staff: StaffUser, *, password: str, confirm: str, code: str) -> None:
    """Set ``staff``'s password from the welcome page and use the link up.

    The code from the authenticator app must be right (and is consumed: the replay guard of
    :func:`core.accounts.totp.verify`). Refuses with :class:`AccountError` by field.
    """
    try:
        hashed = hash_password(password)
    except WeakPassword:
        raise AccountError("password", _("Use at least ${n} characters.", mapping={"n": MIN_LENGTH})) from None
    if confirm != password:
        raise AccountError("confirm", _("The passwords do not match."))
    if not totp.verify(staff, code):
        raise AccountError("code", _("The code is not correct."))
    staff.password_hash = hashed
    welcome.used_at = utcnow()


def enrolment_confirmed(staff: StaffUser) -> bool:
    """Whether a code from ``staff``'s authenticator was ever accepted (the QR code need not be shown again)."""
    return bool(staff.totp_last_step)
