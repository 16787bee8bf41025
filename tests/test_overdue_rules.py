"""Money rules a borrower, a lender and a regulator would accept: exact penalty interest within a cap, the lender
fee on cumulative interest, advances, acceleration, service fees — paid through the API, figures worked by hand.

The loans: 10,000.00 at 12% over 12 months, equal installments of 888.49 (period 1: 788.49 principal, 100.00
interest), disbursed on the demo tenant's first business date, 2027-01-04, so period 1 is due 2027-02-04 and
period 2 on 2027-03-04. The tenant's lender fee is 10% of interest; no borrower fee unless a test sets one.
"""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pytest
import sqlalchemy as sa

import core.loans as loans
from core.db import scope_to_tenant
from core.ledger import Ledger, Transfer, Wallet, verify
from core.ledger.posting import TRANSFERS
from core.loans.models import Loan, LoanEvent, Payback
from core.members.models import Member
from core.money import Money
from core.tenancy.services import tenant_by_slug
from tests.helpers import PASSWORD, resident_id

DEMO = "demo.localhost"
START = dt.date(2027, 1, 4)
FIRST_DUE = dt.date(2027, 2, 4)
# 10,000.00 at 1% a month, level payment 888.49: (principal, interest) per period
SCHEDULE = [
    (78849, 10000),
    (79637, 9212),
    (80434, 8415),
    (81238, 7611),
    (82051, 6798),
    (82871, 5978),
    (83700, 5149),
    (84537, 4312),
    (85382, 3467),
    (86236, 2613),
    (87098, 1751),
    (87967, 880),
]


def half_up(value) -> int:
    """The test's own rounding: a Decimal amount of minor units to a whole one, half-up."""
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@pytest.fixture
def demo(db, tenants, plugins):
    """Set the demo tenant's lending terms (no borrower fee unless given) and run work in its scope."""

    class Demo:
        def lending(self, **values):
            with db.transaction() as session:
                tenant = tenant_by_slug(session, "demo")
                tenant.lending = {**tenant.lending, "borrower_fee_percent": "0", **values}

        def run(self, work):
            with db.transaction() as session:
                tenant = tenant_by_slug(session, "demo")
                scope_to_tenant(session, tenant.id)
                return work(session, tenant, plugins.for_tenant(tenant))

        def member(self, n, *, funds=0):
            from core.members.services import create_member

            def work(session, tenant, hooks):
                member = create_member(
                    session,
                    tenant,
                    phone=f"1390013{n:04d}",
                    password=PASSWORD,
                    legal_name="王小明",
                    id_number=resident_id(300 + n),
                    verified=True,
                )
                member.credit_line = 10_000_000
                if funds:
                    Wallet(Ledger(session, tenant.id), member.id, "CNY").recharge(
                        Money(funds, "CNY"), key=f"seed:{n}", ref="t", initiator="t"
                    )
                return member.id

            return self.run(work)

        def loan(self, borrower, bids, *, amount="10000.00", months="12"):
            """A disbursed loan; ``bids`` are (lender id, amount) pairs. The borrower then spends everything."""

            def work(session, tenant, hooks):
                loan = loans.apply(
                    session,
                    tenant,
                    hooks,
                    session.get(Member, borrower),
                    {
                        "loan_type": "credit",
                        "title": "週轉資金借款",
                        "amount": amount,
                        "annual_rate_percent": "12",
                        "term_months": months,
                        "repayment_method": "equal_installment",
                        "fundraising_days": "5",
                        "min_bid": "100",
                    },
                )
                loans.review(session, tenant, hooks, loan, approve=True, reason="", by="staff:1")
                for n, (lender, bid) in enumerate(bids):
                    loans.place_bid(session, tenant, hooks, loan.id, session.get(Member, lender), bid, key=f"b{n}")
                loans.final_review(session, tenant, hooks, loan, approve=True, reason="", by="staff:2")
                wallet = Wallet(Ledger(session, tenant.id), borrower, "CNY")
                wallet.freeze(
                    Money(wallet.funds().available, "CNY"),
                    reason="withdraw_freeze",
                    key="spent",
                    ref="t",
                    initiator="t",
                )
                return loan.id

            return self.run(work)

        def recharge(self, member_id, minor, key):
            self.run(
                lambda s, t, h: Wallet(Ledger(s, t.id), member_id, "CNY").recharge(
                    Money(minor, "CNY"), key=key, ref="t", initiator="t"
                )
            )

        def available(self, member_id):
            return self.run(lambda s, t, h: Wallet(Ledger(s, t.id), member_id, "CNY").funds().available)

        def platform(self, code):
            return self.run(lambda s, t, h: Ledger(s, t.id).balance(Ledger(s, t.id).platform(code, "CNY")).minor)

        def close_through(self, last_day):
            while (day := self.run(lambda s, t, h: t.business_date)) <= last_day:
                self.run(lambda s, t, h: loans.close_of_day(s, t, day))

        def installments(self, loan_id):
            return self.run(lambda s, t, h: {i.period: i for i in s.get(Loan, loan_id).installments})

        def verify(self):
            assert self.run(lambda s, t, h: verify(s)) == []

    return Demo()


