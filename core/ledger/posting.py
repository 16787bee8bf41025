"""Posting to the ledger: the one way money moves.

:meth:`Ledger.post` applies a batch of transfers atomically under one
idempotency key:

- each touched account's totals are bumped by one ``UPDATE … RETURNING`` in
  account-id order, which also locks the rows in that fixed order (PostgreSQL
  row locks; SQLite's ``BEGIN IMMEDIATE`` already serializes writers), so
  concurrent posts neither deadlock nor overdraw;
- every leg is then checked in order against the accounts' flags and
  currencies; on any failure the bumps are undone in the same transaction and
  the error raised, so a rejected batch changes nothing even for a caller that
  catches the error and goes on;
- the transfers are inserted with ``ON CONFLICT DO NOTHING`` on
  ``(tenant_id, key, leg)``: a key already used with the same transfers
  returns the original result and applies nothing (the bumps are undone);
  with different transfers it raises :class:`IdempotencyConflict` naming the
  first difference (TigerBeetle's ``exists_with_different_*``).

A two-leg post is thus two updates and one insert. Writes are Core statements
on the session's connection, so ORM ``LedgerAccount`` objects already loaded
in the session are not refreshed: read balances through
:meth:`Ledger.balance` or :meth:`Ledger.accounts`.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..db import mark_changed, utcnow
from ..events import fire
from ..money import Money
from .models import (
    CREDITS_MUST_NOT_EXCEED_DEBITS,
    DEBITS_MUST_NOT_EXCEED_CREDITS,
    LedgerAccount,
    LedgerTransfer,
)

ACCOUNTS = LedgerAccount.__table__
TRANSFERS = LedgerTransfer.__table__
MAX_KEY_LENGTH = 120
MAX_LEGS = 1000

# The statements of the posting path, built once (their SQL is compiled once per engine).
_BUMP = (
    sa.update(ACCOUNTS)
    .where(ACCOUNTS.c.tenant_id == sa.bindparam("owner_tenant"), ACCOUNTS.c.id == sa.bindparam("account_id"))
    .values(
        debits_posted=ACCOUNTS.c.debits_posted + sa.bindparam("debits"),
        credits_posted=ACCOUNTS.c.credits_posted + sa.bindparam("credits"),
    )
    .returning(ACCOUNTS.c.currency, ACCOUNTS.c.flags, ACCOUNTS.c.debits_posted, ACCOUNTS.c.credits_posted)
)
_UNDO = (
    sa.update(ACCOUNTS)
    .where(ACCOUNTS.c.id == sa.bindparam("account_id"))
    .values(
        debits_posted=ACCOUNTS.c.debits_posted - sa.bindparam("debits"),
        credits_posted=ACCOUNTS.c.credits_posted - sa.bindparam("credits"),
    )
)
_ACCOUNT_ID = sa.select(ACCOUNTS.c.id).where(
    ACCOUNTS.c.tenant_id == sa.bindparam("tenant_id"),
    ACCOUNTS.c.owner_kind == sa.bindparam("owner_kind"),
    ACCOUNTS.c.owner_id == sa.bindparam("owner_id"),
    ACCOUNTS.c.code == sa.bindparam("code"),
    ACCOUNTS.c.currency == sa.bindparam("currency"),
)
_BALANCE = sa.select(ACCOUNTS.c.currency, ACCOUNTS.c.debits_posted, ACCOUNTS.c.credits_posted).where(
    ACCOUNTS.c.tenant_id == sa.bindparam("tenant_id"), ACCOUNTS.c.id == sa.bindparam("account_id")
)
_IDS = "lendstack.ledger_account_ids"
_POSTED = (
    sa.select(TRANSFERS)
    .where(TRANSFERS.c.tenant_id == sa.bindparam("tenant_id"), TRANSFERS.c.key == sa.bindparam("key"))
    .order_by(TRANSFERS.c.leg)
)
_INSERT = {
    name: dialect.insert(TRANSFERS)
    .on_conflict_do_nothing(index_elements=["tenant_id", "key", "leg"])
    .returning(TRANSFERS.c.id, TRANSFERS.c.leg)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


@sa.event.listens_for(Session, "after_soft_rollback")
def _forget_account_ids(session: Session, _previous_transaction) -> None:
    session.info.pop(_IDS, None)


MEMBER = "member"
PLATFORM = "platform"
LOAN = "loan"
GUARANTOR = "guarantor"

# The account codes each kind of owner may hold, with their flags.
ACCOUNT_CODES: dict[str, dict[str, int]] = {
    MEMBER: {
        "available": DEBITS_MUST_NOT_EXCEED_CREDITS,  # 可用: cash the member can bid or withdraw
        "frozen": DEBITS_MUST_NOT_EXCEED_CREDITS,  # 凍結: held for bids and withdrawals
    },
    PLATFORM: {
        "gateway_clearing": 0,  # money in flight at payment gateways (debit: the gateway owes us)
        "fee_income": DEBITS_MUST_NOT_EXCEED_CREDITS,  # fees the platform earned
        "risk_reserve": DEBITS_MUST_NOT_EXCEED_CREDITS,  # 風險準備金: pays advances, never overspent
        "guarantee": DEBITS_MUST_NOT_EXCEED_CREDITS,  # guarantors' deposits
        "advances": CREDITS_MUST_NOT_EXCEED_DEBITS,  # 墊付: paid to lenders, recovered from borrowers
        "suspense": 0,  # unmatched money awaiting investigation
    },
    LOAN: {
        "escrow": DEBITS_MUST_NOT_EXCEED_CREDITS,  # a loan's funds between full and disbursement
    },
    GUARANTOR: {
        "deposit": DEBITS_MUST_NOT_EXCEED_CREDITS,  # what a guarantor institution put up; pays its advances
    },
}


def _account_labels():
    from ..i18n import _

    return {
        "available": _("Available"),
        "frozen": _("Frozen"),
        "escrow": _("Escrow"),
        "deposit": _("Guarantee deposit"),
        "gateway_clearing": _("Gateway clearing"),
        "fee_income": _("Fee income"),
        "risk_reserve": _("Risk reserve"),
        "guarantee": _("Guarantees"),
        "advances": _("Advances"),
        "suspense": _("Suspense"),
    }


ACCOUNT_LABELS = _account_labels()
"""What an account code is called on staff pages."""


class LedgerError(ValueError):
    """A post the ledger refuses; ``field`` names the input at fault. Nothing was written."""

    field = "transfers"

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        if field:
            self.field = field


class InvalidTransfer(LedgerError):
    """A transfer that can never be posted: bad amount, account, currency or key."""


class InsufficientFunds(LedgerError):
    """A leg would overdraw an account whose flags forbid it."""

    field = "amount"

    def __init__(self, account_id: int, message: str):
        super().__init__(message)
        self.account_id = account_id


class IdempotencyConflict(LedgerError):
    """The key was used for different transfers; ``result`` is TigerBeetle's name for why."""

    field = "key"

    def __init__(self, key: str, result: str, detail: str):
        super().__init__(f"idempotency key {key!r} {result}: {detail}")
        self.key, self.result = key, result


