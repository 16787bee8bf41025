"""User groups and organization units from the back office: renamed, regranted, moved (never into a cycle),
staffed and deleted once empty — each change audited with before and after; a refusal changes nothing."""

import re

import pytest
import sqlalchemy as sa

from core.accounts.models import AuditEvent, OrgUnit, StaffGroup, StaffUser
from core.accounts.services import create_group, create_org_unit, create_staff
from core.db import scope_to_tenant
from core.tenancy.services import tenant_by_slug
from tests.conftest import Client
from tests.helpers import PASSWORD, staff_client, submit
from tests.test_readable_backoffice import problems, visible_text

DEMO = "demo.localhost"
LOCALES = ("en", "zh_Hant", "zh_Hans")


@pytest.fixture
def admin(wsgi_app, db, tenants):
    return staff_client(wsgi_app, db, "boss", "administrator")


@pytest.fixture
def office(db, tenants):
    """Staff and a tree 總行 › 風控部 › 審核組, with 分行 beside it; ids by name."""
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        scope_to_tenant(session, demo.id)
        ids = {login: create_staff(session, demo, login, PASSWORD, "content_editor").id for login in ("dora", "erin")}
        head = create_org_unit(session, demo.id, "總行", None)
        risk = create_org_unit(session, demo.id, "風控部", head.id)
        review = create_org_unit(session, demo.id, "審核組", risk.id)
        branch = create_org_unit(session, demo.id, "分行", None)
        ids |= {"總行": head.id, "風控部": risk.id, "審核組": review.id, "分行": branch.id}
        ids["front"] = create_group(session, demo.id, "Front desk", ["customer_service"]).id
    return ids


def sign_in(wsgi_app, login):
    client = Client(wsgi_app)
    page = client.get(DEMO, "/admin/login")
    submit(client, DEMO, page, {"login": login, "password": PASSWORD}, status=303)
    return client


