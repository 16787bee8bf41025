"""The disbursement workbench (出賬工作臺) through the API and pages: a maker prepares, another person approves; an
own-funds loan is paid from the lending fund into the borrower's account and repays to the fund through the
ordinary close of day; a marketplace loan is listed for bids and disbursed by its final review. Refusals change
nothing; two checkers at once make one loan (PostgreSQL)."""

import concurrent.futures
import datetime as dt
import threading
from decimal import ROUND_HALF_UP, Decimal

import httpx
import pytest
import sqlalchemy as sa

import core.loans as loans
from core.accounts.passwords import verify_password
from core.credit.applications.models import Collateral, CreditApplication, CreditProduct
from core.credit.contracts import fund
from core.credit.contracts.models import Contract, Disbursement
from core.credit.customers.models import Customer
from core.db import scope_to_tenant
from core.ledger import Ledger, Wallet, verify
from core.loans.models import Installment, Loan
from core.members.models import Member
from core.members.services import create_member
from core.money import Money
from core.tenancy.models import Tenant
from core.tenancy.services import tenant_by_slug
from tests.helpers import PASSWORD, resident_id
from tests.test_credit_contracts import HOST, credit_case, draw_and_sign, english, inject, staff_token

DISBURSE = "/api/v1/admin/disbursements"


def equal_installment(amount: int, annual_percent: str, months: int) -> tuple[int, int]:
    """A reference equal-installment (等額本息) first period in minor units: (payment, interest), each rounded
    half-up — payment = P·r / (1 − (1 + r)^−n) with r the monthly rate."""
    r = Decimal(annual_percent) / 1200
    payment = Decimal(amount) * r / (1 - (1 + r) ** -months)
    interest = Decimal(amount) * r
    return int(payment.quantize(Decimal(1), ROUND_HALF_UP)), int(interest.quantize(Decimal(1), ROUND_HALF_UP))


def _post(client, headers, body, key, status="*"):
    return client.post_json(HOST, DISBURSE, body, headers={**headers, "Idempotency-Key": key}, status=status)


def _balances(db, member_id=None):
    """(lending fund available, the borrower's available) in minor units."""
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        scope_to_tenant(session, demo.id)
        ledger = Ledger(session, demo.id)
        held = fund.available(session, demo)
        borrower = Wallet(ledger, member_id, "CNY").funds().available if member_id else None
        return held, borrower


