"""Two-factor beyond sign-in: money moves only on a session or token that passed a second factor,
and changing what a staff user's roles grant ends their sessions and tokens."""

import re
import time

import pyotp
import pytest
import sqlalchemy as sa

import core.loans as loans
from core.accounts.models import AuditEvent, AuthSession, StaffUser
from core.accounts.permissions import ensure_default_roles
from core.accounts.services import create_group, create_staff
from core.ledger import Ledger, Wallet
from core.loans.models import Loan
from core.members.models import Member
from core.money import Money
from core.payments.models import Withdrawal
from core.tenancy import manifest
from core.tenancy.services import tenant_by_slug
from tests.conftest import Client
from tests.helpers import PASSWORD, luhn_card, member_client, resident_id, staff_client, submit

DEMO = "demo.localhost"


# -- arranging -------------------------------------------------------------------


def new_staff(db, login, role):
    """A staff user whose role moves no money: no TOTP secret yet. Their id."""
    with db.transaction() as session:
        return create_staff(session, tenant_by_slug(session, "demo"), login, PASSWORD, role).id


def sign_in(wsgi_app, login, code=None):
    """Sign in on the back-office form (with ``code`` at the two-factor step, if asked); the client."""
    client = Client(wsgi_app)
    page = client.get(DEMO, "/admin/login")
    response = submit(client, DEMO, page, {"login": login, "password": PASSWORD}, status=303)
    if code is not None:
        assert response.location.endswith("/admin/login/verify")
        page = client.get(DEMO, "/admin/login/verify")
        submit(client, DEMO, page, {"code": code}, status=303)
    else:
        assert not response.location.endswith("/verify")
    return client


def token(client, login, totp=None):
    body = {"login": login, "password": PASSWORD, "as": "staff"}
    if totp is not None:
        body["totp"] = totp
    return {"Authorization": "Bearer " + client.post_json(DEMO, "/api/v1/auth/token", body).json["token"]}


def raise_role_behind_the_back_office(db, staff_id, role):
    """Give ``role`` (and a TOTP secret) without the back office, as sessions opened before this
    release met it: whatever the session's roles now are, it passed no second factor. The secret."""
    with db.transaction() as session:
        staff = session.get(StaffUser, staff_id)
        staff.roles = [ensure_default_roles(session, staff.tenant_id)[role]]
        staff.totp_secret = pyotp.random_base32()
        return staff.totp_secret


def next_code(secret):
    """A code of the next 30-second step: a code is accepted once, so a second sign-in needs a new one."""
    return pyotp.TOTP(secret).at(int(time.time()) + 30)


def csrf(client):
    page = client.get(DEMO, "/admin")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def full_loan(db, plugins, n=0):
    """A credit loan of 1,000.00, reviewed and fully bid by one lender: waiting for its final review."""
    from core.members.services import create_member

    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        hooks = plugins.for_tenant(demo)
        borrower = create_member(
            session,
            demo,
            phone=f"1390013{n:04d}",
            password=PASSWORD,
            legal_name="王小明",
            id_number=resident_id(300 + n),
            verified=True,
        )
        borrower.credit_line = 500_000
        lender = create_member(
            session,
            demo,
            phone=f"1390014{n:04d}",
            password=PASSWORD,
            legal_name="李小華",
            id_number=resident_id(400 + n),
            verified=True,
        )
        Wallet(Ledger(session, demo.id), lender.id, "CNY").recharge(
            Money(100_000, "CNY"), key=f"seed:{n}", ref="test", initiator="test"
        )
        loan = loans.apply(
            session,
            demo,
            hooks,
            borrower,
            {
                "loan_type": "credit",
                "title": "週轉借款",
                "amount": "1000.00",
                "annual_rate_percent": "12",
                "term_months": "6",
                "repayment_method": "equal_installment",
                "fundraising_days": "5",
                "min_bid": "100",
            },
        )
        loans.review(session, demo, hooks, loan, approve=True, reason="", by="staff:0")
        loans.place_bid(session, demo, hooks, loan.id, lender, "1000.00", key=f"bid:{n}")
        assert loan.status == "full"
        return loan.id


