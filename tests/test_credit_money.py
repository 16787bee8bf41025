"""Money to the cent through the credit API: an own-funds loan of an awkward amount (9,950.00 at 7.3% over seven
months, equal installments and equal principal) paid out of the lending fund into the borrower's account, its
schedule checked against a reference worked out here; replays of the disbursement with the same Idempotency-Key
move money once, another body under the same key is refused; and on PostgreSQL three checkers at once, one key
replayed at once, and two people approving one capital injection at once each move the money once."""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import httpx
import pytest
import sqlalchemy as sa

from core.credit.applications.models import CreditApplication, CreditProduct
from core.credit.contracts import fund
from core.credit.contracts.models import Disbursement, FundInjection
from core.credit.customers.models import Customer
from core.db import scope_to_tenant
from core.ledger import Ledger, Wallet, verify
from core.loans.models import Installment, Loan
from core.tenancy.services import tenant_by_slug
from tests.helpers import staff_client, submit
from tests.test_credit_contracts import HOST, credit_case, draw_and_sign, inject, staff_token
from tests.test_races import race

DISBURSE = "/api/v1/admin/disbursements"
AMOUNT = 995_000  # 9,950.00: the lending fund lends in whole bid units (50.00); 9,999.99 is refused below
RATE, MONTHS = "7.3", 7


def q(value: Decimal) -> int:
    """Half-up to a whole minor unit."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def add_months(start: dt.date, months: int) -> dt.date:
    import calendar

    year, month = divmod(start.month - 1 + months, 12)
    year, month = start.year + year, month + 1
    return dt.date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def reference_rows(method: str, amount: int, annual: str, months: int) -> list[tuple[int, int]]:
    """(principal, interest) of each month in minor units, by the methods' published rules: r = annual/1200;
    equal installment A = q(P·r·(1+r)ⁿ/((1+r)ⁿ−1)), interest q(balance·r), principal A − interest, the last month
    the balance; equal principal q(P/n) a month, the last month the balance, interest q(balance·r)."""
    r = Decimal(annual) / 1200
    balance, rows = amount, []
    level = q(Decimal(amount) * r * (1 + r) ** months / ((1 + r) ** months - 1))
    part = q(Decimal(amount) / months)
    for k in range(1, months + 1):
        interest = q(Decimal(balance) * r)
        principal = balance if k == months else (level - interest if method == "equal_installment" else part)
        balance -= principal
        rows.append((principal, interest))
    return rows


def test_the_reference_agrees_with_figures_worked_by_hand():
    rows = reference_rows("equal_installment", AMOUNT, RATE, MONTHS)
    # r = 7.3 / 1200 = 0.0060833…; A = 9,950.00 × r × (1+r)⁷ / ((1+r)⁷ − 1) = 1,456.2264 → 1,456.23;
    # the first month's interest 9,950.00 × r = 60.529 → 60.53, so its principal is 1,456.23 − 60.53 = 1,395.70
    assert rows[0] == (139_570, 6_053) and sum(p for p, _ in rows) == AMOUNT
    assert rows[-1] == (144_741, 881)  # the last month: the balance left, 1,447.41, and its interest 8.805 → 8.81
    flat = reference_rows("equal_principal", AMOUNT, RATE, MONTHS)
    # 9,950.00 / 7 = 1,421.4286 → 1,421.43 for six months, the last month the rest: 1,421.42
    assert [p for p, _ in flat] == [142_143] * 6 + [142_142]
    assert [i for _, i in flat] == [6_053, 5_188, 4_324, 3_459, 2_594, 1_729, 865]


def awkward_case(db, method: str, n: int = 1) -> int:
    """An approved own-funds application of 9,950.00 at 7.3% for seven months by ``method``."""
    application_id = credit_case(db, n=n)
    with db.transaction() as session:
        application = session.get(CreditApplication, application_id)
        application.amount, application.annual_rate_percent = AMOUNT, Decimal(RATE)
        application.term_months, application.repayment_method = MONTHS, method
        product = session.get(CreditProduct, application.product_id)
        product.repayment_methods = ["equal_installment", "equal_principal"]
    return application_id


def test_an_amount_the_bid_unit_does_not_divide_is_lent_to_the_cent(client, db, tenants, wsgi_app):
    """9,999.99 is no multiple of the 50.00 bid unit: the lending fund's one bid takes the whole of it."""
    application_id = awkward_case(db, "equal_installment")
    with db.transaction() as session:
        session.get(CreditApplication, application_id).amount = 999_999
    inject(wsgi_app, db, "100000.00")
    draw_and_sign(wsgi_app, db, application_id)
    maker = staff_token(client, db, "unit-maker", "cashier")
    checker = staff_token(client, db, "unit-checker", "cashier")
    with db.transaction() as session:
        borrower = session.get(Customer, session.get(CreditApplication, application_id).customer_id).member_id
    fund_before, borrower_before = balances(db, borrower)
    post(client, maker, {"application_id": application_id, "action": "prepare"}, "unit-prep", 201)
    post(client, checker, {"application_id": application_id, "action": "approve"}, "unit-appr", 200)
    fund_after, borrower_after = balances(db, borrower)
    assert (fund_before - fund_after, borrower_after - borrower_before) == (999_999, 999_999)
    with db.transaction() as session:
        assert verify(session) == []


