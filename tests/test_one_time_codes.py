"""One-time codes reach the member alone: staff who may read the SMS and email logs never see one.

A read-only auditor (``sms.view``) once read a member's password-reset code in
the SMS outbox and took the account over. Now the logs keep codes masked, the
carrier alone gets the real text, and a reset is audited and told to the member.
"""

import html
import re
from pathlib import Path

import pyotp
import pytest
import sqlalchemy as sa
import yaml

from core.accounts.models import AuditEvent
from core.mail import MailMessage
from core.sms import SmsMessage
from tests.dev_outbox import OUTBOX
from tests.helpers import PASSWORD, member_client, staff_client, submit

DEMO, ACME = "demo.localhost", "acme.localhost"
PHONE = "13800138000"
NEW_PASSWORD = "a brand new long password"
OPENAPI = Path(__file__).resolve().parents[1] / "core" / "api" / "openapi.yaml"


@pytest.fixture(autouse=True)
def fresh_outbox():
    OUTBOX.clear()


def ask_for_reset(client, host, login):
    """A visitor asks for a reset code on the forgot-password page; the page to type it into."""
    page = client.get(host, "/password/forgot")
    return submit(client, host, page, {"phone": login}, "send_code", status=200)


def reset(client, host, page, login, code, status="*"):
    return submit(
        client,
        host,
        page,
        {"phone": login, "code": code, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        "reset",
        status=status,
    )


def admin_pages(staff, host):
    """Every back-office page reachable by following links from ``/admin`` (GET only), with its text."""
    seen, queue, pages = set(), ["/admin", "/admin/sms", "/admin/mail", "/admin/audit"], {}
    while queue and len(seen) < 300:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = staff.get(host, path, status="*")
        assert response.status_int < 500, path
        if not response.content_type.startswith("text/"):
            continue  # a download (the ledger book's XLSX): its cells are read by the books' own tests
        pages[path] = response.text
        for link in re.findall(r'href="(/admin[^"#]*)"', response.text):
            link = html.unescape(link)
            if link not in seen and "/static/" not in link:
                queue.append(link)
    return pages


def api_answers(client, host, token):
    """The JSON API's answer to every GET without path parameters, for this bearer token."""
    spec = yaml.safe_load(OPENAPI.read_text())
    prefix = spec.get("servers", [{"url": "/api/v1"}])[0]["url"]
    paths = [path for path, operations in spec["paths"].items() if "get" in operations and "{" not in path]
    assert "/me" in paths
    auth = {"Authorization": f"Bearer {token}"}
    return {path: client.get(host, prefix + path, headers=auth, status="*").text for path in paths}


def staff_token(client, host, login):
    answer = client.post_json(
        host, "/api/v1/auth/token", {"login": login, "password": PASSWORD, "as": "staff"}, status=200
    )
    return answer.json["token"]


def assert_nowhere(code, texts: dict):
    leaks = [where for where, text in texts.items() if code in text]
    assert leaks == [], f"the code {code} is readable at {leaks}"


def stored_rows(db):
    """Every stored message and audit event, as the database holds them (raw SQL: no decryption)."""
    with db.transaction() as session:
        return {
            f"{table.name}:{row}": str(row)
            for table in (SmsMessage.__table__, MailMessage.__table__, AuditEvent.__table__)
            for row in session.execute(sa.select(table)).all()
        }


def test_an_auditor_never_sees_a_reset_code_and_the_member_alone_can_use_it(wsgi_app, db, tenants, client):
    member, member_id = member_client(wsgi_app, db, PHONE)
    page = ask_for_reset(client, DEMO, PHONE)
    code = OUTBOX.code_for(PHONE)  # what the member's phone received

    auditor = staff_client(wsgi_app, db, "reader", "auditor")
    pages = admin_pages(auditor, DEMO)
    assert "/admin/sms" in pages and "/admin/audit" in pages and len(pages) > 5
    assert "******" in pages["/admin/sms"] and "code.reset" in pages["/admin/sms"]
    assert_nowhere(code, pages)
    assert_nowhere(code, api_answers(auditor, DEMO, staff_token(auditor, DEMO, "reader")))
    assert_nowhere(code, stored_rows(db))

    # The masked text is no code; the member's own code resets the password and signs them in.
    reset(client, DEMO, page, PHONE, "******", status=400)
    assert reset(client, DEMO, page, PHONE, code, status=303).location.endswith("/account")
    member.get(DEMO, "/account", status=302)  # every other session ended
    login = client.get(DEMO, "/login")
    assert submit(client, DEMO, login, {"login": PHONE, "password": NEW_PASSWORD}, status=303)

    # The reset is in the audit log under the member's name, and the member's phone was told.
    with db.transaction() as session:
        event = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "member.password_reset")).one()
        assert (event.actor.split(":")[:2], event.object_id, event.after) == (
            ["member", str(member_id)],
            str(member_id),
            {"via": "sms"},
        )
        notice = session.scalars(sa.select(SmsMessage).where(SmsMessage.purpose == "notice.password")).one()
        assert notice.phone == "+86" + PHONE and notice.template == "password_changed"
    assert "member.password_reset" in auditor.get(DEMO, "/admin/audit").text
    assert_nowhere(code, stored_rows(db))


