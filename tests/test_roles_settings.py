"""Custom roles from the permission matrix: created, granted, copied from a built-in one, deactivated — each a
change of the tenant's manifest, audited, and felt by the staff holding the role on their next request."""

import re

import pytest
import sqlalchemy as sa

from core.accounts.models import AuditEvent, Role, StaffUser
from core.accounts.permissions import DEFAULT_ROLES, MONEY_PERMISSIONS
from core.db import scope_to_tenant
from core.domain import DomainError
from core.tenancy import manifest
from core.tenancy.models import TenantVersion
from core.tenancy.services import tenant_by_slug
from tests.conftest import Client
from tests.helpers import PASSWORD, staff_client, submit
from tests.test_readable_backoffice import problems, visible_text

DEMO = "demo.localhost"
LOCALES = ("en", "zh_Hant", "zh_Hans")


@pytest.fixture
def admin(wsgi_app, db, tenants):
    """A signed-in administrator (password and TOTP code)."""
    return staff_client(wsgi_app, db, "boss", "administrator")


def sign_in(wsgi_app, login):
    client = Client(wsgi_app)
    page = client.get(DEMO, "/admin/login")
    response = submit(client, DEMO, page, {"login": login, "password": PASSWORD}, status=303)
    assert not response.location.endswith("/verify")
    return client


def new_staff(db, login, role="content_editor"):
    from core.accounts.services import create_staff

    with db.transaction() as session:
        return create_staff(session, tenant_by_slug(session, "demo"), login, PASSWORD, role).id


def role_row(db, code) -> dict | None:
    with db.transaction() as session:
        scope_to_tenant(session, tenant_by_slug(session, "demo").id)
        role = session.scalars(sa.select(Role).where(Role.code == code)).one_or_none()
        if role is None:
            return None
        return {
            "id": role.id,
            "name": role.name,
            "permissions": sorted(role.permissions),
            "active": role.active,
            "requires_2fa": role.requires_2fa,
            "builtin": role.builtin,
        }


def create_role(admin, code, name, permissions, status=303):
    page = admin.get(DEMO, "/admin/roles")
    form = next(f for f in page.forms.values() if "code" in f.fields)
    form["code"], form["name"] = code, name
    for box in form.fields["permissions"]:
        box.checked = box._value in permissions
    return form.submit("action", value="create", extra_environ={"HTTP_HOST": DEMO}, status=status)


def give_roles(admin, staff_id, codes):
    page = admin.get(DEMO, f"/admin/staff/{staff_id}")
    form = next(f for f in page.forms.values() if "roles" in f.fields)
    for box in form.fields["roles"]:
        box.checked = box._value in codes
    form.submit(extra_environ={"HTTP_HOST": DEMO}, status=303)


def role_action(admin, role_id, action, status=303):
    page = admin.get(DEMO, f"/admin/roles/{role_id}")
    form = next(f for f in page.forms.values() if f.fields.get("action") and "name" not in f.fields)
    return form.submit("action", value=action, extra_environ={"HTTP_HOST": DEMO}, status=status)


def sessions_ended(db, staff_id) -> list[dict]:
    with db.transaction() as session:
        return [
            e.after
            for e in session.scalars(
                sa.select(AuditEvent).where(
                    AuditEvent.action == "staff.sessions_ended", AuditEvent.object_id == str(staff_id)
                )
            )
        ]


