"""Who may do what in a tenant's back office: custom roles, user groups and organization units.

Custom roles are part of the tenant's manifest (``[roles.<code>]``): every
change goes through :func:`core.tenancy.manifest.change`, so it is validated,
versioned and exported like any other setting; built-in roles are never
changed, only copied. A change to what a role or a group grants ends the
sessions and tokens of everyone it reaches (their sign-in was checked against
the old grants: a role that moves money asks for a second factor). Nobody
takes away their own right to manage roles. Organization units form a tree:
a unit never moves under itself or one of its own units.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..domain import DomainError
from ..i18n import _
from ..tenancy import manifest
from .models import OrgUnit, Role, StaffGroup, StaffUser, staff_groups
from .permissions import PERMISSIONS, ROLE_CODE, ensure_default_roles
from .services import end_staff_sessions, role_holders
from .sessions import live_sessions

MANAGE_ROLES = "system.roles"


class OrganisationError(DomainError):
    """A role, group or organization unit change refused: ``field`` names the input, nothing changed."""


# -- custom roles ------------------------------------------------------------------------------------------------


def grants(role: Role) -> dict:
    """What a role is as the manifest and the audit log record it: name, permissions, active."""
    return {"name": role.name, "permissions": sorted(role.permissions or []), "active": role.active}


def _checked(code: str, entry: dict, roles: dict[str, Role], creating: bool) -> dict:
    """``entry`` (name, permissions, active) for ``code``, refused field by field as the page names them."""
    if creating:
        if not ROLE_CODE.match(code or ""):
            raise OrganisationError(
                "code", _("A code is 2–40 lowercase letters, digits or underscores, starting with a letter.")
            )
        if code in roles:
            raise OrganisationError("code", _("A role with this code exists already."))
    elif code not in roles:
        raise OrganisationError("code", _("There is no such role."))
    elif roles[code].builtin:
        raise OrganisationError("code", _("A built-in role cannot be changed; copy it to make your own."))
    name = (entry.get("name") or "").strip()
    if not name or len(name) > 120:
        raise OrganisationError("name", _("A role needs a name of up to 120 characters."))
    permissions = sorted(set(entry.get("permissions") or []))
    if any(p not in PERMISSIONS for p in permissions):
        raise OrganisationError("permissions", _("Only the permissions listed here can be granted."))
    return {"name": name, "permissions": permissions, "active": bool(entry.get("active", True))}


def _page_field(manifest_field: str) -> str:
    """A manifest path the manifest refused (``roles.clerk.permissions``) as the page's field (``permissions``)."""
    parts = manifest_field.split(".")
    if parts[0] != "roles":
        return manifest_field
    return parts[2] if len(parts) > 2 else "code"


def save_roles(
    session, tenant, plugins, entries: dict[str, dict], *, acting: StaffUser, actor: str, creating=(), **options
) -> list[dict]:
    """Create (codes in ``creating``) or change custom roles through the tenant's manifest.

    ``entries``: ``{code: {"name", "permissions", "active"}}``; ``options`` are
    :func:`core.tenancy.manifest.change`'s (``operator_hosts``, ``production``).
    Returns one ``{"role", "before", "after", "ended"}`` per role that changed
    (``before`` ``None`` for a new one; ``ended``: sessions ended per holder).
    """
    roles = ensure_default_roles(session, tenant.id)
    wanted = {code: _checked(code, entry, roles, code in creating) for code, entry in entries.items()}
    before = {code: grants(roles[code]) for code in wanted if code in roles}
    # the apply ends the sign-ins of the holders of a role whose grant changes; what each had, for the audit
    signed_in = {
        code: {
            staff: len(live_sessions(session, "staff", staff.id, tenant.id)) for staff in role_holders(session, role)
        }
        for code, role in roles.items()
        if code in wanted
    }

    def edit(data):
        data.setdefault("roles", {}).update(wanted)

    try:
        manifest.change(session, tenant, plugins, edit, actor=actor, action="settings.roles", **options)
    except DomainError as refused:
        raise OrganisationError(_page_field(refused.field), refused.message) from None
    roles = ensure_default_roles(session, tenant.id)
    saved = []
    for code in wanted:
        role, old = roles[code], before.get(code)
        new = grants(role)
        if old == new:
            continue
        regranted = old is not None and (old["permissions"], old["active"]) != (new["permissions"], new["active"])
        ended = signed_in.get(code, {}) if regranted else {}
        saved.append({"role": role, "before": old, "after": new, "ended": ended})
        if MANAGE_ROLES not in acting.permissions:
            field = "active" if not new["active"] else "permissions"
            raise OrganisationError(field, _("You cannot take away your own right to manage roles."))
    return saved


