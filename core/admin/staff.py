"""Back office: staff users, user groups and the organization tree."""

from __future__ import annotations

import re

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from .. import audit
from ..accounts.models import OrgUnit, StaffGroup, StaffUser
from ..accounts.organisation import (
    check_assignable,
    delete_group,
    delete_org_unit,
    descendants,
    group_staff,
    set_unit_staff,
    unit_children,
    unit_staff,
    update_group,
    update_org_unit,
)
from ..accounts.passwords import WeakPassword
from ..accounts.services import (
    create_group,
    create_org_unit,
    create_staff,
    org_tree,
    set_staff_access,
    set_staff_active,
    tenant_roles,
)
from ..domain import DomainError
from ..forms import on_refusal
from ..i18n import _


def record_sessions_ended(request, staff: StaffUser, count: int, because: str) -> None:
    """Audit that ``staff``'s sessions and tokens were ended (when there were any) and why."""
    if count:
        audit.record(
            request,
            "staff.sessions_ended",
            "staff",
            staff.id,
            None,
            {"login": staff.login, "sessions": count, "because": because},
        )


def _int_or_none(text):
    try:
        return int(text) if text not in (None, "") else None
    except ValueError:
        return -1


def _ids(request, name: str) -> list[int]:
    return [i for i in (_int_or_none(v) for v in request.POST.getall(name)) if i is not None]


def offered_roles(request, held=()) -> list:
    """The roles a form offers: the active ones, and deactivated ones only where already ``held`` (to keep or drop)."""
    roles = tenant_roles(request.dbsession, request.tenant.id).values()
    return sorted((r for r in roles if r.active or r in held), key=lambda r: (not r.builtin, r.code))


def _staff_page(request, error=None, field=None):
    staff = request.dbsession.scalars(sa.select(StaffUser).order_by(StaffUser.login)).all()
    return {
        "staff": staff,
        "roles": offered_roles(request),
        "error": error,
        "field": field,
        "form": dict(request.POST) if request.method == "POST" else {},
    }


@view_config(route_name="admin.staff", renderer="admin/staff.pt", permission="system.staff")
def staff_list(request):
    if request.method != "POST":
        return _staff_page(request)
    on_refusal(request, lambda error: _staff_page(request, error.message, error.field))
    check_assignable(request.dbsession, request.tenant.id, [request.POST.get("role", "")], field="role")
    try:
        staff = create_staff(
            request.dbsession,
            request.tenant,
            request.POST.get("login", ""),
            request.POST.get("password", ""),
            request.POST.get("role", ""),
            request.POST.get("display_name", ""),
            enrol_at_sign_in=True,
        )
    except WeakPassword as error:  # the password rules' own error, not a service's refusal
        request.response.status = 400
        return _staff_page(request, str(error), "password")
    audit.record(
        request, "staff.create", "staff", staff.id, None, {"login": staff.login, "roles": [r.code for r in staff.roles]}
    )
    return HTTPSeeOther(request.route_path("admin.staff_user", id=staff.id))


def staff_or_404(request) -> StaffUser:
    staff = request.dbsession.scalars(sa.select(StaffUser).where(StaffUser.id == int(request.matchdict["id"]))).first()
    if staff is None:
        raise HTTPNotFound()
    return staff


def _access(session, staff: StaffUser) -> dict:
    """What a staff user may do and where they work, as the audit log records it (names, never ids)."""
    unit = session.get(OrgUnit, staff.org_unit_id) if staff.org_unit_id is not None else None
    return {
        "roles": [r.code for r in staff.roles],
        "groups": [g.name for g in staff.groups],
        "org_unit": unit.name if unit is not None else None,
        "active": staff.active,
    }


