"""The annual cost of a loan to its borrower (綜合年化成本, APR): the internal rate of return of the
borrower's real cash flows — what they received, every installment, every fee — at their dates.

Convention: the rate is nominal and compounds monthly, so it is the monthly
IRR × 12 (the way Chinese lenders are required to state an annualised rate,
and the way the loan's own rate is quoted). A loan without fees therefore has
an APR equal to its nominal rate; every fee, and a fee taken from the
principal most of all, shows as a higher APR. Times are counted in months
where a date falls a whole number of months after the start (monthly and
quarterly schedules), otherwise in days over 365.

The rate is solved by bisection in ``Decimal`` (no float touches money code)
to well below a hundredth of a percent, then rounded half-up to two decimals of
a percent.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, localcontext

from .schedules import add_months

PRECISION = Decimal("1e-12")  # of the monthly rate: far finer than the 0.01% shown


def _months_between(start: dt.date, day: dt.date) -> int | Decimal:
    """Months from ``start`` to ``day``: whole months where the calendar says so, else days × 12 / 365."""
    whole = (day.year - start.year) * 12 + day.month - start.month
    if whole >= 0 and add_months(start, whole) == day:
        return whole
    return Decimal((day - start).days) * 12 / 365


def _npv(monthly: Decimal, flows) -> Decimal:
    base = 1 + monthly
    return sum((Decimal(amount) / base**months for months, amount in flows), Decimal(0))


def annual_percentage_rate(start: dt.date, flows: list[tuple[dt.date, int]]) -> Decimal | None:
    """The APR in percent of ``flows`` — (date, minor units) from the borrower's side: what they receive
    positive, what they pay negative — counted from ``start``; ``None`` when there is none (no payment,
    or payments that never exceed what was received).
    """
    timed = [(_months_between(start, day), amount) for day, amount in flows if amount]
    if not any(a > 0 for _, a in timed) or not any(a < 0 for _, a in timed):
        return None
    if sum(a for _, a in timed) >= 0:  # paying back no more than was received: no cost to speak of
        return Decimal(0) if sum(a for _, a in timed) == 0 else None
    with localcontext() as context:
        context.prec = 34
        low, high = Decimal(0), Decimal(1)  # monthly rates: 0 to 100% a month
        if _npv(high, timed) < 0:
            return None  # dearer than 1,200% a year: not a loan this platform would show
        while high - low > PRECISION:  # bisection: seen from the borrower, the NPV rises with the rate
            middle = (low + high) / 2
            if _npv(middle, timed) < 0:
                low = middle
            else:
                high = middle
        percent = (low + high) / 2 * 12 * 100
    return percent.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
