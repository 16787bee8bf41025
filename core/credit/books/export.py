"""The books as files: CSV written row by row as it is sent, XLSX through openpyxl's write-only workbook.

Neither is built in memory. CSV rows are encoded as they are read (:func:`csv_chunks`); the workbook's sheets
go to openpyxl's temporary files as rows are appended and the finished workbook to one more temporary file,
which is then sent in chunks (:func:`xlsx_chunks`). Amounts are numbers in major units (an XLSX cell with the
currency's decimals), dates are dates, and headers and words are in the reader's language. A cell of text a
spreadsheet would take for a formula (``=``, ``+``, ``-``, ``@``) is kept as text.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from ...i18n import _
from ...money import Money, currency_exponent
from ..classification.models import CLASSES
from .query import LedgerRow, Totals
from .wording import Wording

CHUNK = 64 * 1024
CSV_ROWS_PER_CHUNK = 200
CSV_TYPE = "text/csv"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class Column:
    """One column of an export: its header, its kind (text, money, date, int, decimal) and how a row fills it."""

    key: str
    header: object
    kind: str
    value: Callable[[LedgerRow, Wording], object]


def _rate(text: str):
    try:
        return Decimal(text)
    except InvalidOperation:
        return text


COLUMNS = (
    Column("number", _("Loan number"), "text", lambda r, w: r.number),
    Column("customer_number", _("Customer number"), "text", lambda r, w: r.customer_number or ""),
    Column("customer", _("Customer"), "text", lambda r, w: r.customer_name or ""),
    Column("product", _("Business type"), "text", lambda r, w: w.product_of(r)),
    Column("org_unit", _("Organization unit"), "text", lambda r, w: r.org_unit_name or ""),
    Column("manager", _("Relationship manager"), "text", lambda r, w: r.manager_name or ""),
    Column("status", _("Status"), "text", lambda r, w: w.status(r.status)),
    Column("amount", _("Amount"), "money", lambda r, w: r.amount),
    Column("currency", _("Currency"), "text", lambda r, w: r.currency),
    Column("annual_rate", _("Annual rate (%)"), "decimal", lambda r, w: r.annual_rate_percent),
    Column("term", _("Term (months)"), "int", lambda r, w: r.term_months),
    Column("disbursed_on", _("Disbursed on"), "date", lambda r, w: r.disbursed_on),
    Column("maturity_on", _("Maturity date"), "date", lambda r, w: r.maturity_on),
    Column("settled_on", _("Settled on"), "date", lambda r, w: r.settled_on),
    Column("outstanding", _("Outstanding principal"), "money", lambda r, w: r.outstanding),
    Column("days_past_due", _("Days past due"), "int", lambda r, w: r.days_past_due),
    Column("overdue", _("Overdue bucket"), "text", lambda r, w: w.bucket(r.overdue_bucket)),
    Column("class", _("Five-level class"), "text", lambda r, w: w.risk_class(r.risk_class)),
    Column("provision_rate", _("Provision rate (%)"), "decimal", lambda r, w: _rate(r.provision_rate)),
    Column("provision", _("Provision"), "money", lambda r, w: r.provision),
    Column("classified_on", _("Classified on"), "date", lambda r, w: r.classified_on),
)


def safe_text(value) -> str:
    """Text a spreadsheet shows as it is: never read as a formula, no characters XML cannot hold."""
    text = _ILLEGAL_XML.sub("", str(value))
    return "'" + text if text.startswith(_FORMULA_START) else text


# -- CSV ------------------------------------------------------------------------------------------------------


def _csv_cell(column: Column, row: LedgerRow, words: Wording) -> str:
    value = column.value(row, words)
    if value is None:
        return ""
    if column.kind == "money":
        return str(Money(value, row.currency))
    if column.kind == "date":
        return value.isoformat()
    if column.kind in ("int", "decimal"):
        return str(value)
    return safe_text(value)


def csv_chunks(rows: Iterable[LedgerRow], words: Wording) -> Iterator[bytes]:
    """The book as UTF-8 CSV (with a byte-order mark, so spreadsheets read the Chinese right), a few hundred rows
    a chunk; amounts in major units without grouping (``1234.50``), dates ``YYYY-MM-DD``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_text(words(c.header)) for c in COLUMNS])
    pending = 0
    yield ("\ufeff" + out.getvalue()).encode("utf-8")
    out.seek(0)
    out.truncate()
    for row in rows:
        writer.writerow([_csv_cell(c, row, words) for c in COLUMNS])
        pending += 1
        if pending == CSV_ROWS_PER_CHUNK:
            yield out.getvalue().encode("utf-8")
            out.seek(0)
            out.truncate()
            pending = 0
    if pending:
        yield out.getvalue().encode("utf-8")


