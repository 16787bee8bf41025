"""The chat's refusals."""

from __future__ import annotations

from ..domain import DomainError


class ChatError(DomainError):
    """A chat refused what was asked (an empty message, a chat already accepted or closed …)."""