def loan_status(db, loan_id):
    with db.transaction() as session:
        return session.get(Loan, loan_id).status


def requested_withdrawal(wsgi_app, db):
    """A member's withdrawal of 300.00, waiting for a cashier; its id."""
    client, member_id = member_client(wsgi_app, db, "13800138731", card=luhn_card())
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo").id
        Wallet(Ledger(session, demo), member_id, "CNY").recharge(
            Money(100_000, "CNY"), key="seed", ref="t", initiator="test"
        )
    page = client.get(DEMO, "/account/withdraw")
    submit(client, DEMO, page, {"amount": "300.00"}, status=303)
    with db.transaction() as session:
        withdrawal = session.scalars(sa.select(Withdrawal).where(Withdrawal.member_id == member_id)).one()
        assert withdrawal.status == "requested"
        return withdrawal.id


def withdrawal_status(db, withdrawal_id):
    with db.transaction() as session:
        return session.get(Withdrawal, withdrawal_id).status


def sessions_ended(db, staff_id):
    with db.transaction() as session:
        return [
            e.after
            for e in session.scalars(
                sa.select(AuditEvent).where(
                    AuditEvent.action == "staff.sessions_ended", AuditEvent.object_id == str(staff_id)
                )
            )
        ]


@pytest.fixture
def admin(wsgi_app, db, tenants):
    return staff_client(wsgi_app, db, "boss", "administrator")


# -- changing roles ends sessions and tokens --------------------------------------


def test_raising_a_role_in_the_back_office_ends_the_old_session_and_token(admin, wsgi_app, db, client):
    dora_id = new_staff(db, "dora", "customer_service")
    dora = sign_in(wsgi_app, "dora")  # no money moves in her role: no second factor asked
    dora.get(DEMO, "/admin", status=200)
    dora_token = token(client, "dora")
    client.get(DEMO, "/api/v1/me", headers=dora_token, status=200)

    page = admin.get(DEMO, f"/admin/staff/{dora_id}")
    form = [f for f in page.forms.values() if "roles" in f.fields][0]
    for box in form.fields["roles"]:
        box.checked = box._value == "cashier"
    form.submit(extra_environ={"HTTP_HOST": DEMO}, status=303)

    assert "/admin/login" in dora.get(DEMO, "/admin", status=302).location
    client.get(DEMO, "/api/v1/me", headers=dora_token, status=401)
    assert sessions_ended(db, dora_id) == [{"login": "dora", "sessions": 2, "because": "staff.access"}]
    # Signing in again asks for the second factor her new role needs: she enrols first.
    again = Client(wsgi_app)
    page = again.get(DEMO, "/admin/login")
    response = submit(again, DEMO, page, {"login": "dora", "password": PASSWORD}, status=303)
    assert response.location.endswith("/admin/login/verify")
    assert "<svg" in again.get(DEMO, "/admin/login/verify").text


def test_saving_without_a_change_of_roles_ends_no_session(admin, wsgi_app, db):
    dora_id = new_staff(db, "dora", "customer_service")
    dora = sign_in(wsgi_app, "dora")
    page = admin.get(DEMO, f"/admin/staff/{dora_id}")
    [f for f in page.forms.values() if "roles" in f.fields][0].submit(extra_environ={"HTTP_HOST": DEMO}, status=303)
    dora.get(DEMO, "/admin", status=200)
    assert sessions_ended(db, dora_id) == []


