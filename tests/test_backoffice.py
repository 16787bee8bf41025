"""Signing in to the back office and the operator console; nobody crosses tenants or areas."""

import re

import pytest

from core.accounts.services import create_operator, create_staff
from core.tenancy.services import tenant_by_slug

PASSWORD = "correct horse battery"


@pytest.fixture
def accounts(db, tenants, client):
    secrets = {}
    with db.transaction() as session:
        secrets["root"] = create_operator(session, "root", PASSWORD).totp_secret
        secrets["alice"] = create_staff(
            session, tenant_by_slug(session, "demo"), "alice", PASSWORD, "administrator"
        ).totp_secret
        secrets["bob"] = create_staff(
            session, tenant_by_slug(session, "acme"), "bob", PASSWORD, "administrator"
        ).totp_secret
    client.db_secret = secrets.get
    return secrets


def sign_in(client, host, path, login, password=PASSWORD):
    """Sign in; an operator, and a staff user whose role needs it, get through the two-factor step too."""
    form = client.get(host, path).form
    form["login"], form["password"] = login, password
    response = form.submit(extra_environ={"HTTP_HOST": host}, status="*")
    if response.status_int == 303 and response.location.endswith("/login/verify"):
        response = second_factor(client, host, login, path=path + "/verify")
    return response


def second_factor(client, host, login, code=None, path="/admin/login/verify"):
    import pyotp

    page = client.get(host, path)
    if code is None:
        secret = client.db_secret(login) if hasattr(client, "db_secret") else None
        assert secret, "the staff user has no TOTP secret"
        code = pyotp.TOTP(secret).now()
    form = page.form
    form["code"] = code
    return form.submit(extra_environ={"HTTP_HOST": host}, status="*")


def test_admin_pages_send_anonymous_visitors_to_sign_in(client, accounts):
    response = client.get("demo.localhost", "/admin/sms", status=302)
    assert response.location.endswith("/admin/login?next=%2Fadmin%2Fsms")


def test_staff_sign_in_and_see_their_tenant_only(client, accounts):
    response = sign_in(client, "demo.localhost", "/admin/login", "alice")
    assert response.status_int == 303
    page = client.get("demo.localhost", "/admin")
    assert "鼎信網貸" in page.text and 'data-plugin="payments.offline"' in page.text
    # The same browser on another tenant's host is nobody there.
    client.get("acme.localhost", "/admin", status=302)


def test_staff_of_one_tenant_cannot_sign_in_at_another(client, accounts):
    response = sign_in(client, "acme.localhost", "/admin/login", "alice")
    assert response.status_int == 400
    assert "not correct" in response.text


def test_wrong_password_says_nothing_about_which_part_was_wrong(client, accounts):
    wrong_password = sign_in(client, "demo.localhost", "/admin/login", "alice", "x" * 12)
    unknown_login = sign_in(client, "demo.localhost", "/admin/login", "nobody", "x" * 12)
    assert wrong_password.status_int == unknown_login.status_int == 400
    assert re.sub(r'value="[^"]*"', "", wrong_password.text) == re.sub(r'value="[^"]*"', "", unknown_login.text)


def test_sign_in_without_csrf_token_is_refused(client, accounts):
    client.post("demo.localhost", "/admin/login", {"login": "alice", "password": PASSWORD}, status=403)


def test_sms_outbox_lists_the_tenants_messages(client, accounts, db):
    from core.sms import queue_sms

    with db.transaction() as session:
        queue_sms(session, tenant_by_slug(session, "demo"), "13800138000", "驗證碼 482913", "verify")
        queue_sms(session, tenant_by_slug(session, "acme"), "+12025550143", "code 111111", "verify")
    sign_in(client, "demo.localhost", "/admin/login", "alice")
    page = client.get("demo.localhost", "/admin/sms").text
    assert "驗證碼 482913" in page and "111111" not in page


def test_operator_console_lives_on_the_operator_host_only(client, accounts):
    client.get("demo.localhost", "/operator", status=404)
    client.get("operator.localhost", "/", status=404)
    assert client.get("operator.localhost", "/operator", status=302).location.endswith(
        "/operator/login?next=%2Foperator"
    )


def test_operator_suspends_and_resumes_a_tenant(client, accounts):
    sign_in(client, "operator.localhost", "/operator/login", "root")
    page = client.get("operator.localhost", "/operator")
    assert 'data-tenant="acme"' in page.text and 'data-tenant="demo"' in page.text
    form = [f for f in page.forms.values() if "/tenants/acme/" in f.action][0]
    form.submit(extra_environ={"HTTP_HOST": "operator.localhost"}, status=303)
    client.get("acme.localhost", "/", status=503)
    page = client.get("operator.localhost", "/operator")
    form = [f for f in page.forms.values() if "/tenants/acme/" in f.action][0]
    form.submit(extra_environ={"HTTP_HOST": "operator.localhost"}, status=303)
    client.get("acme.localhost", "/", status=200)


def test_staff_session_is_not_an_operator_session(client, accounts):
    sign_in(client, "demo.localhost", "/admin/login", "alice")
    client.get("operator.localhost", "/operator", status=302)


def test_sign_out_ends_the_session(client, accounts):
    sign_in(client, "demo.localhost", "/admin/login", "alice")
    page = client.get("demo.localhost", "/admin")
    logout = [f for f in page.forms.values() if f.action.endswith("/admin/logout")][0]
    logout.submit(extra_environ={"HTTP_HOST": "demo.localhost"}, status=303)
    client.get("demo.localhost", "/admin", status=302)


def test_open_redirects_after_sign_in_are_refused(client, accounts):
    form = client.get("demo.localhost", "/admin/login?next=//evil.example/x").form
    form["login"], form["password"] = "alice", PASSWORD
    form.submit(extra_environ={"HTTP_HOST": "demo.localhost"}, status=303)
    response = second_factor(client, "demo.localhost", "alice")
    assert response.location.endswith("/admin")