def balances(db, member_id=None) -> tuple[int, int | None]:
    """(the lending fund's available money, the borrower's) in minor units."""
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        scope_to_tenant(session, demo.id)
        borrower = Wallet(Ledger(session, demo.id), member_id, "CNY").funds().available if member_id else None
        return fund.available(session, demo), borrower


def post(client, headers, body, key, status="*"):
    return client.post_json(HOST, DISBURSE, body, headers={**headers, "Idempotency-Key": key}, status=status)


def counts(db) -> tuple[int, int]:
    with db.transaction() as session:
        return (
            session.scalar(sa.select(sa.func.count()).select_from(Disbursement)),
            session.scalar(sa.select(sa.func.count()).select_from(Loan)),
        )


@pytest.mark.parametrize("method", ["equal_installment", "equal_principal"])
def test_an_awkward_own_funds_loan_is_paid_and_scheduled_to_the_cent(client, db, tenants, wsgi_app, method):
    application_id = awkward_case(db, method)
    inject(wsgi_app, db, "100000.00")
    draw_and_sign(wsgi_app, db, application_id)
    maker = staff_token(client, db, "money-maker", "cashier")
    checker = staff_token(client, db, "money-checker", "cashier")
    with db.transaction() as session:
        borrower = session.get(Customer, session.get(CreditApplication, application_id).customer_id).member_id
        start = tenant_by_slug(session, "demo").business_date
    assert balances(db, borrower) == (10_000_000, 0)

    body = {"application_id": application_id, "action": "prepare"}
    prepared = post(client, maker, body, "money-prep-1", 201)
    again = post(client, maker, body, "money-prep-1", 201)
    assert again.headers["Idempotent-Replayed"] == "true" and again.json == prepared.json
    approve = {"application_id": application_id, "action": "approve"}
    done = post(client, checker, approve, "money-appr-1", 200)
    assert done.json["amount"] == "9950.00" and done.json["status"] == "disbursed"
    after = balances(db, borrower)
    assert after == (10_000_000 - AMOUNT, AMOUNT)  # 90,050.00 left in the fund; 9,950.00 to the borrower

    # the same key and body: the first answer again, nothing more moves; another body under it: 422
    for _ in range(3):
        replay = post(client, checker, approve, "money-appr-1", 200)
        assert replay.headers["Idempotent-Replayed"] == "true" and replay.json == done.json
    for other in ({**approve, "value_date": start.isoformat()}, {**approve, "action": "prepare"}):
        refused = post(client, checker, other, "money-appr-1", 422)
        assert refused.json["field"] == "Idempotency-Key"
    assert post(client, maker, approve, "money-prep-1", 422).json["field"] == "Idempotency-Key"
    assert balances(db, borrower) == after and counts(db) == (1, 1)

    fee = q(Decimal(AMOUNT) / 100)  # the demo tenant's 1% borrower fee: 99.50
    fees = [fee // MONTHS] * (MONTHS - 1) + [fee - fee // MONTHS * (MONTHS - 1)]  # 14.21 × 6, the last 14.24
    expected = [
        (k, add_months(start, k), principal, interest, fees[k - 1])
        for k, (principal, interest) in enumerate(reference_rows(method, AMOUNT, RATE, MONTHS), start=1)
    ]
    with db.transaction() as session:
        loan = session.get(Loan, done.json["loan_id"])
        assert (loan.amount, loan.status, loan.term_months) == (AMOUNT, "repaying", MONTHS)
        rows = session.execute(
            sa.select(
                Installment.period,
                Installment.due_date,
                Installment.principal,
                Installment.interest,
                Installment.service_fee,
            )
            .where(Installment.loan_id == loan.id)
            .order_by(Installment.period)
        ).all()
        assert [tuple(r) for r in rows] == expected
        assert sum(r.principal for r in rows) == AMOUNT and sum(r.service_fee for r in rows) == 9_950
        assert verify(session) == []


# ---- races on PostgreSQL ---------------------------------------------------------------------------------------


def _served_post(served, headers, body, key):
    with httpx.Client(base_url=served, headers={"Host": HOST}, timeout=120) as http:
        return http.post(DISBURSE, json=body, headers={**headers, "Idempotency-Key": key}).status_code


@pytest.mark.postgres
def test_three_checkers_at_once_and_one_key_replayed_at_once_pay_once(served, db, tenants, wsgi_app, backend, client):
    if backend != "postgresql":
        pytest.skip("concurrency through a served app is tested on PostgreSQL (SQLite serialises writers)")
    application_id = awkward_case(db, "equal_principal")
    inject(wsgi_app, db, "100000.00")
    draw_and_sign(wsgi_app, db, application_id)
    maker = staff_token(client, db, "race-maker", "cashier")
    checkers = [staff_token(client, db, f"race-checker-{i}", "cashier") for i in range(3)]
    post(client, maker, {"application_id": application_id, "action": "prepare"}, "race-prep-1", 201)
    approve = {"application_id": application_id, "action": "approve"}
    statuses = race(3, lambda i: _served_post(served, checkers[i], approve, f"race-appr-{i}"))
    assert sorted(statuses) == [200, 422, 422], statuses
    assert balances(db)[0] == 10_000_000 - AMOUNT and counts(db) == (1, 1)

    # a second application: one checker's client sends the same request with the same key three times at once
    second = awkward_case(db, "equal_installment", n=2)
    draw_and_sign(wsgi_app, db, second)
    post(client, maker, {"application_id": second, "action": "prepare"}, "race-prep-2", 201)
    body = {"application_id": second, "action": "approve"}
    statuses = race(3, lambda i: _served_post(served, checkers[0], body, "race-same-key"))
    assert statuses.count(200) >= 1 and set(statuses) <= {200, 409}, statuses  # 409: the first has no answer yet
    assert balances(db)[0] == 10_000_000 - 2 * AMOUNT and counts(db) == (2, 2)
    with db.transaction() as session:
        assert verify(session) == []


@pytest.mark.postgres
def test_two_people_approving_one_capital_injection_at_once_move_it_once(served, db, tenants, wsgi_app, backend):
    if backend != "postgresql":
        pytest.skip("concurrency through a served app is tested on PostgreSQL (SQLite serialises writers)")
    asker = staff_client(wsgi_app, db, "inject-asker", "cashier")
    page = asker.get(HOST, "/admin/credit/lending-fund")
    submit(asker, HOST, page, {"amount": "12345.67", "reason": "股東注資"}, status=303)
    with db.transaction() as session:
        injection_id = session.scalars(sa.select(FundInjection.id)).one()
    path = f"/admin/credit/lending-fund/injections/{injection_id}"
    posters = []
    for login in ("inject-checker-1", "inject-checker-2"):
        checker = staff_client(wsgi_app, db, login, "cashier")
        token = checker.get(HOST, "/admin/credit/lending-fund").html.find("input", {"name": "csrf_token"})["value"]
        cookies = {c.name: c.value for c in checker.app.cookiejar}
        posters.append((token, cookies))

    def decide(i):
        token, cookies = posters[i]
        with httpx.Client(base_url=served, headers={"Host": HOST}, cookies=cookies, timeout=120) as http:
            return http.post(path, data={"csrf_token": token, "decision": "approve"}).status_code

    statuses = race(2, decide)
    assert sorted(statuses) == [303, 400], statuses
    assert balances(db)[0] == 1_234_567
    with db.transaction() as session:
        assert session.scalars(sa.select(FundInjection.status)).one() == "applied"
        assert verify(session) == []
