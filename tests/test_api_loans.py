"""The loans API: apply, review, bid with an Idempotency-Key, final review, repay, my account."""

import datetime as dt
from decimal import Decimal

import pyotp
import sqlalchemy as sa

from core.accounts.models import StaffUser
from core.ledger import Ledger, Wallet, verify
from core.money import Money
from core.tenancy.services import tenant_by_slug
from tests.helpers import PASSWORD, member_client, staff_client

DEMO = "demo.localhost"


def token(client, login, *, staff=False, totp=None):
    body = {"login": login, "password": PASSWORD}
    if staff:
        body["as"] = "staff"
        if totp:
            body["totp"] = totp
    return {"Authorization": "Bearer " + client.post_json(DEMO, "/api/v1/auth/token", body).json["token"]}


def test_the_lifecycle_over_the_api(wsgi_app, db, tenants, client):
    _, borrower_id = member_client(wsgi_app, db, "13800138200")
    _, lender_id = member_client(wsgi_app, db, "13800138201")
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo").id
        Wallet(Ledger(session, demo), lender_id, "CNY").recharge(
            Money(1_000_000, "CNY"), key="seed", ref="t", initiator="t"
        )
    staff_client(wsgi_app, db, "risk-api", "risk_officer")
    with db.transaction() as session:
        secret = session.scalars(sa.select(StaffUser.totp_secret).where(StaffUser.login == "risk-api")).one()
    borrower = token(client, "13800138200")
    lender = token(client, "13800138201")
    client.app.put_json(
        f"/api/v1/admin/members/{borrower_id}/credit-line",
        {"amount": "8000.00"},
        headers={**borrower, "Host": DEMO},
        status=403,
    )
    import time

    # The web sign-in used this 30-second step's code; a code is accepted once, so take the next step's.
    staff = token(client, "risk-api", staff=True, totp=pyotp.TOTP(secret).at(int(time.time()) + 30))
    line = client.app.put_json(
        f"/api/v1/admin/members/{borrower_id}/credit-line", {"amount": "8000.00"}, headers={**staff, "Host": DEMO}
    ).json
    assert line["credit_line"] == "8000.00"

    bad = client.post_json(
        DEMO,
        "/api/v1/loans",
        {
            "loan_type": "credit",
            "title": "週轉借款",
            "amount": "5000.00",
            "annual_rate_percent": "50",
            "term_months": 6,
            "repayment_method": "equal_installment",
        },
        headers=borrower,
        status=422,
    )
    assert bad.json["field"] == "annual_rate_percent"
    loan = client.post_json(
        DEMO,
        "/api/v1/loans",
        {
            "loan_type": "credit",
            "title": "週轉借款",
            "amount": "5000.00",
            "annual_rate_percent": "10",
            "term_months": 6,
            "repayment_method": "equal_installment",
            "min_bid": "100",
        },
        headers=borrower,
        status=201,
    ).json
    client.get(DEMO, f"/api/v1/loans/{loan['id']}", headers=lender, status=404)  # not published yet
    client.post_json(
        DEMO, f"/api/v1/admin/loans/{loan['id']}/review", {"decision": "approve"}, headers=lender, status=403
    )
    client.post_json(DEMO, f"/api/v1/admin/loans/{loan['id']}/review", {"decision": "approve"}, headers=staff)

    missing = client.post_json(
        DEMO, f"/api/v1/loans/{loan['id']}/bids", {"amount": "5000.00"}, headers=lender, status=400
    )
    assert missing.json["field"] in ("Idempotency-Key", "idempotency-key")
    bid_headers = {**lender, "Idempotency-Key": "bid-0001-abc"}
    first = client.post_json(
        DEMO, f"/api/v1/loans/{loan['id']}/bids", {"amount": "5000.00"}, headers=bid_headers, status=201
    ).json
    again = client.post_json(
        DEMO, f"/api/v1/loans/{loan['id']}/bids", {"amount": "5000.00"}, headers=bid_headers, status=201
    ).json
    assert first == again
    assert client.get(DEMO, f"/api/v1/loans/{loan['id']}").json["status"] == "full"
    done = client.post_json(
        DEMO, f"/api/v1/admin/loans/{loan['id']}/final-review", {"decision": "approve"}, headers=staff
    ).json
    assert done["status"] == "repaying"
    detail = client.get(DEMO, f"/api/v1/loans/{loan['id']}").json
    assert len(detail["installments"]) == 6
    assert float(detail["apr_percent"]) > 10  # the fees make it cost more than its 10% rate
    account = client.get(DEMO, "/api/v1/me/account", headers=lender).json
    assert account["receivable_principal"] == "5000.00" and account["available"] == "5000.00"
    paybacks = client.get(DEMO, "/api/v1/me/paybacks", headers=lender).json["paybacks"]
    assert len(paybacks) == 6
    repay_once = {**borrower, "Idempotency-Key": "repay-0001-abc"}
    paid = client.post_json(DEMO, f"/api/v1/loans/{loan['id']}/repayments", {}, headers=repay_once).json
    assert client.post_json(DEMO, f"/api/v1/loans/{loan['id']}/repayments", {}, headers=repay_once).json == paid
    first_installment = detail["installments"][0]
    assert paid["amount"] == str(
        Money.parse(first_installment["principal"], "CNY")
        + Money.parse(first_installment["interest"], "CNY")
        + Money.parse(first_installment["service_fee"], "CNY")
    )
    assert [i["status"] for i in paid["loan"]["installments"][:2]] == ["paid", "due"]
    url = f"/api/v1/loans/{loan['id']}/repayments"
    for body, field in (
        ({"installments": 0}, "installments"),
        ({"amount": "-1"}, "amount"),
        ({"amount": "99999.00"}, "amount"),
    ):
        refused = client.post_json(DEMO, url, body, headers=borrower, status=(400, 422)).json
        assert refused["field"] == field, body
    part = client.post_json(DEMO, url, {"amount": "10.00"}, headers=borrower).json
    second = part["loan"]["installments"][1]
    assert part["amount"] == "10.00" and second["status"] == "due"
    assert Money.parse(second["owed"], "CNY") == (
        Money.parse(second["principal"], "CNY")
        + Money.parse(second["interest"], "CNY")
        + Money.parse(second["service_fee"], "CNY")
        - Money.parse("10.00", "CNY")
    )
    two = client.post_json(DEMO, url, {"installments": 2}, headers=borrower).json
    assert [i["status"] for i in two["loan"]["installments"]].count("paid") == 3
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo").id
        Wallet(Ledger(session, demo), borrower_id, "CNY").recharge(
            Money(300_000, "CNY"), key="cash", ref="t", initiator="t"
        )
    done = client.post_json(DEMO, url, {"payoff": True}, headers=borrower).json
    assert done["loan"]["status"] == "settled"
    assert client.get(DEMO, "/api/v1/me/bids", headers=lender).json["bids"][0]["status"] == "accepted"
    with db.transaction() as session:
        assert verify(session) == []