def bearer(client, n):
    body = {"login": f"1390013{n:04d}", "password": PASSWORD}
    return {"Authorization": "Bearer " + client.post_json(DEMO, "/api/v1/auth/token", body).json["token"]}


def repay(client, n, loan_id, body=None, status=200):
    return client.post_json(
        DEMO, f"/api/v1/loans/{loan_id}/repayments", body or {}, headers=bearer(client, n), status=status
    ).json


def one_lender_loan(demo, **lending):
    demo.lending(**lending)
    borrower, lender = demo.member(1), demo.member(2, funds=2_000_000)
    return borrower, lender, demo.loan(borrower, [(lender, "10000.00")])


# -- penalty interest --------------------------------------------------------------------------------------------


def test_penalty_interest_is_summed_exactly_and_rounded_once(demo, client):
    borrower, lender, loan_id = one_lender_loan(demo, penalty_rate_percent_per_day="0.05")
    demo.close_through(FIRST_DUE + dt.timedelta(days=14))
    # Paid on 2027-02-19, 15 days after the due date (the due date not counted, the day of payment counted):
    # 15 × 788.49 × 0.05% = 15 × 0.394245 = 5.913675 → 5.91 (rounding each day: 15 × 0.39 = 5.85).
    assert demo.installments(loan_id)[1].penalty == 591
    assert demo.installments(loan_id)[1].penalty_accrued == Decimal("591.3675")
    demo.recharge(borrower, 100_000, "pay")
    before = demo.available(lender)
    paid = repay(client, 1, loan_id)
    assert paid["amount"] == "894.40"  # 888.49 + 5.91
    assert paid["loan"]["installments"][0]["status"] == "paid"
    # the lender: 888.49 less the 10% fee on 100.00 interest, plus the penalty
    assert demo.available(lender) - before == 88849 - 1000 + 591
    demo.verify()


def test_an_installment_paid_on_its_due_date_or_a_day_late(demo, client):
    borrower, lender, loan_id = one_lender_loan(demo, penalty_rate_percent_per_day="0.05")
    demo.close_through(FIRST_DUE - dt.timedelta(days=1))
    demo.recharge(borrower, 88849, "on-time")
    assert repay(client, 1, loan_id)["amount"] == "888.49"  # on 2027-02-04 itself: no penalty
    demo.close_through(dt.date(2027, 3, 4))  # period 2 falls overdue at the close of its due date
    demo.recharge(borrower, 100_000, "late")
    # paid on 2027-03-05, one day late: 796.37 × 0.05% = 0.398185 → 0.40
    assert repay(client, 1, loan_id)["amount"] == str(Money(79637 + 9212 + 40, "CNY"))
    demo.verify()


def test_penalty_on_principal_and_interest_is_a_tenant_option(demo, client):
    borrower, lender, loan_id = one_lender_loan(
        demo, penalty_rate_percent_per_day="0.05", penalty_base="principal_and_interest"
    )
    demo.close_through(FIRST_DUE + dt.timedelta(days=14))
    # 15 × 888.49 × 0.05% = 6.663675 → 6.66
    assert demo.installments(loan_id)[1].penalty == 666
    demo.recharge(borrower, 100_000, "pay")
    assert repay(client, 1, loan_id)["amount"] == "895.15"


