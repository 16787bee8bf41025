"""A new tenant's first administrator opens the welcome link the console showed: chooses a password, proves
the authenticator with a code, and is signed in with the second factor recorded. The link works once and for
72 hours; a used or expired one answers 410, an unknown one 404."""

import datetime as dt
import time

import pyotp
import pytest
import sqlalchemy as sa

from core.accounts.models import AuditEvent, AuthSession, StaffUser
from core.accounts.passwords import verify_password
from core.accounts.welcome import WelcomeToken
from tests.conftest import Client
from tests.helpers import submit
from tests.test_operator_2fa import operator_client
from tests.test_operator_console import create

NOVA = "nova.localhost"
NEW_PASSWORD = "a brand new password"


@pytest.fixture
def welcome(wsgi_app, db, tenants):
    """The console creates tenant nova: (welcome path, the administrator's TOTP secret)."""
    console, _secret = operator_client(wsgi_app, db)
    page = create(console)
    link = page.html.select_one("a.welcome-link")["href"]
    return link.split(NOVA, 1)[1], page.html.select_one("code.secret").text.strip()


def code(secret, later=0):
    return pyotp.TOTP(secret).at(int(time.time()) + 30 * later)


def admin(db):
    with db.transaction() as session:
        staff = session.scalars(sa.select(StaffUser).where(StaffUser.login == "nova-admin")).one()
        link = session.scalars(sa.select(WelcomeToken).where(WelcomeToken.staff_id == staff.id)).one()
        return staff.password_hash, staff.totp_last_step, link.used_at


def test_the_welcome_link_sets_the_password_and_signs_in_with_the_second_factor(client, db, welcome):
    path, secret = welcome
    page = client.get(NOVA, path + "?_LOCALE_=en")
    assert "nova-admin" in page.text and "<svg" in page.text
    assert page.html.select_one("code.secret").text.strip() == secret
    done = submit(
        client, NOVA, page, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "code": code(secret)}, status=303
    )
    assert done.location.endswith("/admin")
    assert client.get(NOVA, "/admin").status_int == 200
    password_hash, last_step, used_at = admin(db)
    assert verify_password(password_hash, NEW_PASSWORD) and last_step > 0 and used_at is not None
    with db.transaction() as session:
        [auth] = session.scalars(sa.select(AuthSession).where(AuthSession.kind == "staff")).all()
        assert auth.second_factor_at is not None  # it may move money at once
        actions = session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.actor.like("staff:%")).order_by(AuditEvent.id)
        ).all()
        assert actions == ["staff.welcome", "totp_enrolled", "sign_in"]
    # used: the link is gone, and signing in again takes the new password and a fresh code
    gone = Client(client.app.app).get(NOVA, path + "?_LOCALE_=en", status=410)
    assert "used already or has expired" in gone.text and "<svg" not in gone.text
    again = Client(client.app.app)
    login = submit(again, NOVA, again.get(NOVA, "/admin/login"), {"login": "nova-admin", "password": NEW_PASSWORD})
    assert login.location.endswith("/admin/login/verify")
    submit(again, NOVA, again.get(NOVA, "/admin/login/verify"), {"code": code(secret, later=1)}, status=303)
    again.get(NOVA, "/admin", status=200)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"password": "short", "confirm": "short"}, "password"),
        ({"password": NEW_PASSWORD, "confirm": "another password entirely"}, "confirm"),
        ({"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "code": "000000"}, "code"),
    ],
    ids=["weak", "mismatch", "wrong-code"],
)
def test_a_refused_welcome_changes_nothing(client, db, welcome, values, field):
    path, secret = welcome
    before = admin(db)
    page = client.get(NOVA, path)
    refused = submit(client, NOVA, page, {"code": code(secret), **values}, status=400)
    assert refused.html.find(attrs={"name": field})["aria-invalid"] == "true"
    assert admin(db) == before  # the password, the code's step and the link: all untouched
    client.get(NOVA, "/admin", status=302)
    # and the link still works
    submit(client, NOVA, refused, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "code": code(secret)}, status=303)


def test_an_expired_link_answers_410_and_an_unknown_one_404(client, db, welcome):
    path, _secret = welcome
    client.get(NOVA, "/admin/welcome/not-a-token", status=404)
    client.get("demo.localhost", path, status=404)  # another tenant's host knows no such link
    with db.transaction() as session:
        link = session.scalars(sa.select(WelcomeToken)).one()
        link.expires_at = link.created_at + dt.timedelta(hours=72) - dt.timedelta(days=4)
    client.get(NOVA, path, status=410)


def test_the_qr_code_is_not_shown_again_once_a_code_was_accepted(client, db, welcome):
    path, secret = welcome
    with db.transaction() as session:
        session.scalars(sa.select(StaffUser).where(StaffUser.login == "nova-admin")).one().totp_last_step = 1
    page = client.get(NOVA, path + "?_LOCALE_=en")
    assert "<svg" not in page.text and secret not in page.text
    assert "Enter the six-digit code" in page.text