def copy_code(roles: dict[str, Role], source: Role) -> str:
    """A free code for a copy of ``source``: ``cashier_copy``, then ``cashier_copy_2`` …"""
    base = f"{source.code[:31]}_copy"  # room for "_99" within a code's 40 characters
    code, n = base, 1
    while code in roles:
        n += 1
        code = f"{base}_{n}"
    return code


def copy_role(session, tenant, plugins, source: Role, name: str, *, acting: StaffUser, actor: str, **options) -> dict:
    """A new custom role granting what ``source`` grants (a built-in role is copied, never changed)."""
    code = copy_code(ensure_default_roles(session, tenant.id), source)
    entry = {"name": name, "permissions": list(source.permissions or []), "active": True}
    saved = save_roles(session, tenant, plugins, {code: entry}, acting=acting, actor=actor, creating={code}, **options)
    return saved[0]


def check_assignable(session, tenant_id: int, codes, held=(), *, field: str = "roles") -> None:
    """Refuse giving a role that does not exist or is deactivated (one already ``held`` may stay)."""
    roles = ensure_default_roles(session, tenant_id)
    for code in codes:
        if code not in roles:
            raise OrganisationError(field, _("There is no such role."))
        if not roles[code].active and code not in held:
            raise OrganisationError(field, _("A deactivated role cannot be given to anyone."))


# -- user groups -------------------------------------------------------------------------------------------------


def group_staff(session, group: StaffGroup) -> list[StaffUser]:
    """The staff users in ``group``, by login."""
    members = sa.select(staff_groups.c.staff_id).where(staff_groups.c.group_id == group.id)
    return list(session.scalars(sa.select(StaffUser).where(StaffUser.id.in_(members)).order_by(StaffUser.login)))


def _staff_by_ids(session, staff_ids, field: str) -> list[StaffUser]:
    ids = set(staff_ids)
    found = list(session.scalars(sa.select(StaffUser).where(StaffUser.id.in_(ids)))) if ids else []
    if len(found) != len(ids):  # another tenant's staff are not found: the session filters by tenant
        raise OrganisationError(field, _("There is no such staff user."))
    return found


def update_group(
    session, group: StaffGroup, *, name: str, role_codes, staff_ids, acting: StaffUser
) -> dict[StaffUser, int]:
    """Rename ``group``, give it exactly these roles and these staff users.

    Everyone whose grants this changes (all its staff before and after when its
    roles change, else those who joined or left) is signed out everywhere;
    returns how many sessions were ended for each.
    """
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise OrganisationError("name", _("A group needs a name of up to 120 characters."))
    taken = session.scalars(sa.select(StaffGroup.id).where(StaffGroup.name == name, StaffGroup.id != group.id)).first()
    if taken is not None:
        raise OrganisationError("name", _("Another group has this name."))
    role_codes = sorted(set(role_codes))
    check_assignable(session, group.tenant_id, role_codes, held={r.code for r in group.roles})
    roles = ensure_default_roles(session, group.tenant_id)
    before, after = group_staff(session, group), _staff_by_ids(session, staff_ids, "staff")
    new_roles = [roles[code] for code in role_codes]
    roles_changed = {r.id for r in group.roles} != {r.id for r in new_roles}
    group.name, group.roles = name, new_roles
    for staff in set(before) - set(after):
        staff.groups = [g for g in staff.groups if g.id != group.id]
    for staff in set(after) - set(before):
        staff.groups = [*staff.groups, group]
    reached = set(before) | set(after) if roles_changed else set(before) ^ set(after)
    if MANAGE_ROLES not in acting.permissions:
        raise OrganisationError("roles", _("You cannot take away your own right to manage roles."))
    session.flush()
    return {staff: end_staff_sessions(session, staff) for staff in sorted(reached, key=lambda s: s.login)}