def csrf(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def units(db) -> dict:
    with db.transaction() as session:
        scope_to_tenant(session, tenant_by_slug(session, "demo").id)
        return {u.name: (u.id, u.parent_id) for u in session.scalars(sa.select(OrgUnit))}


def audit_rows(db, action) -> list[tuple]:
    with db.transaction() as session:
        rows = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
        return [(e.before, e.after) for e in rows]


# -- user groups ------------------------------------------------------------------------------------------------------


def test_a_group_is_renamed_regranted_and_staffed_signing_out_whom_it_changes(admin, wsgi_app, db, office):
    dora, erin = sign_in(wsgi_app, "dora"), sign_in(wsgi_app, "erin")
    dora.get(DEMO, "/admin/members", status=403)
    page = admin.get(DEMO, f"/admin/groups/{office['front']}")
    form = next(f for f in page.forms.values() if "name" in f.fields)
    form["name"] = "櫃檯"
    for box in form.fields["staff"]:
        box.checked = box._value == str(office["dora"])
    form.submit("action", value="save", extra_environ={"HTTP_HOST": DEMO}, status=303)

    dora.get(DEMO, "/admin/members", status=302)  # her grants changed: signed out
    erin.get(DEMO, "/admin", status=200)  # not in the group: untouched
    dora = sign_in(wsgi_app, "dora")
    dora.get(DEMO, "/admin/members", status=200)  # customer service, through the group
    assert audit_rows(db, "group.update") == [
        (
            {"name": "Front desk", "roles": ["customer_service"], "staff": []},
            {"name": "櫃檯", "roles": ["customer_service"], "staff": ["dora"]},
        )
    ]

    page = admin.get(DEMO, f"/admin/groups/{office['front']}")
    form = next(f for f in page.forms.values() if "name" in f.fields)
    for box in form.fields["roles"]:
        box.checked = box._value == "auditor"
    form.submit("action", value="save", extra_environ={"HTTP_HOST": DEMO}, status=303)
    dora.get(DEMO, "/admin/audit", status=302)
    sign_in(wsgi_app, "dora").get(DEMO, "/admin/audit", status=200)


def test_a_group_with_staff_is_not_deleted_an_empty_one_is(admin, db, office):
    with db.transaction() as session:
        session.get(StaffUser, office["dora"]).groups = [session.get(StaffGroup, office["front"])]
    page = admin.get(DEMO, f"/admin/groups/{office['front']}", params={"_LOCALE_": "en"})
    delete = next(f for f in page.forms.values() if "name" not in f.fields and "action" in f.fields)
    refused = delete.submit("action", value="delete", extra_environ={"HTTP_HOST": DEMO}, status=400)
    assert "Take everyone out of the group" in refused.text
    with db.transaction() as session:
        assert session.get(StaffGroup, office["front"]) is not None
        session.get(StaffUser, office["dora"]).groups = []
    page = admin.get(DEMO, f"/admin/groups/{office['front']}")
    delete = next(f for f in page.forms.values() if "name" not in f.fields and "action" in f.fields)
    assert delete.submit("action", value="delete", extra_environ={"HTTP_HOST": DEMO}, status=303)
    with db.transaction() as session:
        assert session.get(StaffGroup, office["front"]) is None
    assert audit_rows(db, "group.delete") == [
        ({"name": "Front desk", "roles": ["customer_service"], "staff": []}, None)
    ]


def test_another_tenants_staff_cannot_join_a_group(admin, db, office):
    with db.transaction() as session:
        acme = tenant_by_slug(session, "acme")
        stranger = create_staff(session, acme, "stranger", PASSWORD, "content_editor").id
    page = admin.get(DEMO, f"/admin/groups/{office['front']}")
    admin.post(
        DEMO,
        f"/admin/groups/{office['front']}",
        {"csrf_token": csrf(page), "action": "save", "name": "Front desk", "staff": str(stranger)},
        status=400,
    )
    with db.transaction() as session:
        assert session.get(StaffUser, stranger).groups == []


# -- organization units -----------------------------------------------------------------------------------------------


def test_a_unit_moved_under_its_own_unit_is_refused_next_to_the_parent_field(admin, db, office):
    before = units(db)
    page = admin.get(DEMO, f"/admin/org/{office['總行']}", params={"_LOCALE_": "en"})
    form = next(f for f in page.forms.values() if "parent" in f.fields)
    offered = {value for value, _selected, _text in form["parent"].options}
    assert str(office["總行"]) not in offered and str(office["審核組"]) not in offered  # never offered
    form["parent"].force_value(str(office["審核組"]))
    refused = form.submit("action", value="save", extra_environ={"HTTP_HOST": DEMO}, status=400)
    error = refused.html.find("p", id="parent-error")
    assert error is not None and "cannot move under itself or under one of its own units" in error.text
    assert refused.html.find("select", id="parent")["aria-invalid"] == "true"
    form["parent"].force_value(str(office["總行"]))
    form.submit("action", value="save", extra_environ={"HTTP_HOST": DEMO}, status=400)
    assert units(db) == before
    assert audit_rows(db, "org_unit.update") == []


def test_a_unit_is_renamed_and_moved(admin, db, office):
    page = admin.get(DEMO, f"/admin/org/{office['審核組']}")
    form = next(f for f in page.forms.values() if "parent" in f.fields)
    form["name"] = "貸審組"
    form["parent"] = str(office["分行"])
    form.submit("action", value="save", extra_environ={"HTTP_HOST": DEMO}, status=303)
    assert units(db)["貸審組"] == (office["審核組"], office["分行"])
    assert audit_rows(db, "org_unit.update") == [
        ({"name": "審核組", "parent": "風控部"}, {"name": "貸審組", "parent": "分行"})
    ]
    # To the top level, and a name already used there is refused.
    page = admin.get(DEMO, f"/admin/org/{office['審核組']}")
    form = next(f for f in page.forms.values() if "parent" in f.fields)
    form["name"], form["parent"] = "分行", ""
    form.submit("action", value="save", extra_environ={"HTTP_HOST": DEMO}, status=400)
    form["name"] = "審核中心"
    form.submit("action", value="save", extra_environ={"HTTP_HOST": DEMO}, status=303)
    assert units(db)["審核中心"] == (office["審核組"], None)
    tree = admin.get(DEMO, "/admin/org").text
    assert tree.index("總行") < tree.index("風控部")


def test_staff_are_assigned_to_a_unit_and_a_unit_is_deleted_only_when_empty(admin, db, office):
    page = admin.get(DEMO, f"/admin/org/{office['風控部']}")
    form = next(f for f in page.forms.values() if "staff" in f.fields)
    for box in form.fields["staff"]:
        box.checked = box._value in (str(office["dora"]), str(office["erin"]))
    form.submit("action", value="staff", extra_environ={"HTTP_HOST": DEMO}, status=303)
    with db.transaction() as session:
        assert {session.get(StaffUser, office[p]).org_unit_id for p in ("dora", "erin")} == {office["風控部"]}
    assert audit_rows(db, "org_unit.staff") == [({"name": "風控部", "staff": []}, {"staff": ["dora", "erin"]})]
    staff_page = admin.get(DEMO, f"/admin/staff/{office['dora']}")
    assert staff_page.html.find("select", id="org_unit").find("option", selected=True).text.endswith("風控部")

    def delete(unit, status):
        page = admin.get(DEMO, f"/admin/org/{office[unit]}", params={"_LOCALE_": "en"})
        form = next(f for f in page.forms.values() if set(f.fields) == {"csrf_token", "action"})
        return form.submit("action", value="delete", extra_environ={"HTTP_HOST": DEMO}, status=status)

    assert "Move or delete the units under it first" in delete("風控部", 400).text
    delete("審核組", 303)
    assert "Move its staff to another unit first" in delete("風控部", 400).text
    page = admin.get(DEMO, f"/admin/org/{office['風控部']}")
    form = next(f for f in page.forms.values() if "staff" in f.fields)
    for box in form.fields["staff"]:
        box.checked = box._value == str(office["erin"])
    form.submit("action", value="staff", extra_environ={"HTTP_HOST": DEMO}, status=303)
    page = admin.get(DEMO, f"/admin/org/{office['分行']}")
    form = next(f for f in page.forms.values() if "staff" in f.fields)
    for box in form.fields["staff"]:
        box.checked = box._value == str(office["erin"])  # moved from 風控部
    form.submit("action", value="staff", extra_environ={"HTTP_HOST": DEMO}, status=303)
    delete("風控部", 303)
    assert set(units(db)) == {"總行", "分行"}
    assert [after for _before, after in audit_rows(db, "org_unit.delete")] == [None, None]
    with db.transaction() as session:
        assert session.get(StaffUser, office["erin"]).org_unit_id == office["分行"]
        assert session.get(StaffUser, office["dora"]).org_unit_id is None


# -- readable in every language --------------------------------------------------------------------------------------


def test_group_and_unit_pages_and_their_audit_read_in_words(admin, db, office):
    page = admin.get(DEMO, f"/admin/groups/{office['front']}")
    form = next(f for f in page.forms.values() if "name" in f.fields)
    for box in form.fields["staff"]:
        box.checked = box._value == str(office["erin"])
    form.submit("action", value="save", extra_environ={"HTTP_HOST": DEMO}, status=303)
    page = admin.get(DEMO, f"/admin/org/{office['審核組']}")
    submit(admin, DEMO, page, {"name": "貸審組", "parent": str(office["分行"])}, action="save", status=303)
    paths = [
        "/admin/groups",
        f"/admin/groups/{office['front']}",
        "/admin/org",
        f"/admin/org/{office['風控部']}",
        f"/admin/staff/{office['erin']}",
        "/admin/audit",
    ]
    found = []
    for path in paths:
        for locale in LOCALES:
            response = admin.get(DEMO, path, params={"_LOCALE_": locale})
            found += [f"{path} [{locale}] {p}" for p in problems(visible_text(response.text), locale)]
    assert not found, "\n".join(found)