def test_overdue_charges_stop_at_the_cap(demo, client):
    borrower, lender, loan_id = one_lender_loan(demo, penalty_rate_percent_per_day="0.1", late_fee="5")
    demo.close_through(FIRST_DUE)
    first = demo.installments(loan_id)[1]
    # One day counted: cap 788.49 × 24% / 365 = 0.51846… → 0.52, all of it the late fee (counted first).
    assert (first.late_fee, first.penalty) == (52, 0)
    demo.close_through(FIRST_DUE + dt.timedelta(days=29))
    first = demo.installments(loan_id)[1]
    # 30 days: the late fee 5.00 and 30 × 0.78849 = 23.6547 of penalty would be 28.6547; the cap is
    # 30 × 788.49 × 24% / 365 = 15.55364… → 15.55: late fee 5.00, penalty 10.55.
    assert (first.late_fee, first.penalty) == (500, 1055)
    row = client.get(DEMO, f"/api/v1/loans/{loan_id}").json["installments"][0]
    assert (row["late_fee"], row["penalty"], row["owed"]) == ("5.00", "10.55", "904.04")
    demo.recharge(borrower, 100_000, "pay")
    income, before = demo.platform("fee_income"), demo.available(lender)
    assert repay(client, 1, loan_id)["amount"] == str(Money(88849 + 1555, "CNY"))
    assert demo.platform("fee_income") - income == 500 + 1000  # late fee and the lender's 10% fee
    assert demo.available(lender) - before == 88849 - 1000 + 1055
    demo.verify()


# -- the lender's management fee -------------------------------------------------------------------------------


def test_the_lender_fee_is_charged_on_each_bids_cumulative_interest(demo, client):
    demo.lending()
    borrower = demo.member(1)
    lenders = [demo.member(n, funds=1_000_000) for n in (2, 3, 4)]
    loan_id = demo.loan(borrower, [(lender, "10000.00") for lender in lenders], amount="30000.00", months="6")
    # 30,000.00 at 1% a month over 6: interest 300.00, 251.24, 201.98, 152.24, 102.00, 51.25 = 1,058.71; each
    # third (lenders 10,000.00 each) receives 352.88 to 352.92, and 10% of that is 35.29 for every one of them —
    # per payback, rounding 10% of 83.75, 50.75 … would have charged 35.30.
    demo.recharge(borrower, 3_200_000, "cash")
    income = demo.platform("fee_income")
    before = [demo.available(lender) for lender in lenders]
    repay(client, 1, loan_id, {"amount": "1234.56"})  # in parts, then whole installments
    repay(client, 1, loan_id, {"amount": "3941.89"})  # the rest of period 1's 5,176.45: all that is due now
    repay(client, 1, loan_id, {"installments": 5})
    assert demo.run(lambda s, t, h: s.get(Loan, loan_id).status) == "settled"
    assert demo.platform("fee_income") - income == 3 * 3529
    interest = demo.run(
        lambda s, t, h: {
            m: sum(
                p.interest
                for p in s.scalars(sa.select(Payback).where(Payback.loan_id == loan_id, Payback.member_id == m))
            )
            for m in lenders
        }
    )
    assert sum(interest.values()) == 105871 and all(35288 <= i <= 35292 for i in interest.values())
    for lender, was in zip(lenders, before):
        assert demo.available(lender) - was == 1_000_000 + interest[lender] - 3529
    demo.verify()


def test_paying_off_charges_the_fee_on_all_interest_received(demo, client):
    demo.lending()
    borrower = demo.member(1)
    lenders = [demo.member(n, funds=1_000_000) for n in (2, 3, 4)]
    loan_id = demo.loan(borrower, [(lender, "10000.00") for lender in lenders], amount="30000.00", months="6")
    demo.recharge(borrower, 3_200_000, "cash")
    income = demo.platform("fee_income")
    repay(client, 1, loan_id)
    repay(client, 1, loan_id, {"payoff": True})
    # Period 1's 300.00 (100.00 each) and the current period 2's 251.24 (83.75, 83.75, 83.74): each lender's
    # fee is 10% of 183.75 or 183.74 → 18.38, 18.38, 18.37.
    assert demo.platform("fee_income") - income == 1838 + 1838 + 1837
    demo.verify()


# -- advances ----------------------------------------------------------------------------------------------------


def test_the_risk_reserve_advances_nothing_unless_the_tenant_turns_it_on(demo, client):
    borrower, lender, loan_id = one_lender_loan(demo, advance_after_days="1", penalty_rate_percent_per_day="0")
    demo.run(
        lambda s, t, h: Ledger(s, t.id).post(
            [
                Transfer(
                    Ledger(s, t.id).platform("suspense", "CNY"),
                    Ledger(s, t.id).platform("risk_reserve", "CNY"),
                    Money(1_000_000, "CNY"),
                    "adjustment",
                )
            ],
            key="fund-reserve",
            initiator="t",
        )
    )
    before = demo.available(lender)
    demo.close_through(FIRST_DUE + dt.timedelta(days=3))
    first = demo.installments(loan_id)[1]
    assert first.status == "overdue" and first.advanced_on is None
    assert demo.available(lender) == before and demo.platform("risk_reserve") == 1_000_000
    demo.recharge(borrower, 100_000, "pay")
    repay(client, 1, loan_id)
    assert demo.available(lender) - before == 88849 - 1000  # from the borrower, when the borrower paid
    assert demo.platform("risk_reserve") == 1_000_000


