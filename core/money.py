"""Exact money: integer minor units with a currency, ``Decimal`` rates, exact splits.

Money at rest is always an integer of minor units. Conversions from major
units and every division round half-up (``ROUND_HALF_UP``) at the points the
functions below name; a rounding residue is never dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import format_currency, get_currency_precision

from .i18n import _, region_locale

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
        """Money from a trusted major-unit amount (settings, a gateway's signed notice).

        More decimals than the currency has is an error. A string must be plain
        ASCII without ``_`` (never full-width or Arabic-Indic digits); what a
        person typed goes through :func:`parse_amount` instead, which also
        refuses signs, exponents and spaces.
        """
        if isinstance(text, str) and (not text.isascii() or "_" in text):
            raise MoneyError(f"{text!r} is not an amount")
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
    def from_input(cls, text, currency: str, *, form: bool = False) -> "Money":
        """:func:`parse_amount` — what a person gave, under the input contract — for plugins,
        which reach core's money through :class:`Money`. Raises :class:`InvalidAmount`."""
        return parse_amount(text, currency, form=form)

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


class InvalidNumber(MoneyError):
    """A number a person typed that cannot be used; ``message`` tells them why (translatable)."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


class InvalidAmount(InvalidNumber):
    """An amount a person typed that cannot be used."""


class InvalidRate(InvalidNumber):
    """A rate (percent) a person typed that cannot be used."""


# The one shape of a number a person gives us, in the API and in forms alike: ASCII digits with an
# optional fraction. No sign, exponent, "_", spaces, NaN/Infinity, nor full-width or other scripts'
# digits (Python's Decimal and int would take all of those). The OpenAPI document carries the same
# pattern on every amount and rate.
NUMBER_PATTERN = r"^[0-9]+(\.[0-9]+)?$"
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
# A form may group thousands with ASCII commas, in groups of three ("12,345.50"): "1,5" is refused
# rather than read as 15. The full-width comma is not a separator: refused like full-width digits.
_GROUPED = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")
MAX_AMOUNT_CHARS = 32  # longer than the largest amount with its decimals and separators
MAX_RATE_PERCENT = Decimal(1000)
RATE_DECIMALS = 4  # the stored rates' precision; the message below says 4


def _form_number(text) -> str:
    """What a form field holds, with ASCII spaces dropped and thousands commas undone (nothing else)."""
    text = str(text if text is not None else "").strip(" \t\r\n").replace(" ", "")
    if "," in text and _GROUPED.fullmatch(text):
        text = text.replace(",", "")
    return text


def _plain_decimal(text: str) -> Decimal | None:
    """``text`` as a Decimal when it matches :data:`NUMBER_PATTERN`, else ``None``."""
    if len(text) > MAX_AMOUNT_CHARS or not _NUMBER.fullmatch(text):
        return None
    return Decimal(text)


def parse_amount(text, currency: str, *, form: bool = False) -> Money:
    """An amount as a person gives it, zero or more, or :class:`InvalidAmount` saying why.

    The text must match :data:`NUMBER_PATTERN` with at most the currency's
    decimals. ``form=True``: ASCII spaces and thousands commas are dropped
    first (``"12,345.50"``); the API sends the plain pattern.
    """
    amount = _plain_decimal(_form_number(text) if form else str(text if text is not None else ""))
    if amount is None:
        raise InvalidAmount(_("Enter an amount such as 100.00."))
    exponent = currency_exponent(currency)
    if amount.as_tuple().exponent < -exponent:
        raise InvalidAmount(_("Enter an amount with at most ${decimals} decimals.", mapping={"decimals": exponent}))
    if amount.scaleb(exponent) > MAX_MINOR:
        raise InvalidAmount(_("This amount is larger than the platform handles."))
    return Money.parse(amount, currency)


def parse_positive(text, currency: str) -> Money:
    """A positive amount as a person types it in a form (``1,234.50``), or :class:`InvalidAmount`.

    Views and the API parse at the edge and hand services a :class:`Money`,
    which is checked here (currency, above zero) rather than parsed again;
    text still comes from scripts, which this parses by the form rule.
    """
    if isinstance(text, Money):
        if text.currency != currency:
            raise InvalidAmount(_("Enter an amount in ${currency}.", mapping={"currency": currency}))
        amount = text
    else:
        amount = parse_amount(text, currency, form=True)
    if amount.minor <= 0:
        raise InvalidAmount(_("Enter an amount greater than zero."))
    return amount


def parse_rate(text, *, maximum: Decimal = MAX_RATE_PERCENT) -> Decimal:
    """A rate in percent as a person gives it (``"12.5"``), or :class:`InvalidRate` saying why.

    The text must match :data:`NUMBER_PATTERN` (leading and trailing spaces
    aside) with at most :data:`RATE_DECIMALS` decimals, and lie within 0 … ``maximum``.
    ``NaN``, ``Infinity``, ``1e2`` and signs are refused. The exact ``Decimal``
    typed is returned (``"12.50"`` stays ``12.50``).
    """
    rate = _plain_decimal(str(text if text is not None else "").strip(" \t\r\n"))
    if rate is None:
        raise InvalidRate(_("Enter an annual rate in percent, such as 12."))
    if rate > maximum:
        raise InvalidRate(_("The annual rate may not exceed ${limit}%.", mapping={"limit": str(maximum)}))
    if rate.as_tuple().exponent < -RATE_DECIMALS:
        raise InvalidRate(_("The annual rate has at most 4 decimals."))
    return rate


_WHOLE = re.compile(r"[0-9]{1,9}")


def whole_number(value) -> int | None:
    """A count as a form or JSON gives it (``12``, ``"12"``): ASCII digits only, else ``None``.

    ``int()`` alone would take ``"１２"``, ``"+12"`` and ``"1_2"``; bounds are the caller's.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value if value is not None else "").strip(" \t\r\n")
    return int(text) if _WHOLE.fullmatch(text) else None


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
