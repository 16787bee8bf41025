"""Per-tenant numbers (loan numbers, and later contracts): one counter row per tenant and series.

Counting rows to make the next number (``count + 1``) gives two concurrent
requests the same number; a unique constraint then turns the second into a
500. Instead each series keeps its last number in ``tenant_counters`` and
:func:`next_number` bumps it with one ``UPDATE … RETURNING``: the row stays
locked until the transaction ends, so numbers are handed out one at a time
and never twice. A transaction that rolls back gives its number back (the
next one reuses it), so a series has no gaps from refused applications.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from .db import Base, mark_changed

COUNTERS = sa.Table(
    "tenant_counters",
    Base.metadata,
    sa.Column("tenant_id", sa.ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("series", sa.String(20), primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

_DIALECTS = {"postgresql": postgresql, "sqlite": sqlite}


def next_number(session, tenant_id: int, series: str) -> int:
    """The next number of ``series`` for the tenant (1, 2, …), held under the counter's row lock."""
    where = (COUNTERS.c.tenant_id == tenant_id, COUNTERS.c.series == series)
    bump = COUNTERS.update().where(*where).values(value=COUNTERS.c.value + 1).returning(COUNTERS.c.value)
    value = session.execute(bump).scalar()
    if value is None:  # the series' first number: create its row (once, however many ask at once)
        dialect = _DIALECTS[session.get_bind().dialect.name]
        session.execute(
            dialect.insert(COUNTERS).values(tenant_id=tenant_id, series=series, value=0).on_conflict_do_nothing()
        )
        value = session.execute(bump).scalar_one()
    mark_changed(session)
    return int(value)
