"""Creating operators and staff, and checking who is signing in."""

from __future__ import annotations

import re

import sqlalchemy as sa

from ..domain import DomainError
from . import totp
from .models import Operator, OrgUnit, Role, StaffGroup, StaffUser, group_roles, staff_groups, staff_roles
from .passwords import hash_password, verify_password
from .permissions import DEFAULT_ROLES, ensure_default_roles, set_role_permissions
from .sessions import revoke_all

LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,79}$")
STAFF_ROLES = tuple(DEFAULT_ROLES)
# A hash checked when the login is unknown, so both cases take the same time.
_DUMMY_HASH = None


class AccountError(DomainError):
    """A staff or operator account refused; ``field`` names the input, ``message`` (English) is also ``str()``."""

    def __str__(self) -> str:
        return self.message


def _check_login(login: str) -> str:
    login = (login or "").strip().lower()
    if not LOGIN.match(login):
        raise AccountError("login", "a login is 3–80 lowercase letters, digits, dots, dashes or underscores")
    return login


OPERATOR_ISSUER = "Lendstack"
"""The issuer an authenticator app shows beside an operator's codes (operators run no one tenant)."""


def create_operator(session, login: str, password: str, enrol_at_sign_in: bool = False) -> Operator:
    """An operator of the whole install; operators always sign in with a second factor, so they get a TOTP
    secret to enrol now (or, ``enrol_at_sign_in``, enrol with a QR code at the first sign-in)."""
    login = _check_login(login)
    if session.scalars(sa.select(Operator).where(Operator.login == login)).first():
        raise AccountError("login", f"operator {login} already exists")
    operator = Operator(login=login, password_hash=hash_password(password))
    if not enrol_at_sign_in:
        operator.totp_secret = totp.new_secret()
    session.add(operator)
    session.flush()
    return operator


def create_staff(
    session, tenant, login: str, password: str, role: str, display_name: str = "", enrol_at_sign_in: bool = False
) -> StaffUser:
    """A staff user with one role; a role that moves money gets a TOTP secret to enrol
    (or, ``enrol_at_sign_in``, enrols with a QR code at the first sign-in)."""
    login = _check_login(login)
    roles = ensure_default_roles(session, tenant.id)
    if role not in roles:
        raise AccountError("role", f"unknown role {role!r} (one of {', '.join(sorted(roles))})")
    exists = session.scalars(
        sa.select(StaffUser).where(StaffUser.tenant_id == tenant.id, StaffUser.login == login)
    ).first()
    if exists:
        raise AccountError("login", f"staff {login} already exists at {tenant.slug}")
    staff = StaffUser(
        tenant_id=tenant.id,
        login=login,
        display_name=display_name or login,
        password_hash=hash_password(password),
        roles=[roles[role]],
    )
    if staff.requires_2fa and not enrol_at_sign_in:
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


def operator_provisioning_uri(operator: Operator, secret: str | None = None) -> str:
    """The otpauth:// URI of an operator's TOTP secret (``secret``: one being enrolled), for an authenticator."""
    return totp.provisioning_uri(secret or operator.totp_secret, f"{operator.login}@console", OPERATOR_ISSUER)


def authenticate_staff(session, tenant, login: str, password: str) -> StaffUser | None:
    staff = session.scalars(
        sa.select(StaffUser).where(
            StaffUser.tenant_id == tenant.id, StaffUser.login == (login or "").strip().lower(), StaffUser.active
        )
    ).first()
    if staff is None:
        _dummy_check(password)
        return None
    return staff if verify_password(staff.password_hash, password) else None


# -- managing staff from the back office ------------------------------------------


def tenant_roles(session, tenant_id: int) -> dict:
    return ensure_default_roles(session, tenant_id)


def end_staff_sessions(session, staff: StaffUser) -> int:
    """End every live session and token of ``staff``; how many were ended.

    A sign-in was checked against the roles of its moment (a role that moves
    money asks for a second factor), so a change to what those roles grant
    ends it: the next sign-in is checked against the new roles.
    """
    return revoke_all(session, "staff", staff.id, staff.tenant_id)


