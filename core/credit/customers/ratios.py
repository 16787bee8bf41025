"""The ratios derived from a financial statement: computed from its lines, never typed or stored.

Each ratio is a ``Decimal`` rounded half-up to 2 decimals (percentages are in percent: 45.25 means
45.25 %), or ``None`` when its denominator is zero or negative (a ratio over no liabilities, no revenue or a
negative equity says nothing a reader can use).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from ...i18n import _

TWO_PLACES = Decimal("0.01")

RATIOS = {
    # code: (label, unit)
    "current_ratio": (_("Current ratio"), "ratio"),
    "quick_ratio": (_("Quick ratio"), "ratio"),
    "debt_to_assets": (_("Debt to assets"), "percent"),
    "roe": (_("Return on equity"), "percent"),
    "net_margin": (_("Net margin"), "percent"),
    "interest_coverage": (_("Interest coverage"), "ratio"),
}
"""Each derived ratio's label and unit, in the order pages show them."""


def divided(numerator: int, denominator: int, scale: int = 1) -> Decimal | None:
    """``numerator / denominator × scale`` rounded half-up to 2 decimals; ``None`` when the denominator is
    not above zero."""
    if denominator <= 0:
        return None
    return (Decimal(numerator) * scale / Decimal(denominator)).quantize(TWO_PLACES, ROUND_HALF_UP)


def ratios(statement) -> dict[str, Decimal | None]:
    """The statement's ratios by code (see :data:`RATIOS`).

    current ratio = current assets ÷ current liabilities; quick ratio = (current assets − inventory) ÷
    current liabilities; debt to assets = total liabilities ÷ total assets × 100; return on equity = net
    profit ÷ equity × 100; net margin = net profit ÷ revenue × 100; interest coverage = operating profit ÷
    interest expense.
    """
    s = statement
    return {
        "current_ratio": divided(s.current_assets, s.current_liabilities),
        "quick_ratio": divided(s.current_assets - s.inventory, s.current_liabilities),
        "debt_to_assets": divided(s.total_liabilities, s.total_assets, 100),
        "roe": divided(s.net_profit, s.equity, 100),
        "net_margin": divided(s.net_profit, s.revenue, 100),
        "interest_coverage": divided(s.operating_profit, s.interest_expense),
    }