def test_own_funds_loan_from_signed_contract_to_the_first_collection(client, db, tenants, wsgi_app, plugins):
    application_id = credit_case(db)  # 12,000.00 at 12% for 12 months, equal installments
    inject(wsgi_app, db, "100000.00")
    draw_and_sign(wsgi_app, db, application_id)
    maker = staff_token(client, db, "maker", "cashier")
    checker = staff_token(client, db, "checker", "cashier")
    with db.transaction() as session:
        borrower_id = session.get(Customer, session.get(CreditApplication, application_id).customer_id).member_id
    assert _balances(db, borrower_id) == (10_000_000, 0)

    prepared = _post(client, maker, {"application_id": application_id, "action": "prepare"}, "prep-0001", 201)
    assert prepared.json["status"] == "prepared" and prepared.json["value_date"] == "2027-01-04"
    refused = _post(client, maker, {"application_id": application_id, "action": "approve"}, "appr-0001", 422)
    assert refused.json["field"] == "application_id"  # the maker cannot be the checker
    done = _post(client, checker, {"application_id": application_id, "action": "approve"}, "appr-0002", 200)
    assert (done.json["status"], done.json["application_status"]) == ("disbursed", "disbursed")
    assert done.json["amount"] == "12000.00" and done.json["loan_id"]

    # the lending fund paid 12,000.00 into the borrower's account
    assert _balances(db, borrower_id) == (10_000_000 - 1_200_000, 1_200_000)
    payment, interest = equal_installment(1_200_000, "12", 12)
    assert (payment, interest) == (106_619, 12_000)  # 1,066.19 = 12,000 × 1% / (1 − 1.01⁻¹²); interest 120.00
    with db.transaction() as session:
        loan = session.get(Loan, done.json["loan_id"])
        application = session.get(CreditApplication, application_id)
        assert application.loan_id == loan.id and loan.origin == "credit:own_funds:A2701000001"
        assert (loan.status, loan.amount, loan.disbursed_on) == ("repaying", 1_200_000, dt.date(2027, 1, 4))
        first = session.scalars(
            sa.select(Installment).where(Installment.loan_id == loan.id, Installment.period == 1)
        ).one()
        # the borrower fee of 1% (120.00) is spread over the 12 installments: 10.00 each
        assert (first.due_date, first.principal + first.interest, first.interest, first.service_fee) == (
            dt.date(2027, 2, 4),
            payment,
            interest,
            1_000,
        )
        number = loan.number
        assert verify(session) == []

    # an own-funds loan is not a listing: not on the invest pages, not in the API
    client.get(HOST, f"/invest/{number}", status=404)
    assert number not in client.get(HOST, "/invest?tab=repaying").text
    client.get(HOST, f"/api/v1/loans/{done.json['loan_id']}", status=404)

    # replaying the approval answers the first answer; a new request is refused: disbursed once
    again = _post(client, checker, {"application_id": application_id, "action": "approve"}, "appr-0002", 200)
    assert again.headers["Idempotent-Replayed"] == "true" and again.json == done.json
    twice = _post(client, checker, {"application_id": application_id, "action": "approve"}, "appr-0003", 422)
    assert twice.json["field"] == "application_id"

    # close of day on the due date collects the first installment into the lending fund
    with db.transaction() as session:
        session.get(Tenant, tenant_by_slug(session, "demo").id).business_date = dt.date(2027, 2, 4)
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        scope_to_tenant(session, demo.id)
        loans.close_of_day(session, demo, dt.date(2027, 2, 4), hooks=plugins.for_tenant(demo))
    lender_fee = 1_200  # the lender's management fee: 10% of the 120.00 interest
    held, borrower = _balances(db, borrower_id)
    assert held == 10_000_000 - 1_200_000 + payment - lender_fee  # 89,054.19
    assert borrower == 1_200_000 - payment - 1_000  # 10,923.81: the installment and its service fee
    with db.transaction() as session:
        assert session.scalars(sa.select(Installment.status).where(Installment.period == 1)).one() == "paid"
        assert verify(session) == []


def test_refusals_change_nothing(client, db, tenants, wsgi_app):
    unsigned = credit_case(db, n=1)
    maker = staff_token(client, db, "maker", "cashier")
    refused = _post(client, maker, {"application_id": unsigned, "action": "prepare"}, "prep-1001", 422)
    assert refused.json["field"] == "application_id"
    client.post_json(
        HOST, DISBURSE, {"application_id": unsigned, "action": "prepare"}, headers=maker, status=400
    )  # no Idempotency-Key
    _post(client, maker, {"application_id": 999999, "action": "prepare"}, "prep-1002", 404)
    elsewhere = credit_case(db, slug="acme", n=3, currency="USD", walk_in=True)
    _post(client, maker, {"application_id": elsewhere, "action": "prepare"}, "prep-1005", 404)  # another tenant's

    short = credit_case(db, n=2)  # 12,000.00, while the fund holds 5,000.00
    inject(wsgi_app, db, "5000.00")
    draw_and_sign(wsgi_app, db, short)
    english_maker = {**maker, "Accept-Language": "en"}
    refused = _post(client, english_maker, {"application_id": short, "action": "prepare"}, "prep-1003", 422)
    assert refused.json["field"] == "amount" and "5000.00" in refused.json["detail"]
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Disbursement)) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(Loan)) == 0
        assert session.get(CreditApplication, short).status == "contracted"
    future = _post(
        client,
        maker,
        {"application_id": short, "action": "prepare", "value_date": "2026-12-31"},
        "prep-1004",
        422,
    )
    assert future.json["field"] == "value_date"  # before the business date