def set_staff_access(session, staff: StaffUser, *, role_codes, group_ids, org_unit_id, acting: StaffUser) -> int:
    """Give ``staff`` exactly these roles, groups and organization unit.

    A change of roles or groups ends their sessions and tokens (even the
    acting user's own); how many were ended.
    """
    from .models import OrgUnit, StaffGroup

    roles = tenant_roles(session, staff.tenant_id)
    unknown = [code for code in role_codes if code not in roles]
    if unknown:
        raise AccountError("roles", f"unknown role {unknown[0]!r}")
    groups = session.scalars(sa.select(StaffGroup).where(StaffGroup.id.in_(group_ids))).all() if group_ids else []
    if len(groups) != len(set(group_ids)):
        raise AccountError("groups", "unknown group")
    if org_unit_id is not None and session.get(OrgUnit, org_unit_id) is None:
        raise AccountError("org_unit", "unknown organization unit")
    new_roles = [roles[code] for code in sorted(set(role_codes))]
    if (
        staff.id == acting.id
        and "system.staff" not in {p for r in new_roles for p in r.permissions}
        and "system.staff" not in {p for g in groups for r in g.roles for p in r.permissions}
    ):
        raise AccountError("roles", "you cannot take away your own right to manage staff")
    changed = {r.id for r in staff.roles} != {r.id for r in new_roles} or {g.id for g in staff.groups} != {
        g.id for g in groups
    }
    staff.roles, staff.groups, staff.org_unit_id = new_roles, list(groups), org_unit_id
    return end_staff_sessions(session, staff) if changed else 0


def set_staff_active(session, staff: StaffUser, active: bool, *, acting: StaffUser) -> int:
    """Deactivate (ending every session at once) or reactivate a staff user; never oneself.

    How many sessions and tokens were ended.
    """
    if staff.id == acting.id and not active:
        raise AccountError("active", "you cannot deactivate yourself")
    staff.active = active
    return 0 if active else end_staff_sessions(session, staff)


def role_holders(session, role: Role) -> list[StaffUser]:
    """Staff users holding ``role`` directly or through one of their groups."""
    direct = sa.select(staff_roles.c.staff_id).where(staff_roles.c.role_id == role.id)
    through_groups = (
        sa.select(staff_groups.c.staff_id)
        .join(group_roles, group_roles.c.group_id == staff_groups.c.group_id)
        .where(group_roles.c.role_id == role.id)
    )
    return session.scalars(
        sa.select(StaffUser).where(StaffUser.id.in_(direct.union(through_groups))).order_by(StaffUser.login)
    ).all()


def change_role_permissions(session, role: Role, permissions) -> dict[StaffUser, int]:
    """Grant ``role`` exactly ``permissions`` and end the sessions of everyone holding it.

    Returns, for each holder, how many sessions and tokens were ended.
    """
    set_role_permissions(role, permissions)
    return {staff: end_staff_sessions(session, staff) for staff in role_holders(session, role)}


def create_group(session, tenant_id: int, name: str, role_codes) -> "StaffGroup":
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise AccountError("name", "a group needs a name of up to 120 characters")
    if session.scalars(sa.select(StaffGroup).where(StaffGroup.tenant_id == tenant_id, StaffGroup.name == name)).first():
        raise AccountError("name", f"group {name} already exists")
    roles = tenant_roles(session, tenant_id)
    group = StaffGroup(tenant_id=tenant_id, name=name, roles=[roles[c] for c in role_codes if c in roles])
    session.add(group)
    session.flush()
    return group


def create_org_unit(session, tenant_id: int, name: str, parent_id: int | None) -> "OrgUnit":
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise AccountError("name", "a unit needs a name of up to 120 characters")
    if parent_id is not None and session.get(OrgUnit, parent_id) is None:
        raise AccountError("parent", "unknown parent unit")
    exists = session.scalars(
        sa.select(OrgUnit).where(
            OrgUnit.tenant_id == tenant_id,
            OrgUnit.name == name,
            OrgUnit.parent_id.is_(None) if parent_id is None else OrgUnit.parent_id == parent_id,
        )
    ).first()
    if exists:
        raise AccountError("name", f"{name} already exists there")
    unit = OrgUnit(tenant_id=tenant_id, name=name, parent_id=parent_id)
    session.add(unit)
    session.flush()
    return unit


def org_tree(session) -> list[tuple[int, "OrgUnit"]]:
    """The organization units depth first, each with its depth."""

    units = session.scalars(sa.select(OrgUnit).order_by(OrgUnit.name)).all()
    children: dict = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    ordered = []

    def walk(parent, depth):
        for unit in children.get(parent, []):
            ordered.append((depth, unit))
            walk(unit.id, depth + 1)

    walk(None, 0)
    return ordered
