"""A scorecard's content and its math: checking a version's factors and grade table, scoring a customer.

A **factor** reads one customer fact (``core.credit.customers.facts``) and gives points by **bands**:
numeric bands ``[low, high)`` (``None``: open on that side) that follow one another without gaps or
overlaps, or text bands (one value each). A fact with no value, or one outside every band, gives the
factor's ``missing_points``. The factor's **weighted points** are points × weight; the **score** is their
sum, from 0 to the **maximum score** (each factor's best points × its weight). The **grade table** gives
each grade of the scale a score range ``[low, high)``, the top row closed at the maximum score; the rows
cover 0 to the maximum with no gap and no overlap.

All figures are exact decimals (points are whole numbers, weights have at most 2 decimals): nothing is
rounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from ...domain import DomainError
from ...i18n import _
from ...loans.rules import GRADES

MAX_POINTS = 1000
MAX_WEIGHT = Decimal("100")
MAX_FACTORS = 40
MAX_BANDS = 30
GRADE_CODE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-")
YES, NO = "yes", "no"
_TRUTHY, _FALSY = frozenset({"1", "true", "y", "yes"}), frozenset({"0", "false", "n", "no"})


class ModelError(DomainError):
    """A rating model's content that cannot be used (a gap in the grade table, overlapping bands …)."""


def number(text) -> Decimal | None:
    """``text`` as a finite decimal, or ``None`` (empty or not a number)."""
    if text is None or isinstance(text, bool):
        return None
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def shown(value: Decimal | None) -> str:
    """A decimal as stored and shown: plain notation, no exponent, no trailing zeros after the point."""
    if value is None:
        return ""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def is_text(factor: dict) -> bool:
    return any("value" in band for band in factor["bands"])


def best_points(factor: dict) -> int:
    return max([band["points"] for band in factor["bands"]] + [factor["missing_points"]])


def max_score(factors: list[dict]) -> Decimal:
    """The best score a customer can reach: every factor's best points × its weight, summed."""
    return sum((best_points(f) * Decimal(f["weight"]) for f in factors), Decimal(0))


# -- checking a version's content ------------------------------------------------------------------------------


def check_factors(factors: list[dict], known: dict | None = None) -> None:
    """Refuse factors a scorecard cannot use; ``known``: the fact catalogue of the model's kind (code → fact)."""
    if not factors:
        raise ModelError("factors", _("Add at least one factor."))
    if len(factors) > MAX_FACTORS:
        raise ModelError("factors", _("Use at most ${n} factors.", mapping={"n": MAX_FACTORS}))
    seen = set()
    for index, factor in enumerate(factors, 1):
        field = f"factor-{index}"
        if known is not None and factor["code"] not in known:
            raise ModelError(f"{field}-code", _("Choose a fact of this kind of customer."))
        if factor["code"] in seen:
            raise ModelError(f"{field}-code", _("Each fact may be a factor once."))
        seen.add(factor["code"])
        weight = number(factor["weight"])
        if weight is None or weight <= 0 or weight > MAX_WEIGHT or weight != weight.quantize(Decimal("0.01")):
            raise ModelError(f"{field}-weight", _("A weight is a positive number up to 100 with at most 2 decimals."))
        _check_points(f"{field}-missing_points", factor["missing_points"])
        _check_bands(f"{field}-bands", factor["bands"])


def _check_points(field: str, points) -> None:
    if not isinstance(points, int) or isinstance(points, bool) or not 0 <= points <= MAX_POINTS:
        raise ModelError(field, _("Points are whole numbers from 0 to ${n}.", mapping={"n": MAX_POINTS}))


def _check_bands(field: str, bands: list[dict]) -> None:
    if not bands:
        raise ModelError(field, _("Give the factor at least one band."))
    if len(bands) > MAX_BANDS:
        raise ModelError(field, _("Use at most ${n} bands.", mapping={"n": MAX_BANDS}))
    for band in bands:
        _check_points(field, band["points"])
    texts = [band for band in bands if "value" in band]
    if texts and len(texts) != len(bands):
        raise ModelError(field, _("A factor's bands are all ranges of numbers or all text values."))
    if texts:
        _check_text_bands(field, texts)
    else:
        _check_ranges(field, bands, _band_name)


def _check_text_bands(field: str, bands: list[dict]) -> None:
    values = [band["value"] for band in bands]
    for value in values:
        if not value or len(value) > 40:
            raise ModelError(field, _("A text band's value has 1 to 40 characters."))
        if values.count(value) > 1:
            raise ModelError(field, _("The value ${value} has two bands.", mapping={"value": value}))


def _band_name(band: dict) -> str:
    return f"{shown(number(band['low'])) or '…'} – {shown(number(band['high'])) or '…'}"


def _check_ranges(field: str, rows: list[dict], name) -> None:
    """Rows ``[low, high)`` (``None``: open) must each be non-empty and follow one another exactly."""
    for row in rows:
        low, high = number(row["low"]), number(row["high"])
        if (row["low"] is not None and low is None) or (row["high"] is not None and high is None):
            raise ModelError(field, _("Write the row ${row} with numbers.", mapping={"row": name(row)}))
        if low is not None and high is not None and low >= high:
            raise ModelError(field, _("The row ${row} ends before it starts.", mapping={"row": name(row)}))
    ordered = sorted(rows, key=lambda r: (r["low"] is not None, number(r["low"]) or 0))
    for before, after in zip(ordered, ordered[1:]):
        end, start = number(before["high"]), number(after["low"])
        if end is None or start is None or start < end:
            raise ModelError(
                field,
                _("The rows ${first} and ${second} overlap.", mapping={"first": name(before), "second": name(after)}),
            )
        if start > end:
            raise ModelError(
                field,
                _(
                    "Nothing covers ${low} to ${high} (between the rows ${first} and ${second}).",
                    mapping={"low": shown(end), "high": shown(start), "first": name(before), "second": name(after)},
                ),
            )


