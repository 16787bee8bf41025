"""The payment-gateway provider type: how money enters and leaves the platform.

A gateway is a plugin's provider (hook ``lendstack_payment_gateways``). Core
keeps the payment records and posts to the ledger; a gateway only tells the
member where to pay, computes its fee, and (for online gateways) verifies its
callbacks.
"""
from __future__ import annotations

import abc
from dataclasses import dataclass, field
from decimal import Decimal

from .money import Money


@dataclass(frozen=True)
class PaymentRequest:
    """A recharge to start: our reference, the amount, and where to come back to."""

    reference: str
    amount: Money
    return_url: str = ""
    description: str = ""


@dataclass(frozen=True)
class PaymentInstruction:
    """Where to send the member.

    ``kind`` is ``redirect`` (``url``), ``form`` (``url`` + ``fields`` to POST),
    ``qr`` (``qr_content``) or ``instructions`` (``lines`` to show, e.g. a bank
    account for an offline transfer).
    """

    kind: str
    url: str = ""
    fields: dict = field(default_factory=dict)
    qr_content: str = ""
    lines: tuple[tuple[str, str], ...] = ()


class PaymentGateway(abc.ABC):
    """Base of gateway providers. ``settings`` are the tenant's, validated by the plugin schema.

    Fee settings shared by every gateway: ``fee_percent`` (Decimal) and
    ``fee_fixed`` (major units); the fee is rounded half-up to the minor unit.
    """

    code: str = ""
    name: str = ""
    online: bool = True

    def __init__(self, settings: dict):
        self.settings = settings

    def fee(self, amount: Money) -> Money:
        percent = Decimal(str(self.settings.get("fee_percent", "0")))
        fixed = Money.parse(self.settings.get("fee_fixed", "0"), amount.currency)
        return Money.from_decimal(amount.amount * percent / 100, amount.currency) + fixed

    @abc.abstractmethod
    def create_payment(self, request: PaymentRequest) -> PaymentInstruction:
        """Start a recharge and say where the member goes next."""
