"""Brand colours and WCAG 2 contrast: a tenant's colours must keep the text drawn on them readable.

The default theme draws white text on the primary colour (the header, primary
buttons, links on white paper) and near-black text on the accent colour
(badges). :func:`contrast_problem` says which pair falls below WCAG 2.1 AA
for normal text (4.5:1), before a manifest or a settings page saves them.
"""

from __future__ import annotations

import re

AA_NORMAL_TEXT = 4.5
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


def relative_luminance(colour: str) -> float:
    """WCAG 2.1 relative luminance of a ``#rrggbb`` (or ``#rgb``) colour."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: str, second: str) -> float:
    """The WCAG contrast ratio of two colours, from 1 (none) to 21 (black on white)."""
    a, b = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def contrast_problem(key: str, colour: str) -> float | None:
    """The ratio of ``colour`` (a brand colour named ``key``) against the text drawn on it, when below AA."""
    text = PAIRS.get(key)
    if text is None:
        return None
    ratio = contrast_ratio(colour, text)
    return ratio if ratio < AA_NORMAL_TEXT else None