def test_a_loan_the_fund_cannot_pay_is_refused_at_approval_too(client, db, tenants, wsgi_app):
    """Prepared while the fund held enough, approved after another loan took it: refused, nothing moved."""
    first, second = credit_case(db, n=1), credit_case(db, n=2)
    inject(wsgi_app, db, "20000.00")
    draw_and_sign(wsgi_app, db, first)
    draw_and_sign(wsgi_app, db, second)
    maker = staff_token(client, db, "maker", "cashier")
    checker = staff_token(client, db, "checker", "cashier")
    _post(client, maker, {"application_id": first, "action": "prepare"}, "prep-2001", 201)
    _post(client, maker, {"application_id": second, "action": "prepare"}, "prep-2002", 201)
    _post(client, checker, {"application_id": first, "action": "approve"}, "appr-2001", 200)
    refused = _post(client, checker, {"application_id": second, "action": "approve"}, "appr-2002", 422)
    assert refused.json["field"] == "amount"
    assert _balances(db)[0] == 2_000_000 - 1_200_000
    with db.transaction() as session:
        assert session.get(CreditApplication, second).status == "contracted"
        assert session.scalar(sa.select(sa.func.count()).select_from(Loan)) == 1


def test_walk_in_customer_gets_a_member_record_that_cannot_sign_in(client, db, tenants, wsgi_app):
    application_id = credit_case(db, walk_in=True)
    with db.transaction() as session:
        application = session.get(CreditApplication, application_id)
        session.get(Customer, application.customer_id).grade = "B"  # its approved rating's grade
        product = session.get(CreditProduct, application.product_id)
        product.loan_type = "mortgage"  # within 70% of the collateral's appraised value
        session.add(
            Collateral(
                tenant_id=application.tenant_id,
                application_id=application_id,
                kind="property",
                description="臺北市信義區某路1號",
                appraised_value=50_000_000,
            )
        )
    inject(wsgi_app, db, "50000.00")
    officer = draw_and_sign(wsgi_app, db, application_id)
    with db.transaction() as session:
        body = session.scalars(sa.select(Contract.body)).one()
        assert "臺北市信義區某路1號" in body and "500,000.00" in body
    officer.get(HOST, "/admin/credit/disbursements", status=403)  # a relationship manager does not disburse
    makers = staff_token(client, db, "maker", "cashier")
    checker = staff_token(client, db, "checker", "cashier")
    _post(client, makers, {"application_id": application_id, "action": "prepare"}, "prep-3001", 201)
    done = _post(client, checker, {"application_id": application_id, "action": "approve"}, "appr-3001", 200)
    with db.transaction() as session:
        customer = session.scalars(sa.select(Customer)).one()
        member = session.get(Member, customer.member_id)
        assert (member.phone, member.email, member.legal_name) == (None, None, "陳大文")
        assert member.credit_grade == "B"  # the customer's grade is the borrower's on the loan pages
        assert session.get(Loan, done.json["loan_id"]).borrower_id == member.id
        assert session.get(Loan, done.json["loan_id"]).type_data["collateral_kind"] == "property"
        assert not verify_password(member.password_hash, "")  # no password signs in as it


