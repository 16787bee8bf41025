"""The double-entry ledger: every money movement of the product goes through here.

Public API (``from core.ledger import …``): :class:`Ledger` (``post``,
``reverse``, ``balance``, ``history``, ``account``, ``platform``),
:class:`Transfer`, the errors, member :class:`Wallet` operations,
``disburse``, ``pay_installment`` and :func:`verify`. See docs/ledger.md.
"""

from .. import events
from .models import (
    CREDITS_MUST_NOT_EXCEED_DEBITS,
    DEBITS_MUST_NOT_EXCEED_CREDITS,
    LedgerAccount,
    LedgerTransfer,
)
from .posting import (
    ACCOUNT_CODES,
    ACCOUNT_LABELS,
    GUARANTOR,
    LOAN,
    MEMBER,
    PLATFORM,
    Entry,
    IdempotencyConflict,
    InsufficientFunds,
    InvalidTransfer,
    Ledger,
    LedgerError,
    Posted,
    Transfer,
)
from .verify import Breach, verify
from .wallets import REASONS, Funds, Movement, Share, Wallet, disburse, pay_installment, shares_of

__all__ = [
    "ACCOUNT_CODES",
    "ACCOUNT_LABELS",
    "CREDITS_MUST_NOT_EXCEED_DEBITS",
    "DEBITS_MUST_NOT_EXCEED_CREDITS",
    "GUARANTOR",
    "LOAN",
    "MEMBER",
    "PLATFORM",
    "Breach",
    "Entry",
    "Funds",
    "IdempotencyConflict",
    "InsufficientFunds",
    "InvalidTransfer",
    "Ledger",
    "LedgerAccount",
    "LedgerError",
    "LedgerTransfer",
    "Movement",
    "Posted",
    "REASONS",
    "Share",
    "Transfer",
    "Wallet",
    "disburse",
    "pay_installment",
    "shares_of",
    "verify",
]


def includeme(config):
    """``request.ledger``: the request tenant's ledger in the request's transaction; account and reason labels."""
    config.add_labels(account_code=ACCOUNT_LABELS, transfer_reason=REASONS)

    def ledger(request):
        if request.tenant is None:
            return None
        return Ledger(request.dbsession, request.tenant.id)

    config.add_request_method(ledger, reify=True)


@events.listen("lendstack_tenant_applied")
def _open_platform_accounts(session, tenant_id, tenant, created):
    """A new tenant starts with its platform accounts (gateway clearing, fee income, risk reserve …) at zero."""
    if created:
        ledger = Ledger(session, tenant_id)
        for code in ACCOUNT_CODES[PLATFORM]:
            ledger.platform(code, tenant.currency)
