"""A company's financial statements (對公客戶財務信息): entered by form or imported from XLSX, checked to
balance, one per period.

A statement holds the lines of :data:`LINES` in minor units of the tenant's currency for one period (annual
or quarterly, by its end date); entering a period again replaces its statement. It is refused, with nothing
saved, unless total assets equal total liabilities plus equity to the cent, inventory is within current
assets, current assets within total assets and current liabilities within total liabilities.

The XLSX layout (the template from :func:`template_xlsx`): the first sheet, one line per row, the line's
code in column A and its amount in major units in column B (column C names the line for a reader; a first
row whose column A reads ``code`` is a heading). Lines left out or blank are 0; a loss or an outflow is
negative.
"""

from __future__ import annotations

import datetime as dt
import io
import numbers
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa

from ...i18n import _
from ...money import Money
from . import inputs
from .inputs import CustomerError
from .models import CustomerKind, FinancialStatement, PeriodKind
from .services import lock_customers

LINES = (
    # code, label, may be negative, section
    ("current_assets", _("Current assets"), False, "balance"),
    ("inventory", _("Inventory"), False, "balance"),
    ("total_assets", _("Total assets"), False, "balance"),
    ("current_liabilities", _("Current liabilities"), False, "balance"),
    ("total_liabilities", _("Total liabilities"), False, "balance"),
    ("equity", _("Owners' equity"), True, "balance"),
    ("revenue", _("Revenue"), False, "income"),
    ("operating_profit", _("Operating profit"), True, "income"),
    ("interest_expense", _("Interest expense"), False, "income"),
    ("net_profit", _("Net profit"), True, "income"),
    ("operating_cash_flow", _("Net cash from operating activities"), True, "cash_flow"),
    ("investing_cash_flow", _("Net cash from investing activities"), True, "cash_flow"),
    ("financing_cash_flow", _("Net cash from financing activities"), True, "cash_flow"),
)
LINE_CODES = tuple(code for code, *_rest in LINES)
SECTIONS = {"balance": _("Balance sheet"), "income": _("Income statement"), "cash_flow": _("Cash flow statement")}
PERIOD_KINDS = {PeriodKind.ANNUAL.value: _("Annual"), PeriodKind.QUARTERLY.value: _("Quarterly")}
QUARTER_ENDS = {(3, 31), (6, 30), (9, 30), (12, 31)}
MAX_XLSX_BYTES = 2 * 1024 * 1024
MAX_XLSX_ROWS = 200


def period(tenant, form: Mapping) -> tuple[str, dt.date]:
    """The statement's period kind and end date; a quarter ends on 31 March, 30 June, 30 September or
    31 December; no period ends after the business date."""
    kind = str(form.get("period_kind") or "")
    if kind not in PERIOD_KINDS:
        raise CustomerError("period_kind", _("Choose annual or quarterly."))
    end = inputs.date(form, "period_end", latest=tenant.business_date, required=True)
    if kind == PeriodKind.QUARTERLY.value and (end.month, end.day) not in QUARTER_ENDS:
        raise CustomerError("period_end", _("A quarter ends on 31 March, 30 June, 30 September or 31 December."))
    return kind, end


def lines(tenant, form: Mapping) -> dict[str, int]:
    """Every line of :data:`LINES` in minor units, checked to balance."""
    values = {code: inputs.amount(form, code, tenant.currency, signed=signed) for code, _l, signed, _s in LINES}
    check_balance(values, tenant.currency)
    return values


def check_balance(v: Mapping[str, int], currency: str) -> None:
    """Refuse lines that do not balance or hold a part larger than its whole."""
    money = lambda minor: str(Money(minor, currency))  # noqa: E731
    if v["total_assets"] != v["total_liabilities"] + v["equity"]:
        raise CustomerError(
            "total_assets",
            _(
                "The balance sheet does not balance: total assets ${assets} must equal total liabilities "
                "${liabilities} plus owners' equity ${equity} (${sum}). Check total assets, total liabilities "
                "and owners' equity.",
                mapping={
                    "assets": money(v["total_assets"]),
                    "liabilities": money(v["total_liabilities"]),
                    "equity": money(v["equity"]),
                    "sum": money(v["total_liabilities"] + v["equity"]),
                },
            ),
        )
    if v["inventory"] > v["current_assets"]:
        raise CustomerError("inventory", _("Inventory is part of current assets: it cannot be larger."))
    if v["current_assets"] > v["total_assets"]:
        raise CustomerError("current_assets", _("Current assets are part of total assets: they cannot be larger."))
    if v["current_liabilities"] > v["total_liabilities"]:
        raise CustomerError(
            "current_liabilities", _("Current liabilities are part of total liabilities: they cannot be larger.")
        )


