"""Two reviewers deciding the same step at once through the API of a served app: exactly one wins.

Each reviewer is its own thread with its own connection, so each decision is a request with its own database
session and transaction; the application's row lock (``SELECT … FOR UPDATE``) makes the second wait for the first
and then find the step decided.
"""

import concurrent.futures
import threading

import httpx
import pytest
import sqlalchemy as sa

from core.credit.applications.models import CreditApplication, CreditDecision
from tests.helpers import PASSWORD
from tests.test_credit_applications import people

ROUNDS = 5


def _token(http, login, secret):
    import pyotp

    body = {"login": login, "password": PASSWORD, "as": "staff"}
    if secret:
        body["totp"] = pyotp.TOTP(secret).now()
    answer = http.post("/api/v1/auth/token", json=body)
    assert answer.status_code == 200, answer.text
    return {"Authorization": "Bearer " + answer.json()["token"]}


@pytest.mark.postgres
def test_two_reviewers_deciding_one_step_at_once_one_wins(served, db, tenants, backend):
    if backend != "postgresql":
        pytest.skip("concurrency through a served app is tested on PostgreSQL (SQLite serialises writers)")
    ids, secrets = people(db)
    with httpx.Client(base_url=served, headers={"Host": "demo.localhost"}, timeout=60) as http:
        auth = {login: _token(http, f"{login}-demo", secrets[login]) for login in ("rm", "rev1", "rev2")}
        applications = []
        for n in range(ROUNDS):
            body = {
                "customer_id": ids["individual"],
                "product": "consumer",
                "amount": f"{10000 + n}.00",
                "annual_rate_percent": "12",
                "term_months": 12,
                "repayment_method": "equal_installment",
            }
            made = http.post("/api/v1/admin/applications", json=body, headers=auth["rm"])
            assert made.status_code == 201, made.text
            app_id = made.json()["id"]
            sent = http.post(
                f"/api/v1/admin/applications/{app_id}/actions", json={"action": "submit"}, headers=auth["rm"]
            )
            assert sent.status_code == 200, sent.text
            applications.append(app_id)

    for app_id in applications:
        barrier = threading.Barrier(2)

        def decide(who, app_id=app_id, barrier=barrier):
            # one approves, the other rejects: whichever is first decides, the other is refused
            action = {"rev1": {"action": "approve"}, "rev2": {"action": "reject", "comment": "負債過高"}}[who]
            with httpx.Client(base_url=served, headers={"Host": "demo.localhost"}, timeout=60) as http:
                barrier.wait()
                answer = http.post(
                    f"/api/v1/admin/applications/{app_id}/actions", json={**action, "step": "review"}, headers=auth[who]
                )
                return who, answer.status_code, answer.json()

        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            answers = list(pool.map(decide, ("rev1", "rev2")))
        statuses = sorted(status for _who, status, _body in answers)
        assert statuses == [200, 422], answers
        loser = next(body for _who, status, body in answers if status == 422)
        assert loser["field"] == "step"
        winner = next(who for who, status, _body in answers if status == 200)
        with db.transaction() as session:
            application = session.get(CreditApplication, app_id)
            decided = session.scalars(
                sa.select(CreditDecision).where(
                    CreditDecision.application_id == app_id, CreditDecision.step == "review"
                )
            ).all()
            assert len(decided) == 1 and decided[0].staff_id == ids[winner]
            assert application.status == ("in_review" if winner == "rev1" else "rejected")
