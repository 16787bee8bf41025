"""The member's API (loans, fund movements, cards, recharges, withdrawals) and staff's close of day:
every answer checked against amounts worked out here."""

import datetime as dt
import re

import pyotp
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from cli import main
from core.accounts.models import Role
from core.accounts.services import create_staff
from core.ledger import Ledger, Wallet, verify
from core.loans.models import Loan
from core.money import Money
from core.payments.models import Payment, Withdrawal
from core.tenancy.services import tenant_by_slug
from tests.helpers import PASSWORD, luhn_card, member_client, submit

DEMO = "demo.localhost"


def token(client, login, *, staff=False, totp=None):
    body = {"login": login, "password": PASSWORD}
    if staff:
        body["as"] = "staff"
        if totp:
            body["totp"] = totp
    return {"Authorization": "Bearer " + client.post_json(DEMO, "/api/v1/auth/token", body).json["token"]}


def staff_token(client, db, login, role):
    with db.transaction() as session:
        secret = create_staff(session, tenant_by_slug(session, "demo"), login, PASSWORD, role).totp_secret
    return token(client, login, staff=True, totp=pyotp.TOTP(secret).now())


def seed(db, member_id, minor, key):
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo").id
        Wallet(Ledger(session, demo), member_id, "CNY").recharge(
            Money(minor, "CNY"), key=key, ref="seed", initiator="test"
        )


def funds(db, member_id):
    with db.transaction() as session:
        found = Wallet(Ledger(session, tenant_by_slug(session, "demo").id), member_id, "CNY").funds()
        return found.available, found.frozen


def apply(client, headers, title, amount="5000.00"):
    return client.post_json(
        DEMO,
        "/api/v1/loans",
        {
            "loan_type": "credit",
            "title": title,
            "amount": amount,
            "annual_rate_percent": "10",
            "term_months": 6,
            "repayment_method": "equal_installment",
            "min_bid": "100",
        },
        headers=headers,
        status=201,
    ).json


def test_a_borrower_sees_only_their_own_loans(wsgi_app, db, tenants, client):
    for phone, line in (("13800138400", 2_000_000), ("13800138401", 1_000_000)):
        _, member_id = member_client(wsgi_app, db, phone)
        with db.transaction() as session:
            from core.members.models import Member

            session.get(Member, member_id).credit_line = line
    mine, theirs = token(client, "13800138400"), token(client, "13800138401")
    first = apply(client, mine, "週轉借款一")
    second = apply(client, mine, "週轉借款二", "3000.00")
    apply(client, theirs, "別人的借款")
    answer = client.get(DEMO, "/api/v1/me/loans", headers=mine).json["loans"]
    assert [(loan["id"], loan["title"], loan["amount"], loan["status"]) for loan in answer] == [
        (second["id"], "週轉借款二", "3000.00", "submitted"),
        (first["id"], "週轉借款一", "5000.00", "submitted"),
    ]
    assert client.get(DEMO, "/api/v1/me/loans", status=401).json["title"] == "Unauthorized"


def follow(client, url):
    """Follow the gateway's next step as a browser would: the sandbox checkout, then its Pay button."""
    path = url.replace("http://demo.localhost", "")
    checkout = client.get(DEMO, path)
    back = submit(client, DEMO, checkout, {}, "pay", status=303)
    return client.get(DEMO, back.location.replace("http://demo.localhost", ""))


def test_a_recharge_returns_the_gateways_next_step_and_credits_after_it(wsgi_app, db, tenants, client):
    _, member_id = member_client(wsgi_app, db, "13800138410")
    headers = token(client, "13800138410")
    url = "/api/v1/me/recharges"
    missing = client.post_json(DEMO, url, {"gateway": "sandbox", "amount": "250.00"}, headers=headers, status=400)
    assert missing.json["field"].lower() == "idempotency-key"
    keyed = {**headers, "Idempotency-Key": "recharge-0001"}
    for body, field in (
        ({"gateway": "nowhere", "amount": "250.00"}, "gateway"),
        ({"gateway": "sandbox", "amount": "0"}, "amount"),
        ({"gateway": "sandbox", "amount": "250.001"}, "amount"),
    ):
        assert client.post_json(DEMO, url, body, headers=keyed, status=422).json["field"] == field, body
    started = client.post_json(DEMO, url, {"gateway": "sandbox", "amount": "250.00"}, headers=keyed, status=201).json
    assert started["amount"] == "250.00" and started["fee"] == "0.00" and started["status"] == "pending"
    assert started["next"]["kind"] == "redirect"
    assert started["next"]["url"].startswith(f"http://demo.localhost/sandbox-gateway/checkout/{started['reference']}?")
    assert funds(db, member_id) == (0, 0)  # nothing until the gateway confirms
    again = client.post_json(DEMO, url, {"gateway": "sandbox", "amount": "250.00"}, headers=keyed, status=201)
    assert again.json == started and again.headers["Idempotent-Replayed"] == "true"
    follow(client, started["next"]["url"])
    assert funds(db, member_id) == (25_000, 0)
    offline = client.post_json(
        DEMO,
        url,
        {"gateway": "offline", "amount": "120.00"},
        headers={**headers, "Idempotency-Key": "recharge-0002"},
        status=201,
    ).json
    assert offline["next"]["kind"] == "instructions"
    assert {"label": "轉帳附言", "value": offline["reference"]} in offline["next"]["lines"]  # in the tenant's language
    with db.transaction() as session:
        assert sorted((p.amount, p.status) for p in session.scalars(sa.select(Payment))) == [
            (12_000, "pending"),
            (25_000, "succeeded"),
        ]
        assert verify(session) == []