def save(session, tenant, customer, kind: str, end: dt.date, values: Mapping[str, int], *, by: str = ""):
    """Keep the company's statement for the period (replacing the one entered before); the statement."""
    if customer.kind != CustomerKind.CORPORATE.value:
        raise CustomerError("customer", _("Financial statements are kept for corporate customers only."))
    lock_customers(session, tenant.id, customer.id)  # one period, one statement, however many enter it at once
    statement = session.scalars(
        sa.select(FinancialStatement).where(
            FinancialStatement.tenant_id == tenant.id,
            FinancialStatement.customer_id == customer.id,
            FinancialStatement.period_kind == kind,
            FinancialStatement.period_end == end,
        )
    ).first()
    if statement is None:
        statement = FinancialStatement(tenant_id=tenant.id, customer_id=customer.id, period_kind=kind, period_end=end)
        session.add(statement)
    statement.currency, statement.entered_by = tenant.currency, by[:120]
    for code in LINE_CODES:
        setattr(statement, code, values[code])
    session.flush()
    return statement


def statements_of(session, customer) -> list[FinancialStatement]:
    """The company's statements, latest period first (annual before quarterly on the same date)."""
    return session.scalars(
        sa.select(FinancialStatement)
        .where(FinancialStatement.tenant_id == customer.tenant_id, FinancialStatement.customer_id == customer.id)
        .order_by(FinancialStatement.period_end.desc(), FinancialStatement.period_kind)
    ).all()


def delete(session, customer, statement_id) -> FinancialStatement:
    """Remove one of the company's statements; the removed statement."""
    found = next((s for s in statements_of(session, customer) if str(s.id) == str(statement_id)), None)
    if found is None:
        raise CustomerError("statement", _("There is no such statement."))
    session.delete(found)
    session.flush()
    return found


def _cell_amount(value) -> str:
    """A cell's amount as text for :func:`inputs.amount`: a number, or text holding one."""
    if value is None:
        return ""
    if isinstance(value, numbers.Number) and not isinstance(value, bool):  # a number cell: its shortest text
        try:
            return format(Decimal(str(value)), "f")
        except InvalidOperation:
            return "not a number"
    return str(value).strip()


def read_xlsx(data: bytes, tenant) -> dict[str, int]:
    """The lines of an uploaded XLSX statement (the template's layout), checked like a form's."""
    if not data:
        raise CustomerError("file", _("Choose a file to upload."))
    if len(data) > MAX_XLSX_BYTES:
        raise CustomerError("file", _("The file is larger than 2 MB."))
    typed = _xlsx_values(data)
    form: dict[str, str] = {}
    for row, (code, value) in enumerate(typed, start=1):
        code = str(code or "").strip()
        if not code or (row == 1 and code.lower() == "code"):
            continue
        if code not in LINE_CODES:
            raise CustomerError(
                "file",
                _("Row ${row}: ${code} is not a line code of the template.", mapping={"row": row, "code": code[:40]}),
            )
        form[code] = _cell_amount(value)
        signed = next(s for c, _l, s, _s in LINES if c == code)
        try:
            inputs.amount(form, code, tenant.currency, signed=signed)
        except CustomerError:
            raise CustomerError(
                "file",
                _(
                    "Row ${row}: column B must hold an amount such as 1234.50 (a minus sign only for a loss or an "
                    "outflow).",
                    mapping={"row": row},
                ),
            ) from None
    try:
        return lines(tenant, form)
    except CustomerError as error:
        raise CustomerError("file", error.message) from None


def _xlsx_values(data: bytes) -> list[tuple]:
    """Columns A and B of the first sheet's rows (at most :data:`MAX_XLSX_ROWS`)."""
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    refused = CustomerError("file", _("Upload an XLSX workbook laid out like the template."))
    if not data.startswith(b"PK\x03\x04"):
        raise refused
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            return [
                tuple(row[:2]) + (None,) * (2 - len(row[:2]))
                for row in sheet.iter_rows(max_row=MAX_XLSX_ROWS, max_col=2, values_only=True)
            ]
        finally:
            book.close()
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, OSError, IndexError, TypeError):
        raise refused from None


def template_xlsx(translate) -> bytes:
    """The empty import template: a heading row, then each line's code, an empty amount and its name."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "statement"
    sheet.append(["code", "amount", translate(_("Line"))])
    for code, label, _signed, _section in LINES:
        sheet.append([code, None, translate(label)])
    sheet.column_dimensions["A"].width = 24
    sheet.column_dimensions["C"].width = 40
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
