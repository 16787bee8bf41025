"""The one error model of the domains: :class:`DomainError` and the state machines' :class:`InvalidTransition`.

A service refuses what a person asked for by raising a :class:`DomainError`
(or a subclass: ``LoanError``, ``FundsError``, ``MemberError`` …) with the
input ``field`` at fault and a translation-string ``message`` they can act
on; nothing it did is kept (the request's transaction is aborted). Views and
the API turn it into a form message by the field or a problem detail in one
place (:mod:`core.errors`).
"""

from __future__ import annotations


class DomainError(ValueError):
    """Input a service refuses: ``field`` names it, ``message`` (translatable) says why. Nothing changed."""

    status = 422  # the API's answer: the request was understood but cannot be carried out

    def __init__(self, field: str, message):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message


class InvalidTransition(DomainError):
    """A status change the state machine does not allow (e.g. disbursing a loan that is not full)."""
