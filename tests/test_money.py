from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.money import Money, MoneyError, split_largest_remainder


def test_parse_keeps_minor_units_exact():
    assert Money.parse("1234.50", "CNY") == Money(123450, "CNY")
    assert Money.parse("0.1", "USD").minor == 10
    assert Money.parse("500", "JPY") == Money(500, "JPY")
    assert str(Money(123450, "CNY")) == "1234.50"


@pytest.mark.parametrize("text", ["12.345", "abc", "", "NaN", "Infinity", "1e999999"])
def test_parse_rejects_what_is_not_an_amount_of_the_currency(text):
    with pytest.raises(MoneyError):
        Money.parse(text, "CNY")


def test_unknown_currency_is_an_error():
    with pytest.raises(MoneyError):
        Money.parse("1", "XYZ")


def test_from_decimal_rounds_half_up_not_half_even():
    assert Money.from_decimal(Decimal("0.125"), "USD").minor == 13
    assert Money.from_decimal(Decimal("0.135"), "USD").minor == 14
    assert Money.from_decimal(Decimal("-0.125"), "USD").minor == -13


def test_money_refuses_floats_and_mixed_currencies():
    with pytest.raises(MoneyError):
        Money(1.5, "USD")
    with pytest.raises(MoneyError):
        Money(1, "USD") + Money(1, "CNY")


def test_money_formats_per_locale():
    assert Money(123450, "USD").format("en") == "$1,234.50"
    assert Money(123450, "CNY").format("zh_Hans") == "¥1,234.50"
    assert "1,234.50" in Money(123450, "CNY").format("zh_Hant")


def test_split_goes_to_largest_remainders_ties_to_the_earlier_share():
    assert split_largest_remainder(100, [1, 1, 1]) == [34, 33, 33]
    assert split_largest_remainder(101, [1, 1, 1]) == [34, 34, 33]
    assert split_largest_remainder(10, [3, 7]) == [3, 7]
    assert split_largest_remainder(-100, [1, 1, 1]) == [-34, -33, -33]


@given(
    total=st.integers(min_value=-10**12, max_value=10**12),
    weights=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=30).filter(any),
)
def test_split_always_sums_exactly(total, weights):
    parts = split_largest_remainder(total, weights)
    assert sum(parts) == total
    assert len(parts) == len(weights)
    for part, weight in zip(parts, weights):
        exact = Decimal(total) * weight / sum(weights)
        assert abs(Decimal(part) - exact) < 1
