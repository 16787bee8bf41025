"""Idempotency keys through the API: the member's own, per operation, across loans; a refused request
stores nothing; concurrent requests with one key apply once (against a served app)."""

import httpx
import sqlalchemy as sa

from core.idempotency import IdempotencyKey
from core.loans.models import Bid, Loan
from core.payments.models import Withdrawal
from tests.helpers import PASSWORD, luhn_card, member_client
from tests.test_api_me import DEMO, apply, funds, seed, staff_token, token
from tests.test_races import race


def published_loan(client, db, borrower, staff, title):
    loan = apply(client, borrower, title)
    client.post_json(DEMO, f"/api/v1/admin/loans/{loan['id']}/review", {"decision": "approve"}, headers=staff)
    return loan["id"]


def test_a_key_is_the_members_own_per_operation_and_not_per_loan(wsgi_app, db, tenants, client):
    member_client(wsgi_app, db, "13800138500", credit_line=2_000_000)
    _, first_id = member_client(wsgi_app, db, "13800138501", card=luhn_card())
    _, second_id = member_client(wsgi_app, db, "13800138502")
    seed(db, first_id, 2_000_000, "first")
    seed(db, second_id, 2_000_000, "second")
    borrower, first, second = (token(client, p) for p in ("13800138500", "13800138501", "13800138502"))
    staff = staff_token(client, db, "risk-idem", "risk_officer")
    loan_a = published_loan(client, db, borrower, staff, "甲方週轉借款")
    loan_b = published_loan(client, db, borrower, staff, "乙方週轉借款")
    key = {"Idempotency-Key": "same-key-0001"}

    bid = client.post_json(
        DEMO, f"/api/v1/loans/{loan_a}/bids", {"amount": "1000.00"}, headers={**first, **key}, status=201
    )
    again = client.post_json(
        DEMO, f"/api/v1/loans/{loan_a}/bids", {"amount": "1000.00"}, headers={**first, **key}, status=201
    )
    assert again.json == bid.json and again.headers["Idempotent-Replayed"] == "true"
    for url, body in (
        (f"/api/v1/loans/{loan_a}/bids", {"amount": "2000.00"}),  # another amount
        (f"/api/v1/loans/{loan_b}/bids", {"amount": "1000.00"}),
    ):  # another loan
        refused = client.post_json(DEMO, url, body, headers={**first, **key}, status=422).json
        assert refused["field"] == "Idempotency-Key", url
    # another member's same key is theirs: a bid of its own
    theirs = client.post_json(
        DEMO, f"/api/v1/loans/{loan_a}/bids", {"amount": "1000.00"}, headers={**second, **key}, status=201
    ).json
    assert theirs["id"] != bid.json["id"]
    # the same key for another operation is another request
    card_id = client.get(DEMO, "/api/v1/me/cards", headers=first).json["cards"][0]["id"]
    withdrawal = client.post_json(
        DEMO, "/api/v1/me/withdrawals", {"card_id": card_id, "amount": "300.00"}, headers={**first, **key}, status=201
    ).json
    # a refused request stores nothing: corrected, the same key applies
    retry = {"Idempotency-Key": "corrected-0001"}
    client.post_json(
        DEMO, "/api/v1/me/withdrawals", {"card_id": card_id, "amount": "99.00"}, headers={**first, **retry}, status=422
    )
    corrected = client.post_json(
        DEMO, "/api/v1/me/withdrawals", {"card_id": card_id, "amount": "150.00"}, headers={**first, **retry}, status=201
    ).json
    assert corrected["reference"] != withdrawal["reference"]

    # the first lender: 20,000.00 less a 1,000.00 bid and 300.00 + 150.00 withdrawals, all frozen
    assert funds(db, first_id) == (2_000_000 - 100_000 - 30_000 - 15_000, 100_000 + 30_000 + 15_000)
    assert funds(db, second_id) == (2_000_000 - 100_000, 100_000)
    with db.transaction() as session:
        assert session.get(Loan, loan_a).funded == 200_000 and session.get(Loan, loan_b).funded == 0
        assert sorted(
            (k.principal.split(":")[0], k.operation, k.key, k.status)
            for k in session.scalars(sa.select(IdempotencyKey))
        ) == [
            ("member", "bid", "same-key-0001", 201),
            ("member", "bid", "same-key-0001", 201),
            ("member", "withdrawal", "corrected-0001", 201),
            ("member", "withdrawal", "same-key-0001", 201),
        ]


def test_concurrent_requests_with_one_key_apply_once(served, wsgi_app, db, tenants):
    _, borrower_id = member_client(wsgi_app, db, "13800138510", credit_line=2_000_000)
    _, lender_id = member_client(wsgi_app, db, "13800138511", card=luhn_card())
    seed(db, lender_id, 2_000_000, "cash")
    with httpx.Client(base_url=served, headers={"Host": DEMO}, timeout=60) as http:

        def auth(login):
            answer = http.post("/api/v1/auth/token", json={"login": login, "password": PASSWORD})
            return {"Authorization": "Bearer " + answer.json()["token"]}

        lender, borrower = auth("13800138511"), auth("13800138510")
        loan = http.post(
            "/api/v1/loans",
            headers=borrower,
            json={
                "loan_type": "credit",
                "title": "併發借款",
                "amount": "5000.00",
                "annual_rate_percent": "10",
                "term_months": 6,
                "repayment_method": "equal_installment",
                "min_bid": "100",
            },
        ).json()
        card_id = http.get("/api/v1/me/cards", headers=lender).json()["cards"][0]["id"]
    with db.transaction() as session:
        session.get(Loan, loan["id"]).status = "bidding"  # published (the review is not what is raced here)

    def post(path, body, key):
        def send(_i):
            with httpx.Client(
                base_url=served, headers={"Host": DEMO, **lender, "Idempotency-Key": key}, timeout=60
            ) as http:
                answer = http.post(path, json=body)
                return answer.status_code, answer.json()

        return send

    withdrawals = race(10, post("/api/v1/me/withdrawals", {"card_id": card_id, "amount": "300.00"}, "raced-0001"))
    bids = race(10, post(f"/api/v1/loans/{loan['id']}/bids", {"amount": "1000.00"}, "raced-0002"))
    for answers in (withdrawals, bids):
        assert {status for status, _ in answers} == {201}, answers
        assert len({str(body) for _, body in answers}) == 1  # every one answered the first answer
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Withdrawal)) == 1
        assert session.scalar(sa.select(sa.func.count()).select_from(Bid)) == 1
        assert session.get(Loan, loan["id"]).funded == 100_000
    # 20,000.00 less one 300.00 withdrawal and one 1,000.00 bid, each frozen once
    assert funds(db, lender_id) == (2_000_000 - 30_000 - 100_000, 30_000 + 100_000)
