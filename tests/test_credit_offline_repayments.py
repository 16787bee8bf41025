"""Offline repayments from the loan page: one cashier records the borrower's bank transfer, another applies it —
the borrower's installment is paid and the lender gets their share, to the cent (worked out here); a transfer is
applied once, never by the one who recorded it, never for more than is due, and the ledger stays balanced."""

import sqlalchemy as sa

from core.credit.repayments.models import OfflineRepayment
from core.db import scope_to_tenant
from core.ledger import Ledger, Wallet
from core.ledger.verify import verify
from core.loans.models import Installment, Loan
from core.money import Money
from core.tenancy.services import tenant_by_slug
from tests import factories
from tests.helpers import resident_id, staff_client, submit

DEMO = "demo.localhost"


def installment(principal: int, rate_percent_a_year: int, months: int) -> int:
    """The reference annuity: P·r / (1 − (1 + r)^−n), in minor units, rounded half up."""
    from decimal import ROUND_HALF_UP, Decimal

    r = Decimal(rate_percent_a_year) / 100 / 12
    exact = Decimal(principal) * r / (1 - (1 + r) ** -months)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def repaying_loan(db, plugins):
    with db.transaction() as session:
        tenant = tenant_by_slug(session, "demo")
        # installments of principal and interest only; lenders pay a 10% fee on their interest
        tenant.lending = {**tenant.lending, "borrower_fee_percent": "0", "lender_fee_percent": "10"}
        scope_to_tenant(session, tenant.id)
        borrower = factories.member(session, tenant, "13760000001", id_number=resident_id(901), credit_line=10**8)
        lender = factories.member(session, tenant, "13760000002", id_number=resident_id(902), balance=2_000_000)
        loan = factories.loan(session, tenant, plugins.for_tenant(tenant), borrower, "repaying", lenders=[lender])
        wallet = Wallet(Ledger(session, tenant.id), borrower.id, tenant.currency)
        wallet.freeze(
            Money(wallet.funds().available, tenant.currency),
            reason="withdraw_freeze",
            key="spent",
            ref="t",
            initiator="t",
        )
        return loan.id, borrower.id, lender.id


def available(db, member_id):
    with db.transaction() as session:
        return Wallet(Ledger(session, tenant_by_slug(session, "demo").id), member_id, "CNY").funds().available


def form_of(page, ending):
    return [f for f in page.forms.values() if f.action.endswith(ending)][0]


