"""The refusals of contracts, signing and disbursement."""

from __future__ import annotations

from ...domain import DomainError


class ContractError(DomainError):
    """A contract, signing or disbursement request refused (the field, a message to act on). Nothing changed."""
