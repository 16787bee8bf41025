"""The calculators (網貸工具): form parsing and schedules from the tenant's repayment methods."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from ..i18n import _
from ..money import Money, MoneyError
from ..schedules import DAY, MONTH, LoanTerms, RepaymentMethod, Schedule, ScheduleError


class CalculatorInput(ValueError):
    """Form input a calculator cannot use; ``errors`` maps field names to messages."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def methods(hooks) -> dict[str, RepaymentMethod]:
    """The tenant's enabled repayment methods by code, in a stable order."""
    return {m.code: m for m in sorted(hooks.collect("lendstack_repayment_methods"), key=lambda m: m.code)}


def term_unit(method: RepaymentMethod, form: dict) -> str:
    """Days when the method takes them and the form gave a day term, else months."""
    if DAY in method.term_units and str(form.get("term_days") or "").strip():
        return DAY
    return method.term_units[0]


def parse_terms(form: dict, tenant, term_unit: str = MONTH) -> LoanTerms:
    """Loan terms from form or JSON values, or :class:`CalculatorInput` naming each bad field.

    The tenant gives the currency, the default start date (its business date)
    and the rate cap of its lending policy.
    """
    currency, today = tenant.currency, tenant.business_date
    errors: dict[str, str] = {}
    principal = rate = None
    term = 0
    try:
        principal = Money.parse(str(form.get("principal", "")).replace(",", ""), currency)
        if principal.minor <= 0:
            errors["principal"] = _("Enter an amount greater than zero.")
    except MoneyError:
        errors["principal"] = _("Enter an amount such as 10000.00.")
    try:
        rate = Decimal(str(form.get("annual_rate_percent", "")).strip())
        if not rate.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors["annual_rate_percent"] = _("Enter an annual rate in percent, such as 12.")
    term_field = "term_days" if term_unit == DAY else "term_months"
    try:
        term = int(str(form.get(term_field, "")).strip())
    except ValueError:
        errors[term_field] = _("Enter a whole number.")
    start_text = str(form.get("start_date") or "").strip()
    try:
        start = dt.date.fromisoformat(start_text) if start_text else today
    except ValueError:
        errors["start_date"] = _("Enter a date as YYYY-MM-DD.")
        start = today
    if errors:
        raise CalculatorInput(errors)
    return LoanTerms(principal, rate, term, term_unit, start,
                     max_rate_percent=tenant.max_annual_rate_percent)


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
            {"period": r.period, "due_date": r.due_date.isoformat(), "principal": str(money(r.principal)),
             "interest": str(money(r.interest)), "payment": str(money(r.payment)),
             "balance": str(money(r.balance))}
            for r in schedule.installments
        ],
        "total_principal": str(money(schedule.total_principal)),
        "total_interest": str(money(schedule.total_interest)),
        "total_payment": str(money(schedule.total_payment)),
    }


def schedule_csv(schedule: Schedule) -> str:
    """The schedule as CSV: one row per period, amounts as decimal strings in major units."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["period", "due_date", "principal", "interest", "payment", "balance"])
    for row in schedule.installments:
        writer.writerow([row.period, row.due_date.isoformat()] + [
            str(schedule.money(v)) for v in (row.principal, row.interest, row.payment, row.balance)])
    writer.writerow(["total", "", str(schedule.money(schedule.total_principal)),
                     str(schedule.money(schedule.total_interest)),
                     str(schedule.money(schedule.total_payment)), ""])
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
        bars.append({
            "x": i * slot, "width": width, "period": row.period,
            "principal_y": CHART_HEIGHT - principal_h, "principal_h": principal_h,
            "interest_y": CHART_HEIGHT - principal_h - interest_h, "interest_h": interest_h,
        })
    return bars
