"""Loan alerts, tried from outside: close of day (through the API) raises an alert for an installment due soon that
the borrower's balance does not cover, a loan's first overdue, a downgraded class and a borrower holding too much of
the outstanding principal — each with figures worked out here — once per subject while it is open, and again after
it was closed; staff see the alerts of their roles, acknowledge and close them on the workbench and through the API,
edit the rules (refused by field when wrong), and get the day's new alerts by email; another tenant sees none."""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pyotp
import pytest
import sqlalchemy as sa

from core.accounts.services import create_staff
from core.audit import AuditEvent
from core.credit.alerts.digest import send_digest
from core.credit.alerts.engine import raise_alerts
from core.credit.alerts.models import Alert, AlertRule
from core.db import scope_to_tenant
from core.loans.models import Installment, Loan
from core.mail import MailMessage
from core.tenancy.services import tenant_by_slug
from tests import factories
from tests.helpers import PASSWORD, staff_client, submit

DEMO, ACME = "demo.localhost", "acme.localhost"
DAY = dt.date(2027, 1, 4)  # the demo tenant's first business date
CLOSE = "/api/v1/admin/close-of-day"
ALERTS = "/api/v1/admin/alerts"


def staff_token(client, db, login, role, slug="demo", host=DEMO):
    """A bearer token for a new staff member of ``role`` (with the TOTP code where the role moves money)."""
    with db.transaction() as session:
        secret = create_staff(session, tenant_by_slug(session, slug), login, PASSWORD, role).totp_secret
    body = {"login": login, "password": PASSWORD, "as": "staff"}
    if secret:
        body["totp"] = pyotp.TOTP(secret).now()
    answer = client.post_json(host, "/api/v1/auth/token", body)
    return {"Authorization": "Bearer " + answer.json["token"]}


