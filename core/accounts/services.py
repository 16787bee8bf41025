"""Creating operators and staff, and checking who is signing in."""
from __future__ import annotations

import re

import sqlalchemy as sa

from . import totp
from .models import Operator, StaffUser
from .passwords import hash_password, verify_password
from .permissions import DEFAULT_ROLES, ensure_default_roles

LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,79}$")
STAFF_ROLES = tuple(DEFAULT_ROLES)
# A hash checked when the login is unknown, so both cases take the same time.
_DUMMY_HASH = None


class AccountError(ValueError):
    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def _check_login(login: str) -> str:
    login = (login or "").strip().lower()
    if not LOGIN.match(login):
        raise AccountError("a login is 3–80 lowercase letters, digits, dots, dashes or underscores", "login")
    return login


def create_operator(session, login: str, password: str) -> Operator:
    login = _check_login(login)
    if session.scalars(sa.select(Operator).where(Operator.login == login)).first():
        raise AccountError(f"operator {login} already exists", "login")
    operator = Operator(login=login, password_hash=hash_password(password))
    session.add(operator)
    session.flush()
    return operator


def create_staff(session, tenant, login: str, password: str, role: str, display_name: str = "") -> StaffUser:
    """A staff user with one role; a role that moves money gets a TOTP secret to enrol."""
    login = _check_login(login)
    roles = ensure_default_roles(session, tenant.id)
    if role not in roles:
        raise AccountError(f"unknown role {role!r} (one of {', '.join(sorted(roles))})", "role")
    exists = session.scalars(
        sa.select(StaffUser).where(StaffUser.tenant_id == tenant.id, StaffUser.login == login)
    ).first()
    if exists:
        raise AccountError(f"staff {login} already exists at {tenant.slug}", "login")
    staff = StaffUser(tenant_id=tenant.id, login=login, display_name=display_name or login,
                      password_hash=hash_password(password), roles=[roles[role]])
    if staff.requires_2fa:
        staff.totp_secret = totp.new_secret()
    session.add(staff)
    session.flush()
    return staff


def _dummy_check(password: str) -> None:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password("not-a-real-password-0")
    verify_password(_DUMMY_HASH, password)


def authenticate_operator(session, login: str, password: str) -> Operator | None:
    operator = session.scalars(
        sa.select(Operator).where(Operator.login == (login or "").strip().lower(), Operator.active)
    ).first()
    if operator is None:
        _dummy_check(password)
        return None
    return operator if verify_password(operator.password_hash, password) else None


def authenticate_staff(session, tenant, login: str, password: str) -> StaffUser | None:
    staff = session.scalars(
        sa.select(StaffUser).where(StaffUser.tenant_id == tenant.id,
                                   StaffUser.login == (login or "").strip().lower(), StaffUser.active)
    ).first()
    if staff is None:
        _dummy_check(password)
        return None
    return staff if verify_password(staff.password_hash, password) else None