class _KeyUsed(Exception):
    """Inside :meth:`Ledger.post`: some legs hit an existing ``(tenant_id, key, leg)``."""

    def __init__(self, inserted: list[int]):
        super().__init__("idempotency key already used")
        self.inserted = inserted


@dataclass(frozen=True)
class Transfer:
    """One leg to post: ``amount`` from the ``debit`` account to the ``credit`` account."""

    debit: int
    credit: int
    amount: Money
    reason: str
    ref: str = ""
    reverses: int | None = None


@dataclass(frozen=True)
class Posted:
    """The result of a post: the transfers' ids in leg order; ``replayed`` if the key was used."""

    key: str
    transfer_ids: tuple[int, ...]
    replayed: bool = False


@dataclass(frozen=True)
class Entry:
    """One line of an account's statement, newest first: signed change and balance after."""

    transfer_id: int
    posted_at: object
    key: str
    reason: str
    ref: str
    counter_account_id: int
    change: int
    balance_after: int
    initiator: str


class Ledger:
    """The ledger of one tenant, seen through one session (one transaction)."""

    def __init__(self, session, tenant_id: int):
        self.session = session
        self.tenant_id = tenant_id
        # Account ids never change: known ones are kept for the session's life (forgotten on rollback,
        # which may undo an account opened in it).
        self._ids: dict[tuple, int] = session.info.setdefault(_IDS, {}).setdefault(tenant_id, {})

    # -- accounts ---------------------------------------------------------

    def account(self, owner_kind: str, owner_id: int, code: str, currency: str) -> int:
        """The id of an account, opened on first use (safe under concurrent first uses)."""
        if owner_kind == PLATFORM:
            owner_id = 0
        lookup = (owner_kind, owner_id, code, currency)
        found = self._ids.get(lookup)
        if found is not None:
            return found
        flags = ACCOUNT_CODES.get(owner_kind, {}).get(code)
        if flags is None:
            raise InvalidTransfer(f"no account code {code!r} for a {owner_kind} owner", "account")
        # Core on the session's connection: ledger tables are not ORM-managed, so no autoflush is needed.
        connection = self.session.connection()
        where = {
            "tenant_id": self.tenant_id,
            "owner_kind": owner_kind,
            "owner_id": owner_id,
            "code": code,
            "currency": currency,
        }
        account_id = connection.execute(_ACCOUNT_ID, where).scalar()
        if account_id is None:
            dialect = {"postgresql": postgresql, "sqlite": sqlite}[connection.dialect.name]
            connection.execute(
                dialect.insert(ACCOUNTS)
                .values(**where, flags=flags, debits_posted=0, credits_posted=0, created_at=utcnow())
                .on_conflict_do_nothing()
            )
            mark_changed(self.session)
            account_id = connection.execute(_ACCOUNT_ID, where).scalar_one()
        self._ids[lookup] = account_id
        return account_id

    def platform(self, code: str, currency: str) -> int:
        return self.account(PLATFORM, 0, code, currency)

    def accounts(self, owner_kind: str | None = None, owner_id: int | None = None) -> list:
        """The tenant's accounts (optionally one owner's), fresh from the database."""
        query = sa.select(ACCOUNTS).where(ACCOUNTS.c.tenant_id == self.tenant_id)
        if owner_kind is not None:
            query = query.where(ACCOUNTS.c.owner_kind == owner_kind)
        if owner_id is not None:
            query = query.where(ACCOUNTS.c.owner_id == owner_id)
        return self.session.execute(query.order_by(ACCOUNTS.c.id)).all()

    def balance(self, account_id: int) -> Money:
        """Credits less debits of one account, as Money in its currency."""
        row = (
            self.session.connection()
            .execute(_BALANCE, {"tenant_id": self.tenant_id, "account_id": account_id})
            .one_or_none()
        )
        if row is None:
            raise InvalidTransfer(f"no account {account_id}", "account")
        return Money(row.credits_posted - row.debits_posted, row.currency)

    # -- posting ----------------------------------------------------------

    def post(self, transfers, *, key: str, initiator: str) -> Posted:
        """Apply ``transfers`` atomically once per ``key``; see the module docstring."""
        transfers = list(transfers)
        self._check_shape(transfers, key, initiator)
        deltas: dict[int, list[int]] = {}
        for t in transfers:
            deltas.setdefault(t.debit, [0, 0])[0] += t.amount.minor
            deltas.setdefault(t.credit, [0, 0])[1] += t.amount.minor
        # Core on the session's connection: the same transaction, without the ORM's per-statement work.
        connection = self.session.connection()
        bumped: dict[int, list] = {}
        try:
            for account_id in sorted(deltas):
                debits, credits = deltas[account_id]
                row = connection.execute(
                    _BUMP,
                    {"owner_tenant": self.tenant_id, "account_id": account_id, "debits": debits, "credits": credits},
                ).one_or_none()
                if row is None:
                    raise InvalidTransfer(f"no account {account_id} in this tenant", "account")
                # The totals before this post, then walked leg by leg below.
                bumped[account_id] = [row.debits_posted - debits, row.credits_posted - credits, row.currency, row.flags]
            rows = self._legs(transfers, bumped, key, initiator)
            inserted = connection.execute(_INSERT[connection.dialect.name], rows).all()
            if len(inserted) != len(rows):
                raise _KeyUsed([row.id for row in inserted])
        except (LedgerError, _KeyUsed) as failure:
            self._undo(connection, bumped, deltas, failure)
            existing = connection.execute(_POSTED, {"tenant_id": self.tenant_id, "key": key}).all()
            if existing:
                return self._replay(key, existing, transfers)
            if isinstance(failure, _KeyUsed):  # the key's rows went away: cannot happen with immutable rows
                raise IdempotencyConflict(key, "exists_with_different_legs", "posted concurrently") from None
            raise
        except sa.exc.IntegrityError as error:
            if "reverses_id" in str(error.orig):
                raise InvalidTransfer("that transfer has already been reversed", "key") from None
            raise
        mark_changed(self.session)
        posted = Posted(key, tuple(row.id for row in sorted(inserted, key=lambda r: r.leg)))
        fire(self.session, self.tenant_id, "lendstack_transfers_posted", transfers=transfers)
        return posted

    def _legs(self, transfers, state, key, initiator) -> list[dict]:
        """Walk the legs in order from the totals before the post; the rows to insert, or raise."""
        now = utcnow()
        rows = []
        for leg, t in enumerate(transfers, 1):
            debit, credit = state[t.debit], state[t.credit]
            for side, account_id in ((debit, t.debit), (credit, t.credit)):
                if side[2] != t.amount.currency:
                    raise InvalidTransfer(
                        f"leg {leg}: account {account_id} holds {side[2]}, not {t.amount.currency}", "currency"
                    )
            debit[0] += t.amount.minor
            credit[1] += t.amount.minor
            if debit[3] & DEBITS_MUST_NOT_EXCEED_CREDITS and debit[0] > debit[1]:
                raise InsufficientFunds(
                    t.debit,
                    f"leg {leg}: account {t.debit} would be overdrawn by {Money(debit[0] - debit[1], debit[2])}",
                )
            if credit[3] & CREDITS_MUST_NOT_EXCEED_DEBITS and credit[1] > credit[0]:
                raise InsufficientFunds(
                    t.credit,
                    f"leg {leg}: account {t.credit} would be credited beyond "
                    f"its debits by {Money(credit[1] - credit[0], credit[2])}",
                )
            rows.append(
                {
                    "tenant_id": self.tenant_id,
                    "key": key,
                    "leg": leg,
                    "debit_account_id": t.debit,
                    "credit_account_id": t.credit,
                    "amount": t.amount.minor,
                    "currency": t.amount.currency,
                    "reason": t.reason,
                    "ref": t.ref,
                    "initiator": initiator,
                    "reverses_id": t.reverses,
                    "debit_balance_after": debit[1] - debit[0],
                    "credit_balance_after": credit[1] - credit[0],
                    "posted_at": now,
                }
            )
        return rows

    def _undo(self, connection, bumped, deltas, failure) -> None:
        """Take back this post's bumps (and any legs it inserted) so the transaction is as before."""
        if isinstance(failure, _KeyUsed) and failure.inserted:
            connection.execute(sa.delete(TRANSFERS).where(TRANSFERS.c.id.in_(failure.inserted)))
        if bumped:
            connection.execute(
                _UNDO,
                [
                    {"account_id": account_id, "debits": deltas[account_id][0], "credits": deltas[account_id][1]}
                    for account_id in sorted(bumped)
                ],
            )

    def reverse(self, original_key: str, *, key: str, initiator: str, reason: str = "reversal") -> Posted:
        """Post the mirror image of every leg posted under ``original_key`` (a correction)."""
        original = self.session.execute(
            sa.select(TRANSFERS)
            .where(TRANSFERS.c.tenant_id == self.tenant_id, TRANSFERS.c.key == original_key)
            .order_by(TRANSFERS.c.leg)
        ).all()
        if not original:
            raise InvalidTransfer(f"nothing was posted under key {original_key!r}", "key")
        reversed_already = self.session.execute(
            sa.select(TRANSFERS.c.key).where(
                TRANSFERS.c.tenant_id == self.tenant_id, TRANSFERS.c.reverses_id.in_([row.id for row in original])
            )
        ).first()
        if reversed_already is not None and reversed_already.key != key:
            raise InvalidTransfer("that transfer has already been reversed", "key")
        return self.post(
            [
                Transfer(
                    row.credit_account_id,
                    row.debit_account_id,
                    Money(row.amount, row.currency),
                    reason,
                    f"transfer:{row.id}",
                    reverses=row.id,
                )
                for row in original
            ],
            key=key,
            initiator=initiator,
        )

    def history(self, account_id: int, *, limit: int = 50, before: int | None = None) -> list[Entry]:
        """An account's statement, newest first, ``limit`` lines older than transfer ``before``."""
        touches = sa.or_(TRANSFERS.c.debit_account_id == account_id, TRANSFERS.c.credit_account_id == account_id)
        query = sa.select(TRANSFERS).where(TRANSFERS.c.tenant_id == self.tenant_id, touches)
        if before is not None:
            query = query.where(TRANSFERS.c.id < before)
        rows = self.session.execute(query.order_by(TRANSFERS.c.id.desc()).limit(limit)).all()
        return [entry_for(row, account_id) for row in rows]

    def with_refs(self, refs) -> list:
        """Every transfer whose ``ref`` is one of ``refs``, oldest first, with both accounts' owner and code
        (``debit_kind``, ``debit_owner``, ``debit_code``, and the same for the credit side)."""
        debit, credit = ACCOUNTS.alias("debit"), ACCOUNTS.alias("credit")
        query = (
            sa.select(
                TRANSFERS,
                debit.c.owner_kind.label("debit_kind"),
                debit.c.owner_id.label("debit_owner"),
                debit.c.code.label("debit_code"),
                credit.c.owner_kind.label("credit_kind"),
                credit.c.owner_id.label("credit_owner"),
                credit.c.code.label("credit_code"),
            )
            .join(debit, debit.c.id == TRANSFERS.c.debit_account_id)
            .join(credit, credit.c.id == TRANSFERS.c.credit_account_id)
            .where(TRANSFERS.c.tenant_id == self.tenant_id, TRANSFERS.c.ref.in_(list(refs)))
            .order_by(TRANSFERS.c.id)
        )
        return self.session.execute(query).all()

    # -- checks -----------------------------------------------------------

    @staticmethod
    def _check_shape(transfers, key, initiator) -> None:
        if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY_LENGTH:
            raise InvalidTransfer(f"an idempotency key of 1 to {MAX_KEY_LENGTH} characters is required", "key")
        if not initiator:
            raise InvalidTransfer("the initiator (who asked for this) is required", "initiator")
        if not transfers:
            raise InvalidTransfer("a post needs at least one transfer")
        if len(transfers) > MAX_LEGS:
            raise InvalidTransfer(f"a post has at most {MAX_LEGS} transfers")
        for leg, t in enumerate(transfers, 1):
            if not isinstance(t.amount, Money) or t.amount.minor <= 0:
                raise InvalidTransfer(f"leg {leg}: the amount must be more than zero", "amount")
            if t.debit == t.credit:
                raise InvalidTransfer(f"leg {leg}: debit and credit are the same account", "account")
            if not t.reason:
                raise InvalidTransfer(f"leg {leg}: a reason code is required", "reason")

    @staticmethod
    def _replay(key: str, existing, transfers) -> Posted:
        if len(existing) != len(transfers):
            raise IdempotencyConflict(
                key, "exists_with_different_legs", f"{len(existing)} transfers were posted, {len(transfers)} given"
            )
        for row, t in zip(existing, transfers):
            for result, posted, given in (
                ("exists_with_different_debit_account_id", row.debit_account_id, t.debit),
                ("exists_with_different_credit_account_id", row.credit_account_id, t.credit),
                ("exists_with_different_amount", (row.amount, row.currency), (t.amount.minor, t.amount.currency)),
                ("exists_with_different_reason", row.reason, t.reason),
                ("exists_with_different_ref", row.ref, t.ref),
            ):
                if posted != given:
                    raise IdempotencyConflict(key, result, f"leg {row.leg} was posted with {posted}, given {given}")
        return Posted(key, tuple(row.id for row in existing), replayed=True)


def entry_for(row, account_id: int) -> Entry:
    """A transfer row as a statement line of one of its two accounts."""
    if row.credit_account_id == account_id:
        change, balance, counter = row.amount, row.credit_balance_after, row.debit_account_id
    else:
        change, balance, counter = -row.amount, row.debit_balance_after, row.credit_account_id
    return Entry(row.id, row.posted_at, row.key, row.reason, row.ref, counter, change, balance, row.initiator)