def annuity(principal_minor: int, annual_percent: str, months: int) -> int:
    """The reference equal installment (principal and interest), rounded half up to the cent."""
    r = Decimal(annual_percent) / 100 / 12
    exact = Decimal(principal_minor) * r / (1 - (1 + r) ** -months)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def share(part: int, whole: int) -> str:
    """The reference share in percent, two places, half up."""
    return str((Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def make_loan(db, plugins, n: int, *, first_due: dt.date, left: int = 0, amount: str = "10000.00") -> int:
    """A disbursed loan whose first installment is due on ``first_due``; the borrower spent what was lent but
    ``left`` minor units (frozen away: a pending withdrawal)."""
    with db.transaction() as session:
        tenant = tenant_by_slug(session, "demo")
        scope_to_tenant(session, tenant.id)
        hooks = plugins.for_tenant(tenant)
        return factories.spent_loan(session, tenant, hooks, n, first_due=first_due, left=left, amount=amount).id


@pytest.fixture
def book(db, tenants, plugins):
    """Five loans of demo at the close of 2027-01-04 (each its own borrower):

    - ``first``: 3,333.33, its first installment due that day and unpaid (one day past due);
    - ``short``: 10,000.00, due in two days, the borrower has 100.00;
    - ``covered``: 10,000.00, due in two days, the borrower has 1,000.00;
    - ``later``: 10,000.00, due in 20 days, the borrower has nothing;
    - ``big``: 30,000.00, due in 20 days.
    """
    return {
        "first": make_loan(db, plugins, 1, first_due=DAY, amount="3333.33"),
        "short": make_loan(db, plugins, 2, first_due=DAY + dt.timedelta(days=2), left=10_000),
        "covered": make_loan(db, plugins, 3, first_due=DAY + dt.timedelta(days=2), left=100_000),
        "later": make_loan(db, plugins, 4, first_due=DAY + dt.timedelta(days=20)),
        "big": make_loan(db, plugins, 5, first_due=DAY + dt.timedelta(days=20), amount="30000.00"),
    }


def close(client, admin, day: dt.date) -> dict:
    return client.post_json(DEMO, CLOSE, {"date": day.isoformat()}, headers=admin).json["summary"]


def listed(client, headers, host=DEMO, **query) -> list[dict]:
    return client.get(host, ALERTS, params=query, headers=headers).json["alerts"]


def by_kind(alerts) -> dict:
    found = {}
    for alert in alerts:
        found.setdefault(alert["kind"], {})[alert["subject"]] = alert
    return found


def first_installment(db, loan_id) -> Installment:
    with db.transaction() as session:
        row = session.scalars(
            sa.select(Installment).where(Installment.loan_id == loan_id).order_by(Installment.period)
        ).first()
        session.expunge(row)
        return row


def borrower_of(db, loan_id) -> int:
    with db.transaction() as session:
        return session.get(Loan, loan_id).borrower_id


def test_close_of_day_raises_each_kind_with_the_figures_that_triggered_it(client, db, book):
    admin = staff_token(client, db, "al-admin", "administrator")
    officer = staff_token(client, db, "al-officer", "risk_officer")
    summary = close(client, admin, DAY)
    found = by_kind(listed(client, officer, status="open", per_page=200))
    # an installment due in two days: principal and interest are the 12% annuity's, plus the service fee
    short = first_installment(db, book["short"])
    assert short.principal + short.interest == annuity(1_000_000, "12", 12) == 88_849
    owed = short.principal + short.interest + short.service_fee
    due_soon = found["due_soon_short"]
    assert set(due_soon) == {f"loan:{book['short']}"}  # covered: 1,000.00 ≥ what it owes; later: not within 3 days
    facts = due_soon[f"loan:{book['short']}"]["facts"]
    assert (facts["owed"], facts["available"], facts["short"]) == (owed, 10_000, owed - 10_000)
    assert (facts["due_date"], facts["days_left"], facts["period"]) == ("2027-01-06", 2, 1)
    covered = first_installment(db, book["covered"])
    assert covered.principal + covered.interest + covered.service_fee <= 100_000
    # the first loan: its first installment fell due today and is unpaid
    first = found["first_overdue"]
    assert set(first) == {f"loan:{book['first']}"}
    unpaid = first_installment(db, book["first"])
    assert unpaid.principal + unpaid.interest == annuity(333_333, "12", 12)
    assert first[f"loan:{book['first']}"]["facts"]["days_past_due"] == 1
    assert first[f"loan:{book['first']}"]["facts"]["due_date"] == "2027-01-04"
    assert first[f"loan:{book['first']}"]["severity"] == "warning"
    # and its class went from normal to special mention (any overdue)
    down = found["downgraded"]
    assert set(down) == {f"loan:{book['first']}"}
    assert (
        down[f"loan:{book['first']}"]["facts"]["from_class"],
        down[f"loan:{book['first']}"]["facts"]["to_class"],
    ) == (
        "normal",
        "special_mention",
    )
    # concentration: principal outstanding 3,333.33 + 3 × 10,000.00 + 30,000.00; more than 10% each but the first
    total = 333_333 + 3 * 1_000_000 + 3_000_000
    assert total == 6_333_333
    subjects = {f"member:{borrower_of(db, book[k])}": k for k in ("short", "covered", "later", "big")}
    assert set(found["concentration"]) == set(subjects)
    assert share(333_333, total) == "5.26"  # the first loan's borrower: under 10%
    for subject, name in subjects.items():
        facts = found["concentration"][subject]["facts"]
        part = 3_000_000 if name == "big" else 1_000_000
        assert (facts["outstanding"], facts["total"], facts["share_percent"]) == (part, total, share(part, total))
        assert facts["threshold_percent"] == "10"
    assert found["concentration"][f"member:{borrower_of(db, book['big'])}"]["facts"]["share_percent"] == "47.37"
    assert summary["alerts_raised"] == 1 + 1 + 1 + 4
    # the sentence, in the reader's language
    english = client.get(DEMO, ALERTS + "?_LOCALE_=en&kind=first_overdue", headers=officer).json["alerts"][0]
    with db.transaction() as session:
        number = session.get(Loan, book["first"]).number
    assert number in english["message"] and "first time" in english["message"]


def test_an_open_alert_is_not_raised_again_and_a_closed_one_is_when_the_condition_holds(client, db, book):
    admin = staff_token(client, db, "al-admin2", "administrator")
    close(client, admin, DAY)
    # close of day's step run again for the same day raises nothing twice and mails nothing twice
    with db.transaction() as session:
        tenant = tenant_by_slug(session, "demo")
        scope_to_tenant(session, tenant.id)
        before = session.scalar(sa.select(sa.func.count()).select_from(Alert))
        assert raise_alerts(session, tenant, DAY) == {"alerts_raised": 0}
        assert send_digest(session, tenant, DAY) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(Alert)) == before == 7
    # the next day: everything still holds but every alert is open: nothing new
    assert close(client, admin, DAY + dt.timedelta(days=1))["alerts_raised"] == 0
    big = f"member:{borrower_of(db, book['big'])}"
    alert = by_kind(listed(client, admin, kind="concentration"))["concentration"][big]
    closed = client.post_json(DEMO, f"{ALERTS}/{alert['id']}", {"action": "close", "note": "已追加擔保"}, headers=admin)
    assert closed.json["status"] == "closed" and closed.json["close_note"] == "已追加擔保"
    # 2027-01-06: the short loan falls overdue (first time, class downgraded); the covered one is collected, so
    # its principal left is 10,000.00 less its first principal; the big borrower is raised again
    summary = close(client, admin, DAY + dt.timedelta(days=2))
    covered = first_installment(db, book["covered"])
    total = 333_333 + 1_000_000 + (1_000_000 - covered.principal) + 1_000_000 + 3_000_000
    assert covered.principal == 88_849 - 10_000  # 1% of 10,000.00 is the first month's interest
    again = by_kind(listed(client, admin, kind="concentration", status="open"))["concentration"][big]
    assert again["id"] != alert["id"] and again["business_date"] == "2027-01-06"
    assert (again["facts"]["outstanding"], again["facts"]["total"]) == (3_000_000, total)
    assert again["facts"]["share_percent"] == share(3_000_000, total) == "47.97"
    new = by_kind(listed(client, admin, status="open"))
    short = f"loan:{book['short']}"
    assert short in new["first_overdue"] and new["first_overdue"][short]["business_date"] == "2027-01-06"
    assert new["downgraded"][short]["facts"]["to_class"] == "special_mention"
    assert summary["alerts_raised"] == 3


def test_staff_see_their_roles_alerts_and_act_on_them_through_the_api(client, db, book):
    admin = staff_token(client, db, "al-admin3", "administrator")
    manager = staff_token(client, db, "al-rm3", "relationship_manager")
    cashier = staff_token(client, db, "al-cash3", "cashier")
    close(client, admin, DAY)
    # a relationship manager is told of loans by default, not of concentration; a cashier holds no credit.alert
    assert {a["kind"] for a in listed(client, manager)} == {"due_soon_short", "first_overdue", "downgraded"}
    assert len(listed(client, admin)) == 7
    client.get(DEMO, ALERTS, headers=cashier, status=403)
    client.get(DEMO, ALERTS + "?severity=extreme", headers=admin, status=400)
    assert client.get(DEMO, ALERTS + "?status=lost", headers=admin, status=400).json["field"] == "status"
    warnings = listed(client, admin, severity="warning")
    assert {a["kind"] for a in warnings} == {"first_overdue", "downgraded"}
    page = client.get(DEMO, ALERTS, params={"per_page": 2, "page": 2}, headers=admin).json
    assert page["total"] == 7 and len(page["alerts"]) == 2
    first = listed(client, admin)[0]
    assert first["severity"] == "critical"  # open ones first, the most severe first
    target = by_kind(listed(client, manager))["first_overdue"][f"loan:{book['first']}"]
    url = f"{ALERTS}/{target['id']}"
    assert (
        client.post_json(DEMO, url, {"action": "acknowledge", "note": "  "}, headers=manager, status=422).json["field"]
        == "note"
    )
    assert (
        client.post_json(DEMO, url, {"action": "erase", "note": "x"}, headers=manager, status=400).json["field"]
        == "action"
    )
    assert client.post_json(DEMO, url, {"action": "close"}, headers=manager, status=400).json["field"] == "note"
    too_long = {"action": "close", "note": "x" * 501}
    assert client.post_json(DEMO, url, too_long, headers=manager, status=400).json["field"] == "note"
    client.post_json(DEMO, url, "{not json", headers=manager, status=400)
    done = client.post_json(DEMO, url, {"action": "acknowledge", "note": "已致電借款人"}, headers=manager).json
    assert done["status"] == "acknowledged" and "al-rm3" in done["acknowledged_by"]
    again = client.post_json(DEMO, url, {"action": "acknowledge", "note": "再次"}, headers=manager, status=422).json
    assert again["field"] == "action"
    closed = client.post_json(DEMO, url, {"action": "close", "note": "借款人已還款"}, headers=manager).json
    assert closed["status"] == "closed"
    assert (
        client.post_json(DEMO, url, {"action": "close", "note": "x"}, headers=manager, status=422).json["field"]
        == "action"
    )
    # the relationship manager is told of no concentration alert, so may not act on one either
    concentration = listed(client, admin, kind="concentration")[0]
    client.post_json(
        DEMO, f"{ALERTS}/{concentration['id']}", {"action": "close", "note": "x"}, headers=manager, status=404
    )
    client.post_json(DEMO, f"{ALERTS}/99999999", {"action": "close", "note": "x"}, headers=admin, status=404)
    with db.transaction() as session:
        actions = session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.object_type == "credit_alert").order_by(AuditEvent.id)
        ).all()
    assert actions == ["credit.alert.acknowledge", "credit.alert.close"]


