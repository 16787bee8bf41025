"""The loan lifecycle: apply, review, bid, final review, disbursement, repayment, expiry, close of day."""

import datetime as dt
import re
import threading

import pytest
import sqlalchemy as sa

import core.loans as loans
from core.db import scope_to_tenant
from core.ledger import Ledger, Wallet, verify
from core.loans.models import Installment, Loan, LoanEvent, Payback
from core.members.models import Member
from core.money import Money
from core.tenancy.services import tenant_by_slug
from tests import factories
from tests.helpers import resident_id

APPLICATION = factories.APPLICATION


@pytest.fixture
def people(db, tenants, plugins):
    """A borrower with a 50,000.00 credit line and three lenders with 20,000.00 each, all verified."""
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        lenders = {
            f"lender{n}": factories.member(
                session, demo, f"1380013{n:04d}", id_number=resident_id(100 + n), balance=2_000_000
            ).id
            for n in (1, 2, 3)
        }
        borrower = factories.member(session, demo, "13800130000", id_number=resident_id(100), credit_line=5_000_000)
        return {"borrower": borrower.id, **lenders}


def in_demo(db, plugins, work):
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        scope_to_tenant(session, demo.id)
        return work(session, demo, plugins.for_tenant(demo))


def member(session, member_id):
    return session.get(Member, member_id)


def available(db, member_id):
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo").id
        f = Wallet(Ledger(session, demo), member_id, "CNY").funds()
        return f.available, f.frozen


def open_loan(db, plugins, people, **change):
    """The borrower's loan (:data:`APPLICATION` with ``change``), reviewed and open for bids; its id."""
    return in_demo(
        db,
        plugins,
        lambda s, demo, h: factories.loan(s, demo, h, member(s, people["borrower"]), "bidding", **change).id,
    )


def bid(db, plugins, loan_id, lender_id, amount, key):
    return in_demo(
        db, plugins, lambda s, demo, h: loans.place_bid(s, demo, h, loan_id, member(s, lender_id), amount, key=key).id
    )


def test_a_credit_loan_from_application_to_settlement(db, plugins, people):
    loan_id = open_loan(db, plugins, people)
    bid(db, plugins, loan_id, people["lender1"], "6000.00", "k1")
    assert available(db, people["lender1"]) == (1_400_000, 600_000)
    bid(db, plugins, loan_id, people["lender2"], "4000.00", "k2")
    in_demo(
        db,
        plugins,
        lambda s, demo, h: loans.final_review(s, demo, h, s.get(Loan, loan_id), approve=True, reason="", by="staff:2"),
    )
    # The 1% borrower fee is not deducted: by default it is spread over the installments as service fees.
    assert available(db, people["borrower"]) == (1_000_000, 0)
    assert available(db, people["lender1"]) == (1_400_000, 0)
    with db.transaction() as session:
        rows = session.scalars(sa.select(Installment).where(Installment.loan_id == loan_id)).all()
        assert [r.principal + r.interest for r in rows[:-1]] == [88849] * 11
        assert sum(r.service_fee for r in rows) == 10000
        for period in range(1, 13):
            shares = session.scalars(
                sa.select(Payback).where(Payback.loan_id == loan_id, Payback.period == period)
            ).all()
            row = rows[period - 1]
            assert sum(p.principal for p in shares) == row.principal
            assert sum(p.interest for p in shares) == row.interest
        first_due = rows[0].due_date
    # The borrower tops up enough for all installments, then close of day collects them as they fall due.
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo").id
        Wallet(Ledger(session, demo), people["borrower"], "CNY").recharge(
            Money(100_000, "CNY"), key="top-up", ref="test", initiator="test"
        )

    def close_until(day):
        while True:
            current = in_demo(db, plugins, lambda s, demo, h: demo.business_date)
            if current > day:
                return
            in_demo(db, plugins, lambda s, demo, h: loans.close_of_day(s, demo, current))

    close_until(first_due)
    with db.transaction() as session:
        assert (
            session.scalars(
                sa.select(Installment.status).where(Installment.loan_id == loan_id, Installment.period == 1)
            ).one()
            == "paid"
        )
    lender1_after_one = available(db, people["lender1"])[0]
    assert lender1_after_one > 1_400_000
    for _ in range(11):
        in_demo(db, plugins, lambda s, demo, h: loans.repay_next(s, demo, s.get(Loan, loan_id), by="member"))
    with db.transaction() as session:
        loan = session.get(Loan, loan_id)
        assert loan.status == "settled"
        assert verify(session) == []
    # Lenders got back all principal and interest less the 10% management fee on their interest;
    # the platform kept the 1% borrower fee (as service fees) and those management fees.
    fees = _lender_fees(db, loan_id)
    lenders_now = available(db, people["lender1"])[0] + available(db, people["lender2"])[0]
    assert lenders_now == 2 * 2_000_000 + 66186 - fees
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo").id
        ledger = Ledger(session, demo)
        assert ledger.balance(ledger.platform("fee_income", "CNY")).minor == 10000 + fees


