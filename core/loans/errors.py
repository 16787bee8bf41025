"""The loan lifecycle's refusals: :class:`LoanError`, and the checks of typed-in values that raise it."""

from __future__ import annotations

from ..domain import DomainError
from ..i18n import _
from ..money import InvalidAmount, Money, parse_positive


class LoanError(DomainError):
    """Input the lifecycle refuses; ``field`` and a translation-string ``message``. Nothing changed."""


def positive_amount(text, currency: str, field: str) -> Money:
    """An amount above zero in ``currency``, parsed by the input contract of :mod:`core.money`; refused by
    ``field``."""
    try:
        return parse_positive(text, currency)
    except InvalidAmount as error:
        raise LoanError(field, error.message) from None


def bounded_text(form: dict, field: str, limit: int) -> str:
    """A text field as typed (trimmed), refused — never cut short — past ``limit`` characters."""
    text = str(form.get(field) or "").strip()
    if len(text) > limit:
        raise LoanError(field, _("Use at most ${n} characters.", mapping={"n": limit}))
    return text


def rejection_reason(reason) -> str:
    """The reason a borrower is given for a rejection: required, at most 300 characters (never cut)."""
    note = bounded_text({"reason": reason}, "reason", 300)
    if not note:
        raise LoanError("reason", _("Give the borrower a reason."))
    return note
