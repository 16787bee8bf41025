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


def parse_terms(form: dict, currency: str, today: dt.date, term_unit: str = MONTH) -> LoanTerms:
    """Loan terms from form or JSON strings, or :class:`CalculatorInput` naming each bad field."""
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
    return LoanTerms(principal, rate, term, term_unit, start)


def calculate(method: RepaymentMethod, terms: LoanTerms) -> Schedule:
    try:
        return method.schedule(terms)
    except ScheduleError as error:
        raise CalculatorInput({error.field: str(error)}) from None
