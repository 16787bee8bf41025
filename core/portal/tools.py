"""The calculators (網貸工具): form parsing and schedules from the tenant's repayment methods."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from ..i18n import _
from ..money import InvalidAmount, InvalidRate, parse_positive, parse_rate, whole_number
from ..schedules import DAY, MONTH, LoanTerms, RepaymentMethod, Schedule, ScheduleError


class CalculatorInput(ValueError):
    """Form input a calculator cannot use; ``errors`` maps field names to messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def term_unit(method: RepaymentMethod, form: dict) -> str:
    """Days when the method takes them and the form gave a day term, else months."""
    if DAY in method.term_units and str(form.get("term_days") or "").strip():
        return DAY
    return method.term_units[0]


def parse_terms(form: dict, tenant, term_unit: str = MONTH) -> LoanTerms:
    """Loan terms from form or JSON values, or :class:`CalculatorInput` naming each bad field.

    Amounts and rates follow the one input contract of :mod:`core.money`
    (a form may group thousands with commas); the tenant gives the currency,
    the default start date (its business date) and the rate cap of its
    lending policy, which :meth:`LoanTerms.check` applies with the start
    date's bounds.
    """
    currency, today = tenant.currency, tenant.business_date
    errors: dict[str, str] = {}
    principal = rate = None
    try:
        principal = parse_positive(form.get("principal"), currency)
    except InvalidAmount as invalid:
        errors["principal"] = invalid.message
    try:
        rate = parse_rate(form.get("annual_rate_percent"))
    except InvalidRate as invalid:
        errors["annual_rate_percent"] = invalid.message
    term_field = "term_days" if term_unit == DAY else "term_months"
    term = whole_number(form.get(term_field))
    if term is None:
        errors[term_field] = _("Enter a whole number.")
    start_text = str(form.get("start_date") or "").strip()
    start = parse_date(start_text) if start_text else today
    if start is None:
        errors["start_date"] = _("Enter a date as YYYY-MM-DD.")
    if errors:
        raise CalculatorInput(errors)
    return LoanTerms(principal, rate, term, term_unit, start, max_rate_percent=tenant.max_annual_rate_percent)


_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_date(text: str) -> dt.date | None:
    """A date written ``YYYY-MM-DD`` (not the other ISO 8601 forms Python reads), else ``None``."""
    if not _DATE.fullmatch(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def calculate(method: RepaymentMethod, terms: LoanTerms) -> Schedule:
    try:
        return method.schedule(terms)
    except ScheduleError as error:
        raise CalculatorInput({error.field: error.message}) from None


def schedule_json(schedule: Schedule) -> dict:
    """The schedule as the API and ``--json`` give it: amounts as decimal strings in major units."""
    money = schedule.money
    return {
        "method": schedule.method,
        "currency": schedule.currency,
        "installments": [
            {
                "period": r.period,
                "due_date": r.due_date.isoformat(),
                "principal": str(money(r.principal)),
                "interest": str(money(r.interest)),
                "payment": str(money(r.payment)),
                "balance": str(money(r.balance)),
            }
            for r in schedule.installments
        ],
        "total_principal": str(money(schedule.total_principal)),
        "total_interest": str(money(schedule.total_interest)),
        "total_payment": str(money(schedule.total_payment)),
    }


def schedule_csv(schedule: Schedule) -> str:
    """The schedule as CSV: one row per period, amounts as decimal strings in major units."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["period", "due_date", "principal", "interest", "payment", "balance"])
    for row in schedule.installments:
        writer.writerow(
            [row.period, row.due_date.isoformat()]
            + [str(schedule.money(v)) for v in (row.principal, row.interest, row.payment, row.balance)]
        )
    writer.writerow(
        [
            "total",
            "",
            str(schedule.money(schedule.total_principal)),
            str(schedule.money(schedule.total_interest)),
            str(schedule.money(schedule.total_payment)),
            "",
        ]
    )
    return out.getvalue()


CHART_WIDTH, CHART_HEIGHT = 640, 200


def chart_bars(schedule: Schedule) -> list[dict]:
    """Stacked principal/interest bars for an SVG chart, scaled to the largest payment.

    Pixel geometry is integer arithmetic on minor units: no money becomes a float.
    """
    rows = schedule.installments
    tallest = max((r.payment for r in rows), default=0) or 1
    slot = CHART_WIDTH // max(len(rows), 1) or 1
    width = max(slot - 2, 1)
    bars = []
    for i, row in enumerate(rows):
        principal_h = row.principal * CHART_HEIGHT // tallest
        interest_h = row.interest * CHART_HEIGHT // tallest
        bars.append(
            {
                "x": i * slot,
                "width": width,
                "period": row.period,
                "principal_y": CHART_HEIGHT - principal_h,
                "principal_h": principal_h,
                "interest_y": CHART_HEIGHT - principal_h - interest_h,
                "interest_h": interest_h,
            }
        )
    return bars


PAYMENT_HEADINGS = {
    "once": _("Repayment at maturity"),
    1: _("Monthly payment"),
    3: _("Quarterly payment"),
}
"""The payment column's heading by months between payments; any other spacing is :data:`PAYMENT_PER_PERIOD`."""
PAYMENT_PER_PERIOD = _("Payment per period")


def payment_heading(rows) -> str:
    """What a schedule's payment column is called: once at maturity, monthly, quarterly, or per period.

    Read from the rows' due dates, so a plugin's method is named by what it
    does (a one-off schedule is not a "monthly payment").
    """
    dates = [row.due_date for row in rows]
    if len(dates) == 1:
        return PAYMENT_HEADINGS["once"]
    gaps = {(b.year - a.year) * 12 + b.month - a.month for a, b in zip(dates, dates[1:])}
    days = {(b - a).days for a, b in zip(dates, dates[1:])}
    if len(gaps) != 1 or max(days) < 28:  # uneven, or a schedule in days: no calendar word fits
        return PAYMENT_PER_PERIOD
    return PAYMENT_HEADINGS.get(gaps.pop(), PAYMENT_PER_PERIOD)