def test_fund_movements_page_by_page_with_running_balances(wsgi_app, db, tenants, client):
    _, borrower_id = member_client(wsgi_app, db, "13800138420", credit_line=1_000_000)
    _, lender_id = member_client(wsgi_app, db, "13800138421")
    borrower, lender = token(client, "13800138420"), token(client, "13800138421")
    staff = staff_token(client, db, "risk-me", "risk_officer")
    started = client.post_json(
        DEMO,
        "/api/v1/me/recharges",
        {"gateway": "sandbox", "amount": "10000.00"},
        headers={**lender, "Idempotency-Key": "lender-recharge-1"},
        status=201,
    ).json
    follow(client, started["next"]["url"])
    loan = apply(client, borrower, "週轉借款")
    client.post_json(DEMO, f"/api/v1/admin/loans/{loan['id']}/review", {"decision": "approve"}, headers=staff)
    client.post_json(
        DEMO,
        f"/api/v1/loans/{loan['id']}/bids",
        {"amount": "5000.00"},
        headers={**lender, "Idempotency-Key": "lender-bid-0001"},
        status=201,
    )
    client.post_json(DEMO, f"/api/v1/admin/loans/{loan['id']}/final-review", {"decision": "approve"}, headers=staff)
    for n in range(1, 21):  # twenty small credits push the first three movements to page 2
        seed(db, lender_id, 100, f"small-{n}")

    first = client.get(DEMO, "/api/v1/me/movements", headers=lender).json
    assert (first["total"], first["pages"], first["per_page"], first["page"]) == (23, 2, 20, 1)
    # newest first: after the disbursement the lender held 5,000.00 available; each 1.00 credit adds one
    assert [(m["available_change"], m["available_after"], m["frozen_after"]) for m in first["movements"]] == [
        ("1.00", f"{5000 + n}.00", "0.00") for n in range(20, 0, -1)
    ]
    second = client.get(DEMO, "/api/v1/me/movements?page=2", headers=lender).json
    assert [
        (m["reason"], m["available_change"], m["frozen_change"], m["available_after"], m["frozen_after"])
        for m in second["movements"]
    ] == [
        ("disbursement", "0.00", "-5000.00", "5000.00", "0.00"),  # the bid leaves for the borrower
        ("bid_freeze", "-5000.00", "5000.00", "5000.00", "5000.00"),
        ("recharge", "10000.00", "0.00", "10000.00", "0.00"),
    ]
    assert second["movements"][2]["ref"] == f"payment:{started['reference']}"
    assert client.get(DEMO, "/api/v1/me/movements?page=3", headers=lender).json["movements"] == []
    assert client.get(DEMO, "/api/v1/me/movements?page=0", headers=lender, status=400).json["field"] == "page"
    # the borrower sees the loan arrive, not the lender's movements
    theirs = client.get(DEMO, "/api/v1/me/movements", headers=borrower).json["movements"]
    assert theirs[-1]["reason"] == "disbursement" and theirs[-1]["available_change"] == "5000.00"


def test_withdrawals_within_the_rules_and_refusals_naming_the_field(wsgi_app, db, tenants, client):
    _, member_id = member_client(wsgi_app, db, "13800138430", card=luhn_card())
    _, other_id = member_client(wsgi_app, db, "13800138431", card=luhn_card("622202100199999999"))
    seed(db, member_id, 100_000, "cash")  # 1,000.00
    headers = token(client, "13800138430")
    cards = client.get(DEMO, "/api/v1/me/cards", headers=headers).json["cards"]
    assert len(cards) == 1 and cards[0]["number"].startswith("**** ")
    others = client.get(DEMO, "/api/v1/me/cards", headers=token(client, "13800138431")).json["cards"]
    url = "/api/v1/me/withdrawals"
    card_id = cards[0]["id"]
    for n, (body, field) in enumerate(
        (
            ({"card_id": card_id, "amount": "99.99"}, "amount"),  # under the 100.00 minimum
            ({"card_id": card_id, "amount": "50000.01"}, "amount"),  # over the 50,000.00 daily limit
            ({"card_id": card_id, "amount": "1000.01"}, "amount"),  # more than the 1,000.00 available
            ({"card_id": others[0]["id"], "amount": "300.00"}, "card_id"),
            ({"card_id": 2147483647, "amount": "300.00"}, "card_id"),
        )
    ):
        refused = client.post_json(
            DEMO, url, body, headers={**headers, "Idempotency-Key": f"refused-{n:04d}"}, status=422
        ).json
        assert refused["field"] == field, body
    assert (
        client.post_json(
            DEMO,
            url,
            {"card_id": card_id, "amount": "-1"},
            headers={**headers, "Idempotency-Key": "refused-9999"},
            status=400,
        ).json["field"]
        == "amount"
    )
    assert funds(db, member_id) == (100_000, 0)  # every refusal changed nothing
    done = client.post_json(
        DEMO,
        url,
        {"card_id": card_id, "amount": "300.00"},
        headers={**headers, "Idempotency-Key": "withdraw-0001"},
        status=201,
    ).json
    # the fixed fee of 2.00 is taken from the amount when it is paid out; all 300.00 is frozen now
    assert (done["amount"], done["fee"], done["status"], done["card_id"]) == ("300.00", "2.00", "requested", card_id)
    assert funds(db, member_id) == (70_000, 30_000)
    with db.transaction() as session:
        assert [(w.reference, w.amount) for w in session.scalars(sa.select(Withdrawal))] == [
            (done["reference"], 30_000)
        ]
        assert verify(session) == []