def csrf(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


# -- creating and holding a custom role -----------------------------------------------------------------------------


def test_a_role_made_in_the_matrix_opens_exactly_its_screens(admin, wsgi_app, db):
    created = create_role(admin, "front_desk", "前台", {"member.view", "sms.view"})
    role = role_row(db, "front_desk")
    assert created.location.endswith(f"/admin/roles/{role['id']}")
    assert role == {
        "id": role["id"],
        "name": "前台",
        "permissions": ["member.view", "sms.view"],
        "active": True,
        "requires_2fa": False,
        "builtin": False,
    }
    # The role is the tenant's manifest: exported, versioned, audited with what it grants.
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        exported = manifest.export(demo, wsgi_app.registry["plugins"])
        assert exported["roles"]["front_desk"] == {
            "name": "前台",
            "permissions": ["member.view", "sms.view"],
            "active": True,
        }
        version = session.scalars(
            sa.select(TenantVersion).where(TenantVersion.tenant_id == demo.id).order_by(TenantVersion.number.desc())
        ).first()
        assert version.action == "settings.roles"
        assert {c["path"] for c in version.changes} >= {"roles.front_desk.name", "roles.front_desk.permissions"}
        event = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "role.create")).one()
        assert (event.object_id, event.before, event.after["permissions"]) == (
            "front_desk",
            None,
            ["member.view", "sms.view"],
        )

    dora_id = new_staff(db, "dora")
    give_roles(admin, dora_id, {"front_desk"})
    dora = sign_in(wsgi_app, "dora")  # nothing in the role moves money: no second factor asked
    for path in ("/admin/members", "/admin/sms"):
        dora.get(DEMO, path, status=200)
    for path in ("/admin/audit", "/admin/roles", "/admin/staff", "/admin/funds/recharges", "/admin/content"):
        dora.get(DEMO, path, status=403)
    staff_list = admin.get(DEMO, "/admin/staff", params={"_LOCALE_": "en"})
    row = next(tr for tr in staff_list.html.select("tbody tr") if tr.find("a", string="dora"))
    assert "前台" in row.text and "front_desk" not in row.text


def test_deactivating_a_role_signs_out_its_holders_and_takes_its_screens_away(admin, wsgi_app, db):
    create_role(admin, "front_desk", "前台", {"member.view"})
    role = role_row(db, "front_desk")
    dora_id = new_staff(db, "dora")
    give_roles(admin, dora_id, {"front_desk"})
    dora = sign_in(wsgi_app, "dora")
    dora.get(DEMO, "/admin/members", status=200)

    role_action(admin, role["id"], "deactivate")

    assert role_row(db, "front_desk")["active"] is False
    assert "/admin/login" in dora.get(DEMO, "/admin/members", status=302).location  # the session is over
    assert sessions_ended(db, dora_id) == [{"login": "dora", "sessions": 1, "because": "role.deactivate:front_desk"}]
    again = sign_in(wsgi_app, "dora")
    again.get(DEMO, "/admin/members", status=403)  # she still holds it, and it grants nothing
    # Nobody is offered it any more; a forged form giving it is refused.
    staff_page = admin.get(DEMO, "/admin/staff")
    offered = [o[0] for f in staff_page.forms.values() if "role" in f.fields for o in f["role"].options]
    assert "front_desk" not in offered and "cashier" in offered
    erin_id = new_staff(db, "erin")
    page = admin.get(DEMO, f"/admin/staff/{erin_id}")
    admin.post(DEMO, f"/admin/staff/{erin_id}", {"csrf_token": csrf(page), "roles": "front_desk"}, status=400)
    with db.transaction() as session:
        assert [r.code for r in session.get(StaffUser, erin_id).roles] == ["content_editor"]

    role_action(admin, role["id"], "reactivate")
    assert "/admin/login" in again.get(DEMO, "/admin/members", status=302).location
    sign_in(wsgi_app, "dora").get(DEMO, "/admin/members", status=200)
    with db.transaction() as session:
        actions = session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.object_type == "role").order_by(AuditEvent.id)
        ).all()
        deactivated = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "role.deactivate")).one()
        assert (deactivated.before, deactivated.after) == ({"active": True}, {"active": False})
    assert actions == ["role.create", "role.deactivate", "role.reactivate"]


def test_changing_a_custom_roles_permissions_in_the_matrix_signs_out_its_holders(admin, wsgi_app, db):
    create_role(admin, "front_desk", "前台", {"member.view"})
    dora_id = new_staff(db, "dora")
    give_roles(admin, dora_id, {"front_desk"})
    dora = sign_in(wsgi_app, "dora")
    page = admin.get(DEMO, "/admin/roles")
    form = next(f for f in page.forms.values() if "front_desk:member.view" in f.fields)
    assert "cashier:member.view" not in form.fields  # built-in columns are not part of the form
    form["front_desk:sms.view"] = True
    form.submit("action", value="save", extra_environ={"HTTP_HOST": DEMO}, status=303)
    assert role_row(db, "front_desk")["permissions"] == ["member.view", "sms.view"]
    dora.get(DEMO, "/admin/sms", status=302)
    assert sessions_ended(db, dora_id) == [{"login": "dora", "sessions": 1, "because": "role.update:front_desk"}]
    sign_in(wsgi_app, "dora").get(DEMO, "/admin/sms", status=200)