def claimed_range(factor: dict) -> tuple[Decimal | None, Decimal | None]:
    """The range a numeric factor's bands cover together: the lowest low and the highest high (``None``: open)."""
    lows = [number(b["low"]) for b in factor["bands"]]
    highs = [number(b["high"]) for b in factor["bands"]]
    return (None if None in lows else min(lows)), (None if None in highs else max(highs))


def check_scale(scale: list[str]) -> None:
    if not scale:
        raise ModelError("scale", _("List the grades, best first."))
    for grade in scale:
        if not 1 <= len(grade) <= 2 or not set(grade) <= GRADE_CODE:
            raise ModelError(
                "scale", _("A grade is 1 or 2 capital letters, digits, + or - (${grade}).", mapping={"grade": grade})
            )
        if scale.count(grade) > 1:
            raise ModelError("scale", _("The grade ${grade} is listed twice.", mapping={"grade": grade}))


def check_grades(grades: list[dict], scale: list[str], top: Decimal) -> None:
    """The grade table must give grades of the scale and cover 0 to ``top`` (the maximum score) exactly."""
    if not grades:
        raise ModelError("grades", _("Give every score from 0 to ${top} a grade.", mapping={"top": shown(top)}))
    for row in grades:
        if row["grade"] not in scale:
            raise ModelError("grades", _("${grade} is not a grade of the scale.", mapping={"grade": row["grade"]}))
        if [r["grade"] for r in grades].count(row["grade"]) > 1:
            raise ModelError("grades", _("The grade ${grade} has two rows.", mapping={"grade": row["grade"]}))
        if row["low"] is None or row["high"] is None:
            raise ModelError("grades", _("Give the row ${row} both ends.", mapping={"row": _grade_name(row)}))
    _check_ranges("grades", grades, _grade_name)
    ordered = sorted(grades, key=lambda r: number(r["low"]))
    first, last = ordered[0], ordered[-1]
    if number(first["low"]) != 0:
        raise ModelError(
            "grades",
            _(
                "The grade table starts at ${low} (row ${row}): it must start at 0.",
                mapping={"low": first["low"], "row": _grade_name(first)},
            ),
        )
    if number(last["high"]) != top:
        raise ModelError(
            "grades",
            _(
                "The grade table ends at ${high} (row ${row}) but scores reach ${top}.",
                mapping={"high": last["high"], "row": _grade_name(last), "top": shown(top)},
            ),
        )


def _grade_name(row: dict) -> str:
    return f"{row['grade']} {shown(number(row['low']))}–{shown(number(row['high']))}"


def check(factors: list[dict], scale: list[str], grades: list[dict], known: dict | None = None) -> None:
    """Refuse a version's content that cannot rate anyone, naming the field and the rows at fault."""
    check_factors(factors, known)
    check_scale(scale)
    check_grades(grades, scale, max_score(factors))


# -- scoring -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One factor of a rating: the fact's value, the band it fell in, its points and weighted points."""

    code: str
    value: str | None
    band: str | None  # None: missing or outside every band (the factor's missing points)
    points: int
    weight: Decimal
    weighted: Decimal
    missing: bool

    def as_json(self) -> dict:
        return {
            "code": self.code,
            "value": self.value,
            "band": self.band,
            "points": self.points,
            "weight": shown(self.weight),
            "weighted": shown(self.weighted),
            "missing": self.missing,
        }


def text_of(value) -> str | None:
    """A fact's value as a text band reads it: yes/no for true/false and 1/0, else its text, lower case."""
    if value is None:
        return None
    if isinstance(value, bool):
        return YES if value else NO
    text = shown(value) if isinstance(value, Decimal) else str(value).strip().lower()
    return YES if text in _TRUTHY else NO if text in _FALSY else text


def score_factor(factor: dict, value) -> Line:
    """The line of one factor for a fact's ``value`` (``None``: missing)."""
    weight = Decimal(factor["weight"])
    band = _band_for(factor, value)
    points = factor["missing_points"] if band is None else band["points"]
    shown_value = None if value is None else (shown(value) if isinstance(value, Decimal) else str(value))
    return Line(
        code=factor["code"],
        value=shown_value,
        band=None if band is None else (band["value"] if "value" in band else _band_name(band)),
        points=points,
        weight=weight,
        weighted=points * weight,
        missing=band is None,
    )


def _band_for(factor: dict, value) -> dict | None:
    if value is None:
        return None
    if is_text(factor):
        text = text_of(value)
        return next((band for band in factor["bands"] if band["value"] == text), None)
    amount = _amount_of(value)
    if amount is None:
        return None
    for band in factor["bands"]:
        low, high = number(band["low"]), number(band["high"])
        if (low is None or amount >= low) and (high is None or amount < high):
            return band
    return None


def _amount_of(value) -> Decimal | None:
    """A fact's value as a numeric band reads it: yes/true as 1, no/false as 0."""
    if isinstance(value, Decimal):
        return value
    text = text_of(value)
    return Decimal(1) if text == YES else Decimal(0) if text == NO else number(value)


def grade_row(grades: list[dict], score: Decimal) -> dict:
    """The grade table's row ``score`` falls in: ``[low, high)``, the top row closed."""
    ordered = sorted(grades, key=lambda r: number(r["low"]))
    for row in ordered:
        if number(row["low"]) <= score < number(row["high"]):
            return row
    return ordered[-1]


def default_scale() -> list[str]:
    return list(GRADES)
