"""Back office: staff users, user groups and the organization tree."""

from __future__ import annotations

import sqlalchemy as sa
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config

from .. import audit
from ..accounts.models import StaffGroup, StaffUser
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
from ..forms import on_refusal


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


def _staff_page(request, error=None, field=None):
    staff = request.dbsession.scalars(sa.select(StaffUser).order_by(StaffUser.login)).all()
    roles = sorted(tenant_roles(request.dbsession, request.tenant.id).values(), key=lambda r: r.code)
    return {
        "staff": staff,
        "roles": roles,
        "error": error,
        "field": field,
        "form": dict(request.POST) if request.method == "POST" else {},
    }


@view_config(route_name="admin.staff", renderer="admin/staff.pt", permission="system.staff")
def staff_list(request):
    if request.method != "POST":
        return _staff_page(request)
    on_refusal(request, lambda error: _staff_page(request, error.message, error.field))
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


def _access(staff: StaffUser) -> dict:
    return {
        "roles": [r.code for r in staff.roles],
        "groups": [g.name for g in staff.groups],
        "org_unit": staff.org_unit_id,
        "active": staff.active,
    }


@view_config(route_name="admin.staff_user", renderer="admin/staff_user.pt", permission="system.staff")
def staff_user(request):
    staff = staff_or_404(request)
    if request.method == "POST":
        before = _access(staff)
        on_refusal(request, lambda failure: _staff_user_page(request, staff, failure.message))
        if "active" in request.POST:
            ended = set_staff_active(
                request.dbsession, staff, request.POST["active"] == "1", acting=request.identity.user
            )
        else:
            group_ids = [_int_or_none(g) for g in request.POST.getall("groups")]
            ended = set_staff_access(
                request.dbsession,
                staff,
                role_codes=request.POST.getall("roles"),
                group_ids=group_ids,
                org_unit_id=_int_or_none(request.POST.get("org_unit")),
                acting=request.identity.user,
            )
        audit.record(request, "staff.access", "staff", staff.id, before, _access(staff))
        record_sessions_ended(request, staff, ended, "staff.access")
        return HTTPSeeOther(request.route_path("admin.staff_user", id=staff.id))
    return _staff_user_page(request, staff)


def _staff_user_page(request, staff: StaffUser, error=None) -> dict:
    session = request.dbsession
    return {
        "member": staff,
        "error": error,
        "roles": sorted(tenant_roles(session, request.tenant.id).values(), key=lambda r: r.code),
        "groups": session.scalars(sa.select(StaffGroup).order_by(StaffGroup.name)).all(),
        "units": org_tree(session),
    }


@view_config(route_name="admin.groups", renderer="admin/groups.pt", permission="system.roles")
def groups(request):
    if request.method == "POST":
        on_refusal(request, lambda failure: _groups_page(request, failure.message))
        group = create_group(
            request.dbsession, request.tenant.id, request.POST.get("name", ""), request.POST.getall("roles")
        )
        audit.record(
            request,
            "group.create",
            "group",
            group.id,
            None,
            {"name": group.name, "roles": [r.code for r in group.roles]},
        )
        return HTTPSeeOther(request.route_path("admin.groups"))
    return _groups_page(request)


def _groups_page(request, error=None) -> dict:
    session = request.dbsession
    return {
        "groups": session.scalars(sa.select(StaffGroup).order_by(StaffGroup.name)).all(),
        "error": error,
        "roles": sorted(tenant_roles(session, request.tenant.id).values(), key=lambda r: r.code),
    }


@view_config(route_name="admin.org", renderer="admin/org.pt", permission="system.staff")
def org(request):
    if request.method == "POST":
        parent = _int_or_none(request.POST.get("parent"))
        on_refusal(request, lambda failure: _org_page(request, failure.message))
        unit = create_org_unit(request.dbsession, request.tenant.id, request.POST.get("name", ""), parent)
        audit.record(
            request, "org_unit.create", "org_unit", unit.id, None, {"name": unit.name, "parent": unit.parent_id}
        )
        return HTTPSeeOther(request.route_path("admin.org"))
    return _org_page(request)


def _org_page(request, error=None) -> dict:
    session = request.dbsession
    staff_by_unit: dict = {}
    for staff in session.scalars(sa.select(StaffUser).where(StaffUser.org_unit_id.is_not(None))):
        staff_by_unit.setdefault(staff.org_unit_id, []).append(staff)
    return {"units": org_tree(session), "staff_by_unit": staff_by_unit, "error": error}