def test_an_email_code_is_masked_in_the_email_outbox_and_still_works(wsgi_app, db, tenants, client):
    with db.transaction() as session:
        from core.members.services import create_member
        from core.tenancy.services import tenant_by_slug

        ann = create_member(session, tenant_by_slug(session, "acme"), phone="+12025550143", password=PASSWORD)
        ann.email = "ann@example.com"
    page = ask_for_reset(client, ACME, "ann@example.com")
    code = OUTBOX.code_for("ann@example.com")

    auditor = staff_client(wsgi_app, db, "reader", "auditor", slug="acme", host=ACME)
    pages = admin_pages(auditor, ACME)
    assert "******" in pages["/admin/mail"] and "code.reset" in pages["/admin/mail"]
    assert_nowhere(code, pages)
    assert_nowhere(code, stored_rows(db))

    assert reset(client, ACME, page, "ann@example.com", code, status=303).status_int == 303
    with db.transaction() as session:
        told = session.scalars(sa.select(MailMessage.address).where(MailMessage.purpose == "notice.password")).all()
        sms = session.scalars(sa.select(SmsMessage.phone).where(SmsMessage.purpose == "notice.password")).all()
    assert (told, sms) == (["ann@example.com"], ["+12025550143"])  # by email and by SMS: she has both


def test_a_refused_reset_is_neither_audited_nor_told(wsgi_app, db, tenants, client):
    member_client(wsgi_app, db, PHONE)
    page = ask_for_reset(client, DEMO, PHONE)
    wrong = "000000" if OUTBOX.code_for(PHONE) != "000000" else "000001"
    reset(client, DEMO, page, PHONE, wrong, status=400)
    with db.transaction() as session:
        assert session.scalars(sa.select(AuditEvent).where(AuditEvent.action.like("member.password%"))).all() == []
        assert session.scalars(sa.select(SmsMessage).where(SmsMessage.purpose == "notice.password")).all() == []


def test_a_sign_up_code_is_masked_in_the_log_and_in_its_template_parameters(db, tenants, client):
    page = client.get(DEMO, "/register")
    submit(client, DEMO, page, {"phone": "13900139000"}, "send_code", status=200)
    code = OUTBOX.code_for("13900139000")
    with db.transaction() as session:
        message = session.scalars(sa.select(SmsMessage)).one()
        assert message.params["code"] == "******" and "******" in message.body and code not in message.body
        assert message.sealed is None  # delivered: the text the carrier needed is gone