def test_another_tenant_sees_and_touches_none_of_the_alerts(client, db, book):
    admin = staff_token(client, db, "al-admin4", "administrator")
    close(client, admin, DAY)
    theirs = staff_token(client, db, "al-acme4", "administrator", slug="acme", host=ACME)
    assert client.get(ACME, ALERTS, headers=theirs).json == {"page": 1, "per_page": 50, "total": 0, "alerts": []}
    alert = listed(client, admin)[0]
    client.post_json(ACME, f"{ALERTS}/{alert['id']}", {"action": "close", "note": "x"}, headers=theirs, status=404)
    assert listed(client, admin)[0]["status"] == "open"
    page = staff_client(client.app.app, db, "al-acme-page4", "administrator", slug="acme", host=ACME)
    assert "alert-" not in page.get(ACME, "/admin/credit/alerts").text
    page.post(ACME, f"/admin/credit/alerts/{alert['id']}", {"action": "close", "note": "x"}, status=(403, 404))


def test_the_workbench_lists_links_and_acknowledges_and_closes(wsgi_app, client, db, book):
    admin = staff_token(client, db, "al-admin5", "administrator")
    close(client, admin, DAY)
    officer = staff_client(wsgi_app, db, "al-page-officer", "risk_officer")
    page = officer.get(DEMO, "/admin/credit/alerts")
    assert f"/admin/loans/{book['first']}" in page.text
    assert f"/admin/credit/loans/{book['first']}/classification" in page.text
    only = officer.get(DEMO, "/admin/credit/alerts?kind=first_overdue&severity=warning&status=open")
    assert only.text.count('id="alert-') == 1
    target = by_kind(listed(client, admin, kind="first_overdue"))["first_overdue"][f"loan:{book['first']}"]
    path = f"/admin/credit/alerts/{target['id']}"
    refused = submit(officer, DEMO, only, {"note": ""}, action="acknowledge", status=400)
    assert "Say what was done" in refused.text or "alert" in refused.text
    assert listed(client, admin, kind="first_overdue")[0]["status"] == "open"
    submit(officer, DEMO, only, {"note": "已聯絡"}, action="acknowledge", status=303)
    assert listed(client, admin, kind="first_overdue")[0]["status"] == "acknowledged"
    page = officer.get(DEMO, "/admin/credit/alerts?kind=first_overdue")
    submit(officer, DEMO, page, {"note": "已結清"}, action="close", status=303)
    assert listed(client, admin, kind="first_overdue")[0]["status"] == "closed"
    assert 'id="alert-' in officer.get(DEMO, "/admin/credit/alerts?status=bogus&kind=<b>").text  # unknown: ignored
    assert 'data-field="page"' in officer.get(DEMO, "/admin/credit/alerts?page=-4", status=400).text
    cashier = staff_client(wsgi_app, db, "al-page-cashier", "cashier")
    cashier.get(DEMO, "/admin/credit/alerts", status=403)
    cashier.post(DEMO, path, {"action": "close", "note": "x"}, status=(400, 403))