@view_config(route_name="admin.staff_user", renderer="admin/staff_user.pt", permission="system.staff")
def staff_user(request):
    staff = staff_or_404(request)
    if request.method == "POST":
        before = _access(request.dbsession, staff)
        on_refusal(request, lambda failure: _staff_user_page(request, staff, failure.message, failure.field))
        if "email" in request.POST:
            was = staff.email
            set_staff_email(staff, request.POST["email"])
            if staff.email != was:
                audit.record(
                    request,
                    "staff.email",
                    "staff",
                    staff.id,
                    {"login": staff.login, "email": was},
                    {"login": staff.login, "email": staff.email},
                )
            return HTTPSeeOther(request.route_path("admin.staff_user", id=staff.id))
        if "active" in request.POST:
            ended = set_staff_active(
                request.dbsession, staff, request.POST["active"] == "1", acting=request.identity.user
            )
        else:
            codes = request.POST.getall("roles")
            check_assignable(request.dbsession, request.tenant.id, codes, held={r.code for r in staff.roles})
            ended = set_staff_access(
                request.dbsession,
                staff,
                role_codes=codes,
                group_ids=[_int_or_none(g) for g in request.POST.getall("groups")],
                org_unit_id=_int_or_none(request.POST.get("org_unit")),
                acting=request.identity.user,
            )
        audit.record(request, "staff.access", "staff", staff.id, before, _access(request.dbsession, staff))
        record_sessions_ended(request, staff, ended, "staff.access")
        return HTTPSeeOther(request.route_path("admin.staff_user", id=staff.id))
    return _staff_user_page(request, staff)


STAFF_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def set_staff_email(staff: StaffUser, text) -> None:
    """Set (or, blank, remove) the address work mail such as the daily alert digest goes to."""
    email = text.strip().lower() if isinstance(text, str) else ""
    if email and (len(email) > 254 or not STAFF_EMAIL.match(email)):
        raise DomainError("email", _("Enter an email address such as name@example.com."))
    staff.email = email or None


def _staff_user_page(request, staff: StaffUser, error=None, field=None) -> dict:
    session = request.dbsession
    return {
        "member": staff,
        "error": error,
        "field": field,
        "email": request.POST.get("email", staff.email or "") if request.method == "POST" else staff.email or "",
        "roles": offered_roles(request, held=staff.roles),
        "groups": session.scalars(sa.select(StaffGroup).order_by(StaffGroup.name)).all(),
        "units": org_tree(session),
    }


# -- user groups ---------------------------------------------------------------------------------------------------


def _group_record(group: StaffGroup, staff) -> dict:
    return {"name": group.name, "roles": [r.code for r in group.roles], "staff": [s.login for s in staff]}


@view_config(route_name="admin.groups", renderer="admin/groups.pt", permission="system.roles")
def groups(request):
    if request.method == "POST":
        on_refusal(request, lambda failure: _groups_page(request, failure.message))
        codes = request.POST.getall("roles")
        check_assignable(request.dbsession, request.tenant.id, codes)
        group = create_group(request.dbsession, request.tenant.id, request.POST.get("name", ""), codes)
        audit.record(request, "group.create", "group", group.id, None, _group_record(group, []))
        return HTTPSeeOther(request.route_path("admin.group", id=group.id))
    return _groups_page(request)


def _groups_page(request, error=None) -> dict:
    session = request.dbsession
    found = session.scalars(sa.select(StaffGroup).order_by(StaffGroup.name)).all()
    return {
        "groups": [(group, len(group_staff(session, group))) for group in found],
        "error": error,
        "roles": offered_roles(request),
    }


def _group_or_404(request) -> StaffGroup:
    group = request.dbsession.scalars(sa.select(StaffGroup).where(StaffGroup.id == int(request.matchdict["id"])))
    group = group.first()
    if group is None:
        raise HTTPNotFound()
    return group


def _group_page(request, group: StaffGroup, errors=None) -> dict:
    session = request.dbsession
    return {
        "group": group,
        "roles": offered_roles(request, held=group.roles),
        "members": group_staff(session, group),
        "staff": session.scalars(sa.select(StaffUser).order_by(StaffUser.login)).all(),
        "errors": errors or {},
        "saved": request.params.get("saved"),
    }


@view_config(route_name="admin.group", renderer="admin/group.pt", permission="system.roles")
def group(request):
    """One user group: renamed, its roles and its staff set (everyone it newly grants or stops granting is signed
    out), or deleted once nobody is in it."""
    group = _group_or_404(request)
    if request.method != "POST":
        return _group_page(request, group)
    session = request.dbsession
    on_refusal(request, lambda failure: _group_page(request, group, {failure.field: failure.message}))
    before, group_id = _group_record(group, group_staff(session, group)), group.id
    if request.POST.get("action") == "delete":
        delete_group(session, group)
        audit.record(request, "group.delete", "group", group_id, before, None)
        return HTTPSeeOther(request.route_path("admin.groups"))
    ended = update_group(
        session,
        group,
        name=request.POST.get("name", ""),
        role_codes=request.POST.getall("roles"),
        staff_ids=_ids(request, "staff"),
        acting=request.identity.user,
    )
    after = _group_record(group, group_staff(session, group))
    if after != before:
        audit.record(request, "group.update", "group", group.id, before, after)
    for staff, count in ended.items():
        record_sessions_ended(request, staff, count, "group.update")
    return HTTPSeeOther(request.route_path("admin.group", id=group.id, _query={"saved": 1}))


