"""Brand colours and WCAG 2 contrast: a tenant's colours must keep the text drawn on them readable.

The default theme draws white text on the primary colour (the header, primary
buttons, links on white paper) and near-black text on the accent colour
(badges). :func:`contrast_problem` says which pair falls below WCAG 2.1 AA
for normal text (4.5:1), before a manifest or a settings page saves them.
"""

from __future__ import annotations

import re
from decimal import Decimal

AA_NORMAL_TEXT = Decimal("4.5")
WHITE = "#ffffff"
INK = "#1d1d1d"
COLOUR = re.compile(r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")

PAIRS = {"primary_color": WHITE, "accent_color": INK}
"""Each brand colour and the text colour the themes draw on it."""


def _rgb(colour: str) -> tuple[int, int, int]:
    hex_digits = colour.lstrip("#")
    if len(hex_digits) == 3:
        hex_digits = "".join(c * 2 for c in hex_digits)
    return int(hex_digits[0:2], 16), int(hex_digits[2:4], 16), int(hex_digits[4:6], 16)


def relative_luminance(colour: str) -> Decimal:
    """WCAG 2.1 relative luminance of a ``#rrggbb`` (or ``#rgb``) colour (in decimals, like every ratio here)."""

    def linear(channel: int) -> Decimal:
        c = Decimal(channel) / 255
        if c <= Decimal("0.04045"):
            return c / Decimal("12.92")
        return ((c + Decimal("0.055")) / Decimal("1.055")) ** Decimal("2.4")

    r, g, b = (linear(c) for c in _rgb(colour))
    return Decimal("0.2126") * r + Decimal("0.7152") * g + Decimal("0.0722") * b


def contrast_ratio(first: str, second: str) -> Decimal:
    """The WCAG contrast ratio of two colours, from 1 (none) to 21 (black on white)."""
    a, b = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (a + Decimal("0.05")) / (b + Decimal("0.05"))


def contrast_problem(key: str, colour: str) -> Decimal | None:
    """The ratio of ``colour`` (a brand colour named ``key``) against the text drawn on it, when below AA."""
    text = PAIRS.get(key)
    if text is None:
        return None
    ratio = contrast_ratio(colour, text)
    return ratio if ratio < AA_NORMAL_TEXT else None
