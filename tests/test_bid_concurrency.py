"""Bids raced through the HTTP API of a served app never over-fund a loan, and final review disburses
exactly what the schedules pay back.

The app is served by waitress on a loopback port; every client is its own
thread with its own connection, so each bid is a request with its own
database session and transaction — the door the lenders use.
"""

import concurrent.futures
import threading

import httpx
import pytest
import sqlalchemy as sa

import core.loans as loans
from core.ledger import Ledger, Wallet, verify
from core.loans.models import Bid, Installment, Loan, Payback
from core.members.models import Member
from core.money import Money
from core.tenancy.services import tenant_by_slug
from tests.helpers import PASSWORD, resident_id

LENDERS = 20
BIDS = 200
BID = "200.00"
AMOUNT = "20000.00"


def _people(db):
    """A borrower with a credit line and an open 20,000.00 loan; 20 lenders with 10,000.00 each."""
    from core.db import scope_to_tenant
    from core.members.services import create_member

    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        scope_to_tenant(session, demo.id)
        borrower = create_member(
            session,
            demo,
            phone="13900000000",
            password=PASSWORD,
            legal_name="王小明",
            id_number=resident_id(500),
            verified=True,
        )
        borrower.credit_line = 5_000_000
        lenders = []
        for n in range(LENDERS):
            lender = create_member(
                session,
                demo,
                phone=f"1390000{n + 1:04d}",
                password=PASSWORD,
                legal_name="王小明",
                id_number=resident_id(501 + n),
                verified=True,
            )
            Wallet(Ledger(session, demo.id), lender.id, "CNY").recharge(
                Money(1_000_000, "CNY"), key=f"seed:{n}", ref="test", initiator="test"
            )
            lenders.append(lender.phone)
        session.flush()
        return borrower.id, lenders


def _open_loan(db, plugins, borrower_id):
    from core.db import scope_to_tenant

    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        scope_to_tenant(session, demo.id)
        hooks = plugins.for_tenant(demo)
        loan = loans.apply(
            session,
            demo,
            hooks,
            session.get(Member, borrower_id),
            {
                "loan_type": "credit",
                "title": "週轉資金借款",
                "amount": AMOUNT,
                "annual_rate_percent": "12",
                "term_months": "6",
                "repayment_method": "equal_installment",
                "fundraising_days": "5",
                "min_bid": "100",
            },
        )
        loans.review(session, demo, hooks, loan, approve=True, reason="", by="staff:1")
        return loan.id


def _token(http, login):
    answer = http.post("/api/v1/auth/token", json={"login": login, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"Authorization": "Bearer " + answer.json()["token"]}


@pytest.mark.postgres
def test_two_hundred_bids_raced_through_the_api_fund_the_loan_exactly(served, db, tenants, plugins, backend):
    if backend != "postgresql":
        pytest.skip("concurrency through a served app is tested on PostgreSQL (SQLite serialises writers)")
    borrower_id, phones = _people(db)
    loan_id = _open_loan(db, plugins, borrower_id)
    with httpx.Client(base_url=served, headers={"Host": "demo.localhost"}, timeout=60) as http:
        tokens = [_token(http, phone) for phone in phones]

    barrier = threading.Barrier(min(BIDS, 32))

    def place(i):
        with httpx.Client(base_url=served, headers={"Host": "demo.localhost"}, timeout=120) as http:
            if i < 32:
                barrier.wait()
            answer = http.post(
                f"/api/v1/loans/{loan_id}/bids",
                json={"amount": BID},
                headers={**tokens[i % LENDERS], "Idempotency-Key": f"race-bid-{i:04d}"},
            )
            return answer.status_code, answer.json()

    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
        answers = list(pool.map(place, range(BIDS)))

    statuses = [status for status, _ in answers]
    assert set(statuses) <= {201, 422}, [a for a in answers if a[0] not in (201, 422)][:3]
    accepted = statuses.count(201)
    assert accepted == 100  # 20,000.00 / 200.00: exactly the amount, not one bid more
    with db.transaction() as session:
        loan = session.get(Loan, loan_id)
        live = session.scalar(sa.select(sa.func.sum(Bid.amount)).where(Bid.loan_id == loan_id, Bid.status == "frozen"))
        assert (loan.status, loan.funded, int(live)) == ("full", 2_000_000, 2_000_000)
        frozen = sum(
            Wallet(Ledger(session, loan.tenant_id), m.id, "CNY").funds().frozen
            for m in session.scalars(sa.select(Member).where(Member.phone.in_(phones)))
        )
        assert frozen == 2_000_000
        assert verify(session) == []

    # Final review through the API disburses exactly 20,000.00: what the lenders froze, what the
    # installments' principal and the paybacks' principal add up to.
    import pyotp

    from core.accounts.services import create_staff

    with db.transaction() as session:
        secret = create_staff(
            session, tenant_by_slug(session, "demo"), "race-reviewer", PASSWORD, "risk_officer"
        ).totp_secret
    with httpx.Client(base_url=served, headers={"Host": "demo.localhost"}, timeout=60) as http:
        answer = http.post(
            "/api/v1/auth/token",
            json={"login": "race-reviewer", "password": PASSWORD, "as": "staff", "totp": pyotp.TOTP(secret).now()},
        )
        assert answer.status_code == 200, answer.text
        staff = {"Authorization": "Bearer " + answer.json()["token"]}
        done = http.post(f"/api/v1/admin/loans/{loan_id}/final-review", json={"decision": "approve"}, headers=staff)
        assert done.status_code == 200, done.text
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        loan = session.get(Loan, loan_id)
        assert loan.status == "repaying"
        ledger = Ledger(session, demo.id)
        frozen = sum(
            Wallet(ledger, m.id, "CNY").funds().frozen
            for m in session.scalars(sa.select(Member).where(Member.phone.in_(phones)))
        )
        assert frozen == 0
        assert (
            session.scalar(sa.select(sa.func.sum(Installment.principal)).where(Installment.loan_id == loan_id))
            == 2_000_000
        )
        assert session.scalar(sa.select(sa.func.sum(Payback.principal)).where(Payback.loan_id == loan_id)) == 2_000_000
        from core.ledger.posting import TRANSFERS

        moved = session.scalar(
            sa.select(sa.func.sum(TRANSFERS.c.amount)).where(
                TRANSFERS.c.key == f"loan:{loan_id}:disburse", TRANSFERS.c.reason == "disbursement"
            )
        )
        assert int(moved) == 2_000_000
        assert verify(session) == []
