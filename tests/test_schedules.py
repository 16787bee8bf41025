import datetime as dt
from decimal import Decimal

import numpy_financial as npf
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import LoanTerms, Money, ScheduleError, add_months
from plugins.tools.equal_installment import EqualInstallment


def terms(principal="10000.00", rate="12", months=12, start=dt.date(2027, 1, 15)):
    return LoanTerms(Money.parse(principal, "CNY"), Decimal(rate), months, "month", start)


def test_due_dates_clamp_to_the_end_of_the_month():
    start = dt.date(2027, 1, 31)
    assert [add_months(start, k) for k in (1, 2, 3)] == [
        dt.date(2027, 2, 28),
        dt.date(2027, 3, 31),
        dt.date(2027, 4, 30),
    ]
    assert add_months(dt.date(2027, 11, 30), 3) == dt.date(2028, 2, 29)


def test_equal_installment_matches_the_textbook_figures():
    schedule = EqualInstallment().schedule(terms())
    rows = schedule.installments
    assert [r.payment for r in rows[:-1]] == [88849] * 11
    assert (rows[0].principal, rows[0].interest, rows[0].balance) == (78849, 10000, 921151)
    assert rows[-1].balance == 0
    assert schedule.total_principal == 1000000
    assert schedule.total_interest == sum(r.interest for r in rows) == 66186
    assert rows[0].due_date == dt.date(2027, 2, 15)


def test_zero_rate_pays_principal_in_equal_parts_the_last_evens_out():
    rows = EqualInstallment().schedule(terms("1000.00", "0", 3)).installments
    assert [r.principal for r in rows] == [33333, 33333, 33334]
    assert all(r.interest == 0 for r in rows)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"principal": "0"}, "principal"),
        ({"rate": "-1"}, "annual_rate_percent"),
        ({"rate": "36.5"}, "annual_rate_percent"),
        ({"rate": "12.00001"}, "annual_rate_percent"),
        ({"months": 0}, "term_months"),
        ({"months": 601}, "term_months"),
        ({"start": dt.date(9999, 12, 31)}, "start_date"),
        ({"start": dt.date(2201, 1, 1)}, "start_date"),
        ({"start": dt.date(1899, 12, 31)}, "start_date"),
        ({"start": dt.date(1, 1, 1)}, "start_date"),
    ],
)
def test_bad_terms_name_the_field(kwargs, field):
    with pytest.raises(ScheduleError) as error:
        EqualInstallment().schedule(terms(**kwargs))
    assert error.value.field == field


def test_the_longest_schedule_from_the_last_start_date_ends_on_a_date():
    """600 months from 2200-12-31 ends on 2250-12-31; from 1900-01-01, the first due date is 1900-02-01."""
    last = EqualInstallment().schedule(terms(months=600, start=dt.date(2200, 12, 31))).installments[-1]
    assert last.due_date == dt.date(2250, 12, 31)
    first = EqualInstallment().schedule(terms(start=dt.date(1900, 1, 1))).installments[0]
    assert first.due_date == dt.date(1900, 2, 1)


@given(
    principal=st.integers(min_value=100, max_value=10**10),
    rate=st.decimals(min_value=0, max_value=36, places=2),
    months=st.integers(min_value=1, max_value=360),
)
def test_principal_always_sums_to_the_loan_and_balances_fall(principal, rate, months):
    schedule = EqualInstallment().schedule(
        LoanTerms(Money(principal, "CNY"), rate, months, "month", dt.date(2027, 1, 31))
    )
    assert schedule.total_principal == principal
    balances = [r.balance for r in schedule.installments]
    assert balances == sorted(balances, reverse=True) and balances[-1] == 0
    assert all(r.principal >= 0 and r.interest >= 0 for r in schedule.installments)


@given(
    principal=st.integers(min_value=10000, max_value=10**9),
    bids=st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=20),
)
def test_lender_shares_sum_exactly_to_every_row(principal, bids):
    schedule = EqualInstallment().schedule(
        LoanTerms(Money(principal, "CNY"), Decimal("9.6"), 12, "month", dt.date(2027, 3, 1))
    )
    shares = schedule.share(bids)
    for i, row in enumerate(schedule.installments):
        assert sum(s.installments[i].principal for s in shares) == row.principal
        assert sum(s.installments[i].interest for s in shares) == row.interest
    assert all(s.installments[-1].balance == 0 for s in shares)