def test_autoinvest_rule_over_the_api(wsgi_app, db, tenants, client):
    member_client(wsgi_app, db, "13800138300")
    headers = token(client, "13800138300")
    assert client.get(DEMO, "/api/v1/me/autoinvest", headers=headers).json == {"enabled": False}
    bad = client.app.put_json(
        "/api/v1/me/autoinvest",
        {"amount_per_loan": "500.00", "min_rate": "9", "max_rate": "3"},
        headers={**headers, "Host": DEMO},
        status=422,
    )
    assert bad.json["field"] == "min_rate"
    rule = client.app.put_json(
        "/api/v1/me/autoinvest",
        {"amount_per_loan": "500.00", "preset": "high_credit"},
        headers={**headers, "Host": DEMO},
    ).json
    assert rule["enabled"] and rule["max_rate"] == "12" and rule["amount_per_loan"] == "500.00"


def test_a_guaranteed_loan_waits_for_its_guarantor_over_the_api(wsgi_app, db, tenants, client):
    from core.accounts.services import create_staff
    from core.loans import guarantors

    _, borrower_id = member_client(wsgi_app, db, "13800138210")
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        guarantor_id = guarantors.create(session, demo, "鼎信融資擔保", "50000").id
        secret = create_staff(session, demo, "liaison", PASSWORD, "risk_officer").totp_secret
    borrower = token(client, "13800138210")
    staff = token(client, "liaison", staff=True, totp=pyotp.TOTP(secret).now())
    loan = client.post_json(
        DEMO,
        "/api/v1/loans",
        {
            "loan_type": "guaranteed",
            "title": "擔保週轉借款",
            "amount": "8000.00",
            "annual_rate_percent": "10",
            "term_months": 6,
            "repayment_method": "equal_installment",
            "guarantor_id": str(guarantor_id),
        },
        headers=borrower,
        status=201,
    ).json
    url = f"/api/v1/admin/loans/{loan['id']}"
    early = client.post_json(DEMO, f"{url}/review", {"decision": "approve"}, headers=staff, status=422).json
    assert early["field"] == "decision"
    client.post_json(DEMO, f"{url}/guarantee", {"decision": "approve"}, headers=borrower, status=403)
    missing = client.post_json(DEMO, f"{url}/guarantee", {"decision": "approve"}, headers=staff, status=422).json
    assert missing["field"] == "reason"
    client.post_json(DEMO, f"{url}/guarantee", {"decision": "approve", "reason": "GC-2026-010"}, headers=staff)
    assert client.post_json(DEMO, f"{url}/review", {"decision": "approve"}, headers=staff).json["status"] == "bidding"


