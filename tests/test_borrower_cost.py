"""What a loan costs its borrower, through the API and the pages: the whole principal is received, the fee
is charged as the tenant chooses (spread, upfront, or — opted in — deducted), and the APR is the IRR of
the real cash flows, bounded by the tenant's cap.

The reference figures are computed here: the equal-installment payment by its formula, the APR with
numpy-financial's IRR (a monthly rate × 12) over the same cash flows.
"""

import re
from decimal import ROUND_HALF_UP, Decimal

import numpy_financial as npf
import pyotp
import pytest
import sqlalchemy as sa

from core.accounts.services import create_staff
from core.db import scope_to_tenant
from core.ledger import Ledger, Wallet, verify
from core.loans.models import Installment, Loan
from core.members.models import Member
from core.members.services import create_member
from core.money import Money
from core.tenancy.services import tenant_by_slug
from tests.helpers import PASSWORD, member_client, resident_id

DEMO = "demo.localhost"
APPLICATION = {
    "loan_type": "credit",
    "title": "週轉資金借款",
    "amount": "30000.00",
    "annual_rate_percent": "12",
    "term_months": 6,
    "repayment_method": "equal_installment",
    "min_bid": "100",
}


def reference_apr(received: int, payments: list[int]) -> Decimal:
    """Monthly IRR × 12, in percent, rounded half-up to 2 decimals (numpy-financial, not the product)."""
    monthly = npf.irr([received] + [-p for p in payments])
    return Decimal(repr(monthly * 1200)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def set_lending(db, **values):
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        demo.lending = {**(demo.lending or {}), **{k: str(v) for k, v in values.items()}}


@pytest.fixture
def api(client, db, tenants):
    """Borrower and lender tokens, a reviewer's token with two-factor; the lender holds 40,000.00."""
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        scope_to_tenant(session, demo.id)
        borrower = create_member(
            session,
            demo,
            phone="13600000001",
            password=PASSWORD,
            legal_name="王小明",
            id_number=resident_id(801),
            verified=True,
        )
        borrower.credit_line = 10_000_000
        lender = create_member(
            session,
            demo,
            phone="13600000002",
            password=PASSWORD,
            legal_name="王小明",
            id_number=resident_id(802),
            verified=True,
        )
        Wallet(Ledger(session, demo.id), lender.id, "CNY").recharge(
            Money(4_000_000, "CNY"), key="seed", ref="t", initiator="t"
        )
        secret = create_staff(session, demo, "cost-reviewer", PASSWORD, "risk_officer").totp_secret
        ids = {"borrower": borrower.id, "lender": lender.id, "tenant": demo.id}

    def token(body):
        return {"Authorization": "Bearer " + client.post_json(DEMO, "/api/v1/auth/token", body).json["token"]}

    ids["as_borrower"] = token({"login": "13600000001", "password": PASSWORD})
    ids["as_lender"] = token({"login": "13600000002", "password": PASSWORD})
    ids["as_staff"] = token(
        {"login": "cost-reviewer", "password": PASSWORD, "as": "staff", "totp": pyotp.TOTP(secret).now()}
    )
    return ids


def funded(client, api, **change):
    """A loan applied for, published and fully bid through the API; its id."""
    loan = client.post_json(
        DEMO, "/api/v1/loans", {**APPLICATION, **change}, headers=api["as_borrower"], status=201
    ).json
    client.post_json(DEMO, f"/api/v1/admin/loans/{loan['id']}/review", {"decision": "approve"}, headers=api["as_staff"])
    client.post_json(
        DEMO,
        f"/api/v1/loans/{loan['id']}/bids",
        {"amount": change.get("amount", "30000.00")},
        headers={**api["as_lender"], "Idempotency-Key": f"cost-{loan['id']}-all"},
        status=201,
    )
    return loan["id"]


def borrower_funds(db, api):
    with db.transaction() as session:
        return Wallet(Ledger(session, api["tenant"]), api["borrower"], "CNY").funds().available


def fee_income(db, api):
    with db.transaction() as session:
        ledger = Ledger(session, api["tenant"])
        return ledger.balance(ledger.platform("fee_income", "CNY")).minor


# 30,000.00 at 12% over 6 months: 1% a month, payment = P·r / (1 − (1 + r)^−6) = 5,176.45 (rounded half-up).
PAYMENT = 517645


def test_the_fee_is_spread_over_the_installments_and_the_whole_principal_is_received(client, db, api):
    set_lending(db, borrower_fee_percent="1", borrower_fee_mode="installments")
    loan_id = funded(client, api)
    client.post_json(
        DEMO,
        f"/api/v1/admin/loans/{loan_id}/final-review",
        {"decision": "approve"},
        headers=api["as_staff"],
        status=200,
    )
    assert borrower_funds(db, api) == 3_000_000  # the whole 30,000.00: nothing taken off
    assert fee_income(db, api) == 0  # the 300.00 fee comes with the installments
    with db.transaction() as session:
        rows = session.scalars(
            sa.select(Installment).where(Installment.loan_id == loan_id).order_by(Installment.period)
        ).all()
        assert [r.service_fee for r in rows] == [5_000] * 6  # 300.00 in six equal parts
        assert [r.principal + r.interest for r in rows[:5]] == [PAYMENT] * 5
        payments = [r.principal + r.interest + r.service_fee for r in rows]
        loan = session.get(Loan, loan_id)
        assert (loan.borrower_fee, loan.fee_mode) == (30_000, "installments")
        assert verify(session) == []
    shown = client.get(DEMO, f"/api/v1/loans/{loan_id}", headers=api["as_borrower"]).json
    expected = reference_apr(3_000_000, payments)
    assert Decimal("15.3") < expected < Decimal("15.4")  # a 12% loan with 1% spread over six months: ~15.37%
    assert shown["apr_percent"] == str(expected)
    # the borrower pays the first installment with its service fee: the fee goes to the platform
    with db.transaction() as session:
        Wallet(Ledger(session, api["tenant"]), api["borrower"], "CNY").recharge(
            Money(1_000_000, "CNY"), key="cost-topup", ref="t", initiator="t"
        )
    client.post_json(DEMO, f"/api/v1/loans/{loan_id}/repayments", {}, headers=api["as_borrower"], status=200)
    assert fee_income(db, api) >= 5_000
    assert borrower_funds(db, api) == 3_000_000 + 1_000_000 - payments[0]


def test_an_upfront_fee_is_its_own_payment_refused_when_the_balance_is_short(client, db, api):
    set_lending(db, borrower_fee_percent="1", borrower_fee_mode="upfront")
    loan_id = funded(client, api)
    refused = client.post_json(
        DEMO,
        f"/api/v1/admin/loans/{loan_id}/final-review",
        {"decision": "approve"},
        headers=api["as_staff"],
        status=422,
    )
    assert refused.json["field"] == "decision" and "300.00" in refused.json["detail"]
    with db.transaction() as session:
        assert session.get(Loan, loan_id).status == "full"
    assert borrower_funds(db, api) == 0
    with db.transaction() as session:
        Wallet(Ledger(session, api["tenant"]), api["borrower"], "CNY").recharge(
            Money(30_000, "CNY"), key="fee-money", ref="t", initiator="t"
        )
    client.post_json(
        DEMO,
        f"/api/v1/admin/loans/{loan_id}/final-review",
        {"decision": "approve"},
        headers=api["as_staff"],
        status=200,
    )
    assert borrower_funds(db, api) == 3_000_000  # received the whole principal; paid the fee from their own
    assert fee_income(db, api) == 30_000
    shown = client.get(DEMO, f"/api/v1/loans/{loan_id}", headers=api["as_borrower"]).json
    assert shown["apr_percent"] == str(
        reference_apr(
            3_000_000 - 30_000,
            [PAYMENT] * 5
            + [
                sum(
                    int(i["principal"].replace(".", "")) + int(i["interest"].replace(".", ""))
                    for i in shown["installments"][5:]
                )
            ],
        )
    )


def test_a_fee_deducted_from_principal_is_an_explicit_opt_in_and_shows_in_the_apr(client, db, api):
    set_lending(db, borrower_fee_percent="1", borrower_fee_mode="deducted")
    loan_id = funded(client, api)
    client.post_json(
        DEMO,
        f"/api/v1/admin/loans/{loan_id}/final-review",
        {"decision": "approve"},
        headers=api["as_staff"],
        status=200,
    )
    assert borrower_funds(db, api) == 2_970_000
    assert fee_income(db, api) == 30_000
    with db.transaction() as session:
        rows = session.scalars(
            sa.select(Installment).where(Installment.loan_id == loan_id).order_by(Installment.period)
        ).all()
        payments = [r.principal + r.interest for r in rows]
        assert all(r.service_fee == 0 for r in rows)
    shown = client.get(DEMO, f"/api/v1/loans/{loan_id}", headers=api["as_borrower"]).json
    # dearer than the same fee spread over the installments (~15.37%): the fee is paid before any of it is used
    assert shown["apr_percent"] == str(reference_apr(2_970_000, payments))
    assert Decimal("15.5") < Decimal(shown["apr_percent"]) < Decimal("15.6")


def test_the_rate_cap_bounds_the_apr_not_only_the_nominal_rate(client, db, api):
    set_lending(db, borrower_fee_percent="3", borrower_fee_mode="installments", max_annual_rate_percent="24")
    refused = client.post_json(
        DEMO, "/api/v1/loans", {**APPLICATION, "annual_rate_percent": "20"}, headers=api["as_borrower"], status=422
    )
    assert refused.json["field"] == "annual_rate_percent" and "24" in refused.json["detail"]
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Loan)) == 0
    client.post_json(
        DEMO, "/api/v1/loans", {**APPLICATION, "annual_rate_percent": "12"}, headers=api["as_borrower"], status=201
    )


