"""A loan whose records disagree is caught: final review refuses to disburse it, and
``lendstack ledger verify`` (the command, with the real ini and plugins) fails naming it."""

import pyotp
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

import core.loans as loans
from cli import main
from core.accounts.services import create_staff
from core.db import scope_to_tenant
from core.ledger import Ledger, Wallet
from core.loans.models import Bid, Installment, Loan, Payback
from core.members.services import create_member
from core.money import Money
from core.tenancy.services import tenant_by_slug
from tests.helpers import PASSWORD, resident_id

DEMO = "demo.localhost"


@pytest.fixture
def ini(tmp_path, settings, engine):
    path = tmp_path / "test.ini"
    path.write_text(
        "\n".join(["[app:main]", "use = egg:lendstack"] + [f"{key} = {value}" for key, value in settings.items()])
        + "\n"
    )
    return str(path)


def ledger_verify(ini):
    return CliRunner().invoke(main, ["ledger", "verify", "-c", ini], catch_exceptions=False)


@pytest.fixture
def full_loan(db, tenants, plugins):
    """A 1,000.00 loan funded by two bids of 500.00 (full, waiting for final review); its id and lender ids."""
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        scope_to_tenant(session, demo.id)
        hooks = plugins.for_tenant(demo)
        people = [
            create_member(
                session,
                demo,
                phone=f"1370000{n:04d}",
                password=PASSWORD,
                legal_name="王小明",
                id_number=resident_id(700 + n),
                verified=True,
            )
            for n in range(3)
        ]
        borrower, lenders = people[0], people[1:]
        borrower.credit_line = 1_000_000
        for n, lender in enumerate(lenders):
            Wallet(Ledger(session, demo.id), lender.id, "CNY").recharge(
                Money(100_000, "CNY"), key=f"seed{n}", ref="t", initiator="t"
            )
        loan = loans.apply(
            session,
            demo,
            hooks,
            borrower,
            {
                "loan_type": "credit",
                "title": "週轉資金借款",
                "amount": "1000.00",
                "annual_rate_percent": "12",
                "term_months": "3",
                "repayment_method": "equal_installment",
                "fundraising_days": "5",
                "min_bid": "100",
            },
        )
        loans.review(session, demo, hooks, loan, approve=True, reason="", by="staff:1")
        for n, lender in enumerate(lenders):
            loans.place_bid(session, demo, hooks, loan.id, lender, "500.00", key=f"bid-{n}")
        assert loan.status == "full"
        secret = create_staff(session, demo, "checker", PASSWORD, "risk_officer").totp_secret
        return loan.id, [m.id for m in lenders], secret


def staff_token(client, secret):
    body = {"login": "checker", "password": PASSWORD, "as": "staff", "totp": pyotp.TOTP(secret).now()}
    return {"Authorization": "Bearer " + client.post_json(DEMO, "/api/v1/auth/token", body).json["token"]}


def test_a_clean_lifecycle_verifies(client, db, full_loan, ini):
    loan_id, _, secret = full_loan
    client.post_json(
        DEMO,
        f"/api/v1/admin/loans/{loan_id}/final-review",
        {"decision": "approve"},
        headers=staff_token(client, secret),
        status=200,
    )
    result = ledger_verify(ini)
    assert result.exit_code == 0, result.output


def test_final_review_refuses_bids_that_do_not_add_up_and_verify_names_the_loan(client, db, full_loan, ini):
    loan_id, lender_ids, secret = full_loan
    # An extra bid frozen behind the loan's back (the over-funding race): the ledger still balances.
    with db.transaction() as session:
        loan = session.get(Loan, loan_id)
        extra = Bid(tenant_id=loan.tenant_id, loan_id=loan.id, member_id=lender_ids[0], amount=20_000, key="extra")
        session.add(extra)
        session.flush()
        Wallet(Ledger(session, loan.tenant_id), lender_ids[0], "CNY").freeze(
            Money(20_000, "CNY"),
            reason="bid_freeze",
            key=f"bid:{extra.id}:freeze",
            ref=f"loan:{loan.number}",
            initiator="test",
        )
        number = loan.number
    result = ledger_verify(ini)
    assert result.exit_code != 0
    assert f"loan {number}: live bids sum to 120000, funded says 100000" in result.output

    refused = client.post_json(
        DEMO,
        f"/api/v1/admin/loans/{loan_id}/final-review",
        {"decision": "approve"},
        headers=staff_token(client, secret),
        status=422,
    )
    assert refused.json["field"] == "decision"
    with db.transaction() as session:
        loan = session.get(Loan, loan_id)
        assert loan.status == "full"
        assert (
            session.scalar(sa.select(sa.func.count()).select_from(Installment).where(Installment.loan_id == loan_id))
            == 0
        )
        borrower = Wallet(Ledger(session, loan.tenant_id), loan.borrower_id, "CNY").funds()
        assert (borrower.available, borrower.frozen) == (0, 0)


def test_verify_finds_schedules_that_do_not_match_what_was_disbursed(client, db, full_loan, ini):
    loan_id, _, secret = full_loan
    client.post_json(
        DEMO,
        f"/api/v1/admin/loans/{loan_id}/final-review",
        {"decision": "approve"},
        headers=staff_token(client, secret),
        status=200,
    )
    with db.transaction() as session:
        loan = session.get(Loan, loan_id)
        first = session.scalars(
            sa.select(Installment).where(Installment.loan_id == loan_id, Installment.period == 1)
        ).one()
        first.principal += 1
        share = session.scalars(sa.select(Payback).where(Payback.loan_id == loan_id, Payback.period == 2)).first()
        share.interest -= 1
        number = loan.number
    result = ledger_verify(ini)
    assert result.exit_code != 0
    assert f"loan {number}: installments' principal 100001 != amount 100000" in result.output
    assert f"loan {number} period 1: paybacks" in result.output
    assert f"loan {number} period 2: paybacks" in result.output