# -- organization units ----------------------------------------------------------------------------------------------


def _unit_record(session, unit: OrgUnit) -> dict:
    """A unit as the audit log records it: its name and its parent's (never an id)."""
    parent = session.get(OrgUnit, unit.parent_id) if unit.parent_id is not None else None
    return {"name": unit.name, "parent": parent.name if parent is not None else None}


@view_config(route_name="admin.org", renderer="admin/org.pt", permission="system.staff")
def org(request):
    if request.method == "POST":
        parent = _int_or_none(request.POST.get("parent"))
        on_refusal(request, lambda failure: _org_page(request, failure.message))
        unit = create_org_unit(request.dbsession, request.tenant.id, request.POST.get("name", ""), parent)
        audit.record(request, "org_unit.create", "org_unit", unit.id, None, _unit_record(request.dbsession, unit))
        return HTTPSeeOther(request.route_path("admin.org"))
    return _org_page(request)


def _org_page(request, error=None) -> dict:
    session = request.dbsession
    staff_by_unit: dict = {}
    for staff in session.scalars(sa.select(StaffUser).where(StaffUser.org_unit_id.is_not(None))):
        staff_by_unit.setdefault(staff.org_unit_id, []).append(staff)
    return {"units": org_tree(session), "staff_by_unit": staff_by_unit, "error": error}


def _unit_or_404(request) -> OrgUnit:
    unit = request.dbsession.scalars(sa.select(OrgUnit).where(OrgUnit.id == int(request.matchdict["id"]))).first()
    if unit is None:
        raise HTTPNotFound()
    return unit


def _unit_page(request, unit: OrgUnit, errors=None, form=None) -> dict:
    session = request.dbsession
    below = descendants(session, unit)
    return {
        "unit": unit,
        "parents": [(depth, u) for depth, u in org_tree(session) if u.id != unit.id and u.id not in below],
        "children": unit_children(session, unit),
        "members": unit_staff(session, unit),
        "staff": session.scalars(sa.select(StaffUser).order_by(StaffUser.login)).all(),
        "errors": errors or {},
        "form": form or {"name": unit.name, "parent": unit.parent_id},
        "saved": request.params.get("saved"),
    }


@view_config(route_name="admin.org_unit", renderer="admin/org_unit.pt", permission="system.staff")
def org_unit(request):
    """One organization unit: renamed and moved (never under itself or below it), its staff set, or deleted once
    it has no units under it and nobody in it."""
    unit = _unit_or_404(request)
    if request.method != "POST":
        return _unit_page(request, unit)
    session, action = request.dbsession, request.POST.get("action", "save")
    form = {"name": request.POST.get("name", unit.name), "parent": _int_or_none(request.POST.get("parent"))}
    on_refusal(request, lambda failure: _unit_page(request, unit, {failure.field: failure.message}, form))
    before, unit_id = _unit_record(session, unit), unit.id
    if action == "delete":
        delete_org_unit(session, unit)
        audit.record(request, "org_unit.delete", "org_unit", unit_id, before, None)
        return HTTPSeeOther(request.route_path("admin.org"))
    if action == "staff":
        was = [s.login for s in unit_staff(session, unit)]
        joined, left = set_unit_staff(session, unit, _ids(request, "staff"))
        if joined or left:
            now = [s.login for s in unit_staff(session, unit)]
            audit.record(
                request, "org_unit.staff", "org_unit", unit.id, {"name": unit.name, "staff": was}, {"staff": now}
            )
    else:
        update_org_unit(session, unit, name=form["name"], parent_id=form["parent"])
        after = _unit_record(session, unit)
        if after != before:
            audit.record(request, "org_unit.update", "org_unit", unit.id, before, after)
    return HTTPSeeOther(request.route_path("admin.org_unit", id=unit.id, _query={"saved": 1}))
