"""What ``lendstack ledger verify`` checks of the lending fund (invariant 9, as the risk reserve's is 8)."""

from __future__ import annotations

import sqlalchemy as sa

from ...ledger.posting import TRANSFERS
from ...ledger.verify import Breach, register_check
from .fund import REASON
from .models import FundInjection, InjectionStatus

INVARIANT = 9


@register_check
def check_fund_injections(session, tenant_id, slugs) -> list[Breach]:
    """Every applied capital injection moved its amount under its key, and every capital-injection transfer
    belongs to an applied injection."""
    moved = (
        sa.select(TRANSFERS.c.tenant_id, TRANSFERS.c.key, sa.func.sum(TRANSFERS.c.amount).label("amount"))
        .where(TRANSFERS.c.reason == REASON, TRANSFERS.c.reverses_id.is_(None))
        .group_by(TRANSFERS.c.tenant_id, TRANSFERS.c.key)
    )
    applied = sa.select(FundInjection.tenant_id, FundInjection.id, FundInjection.amount).where(
        FundInjection.status == InjectionStatus.APPLIED.value
    )
    if tenant_id is not None:
        moved = moved.where(TRANSFERS.c.tenant_id == tenant_id)
        applied = applied.where(FundInjection.tenant_id == tenant_id)
    posted = {(row.tenant_id, row.key): int(row.amount) for row in session.execute(moved)}
    breaches = []
    for row_tenant, injection_id, amount in session.execute(applied):
        found = posted.pop((row_tenant, f"lending_fund:{injection_id}"), None)
        if found != amount:
            breaches.append(
                Breach(
                    slugs.get(row_tenant, str(row_tenant)),
                    None,
                    INVARIANT,
                    f"capital injection {injection_id} was approved for {amount}, the ledger moved {found or 0}",
                )
            )
    for (row_tenant, key), amount in sorted(posted.items()):
        breaches.append(
            Breach(
                slugs.get(row_tenant, str(row_tenant)),
                None,
                INVARIANT,
                f"{key}: {amount} injected into the lending fund without an approved injection",
            )
        )
    return breaches