def test_a_walk_in_borrower_is_let_in_with_their_mobile_and_sets_a_password_by_sms(client, db, tenants, wsgi_app):
    from tests.conftest import Client
    from tests.helpers import submit
    from tests.test_members import last_code

    application_id = credit_case(db, walk_in=True)
    inject(wsgi_app, db, "50000.00")
    officer = english(draw_and_sign(wsgi_app, db, application_id))
    makers, checker = staff_token(client, db, "maker", "cashier"), staff_token(client, db, "checker", "cashier")
    _post(client, makers, {"application_id": application_id, "action": "prepare"}, "prep-3101", 201)
    loan_id = _post(client, checker, {"application_id": application_id, "action": "approve"}, "appr-3101", 200).json[
        "loan_id"
    ]
    with db.transaction() as session:
        customer_id = session.scalars(sa.select(Customer.id)).one()
        number = session.get(Loan, loan_id).number
    page = officer.get(HOST, f"/admin/credit/customers/{customer_id}")
    assert "Let the borrower sign in" in page.text
    refused = submit(officer, HOST, page, {"phone": "12345"}, status=400, action_suffix="/sign-in")
    assert "Enter a valid mobile number." in refused.text
    submit(officer, HOST, page, {"phone": "13800138950"}, status=303, action_suffix="/sign-in")
    page = officer.get(HOST, f"/admin/credit/customers/{customer_id}?opened=1")
    assert "Let the borrower sign in" not in page.text and "Forgot your password?" in page.text

    borrower = Client(wsgi_app)
    page = borrower.get(HOST, "/password/forgot")
    page = submit(borrower, HOST, page, {"phone": "13800138950"}, "send_code", status=200)
    password = "a borrower's own password"
    fields = {
        "phone": "13800138950",
        "code": last_code(db, "+8613800138950"),
        "password": password,
        "confirm": password,
    }
    submit(borrower, HOST, page, fields, "reset", status=303)
    page = borrower.get(HOST, "/login")
    submit(borrower, HOST, page, {"login": "13800138950", "password": password}, status=303)
    assert number in borrower.get(HOST, "/account/loans").text  # their loan, and the money paid out to them


def test_workbench_pages_prepare_and_approve(client, db, tenants, wsgi_app):
    from tests.helpers import staff_client, submit

    application_id = credit_case(db)
    inject(wsgi_app, db, "100000.00")
    draw_and_sign(wsgi_app, db, application_id)
    maker = english(staff_client(wsgi_app, db, "page-maker", "cashier"))
    checker = english(staff_client(wsgi_app, db, "page-checker", "cashier"))
    page = maker.get(HOST, "/admin/credit/disbursements")
    assert "A2701000001" in page.text and "100,000.00" in page.text
    submit(maker, HOST, page, {"value_date": "2027-01-04"}, action="prepare", status=303)
    page = maker.get(HOST, "/admin/credit/disbursements")
    assert 'value="approve"' not in page.text  # not offered to the maker
    page = checker.get(HOST, "/admin/credit/disbursements")
    submit(checker, HOST, page, {}, action="approve", status=303)
    page = checker.get(HOST, "/admin/credit/disbursements")
    assert "Latest disbursements" in page.text
    assert _balances(db)[0] == 10_000_000 - 1_200_000


def test_marketplace_application_is_listed_then_disbursed_by_its_final_review(client, db, tenants, wsgi_app, plugins):
    application_id = credit_case(db, funding="marketplace")
    draw_and_sign(wsgi_app, db, application_id)
    maker = staff_token(client, db, "maker", "cashier")
    checker = staff_token(client, db, "checker", "cashier")
    _post(client, maker, {"application_id": application_id, "action": "prepare"}, "prep-4001", 201)
    done = _post(client, checker, {"application_id": application_id, "action": "approve"}, "appr-4001", 200)
    assert (done.json["status"], done.json["application_status"]) == ("published", "contracted")
    with db.transaction() as session:
        loan = session.get(Loan, done.json["loan_id"])
        assert (loan.status, loan.origin) == ("bidding", "credit:A2701000001")
        number, loan_id = loan.number, loan.id
    assert number in client.get(HOST, "/invest").text
    client.get(HOST, f"/invest/{number}", status=200)

    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        scope_to_tenant(session, demo.id)
        lender = create_member(
            session,
            demo,
            phone="13900009999",
            password=PASSWORD,
            legal_name="林小姐",
            id_number=resident_id(900),
            verified=True,
        )
        Wallet(Ledger(session, demo.id), lender.id, "CNY").recharge(
            Money(1_200_000, "CNY"), key="seed:lender", ref="test", initiator="test"
        )
        hooks = plugins.for_tenant(demo)
        loans.place_bid(session, demo, hooks, loan_id, lender, "12000.00", key="bid-all")
        loans.final_review(session, demo, hooks, session.get(Loan, loan_id), approve=True, reason="", by="staff:1")
    with db.transaction() as session:
        assert session.get(CreditApplication, application_id).status == "disbursed"
        assert session.scalars(sa.select(Disbursement.status)).one() == "disbursed"
        assert session.get(Loan, loan_id).status == "repaying"
        assert verify(session) == []