def delete_group(session, group: StaffGroup) -> None:
    """Delete ``group``; refused while anyone is in it."""
    if group_staff(session, group):
        raise OrganisationError("group", _("Take everyone out of the group before deleting it."))
    session.delete(group)
    session.flush()


# -- organization units ------------------------------------------------------------------------------------------


def unit_staff(session, unit: OrgUnit) -> list[StaffUser]:
    return list(session.scalars(sa.select(StaffUser).where(StaffUser.org_unit_id == unit.id).order_by(StaffUser.login)))


def unit_children(session, unit: OrgUnit) -> list[OrgUnit]:
    return list(session.scalars(sa.select(OrgUnit).where(OrgUnit.parent_id == unit.id).order_by(OrgUnit.name)))


def descendants(session, unit: OrgUnit) -> set[int]:
    """The ids of every unit under ``unit``, however deep."""
    below: dict = {}
    for unit_id, parent_id in session.execute(
        sa.select(OrgUnit.id, OrgUnit.parent_id).where(OrgUnit.tenant_id == unit.tenant_id)
    ):
        below.setdefault(parent_id, []).append(unit_id)
    found, unvisited = set(), list(below.get(unit.id, []))
    while unvisited:
        unit_id = unvisited.pop()
        if unit_id not in found:
            found.add(unit_id)
            unvisited += below.get(unit_id, [])
    return found


def unit_or_none(session, unit_id: int | None) -> OrgUnit | None:
    """The tenant's unit ``unit_id`` (``None`` for none); another tenant's or a missing one is refused."""
    if unit_id is None:
        return None
    unit = session.scalars(sa.select(OrgUnit).where(OrgUnit.id == unit_id)).first()
    if unit is None:
        raise OrganisationError("parent", _("There is no such unit."))
    return unit


def update_org_unit(session, unit: OrgUnit, *, name: str, parent_id: int | None) -> None:
    """Rename ``unit`` and move it under ``parent_id`` (``None``: the top level); never under itself or below."""
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise OrganisationError("name", _("A unit needs a name of up to 120 characters."))
    parent = unit_or_none(session, parent_id)
    if parent is not None and (parent.id == unit.id or parent.id in descendants(session, unit)):
        raise OrganisationError("parent", _("A unit cannot move under itself or under one of its own units."))
    sibling = sa.select(OrgUnit.id).where(
        OrgUnit.name == name,
        OrgUnit.id != unit.id,
        OrgUnit.parent_id.is_(None) if parent is None else OrgUnit.parent_id == parent.id,
    )
    if session.scalars(sibling).first() is not None:
        raise OrganisationError("name", _("A unit with this name is already there."))
    unit.name, unit.parent_id = name, None if parent is None else parent.id
    session.flush()


def delete_org_unit(session, unit: OrgUnit) -> None:
    """Delete ``unit``; refused while it has units under it or staff in it."""
    if unit_children(session, unit):
        raise OrganisationError("unit", _("Move or delete the units under it first."))
    if unit_staff(session, unit):
        raise OrganisationError("unit", _("Move its staff to another unit first."))
    session.delete(unit)
    session.flush()


def set_unit_staff(session, unit: OrgUnit, staff_ids) -> tuple[list[StaffUser], list[StaffUser]]:
    """Put exactly these staff users in ``unit`` (moving them from any other); ``(joined, left)``."""
    before, after = set(unit_staff(session, unit)), set(_staff_by_ids(session, staff_ids, "staff"))
    for staff in before - after:
        staff.org_unit_id = None
    for staff in after - before:
        staff.org_unit_id = unit.id
    session.flush()
    by_login = lambda people: sorted(people, key=lambda s: s.login)  # noqa: E731
    return by_login(after - before), by_login(before - after)