# -- acceleration ------------------------------------------------------------------------------------------------

ACCELERATED_ON = FIRST_DUE + dt.timedelta(days=5)  # 2027-02-09
# Period 2 runs 2027-02-04 → 2027-03-04 (28 days); 5 of them passed: 92.12 × 5 / 28 = 16.45.
ACCRUED_INTEREST = 1645
# Paid on 2027-02-10: period 1 counts 6 days, 6 × 0.394245 = 2.36547 → 2.37; periods 2–12 (due 2027-02-09) count
# one day each on their principal, each rounded once.
PENALTIES = [237] + [half_up(Decimal(p) * Decimal("0.0005")) for p, _i in SCHEDULE[1:]]


@pytest.mark.parametrize("how", ["payoff", "amount", "close_of_day"])
def test_an_accelerated_loan_owes_everything_with_interest_to_that_day(demo, client, how):
    borrower, lender, loan_id = one_lender_loan(
        demo, penalty_rate_percent_per_day="0.05", accelerate_after_days="5", prepayment_fee_percent="1"
    )
    demo.close_through(ACCELERATED_ON)
    assert PENALTIES[1:] == [40, 40, 41, 41, 41, 42, 42, 43, 43, 44, 44]
    loan = client.get(DEMO, f"/api/v1/loans/{loan_id}").json
    assert loan["status"] == "defaulted"
    rows = loan["installments"]
    assert [r["due_date"] for r in rows] == ["2027-02-04"] + ["2027-02-09"] * 11
    assert [r["interest"] for r in rows[:3]] == ["100.00", "16.45", "0.00"] and {r["interest"] for r in rows[2:]} == {
        "0.00"
    }
    assert {r["status"] for r in rows} == {"overdue"}
    event = demo.run(
        lambda s, t, h: (
            s.scalars(sa.select(LoanEvent).where(LoanEvent.loan_id == loan_id, LoanEvent.event == "accelerated"))
            .one()
            .detail
        )
    )
    assert (event["principal"], event["interest"], event["periods"]) == (1_000_000, 10000 + 1645, list(range(2, 13)))
    demo.verify()  # each period's paybacks were cut with their installment
    owed = 1_000_000 + 10000 + ACCRUED_INTEREST + sum(PENALTIES)  # 10,123.43: no prepayment fee, all was due
    assert owed == 1_012_343
    demo.recharge(borrower, 1_100_000, "pay")
    before = demo.available(lender)
    if how == "payoff":
        assert repay(client, 1, loan_id, {"payoff": True})["amount"] == "10123.43"
    elif how == "amount":
        repay(client, 1, loan_id, {"amount": "10123.44"}, status=422)  # more than is due
        assert repay(client, 1, loan_id, {"amount": "10123.43"})["amount"] == "10123.43"
    else:
        demo.close_through(ACCELERATED_ON + dt.timedelta(days=1))  # close of day collects it all
    assert demo.run(lambda s, t, h: s.get(Loan, loan_id).status) == "settled"
    assert demo.available(borrower) == 1_100_000 - owed
    # 10% of the 116.45 interest: 11.645 → 11.65
    assert demo.available(lender) - before == 1_000_000 + 11645 - 1165 + sum(PENALTIES)
    demo.verify()


def test_an_accelerated_loan_with_an_advanced_installment_is_paid_off(demo, client):
    borrower, lender, loan_id = one_lender_loan(
        demo,
        penalty_rate_percent_per_day="0.05",
        accelerate_after_days="5",
        advance_after_days="2",
        reserve_advances=True,
    )
    demo.run(
        lambda s, t, h: Ledger(s, t.id).post(
            [
                Transfer(
                    Ledger(s, t.id).platform("suspense", "CNY"),
                    Ledger(s, t.id).platform("risk_reserve", "CNY"),
                    Money(1_000_000, "CNY"),
                    "adjustment",
                )
            ],
            key="fund-reserve",
            initiator="t",
        )
    )
    before, income = demo.available(lender), demo.platform("fee_income")
    demo.close_through(ACCELERATED_ON)
    assert demo.available(lender) - before == 88849 - 1000  # advanced on 2027-02-06
    assert demo.platform("fee_income") - income == 1000  # the lender's fee on it, to fee income
    demo.recharge(borrower, 1_100_000, "pay")
    assert repay(client, 1, loan_id, {"payoff": True})["amount"] == "10123.43"
    # the reserve got its 888.49 back with period 1's penalty; the lender the rest, less 10% of 116.45 in all
    assert demo.platform("risk_reserve") == 1_000_000 + PENALTIES[0]
    assert demo.available(lender) - before == (88849 - 1000) + 921151 + 1645 - (1165 - 1000) + sum(PENALTIES[1:])
    demo.verify()