def _rules_form(page):
    return next(f for f in page.forms.values() if f.method.lower() == "post" and "concentration.threshold" in f.fields)


def test_the_rules_page_shows_defaults_without_writing_and_refuses_by_field(wsgi_app, client, db, tenants):
    officer = staff_client(wsgi_app, db, "al-rules", "risk_officer")
    page = officer.get(DEMO, "/admin/credit/alerts/rules")
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(AlertRule)) == 0  # a GET writes nothing
    form = _rules_form(page)
    assert form["due_soon_short.threshold"].value == "3" and form["concentration.threshold"].value == "10"
    hostile = [
        ("due_soon_short.threshold", "abc"),
        ("due_soon_short.threshold", "2.5"),
        ("due_soon_short.threshold", "0"),
        ("due_soon_short.threshold", "1e3"),
        ("due_soon_short.threshold", "NaN"),
        ("concentration.threshold", "150"),
        ("concentration.threshold", "-1"),
        ("concentration.threshold", "12.345"),
        ("concentration.threshold", "１２"),
    ]
    for field, value in hostile:
        form = _rules_form(officer.get(DEMO, "/admin/credit/alerts/rules"))
        form[field] = value
        answer = form.submit(extra_environ={"HTTP_HOST": DEMO}, status=400)
        assert f'id="{field}-error"' in answer.text, (field, value)
    form = _rules_form(officer.get(DEMO, "/admin/credit/alerts/rules"))
    fields = [(k, v) for k, v in form.submit_fields() if not k.startswith("concentration.recipients")]
    answer = officer.post(
        DEMO, "/admin/credit/alerts/rules", fields + [("concentration.recipients", "hacker")], status=400
    )
    assert "error" in answer.text
    answer = officer.post(DEMO, "/admin/credit/alerts/rules", fields, status=400)  # no role at all
    bad_severity = [(k, "extreme" if k == "downgraded.severity" else v) for k, v in form.submit_fields()]
    officer.post(DEMO, "/admin/credit/alerts/rules", bad_severity, status=400)
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(AlertRule)) == 0  # nothing was kept
    form = _rules_form(officer.get(DEMO, "/admin/credit/alerts/rules"))
    form["due_soon_short.threshold"] = "5"
    form["concentration.threshold"] = "50"
    form["downgraded.severity"] = "critical"
    form["first_overdue.active"] = False
    form.submit(extra_environ={"HTTP_HOST": DEMO}, status=303)
    with db.transaction() as session:
        rows = {r.kind: r for r in session.scalars(sa.select(AlertRule))}
        assert set(rows) == {"due_soon_short", "concentration", "downgraded", "first_overdue"}
        assert rows["due_soon_short"].threshold == "5" and rows["concentration"].threshold == "50"
        assert rows["downgraded"].severity == "critical" and rows["first_overdue"].active is False
        assert session.scalars(sa.select(AuditEvent.action).where(AuditEvent.action == "credit.alert.rules")).all()