from plugins.tools.equal_principal import EqualPrincipal  # noqa: E402
from plugins.tools.interest_first import InterestFirst  # noqa: E402
from plugins.tools.one_time import OneTime  # noqa: E402
from plugins.tools.quarterly import Quarterly  # noqa: E402


def test_equal_principal_hand_checked():
    rows = EqualPrincipal().schedule(terms("10000.00", "12", 12)).installments
    assert [r.principal for r in rows] == [83333] * 11 + [83337]
    assert (rows[0].interest, rows[1].interest, rows[-1].interest) == (10000, 9167, 833)
    assert rows[0].payment == 93333


def test_interest_first_hand_checked():
    rows = InterestFirst().schedule(terms("10000.00", "12", 6)).installments
    assert [r.interest for r in rows] == [10000] * 6
    assert [r.principal for r in rows] == [0] * 5 + [1000000]
    assert [r.balance for r in rows] == [1000000] * 5 + [0]


def test_one_time_in_months_and_in_days():
    method = OneTime({"day_basis": 365})
    (row,) = method.schedule(terms("10000.00", "12", 6, dt.date(2027, 1, 31))).installments
    assert (row.principal, row.interest, row.due_date) == (1000000, 60000, dt.date(2027, 7, 31))
    days = LoanTerms(Money.parse("10000.00", "CNY"), Decimal("12"), 30, "day", dt.date(2027, 1, 1))
    assert method.schedule(days).installments[0].interest == 9863  # 10000·12%·30/365 = 98.63
    assert OneTime({"day_basis": 360}).schedule(days).installments[0].interest == 10000
    assert method.schedule(days).installments[0].due_date == dt.date(2027, 1, 31)


def test_quarterly_hand_checked_and_needs_whole_quarters():
    rows = Quarterly().schedule(terms("10000.00", "12", 12)).installments
    assert [r.interest for r in rows] == [30000] * 4
    assert [r.due_date for r in rows] == [
        dt.date(2027, 4, 15),
        dt.date(2027, 7, 15),
        dt.date(2027, 10, 15),
        dt.date(2028, 1, 15),
    ]
    with pytest.raises(ScheduleError) as error:
        Quarterly().schedule(terms(months=10))
    assert error.value.field == "term_months"


def test_month_only_methods_refuse_day_terms():
    days = LoanTerms(Money.parse("100.00", "CNY"), Decimal("12"), 30, "day", dt.date(2027, 1, 1))
    with pytest.raises(ScheduleError) as error:
        EqualInstallment().schedule(days)
    assert error.value.field == "term_days"


def test_a_360_month_equal_installment_loan_pays_off_exactly():
    schedule = EqualInstallment().schedule(terms("1000000.00", "4.9", 360))
    assert schedule.installments[0].payment == 530727  # 5307.27, the textbook 4.9% 30-year payment
    assert schedule.total_principal == 100000000 and schedule.installments[-1].balance == 0


@pytest.mark.parametrize("method", [EqualPrincipal(), InterestFirst(), OneTime({"day_basis": 365}), Quarterly()])
@given(
    principal=st.integers(min_value=1, max_value=10**10),
    rate=st.decimals(min_value=0, max_value=36, places=4),
    quarters=st.integers(min_value=1, max_value=200),
)
def test_every_method_sums_principal_exactly_and_never_goes_negative(method, principal, rate, quarters):
    schedule = method.schedule(LoanTerms(Money(principal, "CNY"), rate, quarters * 3, "month", dt.date(2027, 1, 31)))
    assert schedule.total_principal == principal
    assert all(r.balance >= 0 and r.principal >= 0 and r.interest >= 0 for r in schedule.installments)
    assert schedule.installments[-1].balance == 0


@given(principal=st.integers(100, 10**9), rate_bp=st.integers(1, 3600), months=st.integers(1, 360))
def test_installment_agrees_with_numpy_financial_pmt(principal, rate_bp, months):
    """Cross-check the level payment against numpy-financial (float, unrounded): within a cent."""
    rate = Decimal(rate_bp) / 100
    schedule = EqualInstallment().schedule(
        LoanTerms(Money(principal, "CNY"), rate, months, "month", dt.date(2027, 1, 15))
    )
    reference = -npf.pmt(float(rate) / 1200, months, principal / 100) * 100
    assert abs(schedule.installments[0].payment - reference) <= 1
