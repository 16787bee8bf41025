"""The risk reserve (風險準備金): staff fund it and withdraw from it, one person asks and another approves.

The reserve is the platform's ``risk_reserve`` ledger account (never
overdrawn). Money comes into it from a real platform account and goes back to
one — never from nowhere:

- ``gateway_clearing``: the platform's own money, paid into (or out of) the
  platform's bank account, recorded through gateway clearing exactly as a
  guarantor's deposit is;
- ``fee_income``: fees the platform earned, set aside for the reserve (or
  given back to fee income), never more than fee income holds.

A :class:`ReserveRequest` waits for a second staff member: approving posts one
transfer under the key ``reserve:<request id>`` (so a retried approval never
moves money twice); rejecting moves nothing. A withdrawal larger than the
reserve holds is refused when asked for and again, by the ledger, when
approved. See docs/loans.md, "Risk reserve".
"""

from __future__ import annotations

import datetime as dt
import enum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base, TenantOwned, utcnow
from ..i18n import _
from ..ledger import PLATFORM, Entry, InsufficientFunds, Ledger, Transfer
from ..ledger.posting import ACCOUNTS, TRANSFERS
from ..ledger.verify import Breach, register_check
from ..money import InvalidAmount, Money, parse_positive, whole_number
from ..states import StateMachine
from .services import FundsError

RESERVE = "risk_reserve"
MAX_ID = 2**31 - 1
MAX_REASON = 300
HISTORY_PAGE = 50


class ReserveDirection(str, enum.Enum):
    deposit = "deposit"  # into the reserve
    withdrawal = "withdrawal"  # out of the reserve


class ReserveStatus(enum.StrEnum):
    """pending → applied (approved: the ledger moved the money) or rejected (nothing moved); both final."""

    pending = "pending"
    applied = "applied"
    rejected = "rejected"


RESERVE_REQUESTS = StateMachine(
    "risk reserve request",
    ReserveStatus,
    {
        ReserveStatus.pending: {ReserveStatus.applied, ReserveStatus.rejected},
    },
    initial=ReserveStatus.pending,
)


# The platform accounts the reserve is funded from and withdrawn to.
COUNTERPARTS = ("gateway_clearing", "fee_income")
# The ledger's reason code for each direction.
REASONS = {ReserveDirection.deposit: "reserve_deposit", ReserveDirection.withdrawal: "reserve_withdrawal"}


def _labels():
    return {
        "deposit": _("Top-up"),
        "withdrawal": _("Withdrawal"),
        "gateway_clearing": _("The platform's bank account"),
        "fee_income": _("Fee income"),
        "pending": _("Waiting for approval"),
        "applied": _("Applied"),
        "rejected": _("Rejected"),
        "reserve_deposit": _("Risk reserve top-up"),
        "reserve_withdrawal": _("Risk reserve withdrawal"),
    }


LABELS = _labels()
"""What directions, accounts, statuses and the reserve's own reason codes are called on staff pages."""