def test_edited_rules_change_what_close_of_day_raises(wsgi_app, client, db, book):
    officer = staff_client(wsgi_app, db, "al-rules2", "risk_officer")
    form = _rules_form(officer.get(DEMO, "/admin/credit/alerts/rules"))
    form["concentration.threshold"] = "47.37"  # the big borrower's share is 47.368…%: more than 47.37? no
    form["first_overdue.active"] = False
    form["downgraded.severity"] = "critical"
    form.submit(extra_environ={"HTTP_HOST": DEMO}, status=303)
    admin = staff_token(client, db, "al-admin6", "administrator")
    close(client, admin, DAY)
    found = by_kind(listed(client, admin))
    assert "first_overdue" not in found and "concentration" not in found
    assert Decimal(3_000_000) * 100 / Decimal(6_333_333) < Decimal("47.37")
    assert found["downgraded"][f"loan:{book['first']}"]["severity"] == "critical"


def test_the_daily_digest_mails_each_told_staff_member_with_an_address(wsgi_app, client, db, book):
    admin_page = staff_client(wsgi_app, db, "al-digest-admin", "administrator")
    with db.transaction() as session:
        tenant = tenant_by_slug(session, "demo")
        ids = {}
        for login, role in (("al-ro", "risk_officer"), ("al-rm", "relationship_manager"), ("al-none", "risk_officer")):
            create_staff(session, tenant, login, PASSWORD, role)
        from core.accounts.models import StaffUser

        ids = {s.login: s.id for s in session.scalars(sa.select(StaffUser).where(StaffUser.tenant_id == tenant.id))}
    staff_page = admin_page.get(DEMO, f"/admin/staff/{ids['al-ro']}")
    refused = submit(admin_page, DEMO, staff_page, {"email": "not-an-address"}, status=400)
    assert 'id="email-error"' in refused.text
    submit(admin_page, DEMO, staff_page, {"email": "Risk@Example.com "}, status=303)
    submit(
        admin_page, DEMO, admin_page.get(DEMO, f"/admin/staff/{ids['al-rm']}"), {"email": "rm@example.com"}, status=303
    )
    with db.transaction() as session:
        from core.accounts.models import StaffUser

        assert session.get(StaffUser, ids["al-ro"]).email == "risk@example.com"
        assert session.get(StaffUser, ids["al-none"]).email is None
    admin = staff_token(client, db, "al-admin7", "administrator")
    summary = close(client, admin, DAY)
    assert summary["alert_digests"] == 2
    with db.transaction() as session:
        mails = {
            m.address: m
            for m in session.scalars(sa.select(MailMessage).where(MailMessage.purpose == "credit.alert_digest"))
        }
        assert set(mails) == {"risk@example.com", "rm@example.com"}
        # the risk officer is told of all seven; the relationship manager of the three loan alerts (not concentration)
        assert mails["risk@example.com"].body.count("\n- ") == 7
        assert mails["rm@example.com"].body.count("\n- ") == 3
        tenant = tenant_by_slug(session, "demo")
        scope_to_tenant(session, tenant.id)
        assert send_digest(session, tenant, DAY) == 0