# -- XLSX -----------------------------------------------------------------------------------------------------


class _Sheets:
    """Cells of a write-only workbook: bold headers, amounts with the currency's decimals, dates as dates."""

    def __init__(self, book, words: Wording):
        from openpyxl.styles import Font

        self.book, self.words, self.bold, self.titles = book, words, Font(bold=True), set()

    def sheet(self, title: str, widths=()):
        from openpyxl.utils import get_column_letter

        name = (_SHEET_TITLE_BAD.sub(" ", safe_text(title)).strip(" '") or "-")[:28]
        unique, n = name, 1
        while unique.lower() in self.titles:
            n += 1
            unique = f"{name[:25]} {n}"
        self.titles.add(unique.lower())
        sheet = self.book.create_sheet(title=unique)
        for n, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(n)].width = width
        return sheet

    def cell(self, sheet, value, kind: str = "text", currency: str = ""):
        from openpyxl.cell import WriteOnlyCell

        if value is None:
            return None
        if kind == "money":
            exponent = currency_exponent(currency)
            cell = WriteOnlyCell(sheet, value=Money(value, currency).amount)
            cell.number_format = "#,##0." + "0" * exponent if exponent else "#,##0"
            return cell
        if kind == "date":
            cell = WriteOnlyCell(sheet, value=value)
            cell.number_format = "yyyy-mm-dd"
            return cell
        if kind in ("int", "decimal") and isinstance(value, (int, Decimal)):
            return value
        cell = WriteOnlyCell(sheet, value=_ILLEGAL_XML.sub("", str(value)))
        cell.data_type = "s"  # never a formula, whatever the text starts with
        return cell

    def header(self, sheet, labels) -> None:
        cells = []
        for label in labels:
            cell = self.cell(sheet, self.words(label))
            cell.font = self.bold
            cells.append(cell)
        sheet.append(cells)


def _totals_sheet(sheets: _Sheets, totals: Totals, described: list[tuple[str, str]], currency: str) -> None:
    words = sheets.words
    sheet = sheets.sheet(words(_("Totals")), widths=(28, 12, 22, 22))
    for label, value in described:
        sheet.append([sheets.cell(sheet, label), sheets.cell(sheet, value)])
    figures = (_("Number of loans"), _("Outstanding principal"), _("Provision"))
    for heading, rows in (
        (_("Five-level class"), [(words.risk_class(c.value), totals.by_class[c.value]) for c in CLASSES]),
        (_("Business type"), [(words.product(code), total) for code, total in totals.by_product.items()]),
    ):
        sheet.append([])
        sheets.header(sheet, (heading, *figures))
        for label, total in [*rows, (words(_("Total")), totals.overall)]:
            sheet.append(
                [
                    sheets.cell(sheet, label),
                    total.count,
                    sheets.cell(sheet, total.outstanding, "money", currency),
                    sheets.cell(sheet, total.provision, "money", currency),
                ]
            )


def _group(book: str, row: LedgerRow, words: Wording) -> str:
    if book == "product":
        return words.product_of(row)
    if book == "class":
        return words.risk_class(row.risk_class)
    return words(_("Loan details"))


def write_xlsx(
    target, rows: Iterable[LedgerRow], words: Wording, *, book: str, totals: Totals, described, currency: str
) -> None:
    """Write the workbook to ``target`` (a path or a binary file): a sheet of totals (the filters it was made with,
    by class and by business type), then the loans — one sheet, or one per business type or class (``book``)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheets = _Sheets(workbook, words)
    _totals_sheet(sheets, totals, described, currency)
    widths = [12 if c.kind in ("int", "decimal") else 16 if c.kind in ("money", "date") else 20 for c in COLUMNS]
    current, sheet = None, None
    for row in rows:
        group = _group(book, row, words)
        if sheet is None or group != current:
            current, sheet = group, sheets.sheet(group, widths)
            sheet.freeze_panes = "A2"
            sheets.header(sheet, [c.header for c in COLUMNS])
        sheet.append([sheets.cell(sheet, c.value(row, words), c.kind, row.currency) for c in COLUMNS])
    if sheet is None:
        sheets.header(sheets.sheet(words(_("Loan details")), widths), [c.header for c in COLUMNS])
    workbook.save(target)


def xlsx_chunks(write: Callable[[object], None]) -> Iterator[bytes]:
    """Run ``write(file)`` into a temporary file, then give the file in chunks; the file goes when the reader
    stops (at the end, or when the download is abandoned)."""
    with tempfile.TemporaryFile() as spooled:
        write(spooled)
        spooled.seek(0)
        while chunk := spooled.read(CHUNK):
            yield chunk
