"""exact penalty interest within a cap, service fees per installment, lender fees per bid, borrower fee modes

Revision ID: 0025
Revises: 0024
"""

from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from alembic import op

import core.db

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('bids', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lender_fees', sa.BigInteger(), nullable=False, server_default='0'))

    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('borrower_fee', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('fee_mode', sa.String(length=12), nullable=True))

    with op.batch_alter_table('loan_installments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('service_fee', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('late_fee_set', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('penalty_accrued', core.db.ExactDecimal(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('principal_days', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('paid_late_fee', sa.BigInteger(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('paid_fee', sa.BigInteger(), nullable=False, server_default='0'))

    # Charges made before: the late fee as set, the penalty as accrued, and a cap base that holds them
    # (the cap applies from now on; what was charged stays charged). A partial payment paid the late fee first.
    op.execute(
        "UPDATE loan_installments SET late_fee_set = late_fee, penalty_accrued = CAST(penalty AS VARCHAR), "
        "paid_late_fee = CASE WHEN paid_charges < late_fee THEN paid_charges ELSE late_fee END"
    )
    _hold_charges_within_cap()
    _backfill_lender_fees()
    _backfill_borrower_fees()


def _backfill_borrower_fees():
    """Loans disbursed before fee modes existed had the borrower fee deducted from the principal."""
    connection = op.get_bind()
    loans = sa.table("loans", sa.column("id"), sa.column("borrower_fee"), sa.column("fee_mode"))
    events = sa.table("loan_events", sa.column("loan_id"), sa.column("event"), sa.column("detail", sa.JSON))
    for loan_id, detail in connection.execute(
        sa.select(events.c.loan_id, events.c.detail).where(events.c.event == "disbursed")
    ).all():
        fee = int((detail or {}).get("fee") or 0)
        connection.execute(loans.update().where(loans.c.id == loan_id).values(borrower_fee=fee, fee_mode="deducted"))


def _hold_charges_within_cap():
    """Give overdue rows a cap base at the default 24% a year that covers what they were already charged."""
    rows = sa.table(
        "loan_installments", sa.column("id"), sa.column("penalty"), sa.column("late_fee"), sa.column("principal_days")
    )
    connection = op.get_bind()
    for row_id, penalty, late_fee in connection.execute(
        sa.select(rows.c.id, rows.c.penalty, rows.c.late_fee).where(rows.c.penalty + rows.c.late_fee > 0)
    ).all():
        # cap = principal_days × 24 / 100 / 365, so principal_days = charges × 36500 / 24, rounded up
        base = -(-(penalty + late_fee) * 36500 // 24)
        connection.execute(rows.update().where(rows.c.id == row_id).values(principal_days=base))


def _backfill_lender_fees():
    """What the per-payback rule charged each bid so far: Σ round(fee% × interest received) over its paybacks."""
    connection = op.get_bind()
    tenants = sa.table("tenants", sa.column("id"), sa.column("lending", sa.JSON))
    paybacks = sa.table("loan_paybacks", sa.column("tenant_id"), sa.column("bid_id"), sa.column("paid_interest"))
    bids = sa.table("bids", sa.column("id"), sa.column("lender_fees"))
    for tenant_id, lending in connection.execute(sa.select(tenants.c.id, tenants.c.lending)).all():
        percent = Decimal(str((lending or {}).get("lender_fee_percent", "0")))
        if not percent:
            continue
        fees: dict[int, int] = {}
        for bid_id, paid in connection.execute(
            sa.select(paybacks.c.bid_id, paybacks.c.paid_interest).where(
                paybacks.c.tenant_id == tenant_id, paybacks.c.paid_interest > 0
            )
        ).all():
            fee = (Decimal(paid) * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
            fees[bid_id] = fees.get(bid_id, 0) + int(fee)
        for bid_id, fee in fees.items():
            connection.execute(bids.update().where(bids.c.id == bid_id).values(lender_fees=fee))


def downgrade():
    with op.batch_alter_table('loan_installments', schema=None) as batch_op:
        batch_op.drop_column('paid_fee')
        batch_op.drop_column('paid_late_fee')
        batch_op.drop_column('principal_days')
        batch_op.drop_column('penalty_accrued')
        batch_op.drop_column('late_fee_set')
        batch_op.drop_column('service_fee')

    with op.batch_alter_table('loans', schema=None) as batch_op:
        batch_op.drop_column('fee_mode')
        batch_op.drop_column('borrower_fee')

    with op.batch_alter_table('bids', schema=None) as batch_op:
        batch_op.drop_column('lender_fees')