# -- service fees ------------------------------------------------------------------------------------------------


def set_service_fees(demo, loan_id, fee):
    def work(session, tenant, hooks):
        for installment in session.get(Loan, loan_id).installments:
            installment.service_fee = fee

    demo.run(work)


def test_a_payment_settles_late_fee_penalty_service_fee_interest_then_principal(demo, client):
    borrower, lender, loan_id = one_lender_loan(
        demo, penalty_rate_percent_per_day="0.05", late_fee="1", overdue_charges_cap_percent="100"
    )
    set_service_fees(demo, loan_id, 1000)
    demo.close_through(FIRST_DUE + dt.timedelta(days=1))
    first = demo.installments(loan_id)[1]
    # 2 days counted (paying on 2027-02-06): 2 × 0.394245 = 0.78849 → 0.79 penalty, 1.00 late fee
    # (cap 2 × 788.49 × 100% / 365 = 4.32)
    assert (first.late_fee, first.penalty, first.owed) == (100, 79, 100 + 79 + 1000 + 10000 + 78849)
    demo.recharge(borrower, 12_000, "part")
    income, before = demo.platform("fee_income"), demo.available(lender)
    repay(client, 1, loan_id, {"amount": "120.00"})
    first = demo.installments(loan_id)[1]
    # 1.00 late fee, 0.79 penalty, 10.00 service fee, 100.00 interest, 8.21 principal
    assert (first.paid_late_fee, first.paid_charges, first.paid_fee, first.paid_interest, first.paid_principal) == (
        100,
        179,
        1000,
        10000,
        821,
    )
    assert demo.platform("fee_income") - income == 100 + 1000 + 1000  # late fee, service fee, lender fee
    assert demo.available(lender) - before == 79 + 10000 - 1000 + 821
    number = demo.run(lambda s, t, h: s.get(Loan, loan_id).number)
    keys = demo.run(
        lambda s, t, h: s.execute(
            sa.select(TRANSFERS.c.key, TRANSFERS.c.reason, TRANSFERS.c.amount).where(
                TRANSFERS.c.ref == f"loan:{number}:1"
            )
        ).all()
    )
    assert len({k for k, _r, _a in keys}) == 1  # one ledger post
    assert sorted(a for _k, r, a in keys if r == "fee") == [2100]
    demo.verify()


def test_paying_off_owes_the_service_fees_of_periods_due_and_the_current_one(demo, client):
    borrower, lender, loan_id = one_lender_loan(demo)
    set_service_fees(demo, loan_id, 1000)
    demo.recharge(borrower, 1_200_000, "cash")
    assert repay(client, 1, loan_id)["amount"] == "898.49"  # 888.49 and the 10.00 service fee
    income = demo.platform("fee_income")
    # on 2027-01-04: period 2 is the current one (interest 92.12, service fee 10.00); periods 3–12 owe principal only
    assert repay(client, 1, loan_id, {"payoff": True})["amount"] == str(Money(921151 + 9212 + 1000, "CNY"))
    assert demo.platform("fee_income") - income == 1000 + 921  # service fee; 10% of 92.12
    rows = demo.installments(loan_id)
    assert [rows[p].service_fee for p in (2, 3, 12)] == [1000, 0, 0]
    demo.verify()


def test_acceleration_cuts_the_service_fee_like_the_interest(demo, client):
    borrower, lender, loan_id = one_lender_loan(demo, penalty_rate_percent_per_day="0", accelerate_after_days="5")
    set_service_fees(demo, loan_id, 1000)
    demo.close_through(ACCELERATED_ON)
    rows = demo.installments(loan_id)
    # period 1's 10.00 was due; period 2's 10.00 × 5 / 28 = 1.79; later ones none
    assert [rows[p].service_fee for p in (1, 2, 3, 12)] == [1000, 179, 0, 0]
    demo.recharge(borrower, 1_100_000, "pay")
    assert repay(client, 1, loan_id, {"payoff": True})["amount"] == str(
        Money(1_000_000 + 10000 + ACCRUED_INTEREST + 1000 + 179, "CNY")
    )
    demo.verify()