def test_the_outbox_is_flagged_development_only_on_the_operator_console(wsgi_app, db, tenants, client):
    from core.accounts.services import create_operator

    with db.transaction() as session:
        secret = create_operator(session, "root", PASSWORD).totp_secret
    page = client.get("operator.localhost", "/operator/login")
    submit(client, "operator.localhost", page, {"login": "root", "password": PASSWORD}, status=303)
    page = client.get("operator.localhost", "/operator/login/verify")
    submit(client, "operator.localhost", page, {"code": pyotp.TOTP(secret).now()}, status=303)
    console = client.get("operator.localhost", "/operator")
    assert 'data-development-only="sms.outbox"' in console.text  # enabled on the demo tenants
    row = re.search(r'<tr data-plugin="sms.outbox">(.*?)</tr>', console.text, re.S).group(1)
    assert "Development only" in row
    twilio = re.search(r'<tr data-plugin="sms.twilio">(.*?)</tr>', console.text, re.S).group(1)
    assert "Development only" not in twilio


# -- the migration that masks codes already stored ------------------------------------


@pytest.fixture
def scratch_engine(backend, tmp_path):
    """An empty database of the run's kind, for migrating step by step."""
    from core.db import make_engine

    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'migrating.sqlite'}")
        yield engine
        engine.dispose()
        return
    from tests.conftest import _scratch_postgres

    admin, name, url = _scratch_postgres()
    engine = make_engine(url)
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
    admin.dispose()


def test_the_migration_masks_codes_already_stored(scratch_engine):
    import datetime as dt
    import json

    from core.migrate import upgrade

    upgrade(scratch_engine, "0020")
    now = dt.datetime(2026, 11, 30, tzinfo=dt.timezone.utc)
    with scratch_engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO tenants (id, slug, name, theme, default_locale, locales, currency, timezone, business_date,"
                " branding, status, created_at, updated_at) VALUES (1, 'old', 'Old', 'default', 'en', '[\"en\"]', 'CNY',"
                " 'Asia/Shanghai', :day, '{}', 'active', :now, :now)"
            ),
            {"day": now.date(), "now": now},
        )
        sms = [
            (
                "+8613800138000",
                "Old: your verification code is 482913. It expires in 10 minutes.",
                "code.reset",
                "verification_code",
                {"site": "Old", "code": "482913"},
            ),
            ("+8613800138001", "Old: 驗證碼 551100", "code.register", "", {}),
            (
                "+8613800138002",
                "Old: installment 3 of L100001 is due.",
                "reminder.due",
                "repayment_reminder",
                {"loan": "L100001"},
            ),
        ]
        for phone, body, purpose, template, params in sms:
            conn.execute(
                sa.text(
                    "INSERT INTO sms_messages (tenant_id, phone, body, purpose, template, params, status,"
                    " created_at) VALUES (1, :phone, :body, :purpose, :template, :params, 'sent', :now)"
                ),
                {
                    "phone": phone,
                    "body": body,
                    "purpose": purpose,
                    "template": template,
                    "params": json.dumps(params),
                    "now": now,
                },
            )
        conn.execute(
            sa.text(
                "INSERT INTO mail_messages (tenant_id, address, subject, body, purpose, status, created_at)"
                " VALUES (1, 'a@example.com', 'Old verification code', 'Your code is 770077.',"
                " 'code.register', 'outbox', :now)"
            ),
            {"now": now},
        )
    upgrade(scratch_engine, "0021")
    with scratch_engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT body, params, sealed FROM sms_messages ORDER BY id")).all()
        mail = conn.execute(sa.text("SELECT body FROM mail_messages")).scalar_one()
    params = [json.loads(p) if isinstance(p, str) else p for _b, p, _s in rows]
    assert [body for body, _p, _s in rows] == [
        "Old: your verification code is ******. It expires in 10 minutes.",
        "Old: 驗證碼 ******",
        "Old: installment 3 of L100001 is due.",
    ]  # a reminder's loan number is no code
    assert params == [{"site": "Old", "code": "******"}, {}, {"loan": "L100001"}]
    assert [sealed for _b, _p, sealed in rows] == [None, None, None]
    assert mail == "Your code is ******."
