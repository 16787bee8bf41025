"""The loans' invariants beside the ledger's, checked by ``lendstack ledger verify``.

5. a loan's live bids (frozen or accepted) sum to its ``funded`` amount, which
   never exceeds its ``amount``; a loan that ended without disbursement
   (failed, rejected, cancelled) holds no live bid;
6. a disbursed loan's installments' principal sums to its amount, and the
   ledger moved exactly that amount from lenders to the borrower;
7. for each installment, the lenders' paybacks sum to its principal and to
   its interest.

A breach here means money went somewhere the schedules do not account for
(a borrower paid more than the lenders will get back, say), which the ledger's
own balances cannot show.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..ledger.posting import TRANSFERS
from ..ledger.verify import Breach, register_check
from .models import Bid, Installment, Loan, Payback

ENDED_UNFUNDED = ("failed", "rejected", "cancelled")
DISBURSED = ("repaying", "settled", "defaulted", "written_off")


def _scoped(statement, model, tenant_id):
    return statement if tenant_id is None else statement.where(model.tenant_id == tenant_id)


def _sum(column):
    return sa.func.coalesce(sa.func.sum(column), 0)


@register_check
def check_loans(session, tenant_id, slugs) -> list[Breach]:
    """Breaches of invariants 5–7 (``tenant_id`` ``None``: every tenant)."""
    breaches: list[Breach] = []

    def breach(row_tenant, invariant, message):
        breaches.append(Breach(slugs.get(row_tenant, str(row_tenant)), None, invariant, message))

    live = (
        sa.select(Bid.loan_id, _sum(Bid.amount).label("live"))
        .where(Bid.status.in_(("frozen", "accepted")))
        .group_by(Bid.loan_id)
        .subquery()
    )
    loans = session.execute(
        _scoped(
            sa.select(
                Loan.tenant_id,
                Loan.id,
                Loan.number,
                Loan.status,
                Loan.amount,
                Loan.funded,
                sa.func.coalesce(live.c.live, 0).label("live"),
            ).outerjoin(live, live.c.loan_id == Loan.id),
            Loan,
            tenant_id,
        )
    ).all()
    for loan in loans:
        live_bids = int(loan.live)
        if loan.status in ENDED_UNFUNDED:
            if live_bids:
                breach(loan.tenant_id, 5, f"loan {loan.number} is {loan.status} but {live_bids} of bids are live")
            continue
        if live_bids != loan.funded:
            breach(loan.tenant_id, 5, f"loan {loan.number}: live bids sum to {live_bids}, funded says {loan.funded}")
        if loan.funded > loan.amount:
            breach(loan.tenant_id, 5, f"loan {loan.number} is over-funded: {loan.funded} of {loan.amount}")

    scheduled = (
        sa.select(Installment.loan_id, _sum(Installment.principal).label("principal"))
        .group_by(Installment.loan_id)
        .subquery()
    )
    disbursed = (
        sa.select(TRANSFERS.c.tenant_id, TRANSFERS.c.key, _sum(TRANSFERS.c.amount).label("moved"))
        .where(TRANSFERS.c.reason == "disbursement", TRANSFERS.c.reverses_id.is_(None))
        .group_by(TRANSFERS.c.tenant_id, TRANSFERS.c.key)
        .subquery()
    )
    rows = session.execute(
        _scoped(
            sa.select(
                Loan.tenant_id,
                Loan.number,
                Loan.amount,
                sa.func.coalesce(scheduled.c.principal, 0),
                sa.func.coalesce(disbursed.c.moved, 0),
            )
            .outerjoin(scheduled, scheduled.c.loan_id == Loan.id)
            .outerjoin(
                disbursed,
                sa.and_(
                    disbursed.c.tenant_id == Loan.tenant_id,
                    disbursed.c.key == sa.literal("loan:") + sa.cast(Loan.id, sa.String) + sa.literal(":disburse"),
                ),
            )
            .where(Loan.status.in_(DISBURSED)),
            Loan,
            tenant_id,
        )
    ).all()
    for row_tenant, number, amount, principal, moved in rows:
        if int(principal) != amount:
            breach(row_tenant, 6, f"loan {number}: installments' principal {int(principal)} != amount {amount}")
        if int(moved) != amount:
            breach(row_tenant, 6, f"loan {number}: {int(moved)} disbursed to the borrower for an amount of {amount}")

    shares = (
        sa.select(
            Payback.loan_id,
            Payback.period,
            _sum(Payback.principal).label("principal"),
            _sum(Payback.interest).label("interest"),
        )
        .group_by(Payback.loan_id, Payback.period)
        .subquery()
    )
    rows = session.execute(
        _scoped(
            sa.select(
                Installment.tenant_id,
                Loan.number,
                Installment.period,
                Installment.principal,
                Installment.interest,
                sa.func.coalesce(shares.c.principal, 0),
                sa.func.coalesce(shares.c.interest, 0),
            )
            .join(Loan, Loan.id == Installment.loan_id)
            .outerjoin(shares, sa.and_(shares.c.loan_id == Installment.loan_id, shares.c.period == Installment.period))
            .where(
                sa.or_(
                    shares.c.principal.is_(None),
                    shares.c.principal != Installment.principal,
                    shares.c.interest != Installment.interest,
                )
            ),
            Installment,
            tenant_id,
        )
    ).all()
    for row_tenant, number, period, principal, interest, paid_principal, paid_interest in rows:
        breach(
            row_tenant,
            7,
            f"loan {number} period {period}: paybacks {int(paid_principal)}/{int(paid_interest)} "
            f"!= installment {principal}/{interest} (principal/interest)",
        )
    return breaches
