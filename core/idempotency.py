"""Idempotency keys: a client's retry of a request that moves money applies once and gets the first answer.

A key is scoped to one tenant, one principal (``member:12``, ``staff:3``) and
one operation (``bid``, ``repayment``, ``recharge``, ``withdrawal``,
``close_of_day``) — not to a loan: two members may use the same key, and one
member the same key for a bid and for a withdrawal. The key remembers a
fingerprint of the request it was first used with (its path and JSON body);
the same key with another request (another amount, another loan) is refused
with :class:`KeyReused`, never applied.

The key is claimed first, in the request's own transaction, by an insert that
does nothing on a conflict. A concurrent request with the same key waits on
the unique index until the first transaction ends: then it finds the first
answer (committed) or claims the key itself (rolled back — a refused request
stores nothing, so the client may correct it and send the same key again).
SQLite takes its write lock when a transaction begins, so there the second
request simply finds the first one's row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from .db import Base, TenantOwned, mark_changed, utcnow

KEY_LENGTH = (8, 80)


class IdempotencyKey(TenantOwned, Base):
    """One key a principal used for one operation, with the request's fingerprint and the answer given."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "principal", "operation", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    principal: Mapped[str] = mapped_column(sa.String(40))  # member:12 | staff:3
    operation: Mapped[str] = mapped_column(sa.String(40))
    key: Mapped[str] = mapped_column(sa.String(80))
    fingerprint: Mapped[str] = mapped_column(sa.String(64))  # sha256 of the request's path and body
    status: Mapped[int | None] = mapped_column(sa.Integer)  # the answer's HTTP status, once answered
    answer: Mapped[dict | None] = mapped_column(sa.JSON)
    resource: Mapped[str] = mapped_column(sa.String(80), default="")  # what it made: bid:7, payment:R…
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class KeyReused(ValueError):
    """The key was first used for another request (another body or path)."""


class KeyInFlight(RuntimeError):
    """The key's first request committed without an answer: it cannot be replayed."""


@dataclass(frozen=True)
class Claim:
    """A claimed key: ``fresh`` when this request applies it, else the first request's answer."""

    id: int
    fresh: bool
    status: int | None = None
    answer: dict | None = None


def fingerprint(method: str, path: str, body: bytes) -> str:
    """The request's fingerprint: method, path and the JSON body in a canonical form (key order and
    spacing do not count; values do, so ``"10"`` and ``"10.00"`` are different requests)."""
    canonical = ""
    if body:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method} {path}\n{canonical}".encode()).hexdigest()


def claim(session, tenant_id: int, principal: str, operation: str, key: str, print_: str) -> Claim:
    """Claim ``key`` for this request, or find the answer its first request gave.

    Raises :class:`KeyReused` when the key's first request had another
    fingerprint, :class:`KeyInFlight` when it has no answer to give.
    """
    table = IdempotencyKey.__table__
    where = {"tenant_id": tenant_id, "principal": principal, "operation": operation, "key": key}
    connection = session.connection()
    dialect = {"postgresql": postgresql, "sqlite": sqlite}[connection.dialect.name]
    inserted = connection.execute(
        dialect.insert(table)
        .values(**where, fingerprint=print_, resource="", created_at=utcnow())
        .on_conflict_do_nothing()
        .returning(table.c.id)
    ).first()
    fresh = inserted is not None
    if fresh:
        mark_changed(session)
    row = connection.execute(
        sa.select(table.c.id, table.c.fingerprint, table.c.status, table.c.answer).where(
            *(table.c[name] == value for name, value in where.items())
        )
    ).one()
    if row.fingerprint != print_:
        raise KeyReused(key)
    if fresh:
        return Claim(row.id, True)
    if row.status is None:
        raise KeyInFlight(key)
    return Claim(row.id, False, row.status, row.answer)


def answer(session, claimed: Claim, status: int, body: dict, resource: str = "") -> None:
    """Keep the answer given to a fresh claim, to give it again to the same request."""
    table = IdempotencyKey.__table__
    session.connection().execute(
        table.update().where(table.c.id == claimed.id).values(status=status, answer=body, resource=resource[:80])
    )
    mark_changed(session)
