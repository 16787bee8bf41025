import datetime as dt
from decimal import Decimal

from core import LoanTerms, Money
from lendstack_flatrate import FlatRate


def terms(principal=1200000, months=12):
    return LoanTerms(Money(principal, "CNY"), Decimal("12"), months, "month", dt.date(2027, 1, 1))


def test_flat_rate_charges_interest_on_the_original_amount():
    schedule = FlatRate({"handling_fee_percent": Decimal(0)}).schedule(terms())
    assert {row.interest for row in schedule.installments} == {12000}
    assert {row.principal for row in schedule.installments} == {100000}
    assert schedule.total_interest == 144000


def test_handling_fee_is_added_to_the_first_month_and_principal_sums_exactly():
    schedule = FlatRate({"handling_fee_percent": Decimal("0.5")}).schedule(terms(1000001, 3))
    rows = schedule.installments
    assert rows[0].interest == rows[1].interest + 5000
    assert [r.principal for r in rows] == [333334, 333334, 333333]
    assert schedule.total_principal == 1000001
