"""Repayment schedules (還款計劃) and the repayment-method provider type.

A repayment method is a plugin's provider (hook ``lendstack_repayment_methods``):
given :class:`LoanTerms` it returns a :class:`Schedule` whose rows are in
integer minor units. The calculator pages and the loan engine share them.

Rounding convention (every method): amounts are computed in ``Decimal`` and
rounded half-up to the minor unit row by row (``round_minor``); principal
always sums exactly to the loan amount because the last row takes the
remaining balance.
"""

from __future__ import annotations

import abc
import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .domain import DomainError
from .i18n import _, english
from .money import Money, split_largest_remainder
from .plugin_registry import collect_by_code

MONTH = "month"
DAY = "day"
MAX_RATE_PERCENT = Decimal(36)
MAX_TERM_MONTHS = 600
MAX_TERM_DAYS = 3650
# A schedule starts within these dates: wide enough for any real loan (and back-dated examples), and
# with the longest term the last due date stays a valid date (``datetime`` ends at 9999-12-31).
FIRST_START_DATE = dt.date(1900, 1, 1)
LAST_START_DATE = dt.date(2200, 12, 31)


class ScheduleError(DomainError):
    """Terms a repayment method cannot schedule: ``ScheduleError(field, message)``, ``field`` the input at fault.

    ``message`` is a translation string (``_("…", mapping=…)``); ``str()`` of the
    error is its English text.
    """

    def __str__(self) -> str:
        return english(self.message)


def round_minor(value: Decimal) -> int:
    """Round a Decimal amount of minor units half-up to a whole minor unit."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def add_months(start: dt.date, months: int) -> dt.date:
    """``start`` plus ``months`` calendar months, the day clamped to the month's end."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return dt.date(year, month, day)


@dataclass(frozen=True)
class LoanTerms:
    """What a borrower asks for: principal, annual rate in percent, term, start date."""

    principal: Money
    annual_rate_percent: Decimal
    term: int
    term_unit: str = MONTH
    start_date: dt.date = dt.date(2000, 1, 1)
    day_basis: int = 365
    max_rate_percent: Decimal = MAX_RATE_PERCENT

    def check(self) -> None:
        """Raise :class:`ScheduleError` naming the first invalid input."""
        if self.principal.minor <= 0:
            raise ScheduleError("principal", _("Enter an amount greater than zero."))
        rate = self.annual_rate_percent
        if not isinstance(rate, Decimal) or not rate.is_finite() or rate < 0:
            raise ScheduleError("annual_rate_percent", _("The annual rate must be zero or more."))
        if rate > self.max_rate_percent:
            raise ScheduleError(
                "annual_rate_percent",
                _("The annual rate may not exceed ${limit}%.", mapping={"limit": str(self.max_rate_percent)}),
            )
        if rate.as_tuple().exponent < -4:
            raise ScheduleError("annual_rate_percent", _("The annual rate has at most 4 decimals."))
        limit = MAX_TERM_MONTHS if self.term_unit == MONTH else MAX_TERM_DAYS
        field = "term_months" if self.term_unit == MONTH else "term_days"
        if not 1 <= self.term <= limit:
            message = (
                _("The term must be between 1 and ${limit} months.", mapping={"limit": limit})
                if self.term_unit == MONTH
                else _("The term must be between 1 and ${limit} days.", mapping={"limit": limit})
            )
            raise ScheduleError(field, message)
        if not FIRST_START_DATE <= self.start_date <= LAST_START_DATE:
            raise ScheduleError(
                "start_date",
                _(
                    "Choose a start date from ${first} to ${last}.",
                    mapping={"first": FIRST_START_DATE.isoformat(), "last": LAST_START_DATE.isoformat()},
                ),
            )

    @property
    def monthly_rate(self) -> Decimal:
        return self.annual_rate_percent / Decimal(1200)


@dataclass(frozen=True)
class Installment:
    """One row: period number, due date, principal, interest, balance after (minor units)."""

    period: int
    due_date: dt.date
    principal: int
    interest: int
    balance: int

    @property
    def payment(self) -> int:
        return self.principal + self.interest


@dataclass(frozen=True)
class Schedule:
    method: str
    currency: str
    installments: tuple[Installment, ...]

    @property
    def total_principal(self) -> int:
        return sum(row.principal for row in self.installments)

    @property
    def total_interest(self) -> int:
        return sum(row.interest for row in self.installments)

    @property
    def total_payment(self) -> int:
        return self.total_principal + self.total_interest

    def money(self, minor: int) -> Money:
        return Money(minor, self.currency)

    def share(self, weights: list[int]) -> list["Schedule"]:
        """Each lender's payback schedule for bids of ``weights``; rows sum exactly.

        Principal and interest are both split on the *cumulative* amount paid so
        far (largest remainder of the running total; each row pays the
        difference), so each lender's rows add up to their pro-rata share of
        the loan's whole principal and whole interest — within a cent, where
        rounding each row on its own would drift by up to half a cent a row —
        and, for every period, the lenders' rows add up to the borrower's.
        """
        columns = [[] for _ in weights]
        principal_before = interest_before = [0] * len(weights)
        principal_so_far = interest_so_far = 0
        owed = split_largest_remainder(self.total_principal, weights)
        for row in self.installments:
            principal_so_far += row.principal
            interest_so_far += row.interest
            principal_paid = split_largest_remainder(principal_so_far, weights)
            interest_paid = split_largest_remainder(interest_so_far, weights)
            for i, column in enumerate(columns):
                column.append(
                    Installment(
                        row.period,
                        row.due_date,
                        principal_paid[i] - principal_before[i],
                        interest_paid[i] - interest_before[i],
                        owed[i] - principal_paid[i],
                    )
                )
            principal_before, interest_before = principal_paid, interest_paid
        return [Schedule(self.method, self.currency, tuple(c)) for c in columns]


class RepaymentMethod(abc.ABC):
    """Base of the repayment-method providers plugins return.

    Subclasses set ``code`` (``equal_installment`` …), ``name`` (translatable),
    ``term_units`` and implement :meth:`rows`.
    """

    code: str = ""
    name: str = ""
    description: str = ""
    term_units: tuple[str, ...] = (MONTH,)

    def validate(self, terms: LoanTerms) -> None:
        terms.check()
        if terms.term_unit not in self.term_units:
            raise ScheduleError(
                "term_days" if terms.term_unit == DAY else "term_months",
                _("This method takes a term in months.")
                if MONTH in self.term_units
                else _("This method takes a term in days."),
            )

    def schedule(self, terms: LoanTerms) -> Schedule:
        self.validate(terms)
        rows = tuple(self.rows(terms))
        assert sum(r.principal for r in rows) == terms.principal.minor
        return Schedule(self.code, terms.principal.currency, rows)

    @abc.abstractmethod
    def rows(self, terms: LoanTerms):
        """Yield the :class:`Installment` rows for valid ``terms``."""


def repayment_methods(hooks) -> dict[str, RepaymentMethod]:
    """The tenant's enabled repayment methods by code, in a stable order."""
    return collect_by_code(hooks, "lendstack_repayment_methods")
