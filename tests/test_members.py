"""Members: sign-up by SMS code, sign-in, passwords, verification, cards, sessions, API tokens."""

import datetime as dt
import re

import pytest
import sqlalchemy as sa

from core.accounts.models import AuthSession
from core.accounts.services import create_staff
from core.members.identity import luhn_ok, resident_id_problem
from core.members.models import Member, VerificationCode
from core.members.services import MemberError
from core.sms import SmsMessage
from core.tenancy.services import tenant_by_slug
from tests.dev_outbox import OUTBOX
from tests.helpers import PASSWORD, luhn_card, staff_client, submit

DEMO = "demo.localhost"
ACME = "acme.localhost"
PHONE = "13800138000"


def resident_id(prefix="11010519491231002"):
    """``prefix`` (17 digits, any birth date) with its check digit: tests/helpers.py's ``resident_id`` picks the date."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return prefix + "10X98765432"[sum(int(d) * w for d, w in zip(prefix, weights)) % 11]


VALID_ID = resident_id()
VALID_CARD = luhn_card("622202100112345678")


@pytest.fixture(autouse=True)
def fresh_outbox():
    OUTBOX.clear()


def last_code(db, phone=PHONE):
    """The code the member's phone received (the development outbox's log; the SMS log has it masked)."""
    return OUTBOX.code_for(phone)


def register(client, db, host=DEMO, phone=PHONE, password=PASSWORD):
    page = client.get(host, "/register")
    page = submit(client, host, page, {"phone": phone}, "send_code", status=200)
    assert "We sent a code" in page.text or "code" in page.text
    return submit(
        client,
        host,
        page,
        {"phone": phone, "code": last_code(db, phone), "password": password, "confirm": password},
        "register",
    )


@pytest.fixture
def member(client, db, tenants):
    response = register(client, db)
    assert response.status_int == 303 and response.location.endswith("/account")
    return client


def test_sign_up_with_an_sms_code_then_see_the_account(member):
    page = member.get(DEMO, "/account")
    assert "¥0.00" in page.text
    assert "立即認證" in page.text  # "Verify now": the demo tenant speaks zh_Hant


@pytest.mark.parametrize(
    "change, field_text",
    [
        ({"code": "000000"}, "The code is not correct."),
        ({"confirm": "something else entirely"}, "The passwords do not match."),
        ({"password": "short", "confirm": "short"}, "Use at least 10 characters."),
        ({"phone": "12345"}, "Enter a valid mobile number."),
    ],
)
def test_sign_up_refusals_name_the_field(client, db, tenants, change, field_text):
    page = client.get(DEMO, "/register?_LOCALE_=en")
    page = submit(client, DEMO, page, {"phone": PHONE}, "send_code", status=200)
    values = {"phone": PHONE, "code": last_code(db), "password": PASSWORD, "confirm": PASSWORD, **change}
    if change.get("code") == "000000" and last_code(db) == "000000":
        values["code"] = "000001"
    response = submit(client, DEMO, page, values, "register", status=400)
    assert field_text in response.text
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Member)) == 0


def test_an_expired_code_is_refused(client, db, tenants):
    page = client.get(DEMO, "/register?_LOCALE_=en")
    page = submit(client, DEMO, page, {"phone": PHONE}, "send_code", status=200)
    with db.transaction() as session:
        for code in session.scalars(sa.select(VerificationCode)):
            code.expires_at = code.created_at - dt.timedelta(seconds=1)
    response = submit(
        client,
        DEMO,
        page,
        {"phone": PHONE, "code": last_code(db), "password": PASSWORD, "confirm": PASSWORD},
        "register",
        status=400,
    )
    assert "expired" in response.text


def test_a_registered_phone_cannot_register_again_but_can_at_another_tenant(member, client, db):
    member.get(DEMO, "/account")
    page = client.get(DEMO, "/register?_LOCALE_=en")
    response = submit(client, DEMO, page, {"phone": PHONE}, "send_code", status=400)
    assert "already registered" in response.text
    other = register(client, db, host=ACME, phone="+8613800138000")
    assert other.status_int == 303
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Member)) == 2


def sign_in(client, host=DEMO, login=PHONE, password=PASSWORD, status="*"):
    page = client.get(host, "/login")
    return submit(client, host, page, {"login": login, "password": password}, status=status)


def test_sign_out_and_back_in(member, client):
    page = client.get(DEMO, "/account")
    form = [f for f in page.forms.values() if f.action.endswith("/logout")][0]
    form.submit(extra_environ={"HTTP_HOST": DEMO}, status=303)
    assert client.get(DEMO, "/account", status=302).location.endswith("/login?next=%2Faccount")
    assert sign_in(client, password="wrong password!").status_int == 400
    assert sign_in(client).location.endswith("/account")


def test_sign_in_is_throttled_per_account(member, client):
    client.app.reset()
    for _ in range(10):
        sign_in(client, password="wrong password!", status=400)
    response = sign_in(client, status=429)
    assert "嘗試次數過多" in response.text


def test_forgotten_password_by_sms_ends_other_sessions(member, client, db, wsgi_app):
    from tests.conftest import Client

    other = Client(wsgi_app)
    assert sign_in(other).status_int == 303
    other.get(DEMO, "/account", status=200)
    page = client.get(DEMO, "/password/forgot")
    page = submit(client, DEMO, page, {"phone": PHONE}, "send_code", status=200)
    new = "another long password"
    response = submit(
        client, DEMO, page, {"phone": PHONE, "code": last_code(db), "password": new, "confirm": new}, "reset"
    )
    assert response.status_int == 303
    other.get(DEMO, "/account", status=302)
    assert sign_in(other, password=new).status_int == 303


def test_unknown_numbers_get_the_same_answer_on_reset(client, tenants, db):
    page = client.get(DEMO, "/password/forgot?_LOCALE_=en")
    response = submit(client, DEMO, page, {"phone": "13900139000"}, "send_code", status=200)
    assert "If this number is registered" in response.text
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(SmsMessage)) == 0


def test_idle_sessions_expire_and_sign_out_everywhere_works(member, client, db, wsgi_app):
    from tests.conftest import Client

    second = Client(wsgi_app)
    sign_in(second)
    page = client.get(DEMO, "/account/security")
    assert page.text.count("<tr>") >= 3
    submit(client, DEMO, page, {}, "sign_out_others", status=303)
    second.get(DEMO, "/account", status=302)
    client.get(DEMO, "/account", status=200)
    with db.transaction() as session:
        for row in session.scalars(sa.select(AuthSession)):
            row.last_seen_at = row.last_seen_at - dt.timedelta(minutes=31)
    client.get(DEMO, "/account", status=302)


def password_notices(db):
    from core.accounts.models import AuditEvent

    with db.transaction() as session:
        notices = session.scalars(sa.select(SmsMessage.phone).where(SmsMessage.purpose == "notice.password")).all()
        actions = session.scalars(sa.select(AuditEvent.action).where(AuditEvent.action.like("member.password%"))).all()
    return notices, actions


def test_change_password_needs_the_current_one_and_tells_the_member(member, client, db):
    page = client.get(DEMO, "/account/password?_LOCALE_=en")
    response = submit(
        client,
        DEMO,
        page,
        {"current": "not it at all", "password": "brand new password", "confirm": "brand new password"},
        status=400,
    )
    assert "current password is not correct" in response.text
    assert password_notices(db) == ([], [])
    page = client.get(DEMO, "/account/password")
    submit(
        client,
        DEMO,
        page,
        {"current": PASSWORD, "password": "brand new password", "confirm": "brand new password"},
        status=303,
    )
    assert password_notices(db) == (["+8613800138000"], ["member.password_change"])
    assert OUTBOX.texts_to(PHONE)[-1].startswith("鼎信網貸")  # the notice reached the member's phone


def test_forms_without_csrf_are_refused(member, client, db):
    client.post(DEMO, "/account/profile", {"display_name": "x"}, status=403)
    client.post(DEMO, "/register", {"phone": "13900139000", "action": "send_code"}, status=403)
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(SmsMessage)) == 1


# -- verification and cards ---------------------------------------------------


def test_resident_id_and_card_checks():
    assert resident_id_problem(VALID_ID) is None
    assert resident_id_problem(VALID_ID[:-1] + ("0" if VALID_ID[-1] != "0" else "1")) == "checksum"
    assert resident_id_problem(resident_id("11010520230230001")) == "birth_date"
    assert resident_id_problem("12345") == "shape"
    assert luhn_ok(VALID_CARD) and not luhn_ok(VALID_CARD[:-1] + str((int(VALID_CARD[-1]) + 1) % 10))
    assert luhn_ok("4111111111111111") and not luhn_ok("4111 1111 1111 1112")


@pytest.fixture
def staff(db, tenants, wsgi_app):
    """Signed-in staff clients by role: risk officer, customer service and auditor."""
    return {
        role: staff_client(wsgi_app, db, role.replace("_", "-"), role)
        for role in ("risk_officer", "customer_service", "auditor")
    }


def member_id(db, phone=PHONE):
    with db.transaction() as session:
        return session.scalars(sa.select(Member.id).where(Member.phone.like(f"%{phone}"))).first()


def test_verification_review_and_card_binding(member, client, db, staff):
    page = client.get(DEMO, "/account/verification?_LOCALE_=en")
    bad = submit(
        client,
        DEMO,
        page,
        {"legal_name": "王小明", "id_number": VALID_ID[:-1] + "0" if VALID_ID[-1] != "0" else VALID_ID[:-1] + "1"},
        status=400,
    )
    assert "not a valid resident ID number" in bad.text
    page = client.get(DEMO, "/account/verification")
    submit(client, DEMO, page, {"legal_name": "王小明", "id_number": VALID_ID}, status=303)
    assert "Waiting for review" in client.get(DEMO, "/account/verification?_LOCALE_=en").text

    mid = member_id(db)
    # Customer service may look, not decide.
    staff["customer_service"].get(DEMO, f"/admin/members/{mid}", status=200)
    staff["customer_service"].post(DEMO, f"/admin/members/{mid}/verification", {"decision": "approve"}, status=403)
    review = staff["risk_officer"].get(DEMO, f"/admin/members/{mid}?_LOCALE_=en")
    form = [f for f in review.forms.values() if f.action.endswith("/verification")][0]
    form.submit("decision", value="approve", extra_environ={"HTTP_HOST": DEMO}, status=303)
    assert "Verified" in client.get(DEMO, "/account/verification?_LOCALE_=en").text

    page = client.get(DEMO, "/account/cards?_LOCALE_=en")
    wrong = submit(
        client, DEMO, page, {"bank_name": "工商銀行", "holder_name": "李四", "number": VALID_CARD}, status=400
    )
    assert "The card holder must be you" in wrong.text
    page = client.get(DEMO, "/account/cards?_LOCALE_=en")
    luhn = submit(
        client,
        DEMO,
        page,
        {
            "bank_name": "工商銀行",
            "holder_name": "王小明",
            "number": VALID_CARD[:-1] + str((int(VALID_CARD[-1]) + 1) % 10),
        },
        status=400,
    )
    assert "not valid" in luhn.text
    page = client.get(DEMO, "/account/cards")
    submit(client, DEMO, page, {"bank_name": "工商銀行", "holder_name": "王小明", "number": VALID_CARD}, status=303)
    assert f"**** {VALID_CARD[-4:]}" in client.get(DEMO, "/account/cards").text

    audit = staff["auditor"].get(DEMO, "/admin/audit?q=verification").text
    assert "member.verification.approve" in audit and "pending" in audit and "verified" in audit


def test_staff_cannot_reach_another_tenants_member(member, client, db, staff):
    register(client, db, host=ACME, phone="+8613900139000")
    acme_member = member_id(db, "13900139000")
    staff["risk_officer"].get(DEMO, f"/admin/members/{acme_member}", status=404)
    staff["risk_officer"].post(
        DEMO, f"/admin/members/{acme_member}/verification", {"decision": "approve", "csrf_token": "x"}, status=403
    )


def test_permissions_are_denied_by_default(staff):
    staff["customer_service"].get(DEMO, "/admin/roles", status=403)
    staff["auditor"].get(DEMO, "/admin/staff", status=403)
    staff["auditor"].get(DEMO, "/admin/audit", status=200)
    nav = staff["customer_service"].get(DEMO, "/admin?_LOCALE_=en").text
    assert "Members" in nav and "Roles and permissions" not in nav


def test_a_reused_totp_code_is_refused(db, tenants):
    import pyotp

    from core.accounts import totp
    from core.accounts.models import StaffUser

    with db.transaction() as session:
        staff = create_staff(session, tenant_by_slug(session, "demo"), "cashier1", PASSWORD, "cashier")
        code = pyotp.TOTP(staff.totp_secret).now()
        assert totp.verify(staff, code)
        assert not totp.verify(staff, code)
        assert not totp.verify(staff, "123")
        assert session.get(StaffUser, staff.id).totp_last_step > 0


# -- API tokens ---------------------------------------------------------------


def test_bearer_tokens_for_members(member, client):
    client.app.reset()
    refused = client.post_json(DEMO, "/api/v1/auth/token", {"login": PHONE, "password": "nope nope nope"}, status=401)
    assert refused.json["field"] == "login"
    token = client.post_json(DEMO, "/api/v1/auth/token", {"login": PHONE, "password": PASSWORD}).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    me = client.get(DEMO, "/api/v1/me", headers=headers).json
    assert me["kind"] == "member" and me["verified"] is False
    client.get(ACME, "/api/v1/me", headers=headers, status=401)
    client.app.delete("/api/v1/auth/token", headers=headers, extra_environ={"HTTP_HOST": DEMO})
    client.get(DEMO, "/api/v1/me", headers=headers, status=401)


def test_security_headers(client, tenants):
    response = client.get(DEMO, "/")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_member_cli_creates_a_verified_member(db, tenants, tmp_path, settings):
    from click.testing import CliRunner

    from cli import main

    ini = tmp_path / "t.ini"
    ini.write_text("[app:main]\nuse = egg:lendstack\n" + "\n".join(f"{k} = {v}" for k, v in settings.items()))
    run = lambda *a: CliRunner().invoke(main, list(a), env={"LENDSTACK_PASSWORD": PASSWORD})  # noqa: E731
    ok = run(
        "member",
        "create",
        "-c",
        str(ini),
        "--tenant",
        "demo",
        "--phone",
        "13700137000",
        "--name",
        "張三",
        "--id-number",
        VALID_ID,
        "--verified",
    )
    assert ok.exit_code == 0, ok.output
    assert run("member", "create", "-c", str(ini), "--tenant", "demo", "--phone", "13700137000").exit_code == 2
    bad = run(
        "member",
        "create",
        "-c",
        str(ini),
        "--tenant",
        "demo",
        "--phone",
        "13600136000",
        "--name",
        "李四",
        "--id-number",
        "110105194912310000",
        "--verified",
    )
    assert bad.exit_code == 2 and "id_number" in bad.output
    graded = run(
        "member",
        "create",
        "-c",
        str(ini),
        "--tenant",
        "demo",
        "--phone",
        "13500135000",
        "--name",
        "王五",
        "--id-number",
        resident_id("11010519800101555"),
        "--verified",
        "--credit-line",
        "20000",
        "--grade",
        "Z",
    )
    assert graded.exit_code == 2 and "grade" in graded.output
    with db.transaction() as session:
        created = session.scalars(sa.select(Member).where(Member.phone == "+8613700137000")).one()
        assert created.is_verified and created.legal_name == "張三"
        assert session.scalars(sa.select(Member).where(Member.phone == "+8613500135000")).first() is None


# -- violations, points, messages, documents ----------------------------------------


def admin_form(page, action_suffix):
    return [f for f in page.forms.values() if f.action.endswith(action_suffix)][0]


def test_a_violation_freezes_sign_in_and_the_member_sees_why(member, client, db, staff):
    mid = member_id(db)
    page = staff["risk_officer"].get(DEMO, f"/admin/members/{mid}")
    form = admin_form(page, "/violations")
    form["reason"], form["freeze_login"] = "冒用他人身分", True
    form.submit(extra_environ={"HTTP_HOST": DEMO}, status=303)
    client.get(DEMO, "/account", status=302)  # the running session ended
    refused = sign_in(client, status=403)
    assert "冒用他人身分" in refused.text
    page = staff["risk_officer"].get(DEMO, f"/admin/members/{mid}")
    lift = [f for f in page.forms.values() if f.action.endswith("/violations") and "lift" in f.fields][0]
    lift.submit("lift", extra_environ={"HTTP_HOST": DEMO}, status=303)
    assert sign_in(client).status_int == 303


def test_bidding_freeze_is_shown_on_the_account(member, client, db, staff):
    page = staff["risk_officer"].get(DEMO, f"/admin/members/{member_id(db)}")
    form = admin_form(page, "/violations")
    form["reason"], form["freeze_bidding"] = "惡意撤標", True
    form.submit(extra_environ={"HTTP_HOST": DEMO}, status=303)
    assert "惡意撤標" in client.get(DEMO, "/account").text
    audit = staff["auditor"].get(DEMO, "/admin/audit?q=violation").text
    assert "member.violation.record" in audit


def test_points_are_awarded_once_per_reference_and_set_the_level(member, db, tenants):
    from core.members import conduct

    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        someone = session.scalars(sa.select(Member)).one()
        assert conduct.points_for_investment(demo, 1_234_56) == 12
        conduct.award_points(session, someone, 1200, reason="invested", ref="bid:1")
        conduct.award_points(session, someone, 1200, reason="invested", ref="bid:1")
        assert someone.vip_points == 1200
        assert conduct.vip_level(demo, someone.vip_points).name == "白銀會員"
        with pytest.raises(Exception):
            conduct.award_points(session, someone, -5000, reason="oops", ref="x")
    page = member.get(DEMO, "/account/points")
    assert "白銀會員" in page.text and "黃金會員" in page.text and "+1200" in page.text


def test_staff_and_member_exchange_messages(member, client, db, staff):
    mid = member_id(db)
    staff["customer_service"].get(DEMO, f"/admin/members/{mid}")
    page = staff["customer_service"].get(DEMO, f"/admin/members/{mid}")
    form = admin_form(page, "/messages")
    form["subject"], form["body"] = "還款提醒", "您的借款將於下週到期。"
    form.submit(extra_environ={"HTTP_HOST": DEMO}, status=303)
    assert "unread" in client.get(DEMO, "/account?_LOCALE_=en").text
    inbox = client.get(DEMO, "/account/messages")
    assert "還款提醒" in inbox.text
    submit(client, DEMO, inbox, {"subject": "收到", "body": "謝謝提醒"}, status=303)
    assert "謝謝提醒" in staff["customer_service"].get(DEMO, f"/admin/members/{mid}").text
    empty = client.get(DEMO, "/account/messages?_LOCALE_=en")
    assert "Enter a subject" in submit(client, DEMO, empty, {"subject": "", "body": "x"}, status=400).text


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def upload(client, kind, name, data, content_type):
    page = client.get(DEMO, "/account/verification?_LOCALE_=en")
    form = [f for f in page.forms.values() if "file" in f.fields][0]
    form["kind"] = kind
    form["file"] = (name, data, content_type)
    return form.submit(extra_environ={"HTTP_HOST": DEMO}, status="*")


def test_documents_are_checked_stored_privately_and_shown_to_permitted_staff(member, client, db, staff):
    assert upload(client, "id_front", "front.png", PNG, "image/png").status_int == 303
    assert "JPEG, PNG or PDF" in upload(client, "id_back", "x.png", b"GIF89a....", "image/png").text
    assert "5 MB" in upload(client, "id_back", "big.pdf", b"%PDF-" + b"0" * (5 * 1024 * 1024), "application/pdf").text
    mid = member_id(db)
    page = staff["risk_officer"].get(DEMO, f"/admin/members/{mid}")
    link = re.search(r'href="(/admin/members/\d+/documents/\d+)"', page.text).group(1)
    opened = staff["risk_officer"].get(DEMO, link)
    assert opened.body == PNG and opened.content_type == "image/png"
    staff["customer_service"].get(DEMO, link, status=403)
    client.get(DEMO, link, status=403)  # a member is not staff
    assert "member.document.open" in staff["auditor"].get(DEMO, "/admin/audit?q=document").text


# -- staff management ---------------------------------------------------------------


@pytest.fixture
def admin(db, tenants, wsgi_app):
    """A signed-in administrator (password and code)."""
    return staff_client(wsgi_app, db, "boss", "administrator")


def test_staff_created_in_the_back_office_enrol_two_factor_at_first_sign_in(admin, wsgi_app, db):
    from tests.conftest import Client

    page = admin.get(DEMO, "/admin/staff")
    created = submit(
        admin,
        DEMO,
        page,
        {"login": "carol", "display_name": "Carol", "role": "cashier", "password": "temporary pass 1"},
        status=303,
    )
    assert "/admin/staff/" in created.location
    carol = Client(wsgi_app)
    page = carol.get(DEMO, "/admin/login")
    submit(carol, DEMO, page, {"login": "carol", "password": "temporary pass 1"}, status=303)
    enrol = carol.get(DEMO, "/admin/login/verify")
    assert "<svg" in enrol.text
    import pyotp

    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', enrol.text).group(1)
    submit(carol, DEMO, enrol, {"code": pyotp.TOTP(secret).now()}, status=303)
    carol.get(DEMO, "/admin", status=200)

    # Deactivation ends Carol's session at once; nobody may deactivate themselves.
    with db.transaction() as session:
        from core.accounts.models import StaffUser

        carol_id = session.scalars(sa.select(StaffUser.id).where(StaffUser.login == "carol")).one()
        boss_id = session.scalars(sa.select(StaffUser.id).where(StaffUser.login == "boss")).one()
    page = admin.get(DEMO, f"/admin/staff/{carol_id}")
    form = [f for f in page.forms.values() if "active" in f.fields][0]
    form.submit("active", extra_environ={"HTTP_HOST": DEMO}, status=303)
    carol.get(DEMO, "/admin", status=302)
    page = admin.get(DEMO, f"/admin/staff/{boss_id}")
    form = [f for f in page.forms.values() if "active" in f.fields][0]
    form.submit("active", extra_environ={"HTTP_HOST": DEMO}, status=400)


def test_a_group_grants_its_roles(admin, staff, db, wsgi_app):
    page = admin.get(DEMO, "/admin/groups")
    form = admin_form(page, "/admin/groups")
    form["name"] = "Finance"
    for field in form.fields["roles"]:
        if field._value == "auditor":
            field.checked = True
    form.submit(extra_environ={"HTTP_HOST": DEMO}, status=303)
    with db.transaction() as session:
        from core.accounts.models import StaffGroup, StaffUser

        group_id = session.scalars(sa.select(StaffGroup.id)).one()
        cs_id = session.scalars(sa.select(StaffUser.id).where(StaffUser.login == "customer-service")).one()
    staff["customer_service"].get(DEMO, "/admin/audit", status=403)
    page = admin.get(DEMO, f"/admin/staff/{cs_id}")
    form = [f for f in page.forms.values() if "roles" in f.fields][0]
    for field in form.fields["groups"]:
        field.checked = str(field._value) == str(group_id)
    form.submit(extra_environ={"HTTP_HOST": DEMO}, status=303)
    staff["customer_service"].get(DEMO, "/admin/audit", status=302)  # a change of groups ended the session
    from tests.conftest import Client

    again = Client(wsgi_app)
    page = again.get(DEMO, "/admin/login")
    submit(again, DEMO, page, {"login": "customer-service", "password": PASSWORD}, status=303)
    again.get(DEMO, "/admin/audit", status=200)


def test_organization_tree(admin):
    page = admin.get(DEMO, "/admin/org")
    submit(admin, DEMO, page, {"name": "總行"}, status=303)
    page = admin.get(DEMO, "/admin/org")
    form = admin_form(page, "/admin/org")
    form["name"] = "風控部"
    form["parent"] = form["parent"].options[1][0]
    form.submit(extra_environ={"HTTP_HOST": DEMO}, status=303)
    tree = admin.get(DEMO, "/admin/org").text
    assert tree.index("總行") < tree.index("風控部")
    again = admin.get(DEMO, "/admin/org")
    assert submit(admin, DEMO, again, {"name": "總行"}, status=400).status_int == 400


# -- tenant member rules: email sign-up, ID types ---------------------------------


def last_mail_code(db, address):
    return OUTBOX.code_for(address)


def test_email_sign_up_where_the_tenant_allows_it(client, db, tenants):
    assert 'name="phone"' in client.get(DEMO, "/register?with=email").text  # demo takes phones only
    page = client.get(ACME, "/register?with=email")
    page = submit(client, ACME, page, {"email": "Ann@Example.com"}, "send_code", status=200)
    assert "by email" in page.text
    response = submit(
        client,
        ACME,
        page,
        {
            "email": "ann@example.com",
            "code": last_mail_code(db, "ann@example.com"),
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
        "register",
    )
    assert response.status_int == 303
    with db.transaction() as session:
        ann = session.scalars(sa.select(Member).where(Member.email == "ann@example.com")).one()
        assert ann.phone is None
    # Passports only at acme.
    page = client.get(ACME, "/account/verification")
    assert "cn_resident" not in page.text and "passport" in page.text
    refused = submit(client, ACME, page, {"legal_name": "Ann Lee", "id_number": "E12345678"}, status=303)
    assert refused.status_int == 303
    # Reset by email, and the demo tenant (no email sign-up) refuses it.
    out = client.get(ACME, "/account")
    [f for f in out.forms.values() if f.action.endswith("/logout")][0].submit(
        extra_environ={"HTTP_HOST": ACME}, status=303
    )
    page = client.get(ACME, "/password/forgot")
    page = submit(client, ACME, page, {"phone": "ann@example.com"}, "send_code", status=200)
    new = "another long password"
    submit(
        client,
        ACME,
        page,
        {"phone": "ann@example.com", "code": last_mail_code(db, "ann@example.com"), "password": new, "confirm": new},
        "reset",
        status=303,
    )
    assert sign_in(client, ACME, "ann@example.com", new).status_int == 303
    assert "password of your account was just changed" in OUTBOX.texts_to("ann@example.com")[-1]


def test_id_types_outside_the_tenants_list_are_refused(db, tenants):
    from core.members.services import create_member, submit_verification

    with db.transaction() as session:
        acme = tenant_by_slug(session, "acme")
        someone = create_member(session, acme, phone="+12025550143", password=PASSWORD)
        with pytest.raises(MemberError) as error:
            submit_verification(session, acme, someone, legal_name="Bo Li", id_type="cn_resident", id_number=VALID_ID)
        assert error.value.field == "id_type"


def test_another_tenants_ids_in_a_form_are_refused(admin, db):
    from core.accounts.models import StaffUser
    from core.accounts.services import create_group

    with db.transaction() as session:
        acme = tenant_by_slug(session, "acme")
        foreign_group = create_group(session, acme.id, "Acme finance", ["administrator"]).id
        boss = session.scalars(sa.select(StaffUser).where(StaffUser.login == "boss")).one()
        boss_id, roles_before = boss.id, [r.code for r in boss.roles]
    page = admin.get(DEMO, f"/admin/staff/{boss_id}")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    admin.post(
        DEMO,
        f"/admin/staff/{boss_id}",
        {"csrf_token": csrf, "roles": "administrator", "groups": str(foreign_group)},
        status=400,
    )
    with db.transaction() as session:
        boss = session.get(StaffUser, boss_id)
        assert [r.code for r in boss.roles] == roles_before and boss.groups == []
