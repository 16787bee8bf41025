"""Operators sign in with a password and a TOTP code (enrolling with a QR code the first time), a code works
once, and an operator's session is nobody on a tenant's site — nor a staff session on the console."""

import time

import pyotp
import sqlalchemy as sa
from click.testing import CliRunner

from core.accounts.models import AuditEvent, AuthSession, Operator
from core.accounts.services import create_operator
from tests.conftest import Client
from tests.helpers import PASSWORD, staff_client, submit

OPERATOR, DEMO = "operator.localhost", "demo.localhost"


def new_operator(db, login="root", enrol_at_sign_in=False):
    """An operator; their TOTP secret (``None`` when they enrol at the first sign-in)."""
    with db.transaction() as session:
        return create_operator(session, login, PASSWORD, enrol_at_sign_in=enrol_at_sign_in).totp_secret


def code_of(secret, later=0):
    """The code of the current 30-second step (``later`` steps on: a code is accepted once)."""
    return pyotp.TOTP(secret).at(int(time.time()) + 30 * later)


def password_step(client, login="root", password=PASSWORD):
    page = client.get(OPERATOR, "/operator/login")
    return submit(client, OPERATOR, page, {"login": login, "password": password}, status="*")


def operator_client(wsgi_app, db, login="root"):
    """A new operator signed in on the console with both factors: (client, TOTP secret)."""
    secret = new_operator(db, login)
    client = Client(wsgi_app)
    assert password_step(client, login).location.endswith("/operator/login/verify")
    page = client.get(OPERATOR, "/operator/login/verify")
    submit(client, OPERATOR, page, {"code": code_of(secret)}, status=303)
    return client, secret


def auth_cookie(client) -> str:
    return next(c.value for c in client.app.cookiejar if c.name == "lendstack_auth")


def operator_sessions(db):
    with db.transaction() as session:
        return session.execute(
            sa.select(AuthSession.second_factor_at, AuthSession.revoked_at).where(AuthSession.kind == "operator")
        ).all()


def test_the_password_alone_opens_nothing(client, db, tenants):
    new_operator(db)
    response = password_step(client)
    assert response.status_int == 303 and response.location.endswith("/operator/login/verify")
    assert "/operator/login" in client.get(OPERATOR, "/operator", status=302).location
    assert operator_sessions(db) == []


def test_a_right_code_signs_in_with_the_second_factor_recorded(client, db, tenants):
    secret = new_operator(db)
    password_step(client)
    page = client.get(OPERATOR, "/operator/login/verify?_LOCALE_=en")
    assert "<svg" not in page.text  # enrolled already: no QR code
    wrong = submit(client, OPERATOR, page, {"code": "000000"}, status=400)
    assert "The code is not correct." in wrong.text
    done = submit(client, OPERATOR, wrong, {"code": code_of(secret)}, status=303)
    assert done.location.endswith("/operator")
    assert 'data-tenant="demo"' in client.get(OPERATOR, "/operator").text
    [(second_factor_at, revoked_at)] = operator_sessions(db)
    assert second_factor_at is not None and revoked_at is None
    with db.transaction() as session:
        signed_in = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "sign_in")).one()
        assert signed_in.actor.startswith("operator:") and signed_in.after == {"second_factor": True}


def test_a_code_is_accepted_once(wsgi_app, db, tenants):
    secret = new_operator(db)
    code = code_of(secret)
    first = Client(wsgi_app)
    password_step(first)
    submit(first, OPERATOR, first.get(OPERATOR, "/operator/login/verify"), {"code": code}, status=303)
    second = Client(wsgi_app)
    password_step(second)
    page = second.get(OPERATOR, "/operator/login/verify")
    submit(second, OPERATOR, page, {"code": code}, status=400)  # the same code again: a replay
    second.get(OPERATOR, "/operator", status=302)
    submit(second, OPERATOR, page, {"code": code_of(secret, later=1)}, status=303)
    second.get(OPERATOR, "/operator", status=200)


def test_an_operator_without_a_secret_enrols_with_a_qr_code_at_the_first_sign_in(client, db, tenants):
    assert new_operator(db, enrol_at_sign_in=True) is None
    password_step(client)
    page = client.get(OPERATOR, "/operator/login/verify")
    assert "<svg" in page.text
    key = page.html.select_one("code.secret").text.strip()
    submit(client, OPERATOR, page, {"code": "123456" if code_of(key) != "123456" else "654321"}, status=400)
    with db.transaction() as session:
        assert session.scalars(sa.select(Operator)).one().totp_secret is None  # a wrong code enrols nothing
    submit(client, OPERATOR, client.get(OPERATOR, "/operator/login/verify"), {"code": code_of(key)}, status=303)
    client.get(OPERATOR, "/operator", status=200)
    with db.transaction() as session:
        assert session.scalars(sa.select(Operator)).one().totp_secret == key
        actions = session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions == ["totp_enrolled", "sign_in"]


def test_the_verify_step_without_a_password_sends_back_to_sign_in(client, tenants):
    response = client.get(OPERATOR, "/operator/login/verify", status=303)
    assert response.location.endswith("/operator/login")


def test_an_operator_session_is_nobody_on_a_tenant_site_and_a_staff_session_nobody_on_the_console(
    wsgi_app, db, tenants
):
    operator, _secret = operator_client(wsgi_app, db)
    staff = staff_client(wsgi_app, db, "boss", "administrator")
    operator_token, staff_token = auth_cookie(operator), auth_cookie(staff)
    stranger = Client(wsgi_app)
    # The operator's cookie on a tenant's host: the back office and the API see nobody.
    cookie = {"Cookie": f"lendstack_auth={operator_token}"}
    assert "/admin/login" in stranger.get(DEMO, "/admin", headers=cookie, status=302).location
    stranger.get(DEMO, "/api/v1/me", headers={"Authorization": f"Bearer {operator_token}"}, status=401)
    # A staff member's cookie on the console: nobody either.
    cookie = {"Cookie": f"lendstack_auth={staff_token}"}
    assert "/operator/login" in stranger.get(OPERATOR, "/operator", headers=cookie, status=302).location
    stranger.get(OPERATOR, "/operator/tenants/new", headers=cookie, status=302)
    # Each still works where it belongs.
    operator.get(OPERATOR, "/operator", status=200)
    staff.get(DEMO, "/admin", status=200)


def test_every_console_page_sends_an_anonymous_visitor_to_sign_in(client, tenants):
    for path in ("/operator", "/operator/tenants/new", "/operator/upload", "/operator/audit", "/operator/tenants/demo"):
        assert "/operator/login?next=" in client.get(OPERATOR, path, status=302).location
    client.get(OPERATOR, "/operator/tenants/demo/manifest.toml", status=302)
    client.post(OPERATOR, "/operator/tenants/demo/archive", {"confirm": "demo"}, status=403)  # no CSRF token


def test_operator_create_prints_the_authenticator_uri(tmp_path, settings, engine, db):
    from cli import main

    ini = tmp_path / "test.ini"
    ini.write_text("[app:main]\nuse = egg:lendstack\n" + "".join(f"{k} = {v}\n" for k, v in settings.items()))
    result = CliRunner().invoke(
        main, ["operator", "create", "--login", "ops", "-c", str(ini)], env={"LENDSTACK_PASSWORD": PASSWORD}
    )
    assert result.exit_code == 0, result.output
    uri = next(line for line in result.output.splitlines() if line.startswith("otpauth://"))
    with db.transaction() as session:
        secret = session.scalars(sa.select(Operator.totp_secret).where(Operator.login == "ops")).one()
    assert f"secret={secret}" in uri and "ops%40console" in uri