def _lender_fees(db, loan_id):
    """10% of each bid's total interest, rounded half-up once per bid (the fee is cumulative over the loan)."""
    with db.transaction() as session:
        by_bid = {}
        for p in session.scalars(sa.select(Payback).where(Payback.loan_id == loan_id)):
            by_bid[p.bid_id] = by_bid.get(p.bid_id, 0) + p.interest
        return sum((interest + 5) // 10 for interest in by_bid.values())


@pytest.mark.parametrize(
    "amount, key, text",
    [
        ("30.00", "a", "multiples"),
        ("50.00", "b", "smallest bid"),
        ("10050.00", "c", "left to fund"),
        ("30000.00", "d", "left to fund"),
    ],
)
def test_bids_are_checked(db, plugins, people, amount, key, text):
    loan_id = open_loan(db, plugins, people)
    with pytest.raises(loans.LoanError) as error:
        bid(db, plugins, loan_id, people["lender1"], amount, key)
    assert text in str(error.value)
    assert available(db, people["lender1"]) == (2_000_000, 0)


def test_the_last_bid_takes_what_is_left_whatever_the_bid_unit(db, plugins, people):
    loan_id = open_loan(db, plugins, people, amount="10025.00")  # 50.00 does not divide it
    with pytest.raises(loans.LoanError, match="multiples"):
        bid(db, plugins, loan_id, people["lender1"], "25.00", "odd-early")  # more than this is left
    bid(db, plugins, loan_id, people["lender1"], "10000.00", "round")
    bid(db, plugins, loan_id, people["lender2"], "25.00", "the-rest")
    assert available(db, people["lender2"])[1] == 2_500  # frozen: the last 25.00, and the loan is full
    with db.transaction() as session:
        assert session.get(loans.Loan, loan_id).status == "full"


def test_no_bidding_on_ones_own_loan_and_the_key_is_idempotent(db, plugins, people):
    loan_id = open_loan(db, plugins, people)
    with pytest.raises(loans.LoanError, match="own loan"):
        bid(db, plugins, loan_id, people["borrower"], "100.00", "own")
    first = bid(db, plugins, loan_id, people["lender1"], "100.00", "same")
    assert bid(db, plugins, loan_id, people["lender1"], "100.00", "same") == first
    with pytest.raises(loans.LoanError, match="Idempotency-Key"):
        bid(db, plugins, loan_id, people["lender1"], "200.00", "same")
    assert available(db, people["lender1"]) == (1_990_000, 10_000)


def test_expiry_refunds_every_bid(db, plugins, people):
    loan_id = open_loan(db, plugins, people, fundraising_days="1")
    bid(db, plugins, loan_id, people["lender1"], "500.00", "x")
    today = in_demo(db, plugins, lambda s, demo, h: demo.business_date)
    summary = in_demo(db, plugins, lambda s, demo, h: loans.close_of_day(s, demo, today))
    assert summary["expired"] == 0
    summary = in_demo(db, plugins, lambda s, demo, h: loans.close_of_day(s, demo, today + dt.timedelta(days=1)))
    assert summary["expired"] == 1
    assert available(db, people["lender1"]) == (2_000_000, 0)
    with db.transaction() as session:
        assert session.get(Loan, loan_id).status == "failed"
        assert verify(session) == []


def test_close_of_day_runs_once_per_date_and_skips_none(db, plugins, people):
    today = in_demo(db, plugins, lambda s, demo, h: demo.business_date)
    with pytest.raises(loans.LoanError, match="close that day first"):
        in_demo(db, plugins, lambda s, demo, h: loans.close_of_day(s, demo, today + dt.timedelta(days=2)))
    first = in_demo(db, plugins, lambda s, demo, h: loans.close_of_day(s, demo, today))
    again = in_demo(db, plugins, lambda s, demo, h: loans.close_of_day(s, demo, today))
    assert first == again
    assert in_demo(db, plugins, lambda s, demo, h: demo.business_date) == today + dt.timedelta(days=1)


def test_unverified_or_out_of_bounds_applications_are_refused(db, plugins, people):
    def apply(change):
        return in_demo(
            db,
            plugins,
            lambda s, demo, h: loans.apply(s, demo, h, member(s, people["borrower"]), {**APPLICATION, **change}),
        )

    with pytest.raises(loans.LoanError) as error:
        apply({"amount": "500000.00"})
    assert error.value.field == "amount"
    with pytest.raises(loans.LoanError) as error:
        apply({"annual_rate_percent": "40"})
    assert error.value.field == "annual_rate_percent"
    with pytest.raises(loans.LoanError) as error:
        apply({"repayment_method": "nonexistent"})
    assert error.value.field == "repayment_method"


def test_concurrent_bids_never_over_fund(db, plugins, people, backend):
    loan_id = open_loan(db, plugins, people, amount="5000.00")
    lenders = [people["lender1"], people["lender2"], people["lender3"]]
    outcomes, errors = [], []
    barrier = threading.Barrier(200)

    def worker(i):
        import transaction

        from core.db import tm_session

        barrier.wait()
        manager = transaction.TransactionManager(explicit=True)
        try:
            for attempt in manager.attempts(5):
                with attempt:
                    session = tm_session(db.factory, manager)
                    demo = tenant_by_slug(session, "demo")
                    scope_to_tenant(session, demo.id)
                    loans.place_bid(
                        session,
                        demo,
                        plugins.for_tenant(demo),
                        loan_id,
                        session.get(Member, lenders[i % 3]),
                        "100.00",
                        key=f"c{i}",
                    )
            outcomes.append("ok")
        except loans.LoanError:
            outcomes.append("refused")
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert outcomes.count("ok") == 50
    with db.transaction() as session:
        loan = session.get(Loan, loan_id)
        assert loan.funded == loan.amount and loan.status == "full"
        assert verify(session) == []


def repaying_loan(db, plugins, people):
    """10,000.00 at 12% over 12 months from lender1 alone, without a borrower fee (installments of 888.49)."""
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        demo.lending = {**demo.lending, "borrower_fee_percent": "0"}
    loan_id = open_loan(db, plugins, people)
    bid(db, plugins, loan_id, people["lender1"], "10000.00", "all")
    in_demo(
        db,
        plugins,
        lambda s, demo, h: loans.final_review(s, demo, h, s.get(Loan, loan_id), approve=True, reason="", by="staff"),
    )
    return loan_id


def test_reminders_before_due_and_when_overdue_once_each_and_never_at_night(db, plugins, people):
    from core.loans.schedule_jobs import send_reminders
    from core.sms import SmsMessage

    loan_id = repaying_loan(db, plugins, people)
    with db.transaction() as session:
        first = session.scalars(
            sa.select(Installment).where(Installment.loan_id == loan_id, Installment.period == 1)
        ).one()
        due = first.due_date
        demo = tenant_by_slug(session, "demo")
        demo.business_date = due - dt.timedelta(days=2)
        # The borrower has spent the loan: nothing left for the installment.
        wallet = Wallet(Ledger(session, demo.id), people["borrower"], "CNY")
        wallet.freeze(
            Money(wallet.funds().available, "CNY"), reason="withdraw_freeze", key="spent", ref="t", initiator="test"
        )
    shanghai = dt.timezone(dt.timedelta(hours=8))
    night = dt.datetime.combine(due, dt.time(23, 0), shanghai)
    morning = dt.datetime.combine(due, dt.time(10, 0), shanghai)
    assert in_demo(db, plugins, lambda s, demo, h: send_reminders(s, demo, night)) == 0
    assert in_demo(db, plugins, lambda s, demo, h: send_reminders(s, demo, morning)) == 1
    assert in_demo(db, plugins, lambda s, demo, h: send_reminders(s, demo, morning)) == 0
    for day in (due - dt.timedelta(days=2), due - dt.timedelta(days=1), due):
        in_demo(db, plugins, lambda s, demo, h, d=day: loans.close_of_day(s, demo, d))
    with db.transaction() as session:
        assert session.get(Installment, first.id).status == "overdue"
    assert in_demo(db, plugins, lambda s, demo, h: send_reminders(s, demo, morning)) == 1
    with db.transaction() as session:
        bodies = [
            m.body
            for m in session.scalars(
                sa.select(SmsMessage).where(SmsMessage.purpose.like("reminder.%")).order_by(SmsMessage.id)
            )
        ]
    assert len(bodies) == 2 and "第 1 期" in bodies[0] and "逾期" in bodies[1]


def test_catch_up_closes_every_missed_day_in_order(db, plugins, people):
    from core.loans.schedule_jobs import catch_up

    start = in_demo(db, plugins, lambda s, demo, h: demo.business_date)
    now = dt.datetime.combine(start + dt.timedelta(days=3), dt.time(0, 30), dt.timezone(dt.timedelta(hours=8)))
    summaries = in_demo(db, plugins, lambda s, demo, h: catch_up(s, demo, now))
    assert len(summaries) == 3
    assert in_demo(db, plugins, lambda s, demo, h: demo.business_date) == start + dt.timedelta(days=3)
    assert in_demo(db, plugins, lambda s, demo, h: catch_up(s, demo, now)) == []


def overdue_setup(db, plugins, people, **lending):
    """A repaying loan whose borrower has spent everything; the tenant's overdue rules from ``lending``."""
    loan_id = repaying_loan(db, plugins, people)
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        demo.lending = {**demo.lending, **lending}
        wallet = Wallet(Ledger(session, demo.id), people["borrower"], "CNY")
        wallet.freeze(
            Money(wallet.funds().available, "CNY"), reason="withdraw_freeze", key="spent", ref="t", initiator="test"
        )
        first = session.scalars(
            sa.select(Installment).where(Installment.loan_id == loan_id, Installment.period == 1)
        ).one()
        return loan_id, first.id, first.due_date


def close_through(db, plugins, last_day):
    while True:
        current = in_demo(db, plugins, lambda s, demo, h: demo.business_date)
        if current > last_day:
            return
        in_demo(db, plugins, lambda s, demo, h: loans.close_of_day(s, demo, current))


def test_penalty_interest_accrues_daily_and_goes_to_the_lender(db, plugins, people):
    loan_id, first_id, due = overdue_setup(db, plugins, people, penalty_rate_percent_per_day="0.05")
    close_through(db, plugins, due + dt.timedelta(days=4))
    with db.transaction() as session:
        first = session.get(Installment, first_id)
        assert first.status == "overdue"
        # Paid on due + 5: five days counted, on the 788.49 principal, 0.394245 a day summed exactly:
        # 1.971225 → 1.97 (rounding each day would have given 5 × 0.39 = 1.95).
        assert first.penalty == 197
    lender_before = available(db, people["lender1"])[0]
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo").id
        Wallet(Ledger(session, demo), people["borrower"], "CNY").recharge(
            Money(100_000, "CNY"), key="pay", ref="t", initiator="test"
        )
    in_demo(db, plugins, lambda s, demo, h: loans.repay_next(s, demo, s.get(Loan, loan_id), by="member"))
    # Principal + interest less the 10% fee on 100.00 interest, plus the 1.97 penalty.
    assert available(db, people["lender1"])[0] - lender_before == 88849 - 1000 + 197
    with db.transaction() as session:
        assert verify(session) == []


def test_the_risk_reserve_advances_and_is_repaid(db, plugins, people):
    from core.ledger import Transfer

    loan_id, first_id, due = overdue_setup(db, plugins, people, advance_after_days="2", reserve_advances=True)
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo").id
        ledger = Ledger(session, demo)
        ledger.post(
            [
                Transfer(
                    ledger.platform("suspense", "CNY"),
                    ledger.platform("risk_reserve", "CNY"),
                    Money(1_000_000, "CNY"),
                    "adjustment",
                )
            ],
            key="fund-reserve",
            initiator="test",
        )
        income_before = ledger.balance(ledger.platform("fee_income", "CNY")).minor
    lender_before = available(db, people["lender1"])[0]
    close_through(db, plugins, due + dt.timedelta(days=2))
    assert available(db, people["lender1"])[0] - lender_before == 88849 - 1000
    with db.transaction() as session:
        ledger = Ledger(session, tenant_by_slug(session, "demo").id)
        # the lender's 10% fee on the 100.00 interest goes to fee income, as on any payment
        assert ledger.balance(ledger.platform("fee_income", "CNY")).minor - income_before == 1000
    with db.transaction() as session:
        assert session.get(Installment, first_id).advanced_on == due + dt.timedelta(days=2)
        demo = tenant_by_slug(session, "demo").id
        Wallet(Ledger(session, demo), people["borrower"], "CNY").recharge(
            Money(100_000, "CNY"), key="pay", ref="t", initiator="test"
        )
    in_demo(db, plugins, lambda s, demo, h: loans.repay_next(s, demo, s.get(Loan, loan_id), by="member"))
    assert available(db, people["lender1"])[0] - lender_before == 88849 - 1000  # nothing twice
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo").id
        ledger = Ledger(session, demo)
        penalty = session.get(Installment, first_id).penalty
        # The reserve got back what it advanced (888.49, the fee included) and the penalty.
        assert ledger.balance(ledger.platform("risk_reserve", "CNY")).minor == 1_000_000 + penalty
        assert penalty > 0
        assert verify(session) == []


def _csrf(client, loan_id):
    page = client.get("demo.localhost", f"/admin/loans/{loan_id}")
    return [f for f in page.forms.values() if "csrf_token" in f.fields][0]["csrf_token"].value


def test_long_overdue_loans_are_accelerated_then_written_off(db, plugins, people, wsgi_app):
    from tests.helpers import staff_client, submit

    loan_id, _first, due = overdue_setup(db, plugins, people, accelerate_after_days="5")
    close_through(db, plugins, due + dt.timedelta(days=5))
    with db.transaction() as session:
        loan = session.get(Loan, loan_id)
        assert loan.status == "defaulted"
        assert all(i.status == "overdue" for i in loan.installments)
    officer = staff_client(wsgi_app, db, "writer", "administrator")
    overdue = officer.get("demo.localhost", "/admin/loans/overdue?_LOCALE_=en")
    assert overdue.text.count("Defaulted") == 12  # every installment of the accelerated loan
    assert '<td class="num"><strong>6</strong></td>' in overdue.text  # closed through due + 5
    page = officer.get("demo.localhost", f"/admin/loans/{loan_id}?_LOCALE_=en")
    assert "Special mention" in page.text  # 6 days past due: written off only once classified loss (the default)
    refused = submit(officer, "demo.localhost", page, {"reason": "借款人失聯，催收無果"}, status=400)
    assert "written off once it is classified Loss; this one is Special mention" in refused.text
    # a stricter class may be proposed at any time: one proposes loss, another approves
    page = officer.get("demo.localhost", f"/admin/credit/loans/{loan_id}/classification")
    submit(officer, "demo.localhost", page, {"proposed_class": "loss", "reason": "借款人失聯"}, status=303)
    approver = staff_client(wsgi_app, db, "approver", "administrator")
    page = approver.get("demo.localhost", "/admin/credit/classification")
    submit(approver, "demo.localhost", page, {}, action="approve", status=303, action_suffix="")
    page = officer.get("demo.localhost", f"/admin/loans/{loan_id}")
    assert submit(officer, "demo.localhost", page, {"reason": ""}, status=400).status_int == 400
    page = officer.get("demo.localhost", f"/admin/loans/{loan_id}")
    submit(officer, "demo.localhost", page, {"reason": "借款人失聯，催收無果"}, status=303)
    with db.transaction() as session:
        assert session.get(Loan, loan_id).status == "defaulted"  # waiting for a second person
    refused = officer.post(
        "demo.localhost",
        f"/admin/loans/{loan_id}/write-off",
        {"step": "approve", "csrf_token": _csrf(officer, loan_id)},
        status=400,
    )
    assert refused.status_int == 400
    page = approver.get("demo.localhost", f"/admin/loans/{loan_id}")
    form = [f for f in page.forms.values() if f.action.endswith("/write-off")][0]
    form.submit("step", value="approve", extra_environ={"HTTP_HOST": "demo.localhost"}, status=303)
    with db.transaction() as session:
        loan = session.get(Loan, loan_id)
        assert loan.status == "written_off"
        assert {i.status for i in loan.installments} == {"written_off"}
        # what is left unpaid is recorded for the books: the whole principal (nothing was paid), and the
        # interest and charges the installments still owed
        written = session.scalars(
            sa.select(LoanEvent).where(LoanEvent.loan_id == loan_id, LoanEvent.event == "written_off")
        ).one()
        assert written.detail["principal"] == 1_000_000
        assert written.detail["interest"] == sum(i.interest - i.paid_interest for i in loan.installments) > 0
        assert written.detail["charges"] == sum(i.penalty + i.late_fee - i.paid_charges for i in loan.installments)
        assert verify(session) == []


def test_auto_invest_bids_in_turn_within_the_tenants_cap(db, plugins, people, wsgi_app):
    from core.loans.autoinvest import AutoInvestRule, save_rule
    from core.loans.models import Bid
    from tests.helpers import member_client, submit

    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        save_rule(session, demo, session.get(Member, people["lender1"]), {"amount_per_loan": "5000", "max_rate": "15"})
        save_rule(
            session, demo, session.get(Member, people["lender2"]), {"amount_per_loan": "5000", "preset": "high_yield"}
        )
        save_rule(
            session, demo, session.get(Member, people["lender3"]), {"amount_per_loan": "2000", "keep_balance": "19000"}
        )
        with pytest.raises(loans.LoanError) as error:
            save_rule(
                session,
                demo,
                session.get(Member, people["lender3"]),
                {"amount_per_loan": "10", "min_rate": "5", "max_rate": "3"},
            )
        assert error.value.field == "min_rate"
    loan_id = open_loan(db, plugins, people)  # 10,000 at 12%: lender2's preset (10–36%) matches too
    with db.transaction() as session:
        bids = session.scalars(sa.select(Bid).where(Bid.loan_id == loan_id).order_by(Bid.id)).all()
        assert all(b.auto for b in bids)
        assert [(b.member_id, b.amount) for b in bids] == [
            (people["lender1"], 500000),
            (people["lender2"], 200000),
            (people["lender3"], 100000),
        ][: len(bids)]
        assert sum(b.amount for b in bids) <= 700000  # 70% cap
        first_turn = (
            session.scalars(sa.select(AutoInvestRule).where(AutoInvestRule.member_id == people["lender1"]))
            .one()
            .last_bid_at
        )
        assert first_turn is not None
    # The member manages the rule from the account page.
    client, _ = member_client(wsgi_app, db, "13800139999")
    page = client.get("demo.localhost", "/account/autoinvest")
    submit(client, "demo.localhost", page, {"amount_per_loan": "300.00", "max_rate": "20"}, status=303)
    assert "300.00" in client.get("demo.localhost", "/account/autoinvest").text


def test_the_credit_line_bounds_credit_loans_and_comes_back_with_repayment(db, plugins, people):
    with db.transaction() as session:
        session.get(Member, people["borrower"]).credit_line = 1_500_000  # 15,000.00
    loan_id = repaying_loan(db, plugins, people)  # uses 10,000.00
    with pytest.raises(loans.LoanError) as error:
        open_loan(db, plugins, people, amount="6000.00")
    assert error.value.field == "amount" and "15,000.00" not in str(error.value)
    with db.transaction() as session:
        assert loans.credit_used(session, people["borrower"]) == 1_000_000
        demo = tenant_by_slug(session, "demo").id
        Wallet(Ledger(session, demo), people["borrower"], "CNY").recharge(
            Money(1_000_000, "CNY"), key="cash", ref="t", initiator="test"
        )
    for _ in range(6):
        in_demo(db, plugins, lambda s, demo, h: loans.repay_next(s, demo, s.get(Loan, loan_id), by="member"))
    with db.transaction() as session:
        assert loans.credit_used(session, people["borrower"]) < 1_000_000 - 400_000
    open_loan(db, plugins, people, amount="6000.00")


def test_net_worth_loans_are_bounded_by_net_assets_and_hold_them(db, plugins, people, apply_manifest):
    import tomllib

    from core.members.services import add_card
    from core.payments.services import FundsError, request_withdrawal
    from tenants.manifest import shipped_manifests
    from tests.helpers import luhn_card

    demo_manifest = tomllib.loads(next(p for p in shipped_manifests() if p.stem == "demo").read_text())
    demo_manifest["plugins"]["loan_types.net_worth"] = {"ratio": "0.9"}
    apply_manifest(demo_manifest)
    borrower = people["lender1"]  # 20,000.00 of net assets

    def apply(amount):
        return in_demo(
            db,
            plugins,
            lambda s, demo, h: loans.apply(
                s,
                demo,
                h,
                member(s, borrower),
                {**APPLICATION, "loan_type": "net_worth", "amount": amount, "term_months": "6"},
            ),
        )

    with pytest.raises(loans.LoanError) as error:
        apply("19000.00")
    assert error.value.field == "amount"
    loan_id = apply("10000.00").id
    in_demo(
        db,
        plugins,
        lambda s, demo, h: loans.review(s, demo, h, s.get(Loan, loan_id), approve=True, reason="", by="staff"),
    )
    bid(db, plugins, loan_id, people["lender2"], "10000.00", "nw")
    in_demo(
        db,
        plugins,
        lambda s, demo, h: loans.final_review(s, demo, h, s.get(Loan, loan_id), approve=True, reason="", by="staff"),
    )
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        card = add_card(
            session, demo, session.get(Member, borrower), bank_name="銀行", holder_name="王小明", number=luhn_card()
        ).id
    with pytest.raises(FundsError, match="net-worth"):
        in_demo(db, plugins, lambda s, demo, h: request_withdrawal(s, demo, h, member(s, borrower), card, "15000.00"))
    in_demo(db, plugins, lambda s, demo, h: request_withdrawal(s, demo, h, member(s, borrower), card, "5000.00"))


def test_an_instant_loan_settles_the_moment_it_is_full(db, plugins, people, apply_manifest):
    import tomllib

    from tenants.manifest import shipped_manifests

    demo_manifest = tomllib.loads(next(p for p in shipped_manifests() if p.stem == "demo").read_text())
    demo_manifest["plugins"]["loan_types.instant"] = {}
    demo_manifest["plugins"]["tools.one_time"] = {}
    apply_manifest(demo_manifest)
    promoter = people["lender3"]  # the tenant's promotion account, with 20,000.00 for the interest
    form = {
        **APPLICATION,
        "loan_type": "instant",
        "amount": "1000.00",
        "term_months": "1",
        "repayment_method": "one_time",
    }
    with pytest.raises(loans.LoanError) as error:  # members cannot submit one
        in_demo(db, plugins, lambda s, demo, h: loans.apply(s, demo, h, member(s, promoter), form))
    assert error.value.field == "loan_type"

    def publish(session, demo, hooks):
        loan = loans.apply(session, demo, hooks, member(session, promoter), form, by_staff=True)
        loans.review(session, demo, hooks, loan, approve=True, reason="", by="staff")
        return loan.id

    loan_id = in_demo(db, plugins, publish)
    before = available(db, people["lender1"])[0]
    bid(db, plugins, loan_id, people["lender1"], "1000.00", "instant")
    with db.transaction() as session:
        assert session.get(Loan, loan_id).status == "settled"
        assert verify(session) == []
    # 1,000.00 at 12% for one month: 10.00 interest, less the 10% fee.
    assert available(db, people["lender1"])[0] - before == 900


def test_a_mortgage_loan_fits_its_collateral_and_releases_it_when_settled(db, plugins, people, apply_manifest):
    import tomllib

    from core.loans.models import LoanEvent
    from tenants.manifest import shipped_manifests

    demo_manifest = tomllib.loads(next(p for p in shipped_manifests() if p.stem == "demo").read_text())
    demo_manifest["plugins"]["loan_types.mortgage"] = {"max_ltv_percent": "60"}
    apply_manifest(demo_manifest)
    form = {
        **APPLICATION,
        "loan_type": "mortgage",
        "amount": "10000.00",
        "term_months": "1",
        "collateral_kind": "vehicle",
        "collateral_description": "2019 年式小客車",
        "appraised_value": "20000",
    }

    def apply(change):
        return in_demo(
            db, plugins, lambda s, demo, h: loans.apply(s, demo, h, member(s, people["borrower"]), {**form, **change})
        )

    with pytest.raises(loans.LoanError) as error:
        apply({"appraised_value": "10000"})  # 60% of 10,000 is 6,000
    assert error.value.field == "amount"
    with pytest.raises(loans.LoanError) as error:
        apply({"collateral_kind": "jewels"})
    assert error.value.field == "collateral_kind"
    loan_id = apply({}).id
    in_demo(
        db,
        plugins,
        lambda s, demo, h: loans.review(s, demo, h, s.get(Loan, loan_id), approve=True, reason="", by="staff"),
    )
    bid(db, plugins, loan_id, people["lender1"], "10000.00", "m")
    in_demo(
        db,
        plugins,
        lambda s, demo, h: loans.final_review(s, demo, h, s.get(Loan, loan_id), approve=True, reason="", by="staff"),
    )
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo").id
        Wallet(Ledger(session, demo), people["borrower"], "CNY").recharge(
            Money(100_000, "CNY"), key="i", ref="t", initiator="test"
        )
    in_demo(db, plugins, lambda s, demo, h: loans.repay_next(s, demo, s.get(Loan, loan_id), by="member"))
    with db.transaction() as session:
        loan = session.get(Loan, loan_id)
        assert loan.status == "settled" and loan.type_data["released_on"]
        events = [e.event for e in session.scalars(sa.select(LoanEvent).where(LoanEvent.loan_id == loan_id))]
        assert "collateral_released" in events


def test_a_guaranteed_loan_uses_the_guarantors_quota_and_deposit(db, plugins, people, apply_manifest):
    import tomllib

    from core.loans import guarantors
    from tenants.manifest import shipped_manifests

    demo_manifest = tomllib.loads(next(p for p in shipped_manifests() if p.stem == "demo").read_text())
    demo_manifest["plugins"]["loan_types.guaranteed"] = {}
    demo_manifest["lending"] = {**demo_manifest.get("lending", {}), "advance_after_days": "1"}
    apply_manifest(demo_manifest)
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        guarantor = guarantors.create(session, demo, "鼎信融資擔保", "15000")
        guarantors.fund(session, demo, guarantor, "20000", by="staff:1")
        guarantor_id = guarantor.id
    form = {**APPLICATION, "loan_type": "guaranteed", "guarantor_id": str(guarantor_id)}

    def apply(change):
        return in_demo(
            db, plugins, lambda s, demo, h: loans.apply(s, demo, h, member(s, people["borrower"]), {**form, **change})
        )

    with pytest.raises(loans.LoanError) as error:
        apply({"guarantor_id": "999"})
    assert error.value.field == "guarantor_id"
    loan_id = apply({}).id
    with pytest.raises(loans.LoanError, match="more"):
        apply({"amount": "6000.00"})  # 15,000 quota, 10,000 used
    # The first review waits for the guarantor's acceptance, which needs the guarantee's reference.
    with pytest.raises(loans.LoanError, match="guarantor"):
        in_demo(
            db,
            plugins,
            lambda s, demo, h: loans.review(s, demo, h, s.get(Loan, loan_id), approve=True, reason="", by="staff"),
        )
    with pytest.raises(loans.LoanError) as error:
        in_demo(
            db,
            plugins,
            lambda s, demo, h: guarantors.decide(s, demo, s.get(Loan, loan_id), accept=True, reference=" ", by="staff"),
        )
    assert error.value.field == "reason"
    in_demo(
        db,
        plugins,
        lambda s, demo, h: guarantors.decide(
            s, demo, s.get(Loan, loan_id), accept=True, reference="GC-2026-001", by="staff"
        ),
    )
    declined_id = apply({"amount": "3000.00"}).id
    in_demo(
        db,
        plugins,
        lambda s, demo, h: guarantors.decide(
            s, demo, s.get(Loan, declined_id), accept=False, reference="收入證明不足", by="staff"
        ),
    )
    with db.transaction() as session:
        declined = session.get(Loan, declined_id)
        assert declined.status == "rejected" and declined.review_note == "收入證明不足"
        assert guarantors.guarantee_state(session.get(Loan, loan_id)) == "accepted"
    in_demo(
        db,
        plugins,
        lambda s, demo, h: loans.review(s, demo, h, s.get(Loan, loan_id), approve=True, reason="", by="staff"),
    )
    bid(db, plugins, loan_id, people["lender1"], "10000.00", "g")
    in_demo(
        db,
        plugins,
        lambda s, demo, h: loans.final_review(s, demo, h, s.get(Loan, loan_id), approve=True, reason="", by="staff"),
    )
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        wallet = Wallet(Ledger(session, demo.id), people["borrower"], "CNY")
        wallet.freeze(
            Money(wallet.funds().available, "CNY"), reason="withdraw_freeze", key="spent", ref="t", initiator="test"
        )
        due = session.scalars(
            sa.select(Installment.due_date).where(Installment.loan_id == loan_id, Installment.period == 1)
        ).one()
    before = available(db, people["lender1"])[0]
    close_through(db, plugins, due + dt.timedelta(days=1))
    assert available(db, people["lender1"])[0] - before == 88849 - 1000
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo").id
        ledger = Ledger(session, demo)
        deposit = ledger.balance(guarantors.deposit_account(ledger, guarantor_id, "CNY")).minor
        assert deposit == 2_000_000 - 88849  # the lender's 878.49 and its 10.00 fee to fee income
        assert verify(session) == []


def test_guarantors_are_managed_in_the_back_office(db, tenants, wsgi_app):
    from tests.helpers import staff_client, submit

    admin = staff_client(wsgi_app, db, "g-admin", "administrator")
    page = admin.get("demo.localhost", "/admin/guarantors")
    submit(admin, "demo.localhost", page, {"name": "鼎信融資擔保", "quota": "100000"}, status=303)
    page = admin.get("demo.localhost", "/admin/guarantors")
    form = [f for f in page.forms.values() if "fund" in f.fields][0]
    form["amount"] = "30000"
    form.submit("fund", extra_environ={"HTTP_HOST": "demo.localhost"}, status=303)
    assert "30,000.00" in admin.get("demo.localhost", "/admin/guarantors").text
    cs = staff_client(wsgi_app, db, "g-cs", "customer_service")
    cs.get("demo.localhost", "/admin/guarantors", status=403)


def test_paying_a_loan_off_early(db, plugins, people):
    loan_id = repaying_loan(db, plugins, people)
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        demo.lending = {**demo.lending, "prepayment_fee_percent": "1"}
        Wallet(Ledger(session, demo.id), people["borrower"], "CNY").recharge(
            Money(500_000, "CNY"), key="cash", ref="t", initiator="test"
        )
    in_demo(db, plugins, lambda s, demo, h: loans.repay_next(s, demo, s.get(Loan, loan_id), by="member"))
    lender_before = available(db, people["lender1"])[0]
    borrower_before = available(db, people["borrower"])[0]
    paid = in_demo(db, plugins, lambda s, demo, h: loans.pay_off(s, demo, s.get(Loan, loan_id), by="member"))
    with db.transaction() as session:
        loan = session.get(Loan, loan_id)
        rows = loan.installments
        remaining = 1_000_000 - rows[0].principal
        current_interest = rows[1].interest
        assert loan.status == "settled"
        assert all(r.status == "paid" for r in rows) and all(r.interest == 0 for r in rows[2:])
        assert verify(session) == []
    fee = (remaining + 50) // 100  # 1% of the remaining principal, half-up
    assert paid == remaining + current_interest + fee
    assert borrower_before - available(db, people["borrower"])[0] == paid
    lender_fee = (current_interest + 5) // 10  # 10% of the interest, half-up
    assert available(db, people["lender1"])[0] - lender_before == remaining + current_interest - lender_fee


def test_a_late_fee_is_charged_once_and_goes_to_the_platform(db, plugins, people):
    loan_id, first_id, due = overdue_setup(db, plugins, people, late_fee="1", penalty_rate_percent_per_day="0")
    close_through(db, plugins, due)
    with db.transaction() as session:
        # within the default 24% cap: one day of 788.49 allows 788.49 × 24% / 365 = 0.518 → 0.52
        assert session.get(Installment, first_id).late_fee == 52
    close_through(db, plugins, due + dt.timedelta(days=3))
    with db.transaction() as session:
        first = session.get(Installment, first_id)
        assert first.status == "overdue" and first.late_fee == 100 and first.owed == 88849 + 100
        demo = tenant_by_slug(session, "demo").id
        ledger = Ledger(session, demo)
        income_before = ledger.balance(ledger.platform("fee_income", "CNY")).minor
        Wallet(ledger, people["borrower"], "CNY").recharge(Money(100_000, "CNY"), key="pay", ref="t", initiator="t")
    in_demo(db, plugins, lambda s, demo, h: loans.repay_next(s, demo, s.get(Loan, loan_id), by="member"))
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo").id
        ledger = Ledger(session, demo)
        assert ledger.balance(ledger.platform("fee_income", "CNY")).minor - income_before == 100 + 1000
        assert verify(session) == []


def test_staff_publish_an_instant_loan_from_the_back_office(db, plugins, people, apply_manifest, wsgi_app):
    import tomllib

    from tenants.manifest import shipped_manifests
    from tests.helpers import staff_client, submit

    demo_manifest = tomllib.loads(next(p for p in shipped_manifests() if p.stem == "demo").read_text())
    demo_manifest["plugins"]["loan_types.instant"] = {}
    demo_manifest["plugins"]["tools.one_time"] = {}
    apply_manifest(demo_manifest)
    officer = staff_client(wsgi_app, db, "promo", "risk_officer")
    page = officer.get("demo.localhost", "/admin/loans/new")
    values = {
        "borrower": "13800130003",
        "loan_type": "instant",
        "title": "新手專享秒標",
        "amount": "500.00",
        "annual_rate_percent": "12",
        "term_months": "1",
        "repayment_method": "one_time",
        "fundraising_days": "1",
        "min_bid": "100",
    }
    refused = submit(officer, "demo.localhost", page, {**values, "borrower": "13999999999"}, status=400)
    assert refused.status_int == 400
    page = officer.get("demo.localhost", "/admin/loans/new")
    submit(officer, "demo.localhost", page, values, status=303)
    with db.transaction() as session:
        loan_id = session.scalars(sa.select(Loan.id).where(Loan.loan_type == "instant")).one()
        assert session.get(Loan, loan_id).status == "bidding"
    bid(db, plugins, loan_id, people["lender1"], "500.00", "promo")
    with db.transaction() as session:
        assert session.get(Loan, loan_id).status == "settled"


def _recharge(db, member_id, minor, key):
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo").id
        Wallet(Ledger(session, demo), member_id, "CNY").recharge(Money(minor, "CNY"), key=key, ref="t", initiator="t")


def test_a_partial_payment_goes_to_penalty_then_interest_then_principal(db, plugins, people):
    loan_id, first_id, due = overdue_setup(
        db, plugins, people, late_fee="1", penalty_rate_percent_per_day="0.05", overdue_charges_cap_percent="100"
    )
    close_through(db, plugins, due + dt.timedelta(days=2))
    with db.transaction() as session:
        first = session.get(Installment, first_id)
        interest, principal = first.interest, first.principal
        # three days counted on 788.49: 3 × 0.394245 = 1.182735 → 1.18; with the 1.00 late fee 2.18,
        # within the cap (3 × 788.49 × 100% / 365 = 6.48)
        assert (first.penalty, first.late_fee, interest, principal) == (118, 100, 10000, 78849)
    _recharge(db, people["borrower"], 50_000, "part")
    lender_before = available(db, people["lender1"])[0]
    with pytest.raises(loans.LoanError) as refused:  # more than is due now
        in_demo(db, plugins, lambda s, demo, h: loans.repay(s, demo, s.get(Loan, loan_id), "900.00", by="member"))
    assert refused.value.field == "amount"
    with pytest.raises(loans.LoanError):  # more than the borrower has
        in_demo(db, plugins, lambda s, demo, h: loans.repay(s, demo, s.get(Loan, loan_id), "600.00", by="member"))
    in_demo(db, plugins, lambda s, demo, h: loans.repay(s, demo, s.get(Loan, loan_id), "150.00", by="member"))
    with db.transaction() as session:
        first = session.get(Installment, first_id)
        # 1.00 late fee and 1.18 penalty first, then 100.00 interest, then 47.82 of principal
        assert (first.paid_late_fee, first.paid_charges, first.paid_interest, first.paid_principal) == (
            100,
            218,
            10000,
            4782,
        )
        assert first.status == "overdue" and first.owed == 78849 - 4782
        assert verify(session) == []
    # The only lender got the penalty and the interest less the 10% fee, and the principal part.
    assert available(db, people["lender1"])[0] - lender_before == 118 + 10000 - 1000 + 4782
    close_through(db, plugins, due + dt.timedelta(days=3))
    with db.transaction() as session:
        first = session.get(Installment, first_id)
        # close of day collected the 350.00 left (principal: 788.49 − 47.82 − 350.00 = 390.67 unpaid), and the
        # fourth day accrues on the unpaid principal only: 390.67 × 0.05% = 0.195335; 1.182735 + 0.195335
        # = 1.37807 → 1.38
        assert first.paid_principal == 4782 + 35000 and first.penalty == 138
    _recharge(db, people["borrower"], 100_000, "rest")
    in_demo(db, plugins, lambda s, demo, h: loans.repay_next(s, demo, s.get(Loan, loan_id), by="member"))
    with db.transaction() as session:
        first = session.get(Installment, first_id)
        assert first.status == "paid" and first.paid_principal == principal and first.owed == 0
        paybacks = session.scalars(sa.select(Payback).where(Payback.loan_id == loan_id, Payback.period == 1)).all()
        assert [(p.status, p.paid_principal, p.paid_interest) for p in paybacks] == [("paid", principal, interest)]
        assert verify(session) == []
    # Paid in parts, the lender's fee is still 10% of the installment's interest.
    assert available(db, people["lender1"])[0] - lender_before == principal + interest - 1000 + 138


def test_close_of_day_collects_what_the_borrower_has_on_the_due_date(db, plugins, people):
    loan_id, first_id, due = overdue_setup(db, plugins, people, penalty_rate_percent_per_day="0.05")
    close_through(db, plugins, due - dt.timedelta(days=1))
    _recharge(db, people["borrower"], 30_000, "some")
    close_through(db, plugins, due)
    with db.transaction() as session:
        first = session.get(Installment, first_id)
        assert first.status == "overdue" and first.paid_interest == first.interest
        assert first.paid_principal == 30_000 - first.interest
        assert Wallet(Ledger(session, first.tenant_id), people["borrower"], "CNY").funds().available == 0
        events = [
            e.event
            for e in session.scalars(
                sa.select(loans.LoanEvent).where(loans.LoanEvent.loan_id == loan_id).order_by(loans.LoanEvent.id)
            )
        ]
        assert events[-2:] == ["repaid_part", "overdue"]
        assert verify(session) == []


def test_a_close_of_day_that_crashed_part_way_runs_again_without_doing_anything_twice(db, plugins, people, monkeypatch):
    loan_id, first_id, due = overdue_setup(
        db, plugins, people, penalty_rate_percent_per_day="0.05", late_fee="1", overdue_charges_cap_percent="100"
    )
    second_id = open_loan(db, plugins, people, title="第二筆借款")
    bid(db, plugins, second_id, people["lender2"], "10000.00", "k-second")
    in_demo(
        db,
        plugins,
        lambda s, demo, h: loans.final_review(s, demo, h, s.get(Loan, second_id), approve=True, reason="", by="staff"),
    )
    with db.transaction() as session:  # the borrower spends the second loan's money too
        demo = tenant_by_slug(session, "demo").id
        wallet = Wallet(Ledger(session, demo), people["borrower"], "CNY")
        wallet.freeze(
            Money(wallet.funds().available, "CNY"), reason="withdraw_freeze", key="spent-2", ref="t", initiator="test"
        )
    close_through(db, plugins, due + dt.timedelta(days=1))
    day = in_demo(db, plugins, lambda s, demo, h: demo.business_date)
    from core.loans import closing

    real, calls = closing._close_installment, []

    def crash_on_the_second(session, *args):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("power cut")
        return real(session, *args)

    monkeypatch.setattr(closing, "_close_installment", crash_on_the_second)
    with pytest.raises(RuntimeError):
        in_demo(db, plugins, lambda s, demo, h: loans.close_of_day(s, demo, day, commit_every=1))
    with db.transaction() as session:
        first = session.get(Installment, first_id)
        # the first chunk was committed: three days counted (through day + 1), 3 × 0.394245 → 1.18
        assert first.penalty == 118 and first.penalty_through == day + dt.timedelta(days=1)
    monkeypatch.setattr(closing, "_close_installment", real)
    summary = in_demo(db, plugins, lambda s, demo, h: loans.close_of_day(s, demo, day, commit_every=1))
    assert summary["overdue"] == 0
    with db.transaction() as session:
        assert session.get(Installment, first_id).penalty == 118  # not accrued twice
        assert tenant_by_slug(session, "demo").business_date == day + dt.timedelta(days=1)
        assert verify(session) == []


def test_close_of_day_tells_plugins_when_it_ran(db, plugins, people, registered):
    from core import PluginInfo, hookimpl
    from core.tenancy.models import TenantPlugin

    seen = []

    class Listener:
        PLUGIN = PluginInfo(id="test.close_listener", kind="extension", name="Close-of-day listener")

        @hookimpl
        def lendstack_close_of_day(self, tenant, business_date):
            seen.append((tenant.slug, tenant.business_date, business_date))

    registered(Listener())
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        demo.plugins.append(TenantPlugin(plugin_id="test.close_listener", tenant_id=demo.id))
    day = in_demo(db, plugins, lambda s, demo, h: demo.business_date)
    in_demo(db, plugins, lambda s, demo, h: loans.close_of_day(s, demo, day, hooks=h))
    assert seen == [("demo", day, day)]


def test_auto_invest_keeps_to_the_lowest_credit_grade_a_lender_accepts(db, plugins, people):
    from core.loans.autoinvest import save_rule
    from core.loans.models import Bid

    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        borrower = session.get(Member, people["borrower"])
        loans.set_credit_line(borrower, "50000", "CNY", "B")
        with pytest.raises(loans.LoanError) as error:
            loans.set_credit_line(borrower, "50000", "CNY", "Z")
        assert error.value.field == "grade"
        save_rule(session, demo, session.get(Member, people["lender1"]), {"amount_per_loan": "1000", "min_grade": "A"})
        save_rule(session, demo, session.get(Member, people["lender2"]), {"amount_per_loan": "1000", "min_grade": "C"})
        save_rule(
            session, demo, session.get(Member, people["lender3"]), {"amount_per_loan": "1000", "preset": "high_credit"}
        )
        with pytest.raises(loans.LoanError) as error:
            save_rule(
                session, demo, session.get(Member, people["lender3"]), {"amount_per_loan": "1000", "min_grade": "AAA"}
            )
        assert error.value.field == "min_grade"
    loan_id = open_loan(db, plugins, people, annual_rate_percent="10")
    with db.transaction() as session:
        bidders = session.scalars(sa.select(Bid.member_id).where(Bid.loan_id == loan_id)).all()
    assert bidders == [people["lender2"]]  # B is below A (lender1, and the high-credit preset) but above C
    assert loans.grade_at_least("AA", "A") and not loans.grade_at_least(None, "HR") and loans.grade_at_least(None, "")


def test_the_reviewer_sees_the_guarantee_and_records_the_guarantors_answer(
    db, plugins, people, apply_manifest, wsgi_app
):
    import tomllib

    from core.loans import guarantors
    from tenants.manifest import shipped_manifests
    from tests.helpers import staff_client

    demo_manifest = tomllib.loads(next(p for p in shipped_manifests() if p.stem == "demo").read_text())
    demo_manifest["plugins"]["loan_types.guaranteed"] = {}
    apply_manifest(demo_manifest)
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        guarantor_id = guarantors.create(session, demo, "鼎信融資擔保", "50000").id
        session.get(Member, people["borrower"]).credit_grade = "A"
    loan = in_demo(
        db,
        plugins,
        lambda s, demo, h: loans.apply(
            s,
            demo,
            h,
            member(s, people["borrower"]),
            {**APPLICATION, "loan_type": "guaranteed", "guarantor_id": str(guarantor_id)},
        ),
    )
    officer = staff_client(wsgi_app, db, "g-officer", "risk_officer")
    dashboard = officer.get("demo.localhost", "/admin?_LOCALE_=en").text
    assert "Waiting for staff" in dashboard
    assert re.search(r"Waiting for the guarantor</dt><dd><a [^>]*>1</a>", dashboard)
    page = officer.get("demo.localhost", f"/admin/loans/{loan.id}")
    assert "鼎信融資擔保" in page.text and "Approve and publish" not in page.text
    form = [f for f in page.forms.values() if "stage" in f.fields and f["stage"].value == "guarantee"][0]
    form["reason"] = "GC-2026-007"
    form.submit("decision", value="approve", extra_environ={"HTTP_HOST": "demo.localhost"}, status=303)
    page = officer.get("demo.localhost", f"/admin/loans/{loan.id}")
    assert "GC-2026-007" in page.text
    with db.transaction() as session:
        assert guarantors.guarantee_state(session.get(Loan, loan.id)) == "accepted"
    cs = staff_client(wsgi_app, db, "g-cs2", "customer_service")
    cs.post(
        "demo.localhost",
        f"/admin/loans/{loan.id}/decision",
        {"stage": "guarantee", "decision": "approve", "reason": "x"},
        status=403,
    )


def test_a_borrower_may_accept_a_partly_funded_loan_where_the_tenant_allows(db, plugins, people, wsgi_app):
    from tests.helpers import submit

    loan_id = open_loan(db, plugins, people)
    bid(db, plugins, loan_id, people["lender1"], "4000.00", "p1")
    with pytest.raises(loans.LoanError, match="lend less"):  # not allowed by default
        in_demo(db, plugins, lambda s, demo, h: loans.accept_partial(s, demo, s.get(Loan, loan_id), by="member"))
    with db.transaction() as session:
        demo = tenant_by_slug(session, "demo")
        demo.lending = {**demo.lending, "allow_partial_funding": "true", "partial_funding_min_percent": "50"}
    with pytest.raises(loans.LoanError, match="must be raised"):  # 40% raised, 50% needed
        in_demo(db, plugins, lambda s, demo, h: loans.accept_partial(s, demo, s.get(Loan, loan_id), by="member"))
    bid(db, plugins, loan_id, people["lender2"], "2000.00", "p2")
    # The borrower accepts the 6,000.00 raised from the account page; final review disburses that much.
    from core.members.models import Member as M
    from tests.conftest import Client
    from tests.helpers import PASSWORD

    with db.transaction() as session:
        phone = session.get(M, people["borrower"]).phone
    borrower = Client(wsgi_app)
    submit(
        borrower,
        "demo.localhost",
        borrower.get("demo.localhost", "/login"),
        {"login": phone, "password": PASSWORD},
        status=303,
    )
    page = borrower.get("demo.localhost", "/account/loans")
    form = [f for f in page.forms.values() if "accept_partial" in f.fields][0]
    form.submit("loan", extra_environ={"HTTP_HOST": "demo.localhost"}, status=303)
    with db.transaction() as session:
        loan = session.get(Loan, loan_id)
        assert (loan.status, loan.amount, loan.type_data["requested_amount"]) == ("full", 600_000, 1_000_000)
    in_demo(
        db,
        plugins,
        lambda s, demo, h: loans.final_review(s, demo, h, s.get(Loan, loan_id), approve=True, reason="", by="staff"),
    )
    with db.transaction() as session:
        loan = session.get(Loan, loan_id)
        assert sum(i.principal for i in loan.installments) == 600_000
        paybacks = session.scalars(sa.select(Payback).where(Payback.loan_id == loan_id)).all()
        assert sum(p.principal for p in paybacks if p.member_id == people["lender1"]) == 400_000
        assert verify(session) == []
    with db.transaction() as session:  # the 1% borrower fee is spread over the installments, not deducted
        assert sum(i.service_fee for i in session.get(Loan, loan_id).installments) == 6_000
    assert available(db, people["borrower"])[0] == 600_000


def test_a_payment_raced_from_the_same_state_is_refused_not_counted_twice(db, plugins, people):
    from core.loans import repayment

    loan_id = repaying_loan(db, plugins, people)
    _recharge(db, people["borrower"], 100_000, "race")

    def race(session, demo, hooks):
        loan = session.get(Loan, loan_id)
        due = loan.installments[0]
        paybacks = repayment._paybacks(session, loan, 1)
        stale = [(due.paid_interest, due.paid_principal)] + [(p.paid_interest, p.paid_principal) for p in paybacks]
        repayment._pay(session, demo, loan, due, 5_000, by="member", day=demo.business_date)
        # another request read the installment before this payment and now pays the same amount
        (due.paid_interest, due.paid_principal), *rest = stale
        loan.bids[0].lender_fees = 0
        for payback, (interest, principal) in zip(paybacks, rest):
            payback.paid_interest, payback.paid_principal = interest, principal
        repayment._pay(session, demo, loan, due, 5_000, by="member", day=demo.business_date)

    with pytest.raises(loans.LoanError, match="just made"):
        in_demo(db, plugins, race)
    with db.transaction() as session:
        assert session.get(Loan, loan_id).installments[0].paid_interest == 0  # the whole attempt was undone
        assert verify(session) == []
