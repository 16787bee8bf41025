"""Requests raced against a served app: the withdrawal daily limit holds, the credit line holds, and
concurrent applications each get their own loan number (no 500 from a duplicate)."""

import concurrent.futures
import re
import threading

import httpx
import sqlalchemy as sa

from core.ledger import Ledger, Wallet, verify
from core.loans.models import Loan
from core.money import Money
from core.payments.models import Withdrawal
from core.tenancy.services import tenant_by_slug
from tests.helpers import PASSWORD, luhn_card, member_client

DEMO = "demo.localhost"


def race(count, work):
    """Run ``work(i)`` for i in 0..count-1 at once (released together by a barrier); their answers."""
    barrier = threading.Barrier(count)

    def run(i):
        barrier.wait()
        return work(i)

    with concurrent.futures.ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_concurrent_withdrawals_stay_within_the_daily_limit(served, wsgi_app, db, tenants):
    web, member_id = member_client(wsgi_app, db, "13800138300", card=luhn_card())
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo").id
        Wallet(Ledger(session, demo), member_id, "CNY").recharge(
            Money(10_000_000, "CNY"), key="seed", ref="t", initiator="t"
        )
    page = web.get(DEMO, "/account/withdraw")
    form = [f for f in page.forms.values() if "amount" in f.fields][0]
    fields = {"csrf_token": form["csrf_token"].value, "card": form["card"].value, "amount": "4000.00"}
    cookies = {c.name: c.value for c in web.app.cookiejar}

    def withdraw(i):
        with httpx.Client(base_url=served, headers={"Host": DEMO}, cookies=cookies, timeout=60) as http:
            return http.post("/account/withdraw", data=fields).status_code

    statuses = race(20, withdraw)
    # 20 × 4,000.00 asked against a 50,000.00 daily limit: exactly 12 fit (48,000.00); the rest are refused.
    assert sorted(set(statuses)) == [303, 400], statuses
    assert statuses.count(303) == 12
    with db.transaction() as session:
        asked = session.scalar(sa.select(sa.func.sum(Withdrawal.amount)).where(Withdrawal.member_id == member_id))
        assert asked == 4_800_000
        funds = Wallet(Ledger(session, demo), member_id, "CNY").funds()
        assert (funds.available, funds.frozen) == (10_000_000 - 4_800_000, 4_800_000)
        assert verify(session) == []


def _token(http, login):
    answer = http.post("/api/v1/auth/token", json={"login": login, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": "Bearer " + answer.json()["token"]}


def test_concurrent_applications_get_their_own_numbers_within_the_credit_line(served, wsgi_app, db, tenants):
    from core.members.models import Member

    _, borrower_id = member_client(wsgi_app, db, "13800138301")
    with db.transaction() as session:
        session.get(Member, borrower_id).credit_line = 1_000_000  # 10,000.00
    with httpx.Client(base_url=served, headers={"Host": DEMO}, timeout=60) as http:
        auth = _token(http, "13800138301")

    def apply(i):
        with httpx.Client(base_url=served, headers={"Host": DEMO, **auth}, timeout=60) as http:
            answer = http.post(
                "/api/v1/loans",
                json={
                    "loan_type": "credit",
                    "title": f"週轉資金借款 {i}",
                    "amount": "1000.00",
                    "annual_rate_percent": "10",
                    "term_months": 6,
                    "repayment_method": "equal_installment",
                    "min_bid": "100",
                },
            )
            return answer.status_code, answer.json()

    answers = race(16, apply)
    statuses = [status for status, _ in answers]
    # 16 × 1,000.00 against a 10,000.00 credit line: ten are taken, six refused by field — never a 500.
    assert sorted(set(statuses)) == [201, 422], answers
    assert statuses.count(201) == 10
    assert {body["field"] for status, body in answers if status == 422} == {"amount"}
    numbers = [body["number"] for status, body in answers if status == 201]
    assert len(set(numbers)) == 10 and all(re.fullmatch(r"L\d{4}\d{5}", n) for n in numbers)
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Loan)) == 10
