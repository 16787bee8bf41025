"""The identifiers a customer is known by: the unified social credit code (GB 32100-2015) of a company and
the industry sections of GB/T 4754-2017; resident ID numbers are checked by :mod:`core.members.identity`."""

from __future__ import annotations

from ...i18n import _

CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, S, V, Z
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_char(first17: str) -> str:
    """The check character GB 32100 appends to a code's first 17 characters (weighted sum, modulo 31)."""
    total = sum(CREDIT_CODE_CHARS.index(c) * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS))
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def normalized(code: str) -> str:
    """A code or ID number as stored: trimmed, upper case, inner spaces removed."""
    return "".join(str(code or "").split()).upper()


def credit_code_problem(code: str) -> str | None:
    """Why ``code`` is not a valid unified social credit code (``shape``, ``characters``, ``checksum``), or
    ``None``."""
    code = normalized(code)
    if len(code) != 18:
        return "shape"
    if any(c not in CREDIT_CODE_CHARS for c in code):
        return "characters"
    if credit_code_check_char(code[:17]) != code[17]:
        return "checksum"
    return None


CREDIT_CODE_MESSAGES = {
    "shape": _("A unified social credit code has 18 characters."),
    "characters": _("A unified social credit code uses only the digits and the letters A–Y without I, O, S, V and Z."),
    "checksum": _("This unified social credit code's check character is wrong: check it against the licence."),
}

RESIDENT_ID_MESSAGES = {
    "shape": _("A resident ID number has 17 digits and a final digit or X."),
    "region": _("This resident ID number does not start with a region code."),
    "birth_date": _("This resident ID number does not hold a real birth date."),
    "checksum": _("This resident ID number's check character is wrong: check it against the ID card."),
}

INDUSTRIES = {
    "A": _("Agriculture, forestry, animal husbandry and fishery"),
    "B": _("Mining"),
    "C": _("Manufacturing"),
    "D": _("Electricity, heat, gas and water production and supply"),
    "E": _("Construction"),
    "F": _("Wholesale and retail trade"),
    "G": _("Transport, storage and postal services"),
    "H": _("Accommodation and catering"),
    "I": _("Information transmission, software and information technology services"),
    "J": _("Finance"),
    "K": _("Real estate"),
    "L": _("Leasing and business services"),
    "M": _("Scientific research and technical services"),
    "N": _("Water conservancy, environment and public facilities management"),
    "O": _("Resident services, repairs and other services"),
    "P": _("Education"),
    "Q": _("Health and social work"),
    "R": _("Culture, sports and entertainment"),
    "S": _("Public administration, social security and social organisations"),
    "T": _("International organisations"),
}
"""The sections (門類) of GB/T 4754-2017, Industrial classification for national economic activities."""