def test_changing_a_roles_permissions_ends_the_sessions_of_everyone_holding_it(admin, wsgi_app, db):
    dora_id = new_staff(db, "dora", "content_editor")  # will hold the custom role directly
    erin_id = new_staff(db, "erin", "content_editor")  # holds it through a group
    frank_id = new_staff(db, "frank", "content_editor")  # does not hold it
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        front_desk = {"name": "Front desk", "permissions": ["member.view", "member.message"]}
        manifest.change(
            session,
            demo,
            wsgi_app.registry["plugins"],
            lambda data: data.setdefault("roles", {}).update(front_desk=front_desk),
            actor="test",
            action="settings.roles",
        )
        dora = session.get(StaffUser, dora_id)
        dora.roles = [*dora.roles, ensure_default_roles(session, demo.id)["front_desk"]]
        group = create_group(session, demo.id, "Front desk", ["front_desk"])
        session.get(StaffUser, erin_id).groups = [group]
    dora, erin, frank = (sign_in(wsgi_app, login) for login in ("dora", "erin", "frank"))

    page = admin.get(DEMO, "/admin/roles")
    form = [f for f in page.forms.values() if "front_desk:member.view" in f.fields][0]
    form["front_desk:funds.adjust"] = True
    form.submit(extra_environ={"HTTP_HOST": DEMO}, status=303)

    dora.get(DEMO, "/admin", status=302)
    erin.get(DEMO, "/admin", status=302)
    frank.get(DEMO, "/admin", status=200)
    admin.get(DEMO, "/admin", status=200)  # the administrator does not hold the role
    because = "role.update:front_desk"
    assert sessions_ended(db, dora_id) == [{"login": "dora", "sessions": 1, "because": because}]
    assert sessions_ended(db, erin_id) == [{"login": "erin", "sessions": 1, "because": because}]
    assert sessions_ended(db, frank_id) == []


def test_deactivation_is_audited_with_the_sessions_it_ended(admin, wsgi_app, db):
    dora_id = new_staff(db, "dora", "customer_service")
    dora = sign_in(wsgi_app, "dora")
    page = admin.get(DEMO, f"/admin/staff/{dora_id}")
    [f for f in page.forms.values() if "active" in f.fields][0].submit(
        "active", extra_environ={"HTTP_HOST": DEMO}, status=303
    )
    dora.get(DEMO, "/admin", status=302)
    assert sessions_ended(db, dora_id) == [{"login": "dora", "sessions": 1, "because": "staff.access"}]


# -- money needs a second factor on the session itself ----------------------------


def test_a_session_opened_before_enrolment_cannot_approve_a_withdrawal(admin, wsgi_app, db):
    withdrawal_id = requested_withdrawal(wsgi_app, db)
    dora_id = new_staff(db, "dora", "customer_service")
    dora = sign_in(wsgi_app, "dora")
    secret = raise_role_behind_the_back_office(db, dora_id, "cashier")

    queue = dora.get(DEMO, "/admin/funds/withdrawals?_LOCALE_=en")  # funds.view moves no money
    assert f"/admin/funds/withdrawals/{withdrawal_id}" not in queue.text  # no approve button offered
    refused = dora.post(
        DEMO,
        f"/admin/funds/withdrawals/{withdrawal_id}?_LOCALE_=en",
        {"csrf_token": csrf(dora), "decision": "approve"},
        status=403,
    )
    assert "second factor" in refused.text
    assert withdrawal_status(db, withdrawal_id) == "requested"

    # Signed in again with the code, the same person approves it.
    dora = sign_in(wsgi_app, "dora", code=next_code(secret))
    queue = dora.get(DEMO, "/admin/funds/withdrawals")
    submit(dora, DEMO, queue, {"reason": ""}, "approve", status=303)
    assert withdrawal_status(db, withdrawal_id) != "requested"


def test_a_session_opened_before_enrolment_cannot_do_a_final_review(admin, wsgi_app, db, plugins):
    loan_id = full_loan(db, plugins)
    dora_id = new_staff(db, "dora", "customer_service")
    dora = sign_in(wsgi_app, "dora")
    raise_role_behind_the_back_office(db, dora_id, "risk_officer")

    page = dora.get(DEMO, f"/admin/loans/{loan_id}")
    assert "Approve and disburse" not in page.text and "核准並放款" not in page.text
    refused = dora.post(
        DEMO,
        f"/admin/loans/{loan_id}/decision?_LOCALE_=en",
        {"csrf_token": csrf(dora), "stage": "final", "decision": "approve"},
        status=403,
    )
    assert "second factor" in refused.text
    assert loan_status(db, loan_id) == "full"