class ReserveRequest(TenantOwned, Base):
    """A request to move money into or out of the risk reserve; a second person approves or rejects it."""

    __tablename__ = "reserve_requests"
    __table_args__ = (sa.Index("ix_reserve_requests_tenant", "tenant_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[str] = mapped_column(sa.String(12))  # ReserveDirection
    account: Mapped[str] = mapped_column(sa.String(20))  # where the money comes from or goes to: COUNTERPARTS
    amount: Mapped[int] = mapped_column(sa.BigInteger)  # minor units, always positive
    currency: Mapped[str] = mapped_column(sa.String(3))
    reason: Mapped[str] = mapped_column(sa.String(MAX_REASON))
    status: Mapped[str] = mapped_column(sa.String(12), default=RESERVE_REQUESTS.initial.value)
    requested_by: Mapped[str] = mapped_column(sa.String(120))
    decided_by: Mapped[str] = mapped_column(sa.String(120), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[dt.datetime | None]

    @property
    def key(self) -> str:
        """The idempotency key of the request's one ledger post."""
        return f"reserve:{self.id}"

    @property
    def ref(self) -> str:
        return f"reserve_request:{self.id}"


# -- reading ------------------------------------------------------------------------


def balances(ledger: Ledger, currency: str) -> dict[str, int]:
    """The reserve's balance in minor units per currency: the tenant's own currency always, others if held."""
    rows = ledger.session.execute(
        sa.select(ACCOUNTS.c.currency, ACCOUNTS.c.credits_posted - ACCOUNTS.c.debits_posted).where(
            ACCOUNTS.c.tenant_id == ledger.tenant_id, ACCOUNTS.c.owner_kind == PLATFORM, ACCOUNTS.c.code == RESERVE
        )
    ).all()
    found = {code: int(balance) for code, balance in rows}
    return {currency: found.pop(currency, 0), **dict(sorted(found.items()))}


def balance(ledger: Ledger, currency: str) -> int:
    """The reserve's balance in one currency, in minor units."""
    return ledger.balance(ledger.platform(RESERVE, currency)).minor


def history(
    ledger: Ledger, currency: str, *, before: int | None = None, limit: int = HISTORY_PAGE
) -> tuple[list[Entry], dict[int, tuple[str, int, str]]]:
    """One page of the reserve's statement (newest first, each line with the balance after it), older
    than transfer ``before``; and the other side of each line as ``{account id: (owner kind, owner id, code)}``."""
    entries = ledger.history(ledger.platform(RESERVE, currency), limit=limit, before=before)
    counters = {e.counter_account_id for e in entries}
    sides = (
        {
            row.id: (row.owner_kind, row.owner_id, row.code)
            for row in ledger.session.execute(
                sa.select(ACCOUNTS.c.id, ACCOUNTS.c.owner_kind, ACCOUNTS.c.owner_id, ACCOUNTS.c.code).where(
                    ACCOUNTS.c.tenant_id == ledger.tenant_id, ACCOUNTS.c.id.in_(counters)
                )
            )
        }
        if counters
        else {}
    )
    return entries, sides


def before_param(value) -> int | None:
    """The ``before`` of a history page link (a transfer id), or ``None`` for the newest page."""
    number = whole_number(value)
    return number if number is not None and 1 <= number <= 2**62 else None


def requests(session, *, limit: int = 100) -> list[ReserveRequest]:
    """The latest requests, newest first (pending and decided)."""
    return session.scalars(sa.select(ReserveRequest).order_by(ReserveRequest.id.desc()).limit(limit)).all()


def find_locked(session, request_id) -> ReserveRequest | None:
    """The request with this id (``"12"`` or ``12``), locked for a decision; ``None`` for anything else."""
    number = whole_number(request_id)
    if number is None or not 1 <= number <= MAX_ID:
        return None
    return session.scalars(
        sa.select(ReserveRequest)
        .where(ReserveRequest.id == number)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


# -- asking and deciding -------------------------------------------------------------


def request_move(session, tenant, *, direction: str, account: str, amount_text, reason: str, by: str) -> ReserveRequest:
    """Ask to top the reserve up from ``account`` or withdraw from it to ``account``; nothing moves yet.

    A withdrawal more than the reserve holds now is refused at once (the
    ledger refuses it again at approval if the reserve fell since).
    """
    if direction not in {d.value for d in ReserveDirection}:
        raise FundsError("direction", _("Choose a top-up or a withdrawal."))
    if account not in COUNTERPARTS:
        raise FundsError("account", _("Choose the platform's bank account or fee income."))
    try:
        amount = parse_positive(amount_text, tenant.currency)
    except InvalidAmount as error:
        raise FundsError("amount", error.message) from None
    reason = (reason or "").strip()
    if not reason:
        raise FundsError("reason", _("A reason is required."))
    if len(reason) > MAX_REASON:
        raise FundsError("reason", _("Give a reason of up to 300 characters."))
    if direction == ReserveDirection.withdrawal.value:
        held = balance(Ledger(session, tenant.id), amount.currency)
        if amount.minor > held:
            raise FundsError("amount", _not_enough(held, amount.currency))
    move = ReserveRequest(
        tenant_id=tenant.id,
        direction=direction,
        account=account,
        amount=amount.minor,
        currency=amount.currency,
        reason=reason,
        requested_by=by,
    )
    session.add(move)
    session.flush()
    return move


def decide(session, tenant_id: int, move: ReserveRequest, *, approve: bool, by: str) -> None:
    """A second person approves (one ledger post, key ``reserve:<id>``) or rejects (nothing moves).

    ``move`` must be locked (:func:`find_locked`). The requester cannot decide
    their own request; a decided request cannot be decided again.
    """
    if move.status != ReserveStatus.pending:
        raise FundsError("decision", _("This request was already decided."))
    if same_person(by, move.requested_by):
        raise FundsError("decision", _("Another person must approve a risk reserve request."))
    move.decided_by, move.decided_at = by, utcnow()
    if not approve:
        RESERVE_REQUESTS.move(move, ReserveStatus.rejected)
        return
    ledger = Ledger(session, tenant_id)
    reserve, other = ledger.platform(RESERVE, move.currency), ledger.platform(move.account, move.currency)
    direction = ReserveDirection(move.direction)
    debit, credit = (other, reserve) if direction is ReserveDirection.deposit else (reserve, other)
    amount = Money(move.amount, move.currency)
    try:
        ledger.post([Transfer(debit, credit, amount, REASONS[direction], move.ref)], key=move.key, initiator=by)
    except InsufficientFunds:
        held = ledger.balance(debit).minor
        if debit == reserve:
            raise FundsError("amount", _not_enough(held, move.currency)) from None
        raise FundsError(
            "amount", _("Fee income holds only ${held}.", mapping={"held": str(Money(held, move.currency))})
        ) from None
    RESERVE_REQUESTS.move(move, ReserveStatus.applied)


def same_person(actor: str, other: str) -> bool:
    """Whether two audit actors (``staff:<id>:<name>``) are one person, even if the name changed between."""
    return actor.split(":")[:2] == other.split(":")[:2]


def _not_enough(held: int, currency: str):
    return _(
        "The risk reserve holds only ${held}: a withdrawal may not take it below zero.",
        mapping={"held": str(Money(held, currency))},
    )


# -- ledger verify ---------------------------------------------------------------------


@register_check
def check_reserve_requests(session, tenant_id, slugs) -> list[Breach]:
    """Invariant 8: every applied request moved its amount under its key, and the reserve's own
    transfers (``reserve_deposit``, ``reserve_withdrawal``) all belong to an applied request."""
    moved = (
        sa.select(TRANSFERS.c.tenant_id, TRANSFERS.c.key, sa.func.sum(TRANSFERS.c.amount).label("amount"))
        .where(TRANSFERS.c.reason.in_(tuple(REASONS.values())), TRANSFERS.c.reverses_id.is_(None))
        .group_by(TRANSFERS.c.tenant_id, TRANSFERS.c.key)
    )
    requested = sa.select(ReserveRequest.tenant_id, ReserveRequest.id, ReserveRequest.amount).where(
        ReserveRequest.status == ReserveStatus.applied.value
    )
    if tenant_id is not None:
        moved = moved.where(TRANSFERS.c.tenant_id == tenant_id)
        requested = requested.where(ReserveRequest.tenant_id == tenant_id)
    posted = {(row.tenant_id, row.key): int(row.amount) for row in session.execute(moved)}
    breaches = []
    for row_tenant, request_id, amount in session.execute(requested):
        found = posted.pop((row_tenant, f"reserve:{request_id}"), None)
        if found != amount:
            breaches.append(
                Breach(
                    slugs.get(row_tenant, str(row_tenant)),
                    None,
                    8,
                    f"risk reserve request {request_id} was approved for {amount}, the ledger moved {found or 0}",
                )
            )
    for (row_tenant, key), amount in sorted(posted.items()):
        breaches.append(
            Breach(
                slugs.get(row_tenant, str(row_tenant)),
                None,
                8,
                f"{key}: {amount} moved in or out of the risk reserve without an approved request",
            )
        )
    return breaches