def test_the_borrow_preview_shows_the_fee_column_and_the_apr(wsgi_app, db, tenants):
    set_lending(db, borrower_fee_percent="1", borrower_fee_mode="installments")
    web, member_id = member_client(wsgi_app, db, "13600000009", credit_line=10_000_000)
    page = web.get(DEMO, "/borrow?type=credit")
    form = [f for f in page.forms.values() if "amount" in f.fields][0]
    for key, value in {
        "title": "週轉資金借款",
        "amount": "30000.00",
        "annual_rate_percent": "12",
        "term_months": "6",
        "repayment_method": "equal_installment",
    }.items():
        form[key] = value
    shown = form.submit("preview", value="1", extra_environ={"HTTP_HOST": DEMO})
    text = shown.text
    assert text.count("50.00") >= 6  # the service fee of each period
    assert "5,226.45" in text  # the payment with its fee: 5,176.45 + 50.00
    payments = [int(m.replace(",", "").replace(".", "")) for m in re.findall(r"5,2\d\d\.\d\d", text)]
    assert len(payments) == 6
    assert f"{reference_apr(3_000_000, payments)}%" in text  # the APR
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Loan)) == 0
        assert session.get(Member, member_id).credit_line == 10_000_000


def test_the_schedule_tool_charges_the_sites_fee_when_asked_as_the_borrow_page_does(client, db, tenants):
    set_lending(db, borrower_fee_percent="1", borrower_fee_mode="installments")
    body = {
        "method": "equal_installment",
        "principal": "30000.00",
        "annual_rate_percent": "12",
        "term_months": 6,
        "start_date": "2027-01-04",
    }
    plain = client.post_json(DEMO, "/api/v1/tools/schedule", body).json
    assert plain["apr_percent"] == "12.00" and "fee" not in plain
    costed = client.post_json(DEMO, "/api/v1/tools/schedule", {**body, "with_fees": True}).json
    rows = costed["installments"]
    assert [r["service_fee"] for r in rows] == ["50.00"] * 6
    assert [r["payment"] for r in rows[:5]] == ["5226.45"] * 5  # 5,176.45 + 50.00
    payments = [int(r["payment"].replace(".", "")) for r in rows]
    assert (costed["fee"], costed["fee_mode"], costed["fee_at_start"]) == ("300.00", "installments", "0.00")
    assert costed["total_payment"] == f"{sum(payments) / 100:.2f}"
    assert costed["apr_percent"] == str(reference_apr(3_000_000, payments))
    set_lending(db, borrower_fee_mode="upfront")
    upfront = client.post_json(DEMO, "/api/v1/tools/schedule", {**body, "with_fees": True}).json
    assert upfront["fee_at_start"] == "300.00" and upfront["installments"][0]["service_fee"] == "0.00"
    assert upfront["apr_percent"] == str(
        reference_apr(2_970_000, [int(r["payment"].replace(".", "")) for r in upfront["installments"]])
    )