def test_a_money_permission_makes_the_role_ask_for_two_factor(admin, db):
    create_role(admin, "teller", "Teller", {"funds.view", "funds.recharge.confirm"})
    assert role_row(db, "teller")["requires_2fa"] is True
    page = admin.get(DEMO, "/admin/roles", params={"_LOCALE_": "en"})
    marked = [th.text for th in page.html.select("tbody th[scope=row]") if "two-factor" in th.text]
    assert len(marked) == len(MONEY_PERMISSIONS)


# -- built-in roles are copied, never changed -------------------------------------------------------------------------


def test_copying_a_built_in_role_makes_a_custom_role_with_its_permissions(admin, db):
    cashier = role_row(db, "cashier")
    response = role_action(admin, cashier["id"], "copy")
    copy = role_row(db, "cashier_copy")
    assert response.location.endswith(f"/admin/roles/{copy['id']}")
    assert copy["permissions"] == sorted(DEFAULT_ROLES["cashier"][1])
    assert copy["builtin"] is False and copy["requires_2fa"] is True and copy["active"] is True
    assert copy["name"]  # "Copy of …" in the administrator's language
    assert role_row(db, "cashier") == cashier
    role_action(admin, cashier["id"], "copy")
    assert role_row(db, "cashier_copy_2")["permissions"] == copy["permissions"]


def test_a_built_in_role_cannot_be_changed(admin, db):
    cashier = role_row(db, "cashier")
    page = admin.get(DEMO, f"/admin/roles/{cashier['id']}")
    assert 'name="name"' not in page.text  # no form to change it, only "copy"
    admin.post(
        DEMO,
        f"/admin/roles/{cashier['id']}",
        {"csrf_token": csrf(page), "action": "save", "name": "Cash", "permissions": ["member.view"]},
        status=403,
    )
    admin.post(DEMO, f"/admin/roles/{cashier['id']}", {"csrf_token": csrf(page), "action": "deactivate"}, status=403)
    refused = admin.post(
        DEMO, "/admin/roles?_LOCALE_=en", {"csrf_token": csrf(page), "cashier:sms.view": "on"}, status=400
    )
    assert "built-in role cannot be changed" in refused.text
    create = {"csrf_token": csrf(page), "action": "create", "code": "cashier", "name": "Mine"}
    assert "exists already" in admin.post(DEMO, "/admin/roles?_LOCALE_=en", create, status=400).text
    assert role_row(db, "cashier") == cashier


def test_a_role_with_an_unknown_permission_is_refused_and_nothing_changes(admin, wsgi_app, db):
    page = admin.get(DEMO, "/admin/roles")
    forged = {
        "csrf_token": csrf(page),
        "action": "create",
        "code": "forged",
        "name": "Forged",
        "permissions": ["member.view", "loan.print_money"],
    }
    refused = admin.post(DEMO, "/admin/roles?_LOCALE_=en", forged, status=400)
    field = refused.html.find("p", id="permissions-error")
    assert field is not None and "Only the permissions listed here" in field.text
    assert role_row(db, "forged") is None

    create_role(admin, "front_desk", "前台", {"member.view"})
    before = role_row(db, "front_desk")
    matrix = {"csrf_token": csrf(page), "front_desk:member.view": "on", "front_desk:loan.print_money": "on"}
    admin.post(DEMO, "/admin/roles", matrix, status=400)
    edit = {"csrf_token": csrf(page), "action": "save", "name": "x", "permissions": ["loan.print_money"]}
    admin.post(DEMO, f"/admin/roles/{before['id']}", edit, status=400)
    assert role_row(db, "front_desk") == before
    # The manifest refuses it too, whoever edits it, naming the field.
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        scope_to_tenant(session, demo.id)
        versions = session.scalar(sa.select(sa.func.count()).select_from(TenantVersion))

        def edit_manifest(data):
            data["roles"]["front_desk"]["permissions"].append("loan.print_money")

        with pytest.raises(DomainError) as error:
            manifest.change(
                session, demo, wsgi_app.registry["plugins"], edit_manifest, actor="test", action="settings.roles"
            )
        assert error.value.field == "roles.front_desk.permissions"
        assert session.scalar(sa.select(sa.func.count()).select_from(TenantVersion)) == versions
    assert role_row(db, "front_desk") == before