def test_installments_show_the_late_fee_apart_from_penalty_interest(wsgi_app, db, tenants, client):
    from core.loans.models import Installment, Loan

    _, borrower_id = member_client(wsgi_app, db, "13800138220")
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        loan = Loan(
            tenant_id=demo.id,
            number="L270100001",
            borrower_id=borrower_id,
            loan_type="credit",
            title="逾期借款",
            purpose="",
            amount=100_000,
            currency="CNY",
            annual_rate_percent=Decimal("12"),
            term_months=1,
            repayment_method="one_time",
            min_bid=10_000,
            fundraising_days=7,
            status="repaying",
            funded=100_000,
            disbursed_on=dt.date(2026, 12, 1),
        )
        session.add(loan)
        session.flush()
        session.add(
            Installment(
                tenant_id=demo.id,
                loan_id=loan.id,
                period=1,
                due_date=dt.date(2027, 1, 1),
                principal=100_000,
                interest=1_000,
                service_fee=300,
                status="overdue",
                late_fee=2_000,
                penalty=123,
            )
        )
        loan_id = loan.id
    row = client.get(DEMO, f"/api/v1/loans/{loan_id}").json["installments"][0]
    assert (row["principal"], row["interest"], row["service_fee"]) == ("1000.00", "10.00", "3.00")
    assert (row["late_fee"], row["penalty"]) == ("20.00", "1.23")
    assert row["owed"] == "1034.23"  # 1,000.00 + 10.00 + 3.00 + 20.00 + 1.23
    # received 1,000.00 on 2026-12-01, paid 1,013.00 (with the service fee) a month later: 1.3% a month
    assert client.get(DEMO, f"/api/v1/loans/{loan_id}").json["apr_percent"] == "15.60"


def test_the_schedule_tool_states_the_annual_cost(client, tenants):

    url = "/api/v1/tools/schedule"
    body = {
        "method": "one_time",
        "principal": "10000.00",
        "annual_rate_percent": "12",
        "term_days": 30,
        "start_date": "2027-01-15",
    }
    answer = client.post_json(DEMO, url, body).json
    assert answer["total_interest"] == "98.63"  # 10,000.00 × 12% × 30 / 365, half-up
    # monthly compounding over 30 days = 30 × 12 / 365 months: (1 + 98.63 / 10,000)^(365 / 360) − 1, × 1200
    expected = ((1 + 98.63 / 10000) ** (365 / 360) - 1) * 1200
    assert answer["apr_percent"] == str(Decimal(repr(expected)).quantize(Decimal("0.01")))
    free = client.post_json(DEMO, url, {**body, "annual_rate_percent": "0"}).json
    assert free["apr_percent"] == "0.00"  # paying back what was received costs nothing
    monthly = client.post_json(
        DEMO,
        url,
        {
            "method": "equal_installment",
            "principal": "10000.00",
            "annual_rate_percent": "12",
            "term_months": 12,
            "start_date": "2027-01-15",
        },
    ).json
    assert monthly["apr_percent"] == "12.00"  # no fee: the nominal rate, compounded monthly as quoted