@pytest.fixture
def ini(tmp_path, settings):
    path = tmp_path / "test.ini"
    path.write_text(
        "\n".join(["[app:main]", "use = egg:lendstack", *(f"{k} = {v}" for k, v in settings.items())]) + "\n"
    )
    return str(path)


def test_close_of_day_by_staff_with_a_second_factor_answers_the_clis_summary(wsgi_app, db, tenants, client, ini):
    _, borrower_id = member_client(wsgi_app, db, "13800138440", credit_line=1_000_000)
    borrower = token(client, "13800138440")
    staff = staff_token(client, db, "risk-cod", "risk_officer")
    loan = apply(client, borrower, "到期未滿標")
    client.post_json(DEMO, f"/api/v1/admin/loans/{loan['id']}/review", {"decision": "approve"}, headers=staff)
    with db.transaction() as session:  # its fundraising ends today, 2027-01-04
        session.get(Loan, loan["id"]).deadline = dt.date(2027, 1, 4)
    url = "/api/v1/admin/close-of-day"
    client.post_json(DEMO, url, {"date": "2027-01-04"}, headers=borrower, status=403)
    client.post_json(DEMO, url, {"date": "2027-01-04"}, headers=staff, status=403)  # the risk officer's role lacks it
    # customer service signs in without a code (no money permission), then its role is given close of day
    with db.transaction() as session:
        create_staff(session, tenant_by_slug(session, "demo"), "cs-cod", PASSWORD, "customer_service")
    no_code = token(client, "cs-cod", staff=True)
    with db.transaction() as session:
        demo_id = tenant_by_slug(session, "demo").id
        role = session.scalars(sa.select(Role).where(Role.tenant_id == demo_id, Role.code == "customer_service")).one()
        role.permissions = [*role.permissions, "loan.close_of_day"]
    refused = client.post_json(DEMO, url + "?_LOCALE_=en", {"date": "2027-01-04"}, headers=no_code, status=403).json
    assert refused["field"] == "Authorization" and "second factor" in refused["detail"]
    admin = staff_token(client, db, "admin-cod", "administrator")
    skipped = client.post_json(DEMO, url, {"date": "2027-01-05"}, headers=admin, status=422).json
    assert skipped["field"] == "date" and "2027-01-04" in skipped["detail"]
    assert client.post_json(DEMO, url, {"date": "2027-02-30"}, headers=admin, status=400).json["field"] == "date"
    closed = client.post_json(DEMO, url, {"date": "2027-01-04"}, headers=admin).json
    assert closed["date"] == "2027-01-04" and closed["business_date"] == "2027-01-05"
    assert closed["summary"]["expired"] == 1 and closed["summary"]["repaid"] == 0
    assert client.get(DEMO, f"/api/v1/loans/{loan['id']}").json["status"] == "failed"
    # the command answers a closed date with the same summary, and the API a date the command closed
    cli = CliRunner().invoke(
        main, ["jobs", "close-of-day", "-c", ini, "--tenant", "demo", "--date", "2027-01-04"], catch_exceptions=False
    )
    assert cli.exit_code == 0, cli.output
    assert "closed 2027-01-04 for demo: 1 expired, 0 repaid, 0 overdue" in cli.output
    cli = CliRunner().invoke(
        main, ["jobs", "close-of-day", "-c", ini, "--tenant", "demo", "--date", "2027-01-05"], catch_exceptions=False
    )
    printed = re.search(r"closed 2027-01-05 for demo: (\d+) expired, (\d+) repaid, (\d+) overdue", cli.output)
    again = client.post_json(DEMO, url, {"date": "2027-01-05"}, headers=admin).json
    assert again["business_date"] == "2027-01-06"
    assert [again["summary"][k] for k in ("expired", "repaid", "overdue")] == [int(n) for n in printed.groups()]
    assert client.post_json(DEMO, url, {"date": "2027-01-04"}, headers=admin).json["summary"] == closed["summary"]
    with db.transaction() as session:
        assert tenant_by_slug(session, "demo").business_date == dt.date(2027, 1, 6)
