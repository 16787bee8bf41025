"""Exact money: integer minor units with a currency, ``Decimal`` rates, exact splits.

Money at rest is always an integer of minor units. Conversions from major
units and every division round half-up (``ROUND_HALF_UP``) at the points the
functions below name; a rounding residue is never dropped.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import get_currency_precision, format_currency

from .i18n import region_locale


MAX_MINOR = 10**15  # 10 trillion major units: far above any loan, well inside BIGINT


class MoneyError(ValueError):
    """An amount that cannot be money: not a number, too many decimals, unknown currency."""


def currency_exponent(currency: str) -> int:
    """Number of decimals of ``currency``'s minor unit (CNY, USD: 2; JPY: 0)."""
    if not is_known_currency(currency):
        raise MoneyError(f"unknown currency {currency!r}")
    return get_currency_precision(currency)


def is_known_currency(code: str) -> bool:
    from babel.core import get_global

    return isinstance(code, str) and code.isupper() and code in get_global("all_currencies")


@dataclass(frozen=True, order=True)
class Money:
    """An amount of one currency in integer minor units (fen, cents)."""

    minor: int
    currency: str

    def __post_init__(self):
        if not isinstance(self.minor, int) or isinstance(self.minor, bool):
            raise MoneyError("money is an integer of minor units")

    @classmethod
    def parse(cls, text: str | Decimal | int, currency: str) -> "Money":
        """Money from a major-unit amount; more decimals than the currency has is an error."""
        try:
            amount = Decimal(str(text).strip())
        except (InvalidOperation, ValueError):
            raise MoneyError(f"{text!r} is not an amount") from None
        if not amount.is_finite():
            raise MoneyError(f"{text!r} is not an amount")
        if amount and amount.adjusted() > 15:
            raise MoneyError(f"{text} is beyond the largest amount the platform handles")
        exponent = currency_exponent(currency)
        scaled = amount.scaleb(exponent)
        if scaled != scaled.to_integral_value():
            raise MoneyError(f"{text} has more than {exponent} decimals for {currency}")
        if abs(scaled) > MAX_MINOR:
            raise MoneyError(f"{text} is beyond the largest amount the platform handles")
        return cls(int(scaled), currency)

    @classmethod
    def from_decimal(cls, amount: Decimal, currency: str) -> "Money":
        """Money from an exact major-unit ``Decimal``, rounded half-up to the minor unit."""
        exponent = currency_exponent(currency)
        return cls(int(amount.scaleb(exponent).quantize(Decimal(1), ROUND_HALF_UP)), currency)

    @property
    def amount(self) -> Decimal:
        """The amount in major units, exact."""
        return Decimal(self.minor).scaleb(-currency_exponent(self.currency))

    def __str__(self) -> str:
        """Decimal string in major units, as the API speaks it (``"1234.50"``)."""
        exponent = currency_exponent(self.currency)
        return f"{self.amount:.{exponent}f}"

    def _same(self, other: "Money") -> None:
        if not isinstance(other, Money) or other.currency != self.currency:
            raise MoneyError(f"cannot combine {self.currency} with {other!r}")

    def __add__(self, other: "Money") -> "Money":
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: "Money") -> "Money":
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> "Money":
        return Money(-self.minor, self.currency)

    def format(self, locale: str) -> str:
        """Localized display (``NT$1,234.50``, ``¥1,234.50``, ``$1,234.50``)."""
        return format_currency(self.amount, self.currency, locale=region_locale(locale))


class InvalidAmount(MoneyError):
    """An amount a person typed that cannot be used; ``message`` tells them why (translatable)."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def parse_positive(text, currency: str) -> Money:
    """A positive amount as a person types it (``1,234.50``), or :class:`InvalidAmount`."""
    from .i18n import _

    try:
        amount = Money.parse(str(text or "").replace(",", "").strip(), currency)
    except MoneyError:
        raise InvalidAmount(_("Enter an amount such as 100.00.")) from None
    if amount.minor <= 0:
        raise InvalidAmount(_("Enter an amount greater than zero."))
    return amount


def split_largest_remainder(total: int, weights: list[int | Decimal]) -> list[int]:
    """Split ``total`` minor units in proportion to ``weights``; the parts sum to ``total``.

    Each part is first floored; the units left over go one each to the parts
    with the largest remainders, ties to the earlier part.
    """
    if not weights:
        raise ValueError("nothing to split among")
    weight_sum = sum(Decimal(w) for w in weights)
    if weight_sum <= 0 or any(Decimal(w) < 0 for w in weights):
        raise ValueError("weights must be non-negative with a positive sum")
    sign = -1 if total < 0 else 1
    magnitude = abs(total)
    exact = [Decimal(magnitude) * Decimal(w) / weight_sum for w in weights]
    parts = [int(x) for x in exact]
    leftover = magnitude - sum(parts)
    order = sorted(range(len(parts)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[:leftover]:
        parts[i] += 1
    return [sign * p for p in parts]