@pytest.mark.postgres
def test_two_checkers_at_once_make_one_loan(served, db, tenants, wsgi_app, backend, client):
    if backend != "postgresql":
        pytest.skip("concurrency through a served app is tested on PostgreSQL (SQLite serialises writers)")
    application_id = credit_case(db)
    inject(wsgi_app, db, "100000.00")
    draw_and_sign(wsgi_app, db, application_id)
    maker = staff_token(client, db, "maker", "cashier")
    checkers = [staff_token(client, db, f"checker-{i}", "cashier") for i in range(2)]
    _post(client, maker, {"application_id": application_id, "action": "prepare"}, "prep-5001", 201)
    barrier = threading.Barrier(2)

    def approve(i):
        with httpx.Client(base_url=served, headers={"Host": HOST}, timeout=120) as http:
            barrier.wait()
            answer = http.post(
                DISBURSE,
                json={"application_id": application_id, "action": "approve"},
                headers={**checkers[i], "Idempotency-Key": f"race-approve-{i}"},
            )
            return answer.status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        statuses = sorted(pool.map(approve, range(2)))
    assert statuses == [200, 422]
    assert _balances(db)[0] == 10_000_000 - 1_200_000
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Loan)) == 1
        assert verify(session) == []


def test_a_prepared_disbursement_can_be_prepared_again_and_its_last_maker_cannot_approve(client, db, tenants, wsgi_app):
    application_id = credit_case(db)
    inject(wsgi_app, db, "100000.00")
    draw_and_sign(wsgi_app, db, application_id)
    first = staff_token(client, db, "first", "cashier")
    second = staff_token(client, db, "second", "cashier")
    body = {"application_id": application_id, "action": "prepare", "value_date": "2027-01-05"}
    _post(client, first, body, "prep-6001", 201)
    refused = _post(client, second, {"application_id": application_id, "action": "approve"}, "appr-6001", 422)
    assert refused.json["field"] == "value_date"  # prepared for tomorrow
    again = _post(client, second, {"application_id": application_id, "action": "prepare"}, "prep-6002", 201)
    assert again.json["value_date"] == "2027-01-04" and again.json["prepared_by"].startswith("staff:")
    _post(client, second, {"application_id": application_id, "action": "approve"}, "appr-6002", 422)
    done = _post(client, first, {"application_id": application_id, "action": "approve"}, "appr-6003", 200)
    assert done.json["status"] == "disbursed"


def test_an_application_not_taken_up_is_cancelled_and_nothing_is_paid(client, db, tenants, wsgi_app):
    from tests.helpers import submit

    application_id = credit_case(db)
    inject(wsgi_app, db, "100000.00")
    officer = english(draw_and_sign(wsgi_app, db, application_id))
    maker = staff_token(client, db, "maker", "cashier")
    checker = staff_token(client, db, "checker", "cashier")
    _post(client, maker, {"application_id": application_id, "action": "prepare"}, "prep-7001", 201)
    page = officer.get(HOST, f"/admin/credit/applications/{application_id}/contract")
    refused = submit(officer, HOST, page, {"reason": " "}, status=400)
    assert "Give a reason of up to 300 characters." in refused.text
    page = officer.get(HOST, f"/admin/credit/applications/{application_id}/contract")
    submit(officer, HOST, page, {"reason": "客戶放棄借款"}, status=303)
    refused = _post(client, checker, {"application_id": application_id, "action": "approve"}, "appr-7001", 422)
    assert refused.json["field"] == "application_id"
    with db.transaction() as session:
        assert session.get(CreditApplication, application_id).status == "cancelled"
        assert session.scalars(sa.select(Disbursement.status)).one() == "cancelled"
        assert session.scalar(sa.select(sa.func.count()).select_from(Loan)) == 0
    assert _balances(db)[0] == 10_000_000
