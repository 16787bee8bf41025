from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.money import (
    InvalidAmount,
    InvalidRate,
    Money,
    MoneyError,
    parse_amount,
    parse_positive,
    parse_rate,
    split_largest_remainder,
)


def test_parse_keeps_minor_units_exact():
    assert Money.parse("1234.50", "CNY") == Money(123450, "CNY")
    assert Money.parse("0.1", "USD").minor == 10
    assert Money.parse("500", "JPY") == Money(500, "JPY")
    assert str(Money(123450, "CNY")) == "1234.50"


@pytest.mark.parametrize("text", ["12.345", "abc", "", "NaN", "Infinity", "1e999999"])
def test_parse_rejects_what_is_not_an_amount_of_the_currency(text):
    with pytest.raises(MoneyError):
        Money.parse(text, "CNY")


@pytest.mark.parametrize("text", ["１２３", "١٢٣", "1_000"])
def test_parse_refuses_other_scripts_digits_and_underscores_even_from_trusted_sources(text):
    with pytest.raises(MoneyError):
        Money.parse(text, "CNY")


@pytest.mark.parametrize(
    "text, minor", [("0", 0), ("100", 10000), ("100.5", 10050), ("1234.56", 123456), ("0010", 1000)]
)
def test_parse_amount_takes_the_plain_pattern(text, minor):
    assert parse_amount(text, "CNY") == Money(minor, "CNY")


@pytest.mark.parametrize(
    "text",
    [
        "",
        " 100",
        "100 ",
        "1,000",
        "+100",
        "-100",
        "1e2",
        "1E2",
        "NaN",
        "Infinity",
        "1_000",
        "１００",
        "١٠٠",
        "100.",
        ".5",
        "1.2.3",
        "0x10",
        "100\n",
        None,
        "1" * 33,
    ],
)
def test_parse_amount_refuses_everything_else(text):
    with pytest.raises(InvalidAmount):
        parse_amount(text, "CNY")


def test_parse_amount_holds_the_currencys_decimals_and_the_largest_amount():
    assert parse_amount("10000000000000", "CNY").minor == 10**15
    with pytest.raises(InvalidAmount) as error:
        parse_amount("10000000000000.01", "CNY")
    assert "larger" in str(error.value)
    with pytest.raises(InvalidAmount) as error:
        parse_amount("1.001", "CNY")
    assert error.value.message.mapping == {"decimals": 2}
    assert parse_amount("500", "JPY") == Money(500, "JPY")
    with pytest.raises(InvalidAmount):
        parse_amount("500.5", "JPY")
    assert Money.from_input("12.30", "USD") == Money(1230, "USD")


@pytest.mark.parametrize(
    "text, minor", [("1,234.50", 123450), (" 1 234.50 ", 123450), ("12,345,678", 1234567800), ("100", 10000)]
)
def test_a_form_may_group_thousands_with_commas_and_spaces(text, minor):
    assert parse_amount(text, "CNY", form=True).minor == minor
    assert parse_positive(text, "CNY").minor == minor


@pytest.mark.parametrize(
    "text", ["1,5", "1,0000", ",100", "1,000,00", "１，０００", "1，000", "1\u3000000", "+1,000", "0", "0.00"]
)
def test_a_form_amount_is_refused_when_it_is_not_digits_once_separators_are_gone(text):
    with pytest.raises(InvalidAmount):
        parse_positive(text, "CNY")


@pytest.mark.parametrize(
    "text, rate",
    [
        ("12", Decimal("12")),
        ("12.50", Decimal("12.50")),
        (" 7.25 ", Decimal("7.25")),
        ("0", Decimal(0)),
        ("1000", Decimal(1000)),
        ("12.3456", Decimal("12.3456")),
    ],
)
def test_parse_rate_keeps_the_exact_decimal(text, rate):
    parsed = parse_rate(text)
    assert parsed == rate and str(parsed) == str(rate)


@pytest.mark.parametrize(
    "text",
    [
        "NaN",
        "nan",
        "Infinity",
        "-Infinity",
        "1e2",
        "1e999999999",
        "0e999999999",
        "-1",
        "+12",
        "12%",
        "１２",
        "1_2",
        "",
        None,
        "1000.0001",
        "1001",
        "12.00001",
        "1" * 17,
    ],
)
def test_parse_rate_refuses_what_is_not_a_sane_percent(text):
    with pytest.raises(InvalidRate):
        parse_rate(text)


def test_a_rate_may_have_a_lower_ceiling():
    assert parse_rate("100", maximum=Decimal(100)) == 100
    with pytest.raises(InvalidRate) as error:
        parse_rate("100.01", maximum=Decimal(100))
    assert error.value.message.mapping == {"limit": "100"}


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
    total=st.integers(min_value=-(10**12), max_value=10**12),
    weights=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=30).filter(any),
)
def test_split_always_sums_exactly(total, weights):
    parts = split_largest_remainder(total, weights)
    assert sum(parts) == total
    assert len(parts) == len(weights)
    for part, weight in zip(parts, weights):
        exact = Decimal(total) * weight / sum(weights)
        assert abs(Decimal(part) - exact) < 1


def test_a_parsed_amount_handed_to_a_service_is_checked_not_parsed_again():
    from core.money import InvalidAmount, Money, parse_positive

    assert parse_positive(Money(12_345, "CNY"), "CNY") == Money(12_345, "CNY")
    for wrong in (Money(100, "USD"), Money(0, "CNY")):
        try:
            parse_positive(wrong, "CNY")
        except InvalidAmount:
            continue
        raise AssertionError(f"{wrong!r} was accepted")