def test_nobody_takes_away_their_own_right_to_manage_roles(admin, wsgi_app, db):
    create_role(admin, "role_keeper", "Role keeper", {"system.roles", "member.view"})
    keeper_id = new_staff(db, "keeper")
    give_roles(admin, keeper_id, {"role_keeper"})
    keeper = sign_in(wsgi_app, "keeper")
    role = role_row(db, "role_keeper")
    page = keeper.get(DEMO, f"/admin/roles/{role['id']}")
    keeper.post(DEMO, f"/admin/roles/{role['id']}", {"csrf_token": csrf(page), "action": "deactivate"}, status=400)
    assert role_row(db, "role_keeper") == role
    keeper.get(DEMO, "/admin/roles", status=200)


# -- readable in every language --------------------------------------------------------------------------------------


def test_role_pages_and_their_audit_name_roles_in_words(admin, db):
    create_role(admin, "front_desk", "前台", {"member.view", "funds.adjust"})
    custom = role_row(db, "front_desk")
    role_action(admin, custom["id"], "deactivate")
    role_action(admin, role_row(db, "auditor")["id"], "copy")
    dora_id = new_staff(db, "dora")
    give_roles(admin, dora_id, {"content_editor", "auditor_copy"})
    paths = [
        "/admin/roles",
        f"/admin/roles/{custom['id']}",
        f"/admin/roles/{role_row(db, 'cashier')['id']}",
        "/admin/staff",
        f"/admin/staff/{dora_id}",
        "/admin/audit",
    ]
    found = []
    for path in paths:
        for locale in LOCALES:
            page = admin.get(DEMO, path, params={"_LOCALE_": locale})
            found += [f"{path} [{locale}] {p}" for p in problems(visible_text(page.text), locale)]
    assert not found, "\n".join(found)
    audit = " ".join(visible_text(admin.get(DEMO, "/admin/audit", params={"_LOCALE_": "en"}).text))
    assert "role 前台" in audit  # the custom role by its name, never its code


def test_restoring_a_version_that_changes_a_roles_permissions_signs_out_its_holders(admin, wsgi_app, db):
    create_role(admin, "front_desk", "前台", {"member.view"})
    page = admin.get(DEMO, "/admin/settings/versions", params={"_LOCALE_": "en"})
    with_member_view = int(page.html.select("table a[href*='/admin/settings/versions/']")[0].get_text())
    dora_id = new_staff(db, "dora")
    give_roles(admin, dora_id, {"front_desk"})
    page = admin.get(DEMO, "/admin/roles")
    form = next(f for f in page.forms.values() if "front_desk:member.view" in f.fields)
    form["front_desk:sms.view"] = True
    form.submit("action", value="save", extra_environ={"HTTP_HOST": DEMO}, status=303)
    dora = sign_in(wsgi_app, "dora")  # signed in on the grant that reads the SMS log
    dora.get(DEMO, "/admin/sms", status=200)

    page = admin.get(DEMO, f"/admin/settings/versions/{with_member_view}")
    form = next(f for f in page.forms.values() if f.action.endswith(f"/versions/{with_member_view}"))
    form.submit(extra_environ={"HTTP_HOST": DEMO}, status=303)

    assert role_row(db, "front_desk")["permissions"] == ["member.view"]
    dora.get(DEMO, "/admin/sms", status=302)  # the restore ended the sign-in made on the wider grant
    sign_in(wsgi_app, "dora").get(DEMO, "/admin/sms", status=403)
