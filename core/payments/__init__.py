"""Payment gateways: how money enters (recharge, 充值) and leaves (withdrawal, 提現) the platform.

A gateway is a plugin's provider (hook ``lendstack_payment_gateways``). Core
keeps the payment and withdrawal records, checks every callback's result
against them and posts to the ledger exactly once; a gateway only says where
the member pays, computes its fee, verifies its callbacks' signatures and
sends payouts. See docs/payments.md.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from decimal import Decimal

import colander

from ..i18n import _
from ..money import Money
from ..plugin_registry import collect_by_code, register_in_use_check


class GatewaySettings(colander.MappingSchema):
    """The settings every gateway takes; a plugin's schema subclasses it and adds its own."""

    fee_percent = colander.SchemaNode(
        colander.Decimal(),
        missing="0",
        validator=colander.Range(0, 10),
        title=_("Fee (percent)"),
        description=_("Charged to the member on each recharge, as a percentage of the amount."),
    )
    fee_fixed = colander.SchemaNode(
        colander.Decimal(),
        missing="0",
        validator=colander.Range(min=0),
        title=_("Fixed fee"),
        description=_("Charged to the member on each recharge, in the site's currency, on top of the percentage."),
    )
    min_amount = colander.SchemaNode(
        colander.Decimal(),
        missing="1",
        validator=colander.Range(min=0),
        title=_("Smallest recharge"),
        description=_("In the site's currency."),
    )
    max_amount = colander.SchemaNode(
        colander.Decimal(),
        missing="1000000",
        validator=colander.Range(min=1),
        title=_("Largest recharge"),
        description=_("In the site's currency."),
    )


@dataclass(frozen=True)
class PaymentRequest:
    """A recharge to start: our reference, the amount, and where the member comes back to."""

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
    gateway_ref: str = ""  # the gateway's id for this payment, kept for status queries


@dataclass(frozen=True)
class Callback:
    """What a verified gateway callback says: which payment (or payout), and how it ended."""

    reference: str
    succeeded: bool
    amount: Money
    gateway_ref: str = ""


class GatewayUnavailable(RuntimeError):
    """The gateway could not be reached or refused the request; the member may try again later."""


class CallbackRejected(ValueError):
    """A callback that fails verification (signature, timestamp, shape); ``reason`` is recorded."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PayoutRequest:
    """A withdrawal to pay out to the member's bank card."""

    reference: str
    amount: Money
    bank_name: str
    holder_name: str
    card_number: str


@dataclass(frozen=True)
class PayoutResult:
    """A gateway's answer to a payout: ``settled`` when the outcome is already known."""

    gateway_ref: str = ""
    settled: bool = False
    succeeded: bool = False
    error: str = ""


class PaymentGateway(abc.ABC):
    """Base of gateway providers. ``settings`` are the tenant's, validated by the plugin schema.

    Settings every gateway understands: ``fee_percent`` (Decimal) and
    ``fee_fixed`` (major units) for its recharge fee, rounded half-up to the
    minor unit; ``min_amount`` and ``max_amount`` (major units) for one
    recharge.
    """

    code: str = ""
    name: str = ""
    online: bool = True

    def __init__(self, settings: dict):
        self.settings = settings

    def fee(self, amount: Money) -> Money:
        percent = Decimal(str(self.settings.get("fee_percent", "0")))
        fixed = Money.parse(str(self.settings.get("fee_fixed", "0")), amount.currency)
        return Money.from_decimal(amount.amount * percent / 100, amount.currency) + fixed

    def limits(self, currency: str) -> tuple[Money, Money]:
        """The smallest and largest recharge this gateway takes."""
        return (
            Money.parse(str(self.settings.get("min_amount", "1")), currency),
            Money.parse(str(self.settings.get("max_amount", "1000000")), currency),
        )

    @abc.abstractmethod
    def create_payment(self, request: PaymentRequest) -> PaymentInstruction:
        """Start a recharge and say where the member goes next."""

    def verify_callback(self, body: bytes, headers: dict) -> Callback:
        """Check a payment callback's signature and freshness and read it, or raise :class:`CallbackRejected`."""
        raise CallbackRejected(f"{self.code} sends no callbacks")

    def query_payment(self, reference: str, gateway_ref: str) -> Callback | None:
        """Ask the gateway how a payment ended (when a callback went missing); ``None``: not known yet."""
        return None

    def create_payout(self, request: PayoutRequest) -> PayoutResult:
        """Send a payout; unsettled results wait for :meth:`verify_payout_callback` or staff."""
        return PayoutResult()

    def verify_payout_callback(self, body: bytes, headers: dict) -> Callback:
        raise CallbackRejected(f"{self.code} sends no payout callbacks")

    def acknowledge(self, verdict: str) -> tuple[str, str] | None:
        """The (content type, body) the gateway expects back for a callback; ``None``: JSON."""
        return None


def gateways(hooks) -> dict[str, PaymentGateway]:
    """The tenant's enabled gateways by code, in a stable order."""
    return collect_by_code(hooks, "lendstack_payment_gateways")


IN_FLIGHT_REASON = _(
    "Recharges or withdrawals through this gateway are still in flight: settle them before turning it off."
)


@register_in_use_check
def money_in_flight(session, tenant, info, provided) -> object | None:
    """A gateway may not be turned off while a recharge through it is pending (or declared, offline) or a
    withdrawal through it waits for approval or its payout."""
    import sqlalchemy as sa

    from .models import Payment, PaymentStatus, Withdrawal, WithdrawalStatus

    codes = provided.get("lendstack_payment_gateways")
    if not codes:
        return None
    waiting = (
        (Payment, (PaymentStatus.PENDING, PaymentStatus.DECLARED)),
        (Withdrawal, (WithdrawalStatus.REQUESTED, WithdrawalStatus.FIRST_APPROVED, WithdrawalStatus.PROCESSING)),
    )
    for model, statuses in waiting:
        found = session.scalar(
            sa.select(model.id)
            .where(
                model.tenant_id == tenant.id,
                model.gateway.in_(sorted(codes)),
                model.status.in_([s.value for s in statuses]),
            )
            .limit(1)
        )
        if found is not None:
            return IN_FLIGHT_REASON
    return None