def test_a_token_without_a_second_factor_cannot_move_money_and_one_with_it_can(wsgi_app, db, plugins, client, tenants):
    loan_id = full_loan(db, plugins)
    dora_id = new_staff(db, "dora", "customer_service")
    old_token = token(client, "dora")
    secret = raise_role_behind_the_back_office(db, dora_id, "risk_officer")

    me = client.get(DEMO, "/api/v1/me", headers=old_token).json
    assert "loan.review" in me["permissions"] and "loan.final_review" not in me["permissions"]
    refused = client.post_json(
        DEMO,
        f"/api/v1/admin/loans/{loan_id}/final-review?_LOCALE_=en",
        {"decision": "approve"},
        headers=old_token,
        status=403,
    )
    assert refused.content_type == "application/problem+json"
    assert refused.json["field"] == "Authorization" and "second factor" in refused.json["detail"]
    assert loan_status(db, loan_id) == "full"

    # Her role now needs the code to get a token at all; with it, the token moves money.
    missing = client.post_json(
        DEMO, "/api/v1/auth/token", {"login": "dora", "password": PASSWORD, "as": "staff"}, status=401
    )
    assert missing.json["field"] == "totp"
    new_token = token(client, "dora", totp=pyotp.TOTP(secret).now())
    done = client.post_json(
        DEMO, f"/api/v1/admin/loans/{loan_id}/final-review", {"decision": "approve"}, headers=new_token
    ).json
    assert done["status"] == "repaying"


def test_a_token_records_a_second_factor_only_for_a_right_code(wsgi_app, db, client, tenants):
    dora_id = new_staff(db, "dora", "customer_service")
    wrong = client.post_json(
        DEMO, "/api/v1/auth/token", {"login": "dora", "password": PASSWORD, "as": "staff", "totp": "123456"}, status=401
    )
    assert wrong.json["field"] == "totp"  # not enrolled: a code cannot be right
    with db.transaction() as session:
        secret = session.get(StaffUser, dora_id).totp_secret = pyotp.random_base32()
    client.post_json(
        DEMO, "/api/v1/auth/token", {"login": "dora", "password": PASSWORD, "as": "staff", "totp": "000000"}, status=401
    )
    token(client, "dora")
    token(client, "dora", totp=pyotp.TOTP(secret).now())
    with db.transaction() as session:
        rows = session.scalars(
            sa.select(AuthSession)
            .where(AuthSession.principal_id == dora_id, AuthSession.kind == "staff")
            .order_by(AuthSession.id)
        ).all()
        assert [(r.via, r.second_factor_at is not None) for r in rows] == [("token", False), ("token", True)]


def test_a_sign_in_through_the_two_factor_step_records_it(wsgi_app, db, tenants):
    staff_client(wsgi_app, db, "cashy", "cashier")
    new_staff(db, "dora", "customer_service")
    sign_in(wsgi_app, "dora")
    with db.transaction() as session:
        rows = session.execute(
            sa.select(StaffUser.login, AuthSession.second_factor_at)
            .join(StaffUser, StaffUser.id == AuthSession.principal_id)
            .where(AuthSession.kind == "staff")
        ).all()
        assert {login: at is not None for login, at in rows} == {"cashy": True, "dora": False}


# -- a frozen member asking for a token -------------------------------------------


def test_a_frozen_member_gets_403_for_a_token_like_the_form(wsgi_app, db, client, tenants):
    from core.members.conduct import record_violation

    member_client(wsgi_app, db, "13800138732")
    with db.transaction() as session:
        member = session.scalars(sa.select(Member).where(Member.phone.like("%13800138732"))).one()
        record_violation(session, member, reason="冒用他人身分", freeze_login=True, by="staff:1")
    refused = client.post_json(DEMO, "/api/v1/auth/token", {"login": "13800138732", "password": PASSWORD}, status=403)
    assert refused.content_type == "application/problem+json"
    assert refused.json["field"] == "login" and "冒用他人身分" in refused.json["detail"]
    # A wrong password still says nothing about the account.
    wrong = client.post_json(
        DEMO, "/api/v1/auth/token", {"login": "13800138732", "password": "not the password"}, status=401
    )
    assert "冒用他人身分" not in wrong.text
    form = Client(wsgi_app)
    page = form.get(DEMO, "/login")
    assert "冒用他人身分" in submit(form, DEMO, page, {"login": "13800138732", "password": PASSWORD}, status=403).text