def test_a_bank_transfer_is_recorded_by_one_applied_by_another_and_repays_the_loan(wsgi_app, db, tenants, plugins):
    loan_id, borrower_id, lender_id = repaying_loan(db, plugins)
    monthly = installment(1_000_000, 12, 12)
    assert monthly == 88_849  # 10,000.00 at 12% over 12 months
    maker = staff_client(wsgi_app, db, "offline-maker", "cashier")
    checker = staff_client(wsgi_app, db, "offline-checker", "cashier")
    lender_before, borrower_before = available(db, lender_id), available(db, borrower_id)
    page = maker.get(DEMO, f"/admin/loans/{loan_id}?_LOCALE_=en")
    assert "Offline repayments" in page.text
    for values, field in (
        ({"amount": "888.50", "bank_reference": "TRX-20270104-01", "received_on": "2027-01-04"}, "amount"),
        ({"amount": "-1", "bank_reference": "TRX-20270104-01", "received_on": "2027-01-04"}, "amount"),
        ({"amount": "888.49", "bank_reference": "x", "received_on": "2027-01-04"}, "bank_reference"),
        ({"amount": "888.49", "bank_reference": "TRX-20270104-01", "received_on": "2027-01-05"}, "received_on"),
        ({"amount": "888.49", "bank_reference": "TRX-20270104-01", "received_on": "2027-02-30"}, "received_on"),
    ):
        refused = submit(maker, DEMO, page, values, action_suffix="/offline-repayments", status=400)
        # the form again with the message (an impossible date is refused by the input layer's page naming it)
        assert ('role="alert"' in refused.text and f'name="{field}"' in refused.text) or field in refused.text, values
    with db.transaction() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(OfflineRepayment)) == 0
    values = {"amount": "888.49", "bank_reference": "TRX-20270104-01", "received_on": "2027-01-04"}
    submit(maker, DEMO, page, values, action_suffix="/offline-repayments", status=303)
    assert (available(db, lender_id), available(db, borrower_id)) == (lender_before, borrower_before)  # not yet
    again = submit(
        maker,
        DEMO,
        maker.get(DEMO, f"/admin/loans/{loan_id}?_LOCALE_=en"),
        values,
        status=400,
        action_suffix="/offline-repayments",
    )
    assert "recorded already" in again.text
    with db.transaction() as session:
        recorded = session.scalars(sa.select(OfflineRepayment)).one()
    own = maker.post(
        DEMO,
        f"/admin/offline-repayments/{recorded.id}",
        {"decision": "approve", "csrf_token": form_of(page, "/offline-repayments")["csrf_token"].value},
        status=400,
    )
    assert 'role="alert"' in own.text
    page = checker.get(DEMO, f"/admin/loans/{loan_id}?_LOCALE_=en")
    rejected = submit(
        checker,
        DEMO,
        page,
        {"note": ""},
        action="reject",
        action_suffix=f"/offline-repayments/{recorded.id}",
        status=400,
    )
    assert 'role="alert"' in rejected.text
    page = checker.get(DEMO, f"/admin/loans/{loan_id}?_LOCALE_=en")
    submit(checker, DEMO, page, {}, action="approve", action_suffix=f"/offline-repayments/{recorded.id}", status=303)
    # the lender has the installment less the 10% fee on its interest (1% of 10,000.00 = 100.00: fee 10.00);
    # the borrower's balance is as it was
    assert available(db, lender_id) - lender_before == monthly - 1_000
    assert available(db, borrower_id) == borrower_before
    with db.transaction() as session:
        first = session.scalars(
            sa.select(Installment).where(Installment.loan_id == loan_id, Installment.period == 1)
        ).one()
        assert first.status == "paid" and first.paid_principal + first.paid_interest == monthly
        assert session.get(Loan, loan_id).status == "repaying"
        assert session.scalars(sa.select(OfflineRepayment)).one().status == "applied"
        assert verify(session) == []
    twice = checker.post(
        DEMO,
        f"/admin/offline-repayments/{recorded.id}",
        {"decision": "approve", "csrf_token": form_of(page, "/offline-repayments")["csrf_token"].value},
        status=400,
    )
    assert "decided already" in twice.text
    assert available(db, lender_id) - lender_before == monthly - 1_000  # nothing moved twice


def test_another_tenants_cashier_cannot_decide_and_the_api_of_pages_hides_it(wsgi_app, db, tenants, plugins):
    loan_id, _borrower, _lender = repaying_loan(db, plugins)
    maker = staff_client(wsgi_app, db, "offline-maker2", "cashier")
    page = maker.get(DEMO, f"/admin/loans/{loan_id}")
    values = {"amount": "100.00", "bank_reference": "TRX-ACME-TRY", "received_on": "2027-01-04"}
    submit(maker, DEMO, page, values, action_suffix="/offline-repayments", status=303)
    with db.transaction() as session:
        recorded = session.scalars(sa.select(OfflineRepayment)).one()
    theirs = staff_client(wsgi_app, db, "offline-acme", "cashier", slug="acme", host="acme.localhost")
    page = theirs.get("acme.localhost", "/admin")
    csrf = [f for f in page.forms.values() if "csrf_token" in f.fields][0]["csrf_token"].value
    theirs.post(
        "acme.localhost",
        f"/admin/offline-repayments/{recorded.id}",
        {"decision": "approve", "csrf_token": csrf},
        status=404,
    )
    theirs.post(
        "acme.localhost", f"/admin/loans/{loan_id}/offline-repayments", {**values, "csrf_token": csrf}, status=404
    )
    with db.transaction() as session:
        assert session.scalars(sa.select(OfflineRepayment)).one().status == "pending"
